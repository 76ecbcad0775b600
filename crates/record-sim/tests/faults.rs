//! Fault injection: scheduled and seeded faults, and the counters that show them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::*;
use record_sim::{Fault, Faults, SimConfig};

fn march() -> String {
    format!(
        "client/@me/record/?{}",
        window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
    )
}

#[tokio::test]
async fn scheduled_statuses_apply_to_their_route_only() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    sim.inject(Some("list_records"), Fault::Status(503), 2);
    let stats = format!(
        "client/@me/record/stats/?{}",
        window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
    );
    assert_eq!(
        get(&sim, &token, &stats).await.status,
        200,
        "another route is untouched"
    );
    assert_eq!(get(&sim, &token, &march()).await.status, 503);
    assert_eq!(get(&sim, &token, &march()).await.status, 503);
    assert_eq!(get(&sim, &token, &march()).await.status, 200);
    sim.inject(None, Fault::Status(502), 1);
    let proxy = get(&sim, &token, &march()).await;
    assert_eq!(proxy.status, 502);
    assert_eq!(proxy.header("content-type"), Some("text/html"));
    let counters = sim.counters();
    assert_eq!(counters.route("list_records"), 4);
    assert_eq!(counters.route_status("list_records", 503), 2);
    assert_eq!(counters.route_status("list_records", 200), 1);
    assert_eq!(counters.status(502), 1);
}

#[tokio::test]
async fn scheduled_401_and_429_and_token_errors() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    sim.inject(None, Fault::Unauthorized, 1);
    assert_eq!(get(&sim, &token, &march()).await.status, 401);
    assert_eq!(
        get(&sim, &token, &march()).await.status,
        200,
        "the token itself is still good"
    );
    sim.inject(None, Fault::RateLimited { reset_secs: 7 }, 1);
    let limited = get(&sim, &token, &march()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("x-ratelimit-reset"), Some("7"));
    assert_eq!(limited.json()["status"], "rate_limit_exceeded");
    sim.inject(Some("token"), Fault::TokenError, 1);
    let c = sim.credentials().client.clone();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        c.client_id, c.client_secret
    );
    assert_eq!(post_form(&sim, &form).await.status, 500);
    assert_eq!(post_form(&sim, &form).await.status, 200);
}

#[tokio::test]
async fn dropped_and_truncated_downloads_fail_on_the_client() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let record = sim
        .records()
        .into_iter()
        .find(|r| r.size > 200_000)
        .unwrap();
    let url = format!(
        "{}/api/ver1.0/client/@me/record/{}",
        sim.base_url(),
        record.uuid
    );
    for fault in [Fault::DropAfter(100_000), Fault::TruncateAfter(100_000)] {
        sim.inject(Some("download_record"), fault.clone(), 1);
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "{fault:?}: the head is sent as usual"
        );
        assert_eq!(response.content_length(), Some(record.size), "{fault:?}");
        let mut response = response;
        let mut received = 0u64;
        let outcome = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received += chunk.len() as u64,
                Ok(None) => break Ok(()),
                Err(err) => break Err(err),
            }
        };
        assert!(
            outcome.is_err(),
            "{fault:?}: the client must notice ({received} bytes)"
        );
        assert!(received <= 100_000, "{fault:?}");
    }
    let whole = get(&sim, &token, &format!("client/@me/record/{}", record.uuid)).await;
    assert_eq!(
        whole.body.len() as u64,
        record.size,
        "later downloads are whole again"
    );
}

#[tokio::test]
async fn seeded_faults_are_deterministic() {
    let faults = Faults {
        server_error_percent: 30,
        ..Faults::default()
    };
    let runs = [
        statuses_with(faults.clone(), 40).await,
        statuses_with(faults, 40).await,
    ];
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0]
        .iter()
        .filter(|s| [500, 502, 503].contains(*s))
        .count();
    assert!(
        (4..=24).contains(&failures),
        "about 30% of 40 fail: {failures}"
    );
}

/// The statuses of `n` list requests to a simulator with `faults`.
async fn statuses_with(faults: Faults, n: usize) -> Vec<u16> {
    let sim = start(SimConfig {
        faults,
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(get(&sim, &token, &march()).await.status);
    }
    statuses
}

#[tokio::test]
async fn bursts_of_429_and_forced_expiry() {
    let bursts = Faults {
        burst_429_every: Some(5),
        burst_429_length: 2,
        ..Faults::default()
    };
    assert_eq!(
        statuses_with(bursts, 8).await,
        [200, 200, 200, 200, 429, 429, 200, 200]
    );
    let expiry = Faults {
        expire_tokens_every: Some(3),
        ..Faults::default()
    };
    assert_eq!(
        statuses_with(expiry, 4).await,
        [200, 200, 200, 401],
        "the third request expires every token"
    );
}

#[tokio::test]
async fn seeded_download_faults() {
    let faults = Faults {
        drop_percent: 100,
        ..Faults::default()
    };
    let sim = start(SimConfig {
        faults,
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let record = sim.records().into_iter().find(|r| r.size > 10_000).unwrap();
    let response = client()
        .get(format!(
            "{}/api/ver1.0/client/@me/record/{}",
            sim.base_url(),
            record.uuid
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(response.bytes().await.is_err());
}

#[tokio::test]
async fn latency_is_added() {
    let faults = Faults {
        latency: std::time::Duration::from_millis(50),
        ..Faults::default()
    };
    let sim = start(SimConfig {
        faults,
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let started = tokio::time::Instant::now();
    assert_eq!(get(&sim, &token, &march()).await.status, 200);
    // A lower bound only: the simulator waited at least its configured latency.
    assert!(started.elapsed() >= std::time::Duration::from_millis(50));
}

#[tokio::test]
async fn storage_link_downloads_take_scheduled_faults_too() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let record = sim
        .records()
        .into_iter()
        .find(|r| r.size > 200_000)
        .unwrap();
    let link = get(
        &sim,
        &token,
        &format!("client/@me/record/{}/storage_url/", record.uuid),
    )
    .await;
    let url = link.json()["record_url"].as_str().unwrap().to_owned();
    sim.inject(Some("storage_file"), Fault::DropAfter(100_000), 1);
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the connection broke");
    sim.inject(Some("storage_file"), Fault::Status(503), 1);
    assert_eq!(send(client().get(&url)).await.status, 503);
    assert_eq!(
        send(client().get(&url)).await.body.len() as u64,
        record.size
    );
    assert_eq!(sim.counters().route("storage_file"), 3);
}
