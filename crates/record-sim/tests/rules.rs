//! The rules of the API: windows, bounds, order, scope, OAuth, Basic auth, archives, gzip,
//! rate limits and the concurrent-statistics guard.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use record_sim::SimConfig;
use serde_json::json;

#[tokio::test]
async fn the_window_rule_is_enforced_with_a_message_naming_it() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let ok = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-01-15 10:00:00", "2024-02-29 23:59:59")
        ),
    )
    .await;
    assert_eq!(ok.status, 200);
    let long = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-01-15 10:00:00", "2024-03-01 00:00:00")
        ),
    )
    .await;
    assert_eq!(long.status, 400);
    let message = long.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("last day of the month following")
            && message.contains("2024-02-29 23:59:59"),
        "{message}"
    );
    for path in ["record/", "record/stats/"] {
        let answer = delete_or_get(&sim, &token, path).await;
        assert_eq!(answer.status, 400, "{path}");
    }
    let reversed = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-02-01 00:00:00", "2024-01-01 00:00:00")
        ),
    )
    .await;
    assert_eq!(reversed.status, 400);
    let missing = get(
        &sim,
        &token,
        "client/@me/record/?start_datetime=2024-01-01%2000:00:00",
    )
    .await;
    assert_eq!(missing.status, 400);
    let fraction = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-01-01 00:00:00.5", "2024-01-02 00:00:00")
        ),
    )
    .await;
    assert_eq!(fraction.status, 400);
}

async fn delete_or_get(sim: &record_sim::SimHandle, token: &str, path: &str) -> Answer {
    let query = window("2024-01-01 00:00:00", "2024-06-01 00:00:00");
    if path == "record/" {
        delete(sim, token, &format!("client/@me/{path}?{query}")).await
    } else {
        get(sim, token, &format!("client/@me/{path}?{query}")).await
    }
}

#[tokio::test]
async fn bounds_are_inclusive_at_full_precision_and_order_is_honoured() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    // The boundary record in the last fraction of January's last second.
    let boundary = sim
        .records()
        .into_iter()
        .find(|r| r.init_time.format("%Y-%m-%d %H:%M:%S").to_string() == "2024-01-31 23:59:59")
        .expect("a boundary record at the end of January");
    let january = uuids(
        &get(
            &sim,
            &token,
            &format!(
                "client/@me/record/?{}",
                window("2024-01-01 00:00:00", "2024-01-31 23:59:59")
            ),
        )
        .await
        .json(),
    );
    assert!(
        !january.contains(&boundary.uuid),
        "23:59:59.xx lies after a window ending at 23:59:59"
    );
    let overlap = uuids(
        &get(
            &sim,
            &token,
            &format!(
                "client/@me/record/?{}",
                window("2024-01-31 23:59:59", "2024-02-29 23:59:59")
            ),
        )
        .await
        .json(),
    );
    assert!(
        overlap.contains(&boundary.uuid),
        "a window starting at 23:59:59 holds it"
    );
    let start_of_march = sim
        .records()
        .into_iter()
        .find(|r| r.init_time.format("%Y-%m-%d %H:%M:%S%.f").to_string() == "2024-03-01 00:00:00")
        .expect("a boundary record at the start of March");
    let point = uuids(
        &get(
            &sim,
            &token,
            &format!(
                "client/@me/record/?{}",
                window("2024-03-01 00:00:00", "2024-03-01 00:00:00")
            ),
        )
        .await
        .json(),
    );
    assert_eq!(
        point,
        std::slice::from_ref(&start_of_march.uuid),
        "[t, t] holds exactly the records at t.00"
    );

    let query = window("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    let asc = uuids(
        &get(
            &sim,
            &token,
            &format!("client/@me/record/?{query}&order=asc"),
        )
        .await
        .json(),
    );
    let desc = uuids(
        &get(
            &sim,
            &token,
            &format!("client/@me/record/?{query}&order=desc"),
        )
        .await
        .json(),
    );
    let default = uuids(
        &get(&sim, &token, &format!("client/@me/record/?{query}"))
            .await
            .json(),
    );
    assert_eq!(asc.first(), Some(&start_of_march.uuid));
    assert_eq!(desc, asc.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(default, desc, "desc is the default");
    assert_eq!(
        get(
            &sim,
            &token,
            &format!("client/@me/record/?{query}&order=up")
        )
        .await
        .status,
        400
    );
    // Pagination parameters are ignored: a window returns everything.
    let paged = uuids(
        &get(
            &sim,
            &token,
            &format!("client/@me/record/?{query}&page=2&per_page=1"),
        )
        .await
        .json(),
    );
    assert_eq!(paged, desc);
}

#[tokio::test]
async fn trailing_slashes_are_as_documented() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let query = window("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    assert_eq!(
        get(&sim, &token, &format!("client/@me/record?{query}"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&sim, &token, &format!("client/@me/record/stats?{query}"))
            .await
            .status,
        404
    );
    let uuid = sim.records()[5].uuid.clone();
    assert_eq!(
        get(&sim, &token, &format!("client/@me/record/{uuid}/"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(
            &sim,
            &token,
            &format!("client/@me/record/{uuid}/storage_url")
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn each_app_sees_only_its_level() {
    let sim = start(small_config()).await;
    let c = sim.credentials().clone();
    let query = window("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    let other_extension = sim
        .extensions()
        .iter()
        .find(|e| e.id != c.extension_id)
        .unwrap()
        .id;
    let outside_group = sim
        .extensions()
        .iter()
        .find(|e| e.group != Some(c.extension_group_id))
        .unwrap()
        .id;
    let extension = token_for(&sim, &c.extension).await;
    let group = token_for(&sim, &c.extension_group).await;
    let client = token_for(&sim, &c.client).await;
    let call_api = token_for(&sim, &c.call_api_only).await;

    // (who, scope path, expected status, expected `status` code of a refusal)
    let cases = [
        (
            &extension,
            format!("extension/{}", c.extension_id),
            200,
            None,
        ),
        (
            &extension,
            format!("extension/{other_extension}"),
            403,
            Some("access_denied"),
        ),
        (
            &extension,
            "client/@me".to_owned(),
            403,
            Some("access_denied"),
        ),
        (
            &extension,
            format!("extension_group/{}", c.extension_group_id),
            403,
            Some("access_denied"),
        ),
        (
            &group,
            format!("extension_group/{}", c.extension_group_id),
            200,
            None,
        ),
        (&group, format!("extension/{}", c.extension_id), 200, None),
        (
            &group,
            format!("extension/{outside_group}"),
            403,
            Some("access_denied"),
        ),
        (
            &group,
            format!("client/{}", c.client_id_number),
            403,
            Some("access_denied"),
        ),
        (
            &client,
            format!("client/{}", c.client_id_number + 1),
            403,
            Some("access_denied"),
        ),
        (&client, format!("extension/{outside_group}"), 200, None),
        (
            &call_api,
            "client/@me".to_owned(),
            403,
            Some("app_access_type_deny"),
        ),
    ];
    for (token, scope, status, code) in cases {
        let answer = get(&sim, token, &format!("{scope}/record/?{query}")).await;
        assert_eq!(answer.status, status, "{scope}");
        if let Some(code) = code {
            assert_eq!(answer.json()["status"], code, "{scope}");
        }
    }
}

#[tokio::test]
async fn oauth_grants_expiry_and_errors() {
    let sim = start(small_config()).await;
    let c = sim.credentials().clone();
    let query = window("2024-03-01 00:00:00", "2024-03-31 23:59:59");
    let path = format!("client/@me/record/?{query}");

    let issued = post_form(
        &sim,
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            c.client.client_id, c.client.client_secret
        ),
    )
    .await;
    assert_eq!(issued.status, 200);
    let body = issued.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("refresh_token").is_none());

    let password = post_form(
        &sim,
        &format!(
            "grant_type=password&client_id={}&client_secret={}&username={}&password={}",
            c.client.client_id,
            c.client.client_secret,
            c.pbx_username.replace('*', "%2A"),
            c.pbx_password
        ),
    )
    .await;
    assert_eq!(
        password.status,
        200,
        "{}",
        String::from_utf8_lossy(&password.body)
    );
    let refresh = password.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = format!(
        "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={refresh}",
        c.client.client_id, c.client.client_secret
    );
    let refreshed = post_form(&sim, &form).await;
    assert_eq!(refreshed.status, 200);
    let token = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&sim, &token, &path).await.status, 200);
    let reused = post_form(&sim, &form).await;
    assert_eq!(reused.status, 400, "refresh tokens are single-use");
    assert_eq!(reused.json()["error"], "invalid_grant");

    let bad_secret = post_form(
        &sim,
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret=nope",
            c.client.client_id
        ),
    )
    .await;
    assert_eq!(bad_secret.status, 401);
    assert_eq!(bad_secret.json()["error"], "invalid_client");
    assert!(bad_secret.json()["error_description"].is_string());
    let bad_grant = post_form(
        &sim,
        &format!(
            "grant_type=magic&client_id={}&client_secret={}",
            c.client.client_id, c.client.client_secret
        ),
    )
    .await;
    assert_eq!(bad_grant.json()["error"], "unsupported_grant_type");

    let missing = send(client().get(format!("{}/api/ver1.0/{path}", sim.base_url()))).await;
    assert_eq!(missing.status, 401);
    assert!(missing.json()["message"].is_string());
    assert_eq!(get(&sim, "not-a-token", &path).await.status, 401);
    sim.expire_tokens();
    let expired = get(&sim, &token, &path).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json()["message"], "Token is expired");
    assert_eq!(sim.counters().by_grant.get("password"), Some(&1));
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let sim = start(SimConfig {
        token_lifetime: Duration::ZERO,
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let answer = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-03-01 00:00:00", "2024-03-01 00:00:00")
        ),
    )
    .await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn basic_auth_works_on_record_files_only() {
    let sim = start(small_config()).await;
    let c = sim.credentials().clone();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", c.pbx_username, c.pbx_password));
    let record = sim.records()[3].clone();
    let url = |path: &str| format!("{}/api/ver1.0/{path}", sim.base_url());
    let file = send(
        client()
            .get(url(&format!("client/@me/record/{}", record.uuid)))
            .header("authorization", format!("Basic {basic}")),
    )
    .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body.len() as u64, record.size);
    let list = send(
        client()
            .get(url(&format!(
                "client/@me/record/?{}",
                window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
            )))
            .header("authorization", format!("Basic {basic}")),
    )
    .await;
    assert_eq!(list.status, 401);
    let link = send(
        client()
            .get(url(&format!(
                "client/@me/record/{}/storage_url/",
                record.uuid
            )))
            .header("authorization", format!("Basic {basic}")),
    )
    .await;
    assert_eq!(link.status, 401);
    let wrong =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:wrong", c.pbx_username));
    let refused = send(
        client()
            .get(url(&format!("client/@me/record/{}", record.uuid)))
            .header("authorization", format!("Basic {wrong}")),
    )
    .await;
    assert_eq!(refused.status, 401);
}

#[tokio::test]
async fn archives_follow_the_rules_and_their_link_serves_a_zip() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let url = format!("{}/api/ver1.0/client/@me/record/archive/", sim.base_url());
    let body = json!({"start_datetime": "2024-03-01 00:00:00", "end_datetime": "2024-03-03 23:59:59", "email": "ops@example.org,boss@example.org"});
    let post = |body: serde_json::Value| {
        send(
            client()
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
    };

    let created = post(body.clone()).await;
    assert_eq!(created.status, 201);
    let receipt = created.json();
    assert_eq!(receipt["id"], 1);
    assert_eq!(receipt["email"], "ops@example.org,boss@example.org");
    let outbox = sim.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].to, ["ops@example.org", "boss@example.org"]);

    let refused = post(body.clone()).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json()["status"], "archive_not_downloaded");

    let zip = send(client().get(&outbox[0].link)).await;
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    let expected = sim.records_between(
        record_sim::chrono::NaiveDateTime::parse_from_str(
            "2024-03-01 00:00:00",
            "%Y-%m-%d %H:%M:%S",
        )
        .unwrap(),
        record_sim::chrono::NaiveDateTime::parse_from_str(
            "2024-03-03 23:59:59",
            "%Y-%m-%d %H:%M:%S",
        )
        .unwrap(),
    );
    assert_zip(&zip.body, &expected, &sim);

    assert_eq!(
        post(body).await.status,
        201,
        "a downloaded archive allows the next one"
    );
    let long = post(json!({"start_datetime": "2024-01-01 00:00:00", "end_datetime": "2024-04-01 00:00:00", "email": "a@b.org"})).await;
    assert_eq!(long.status, 400);
    let no_email = post(json!({"start_datetime": "2024-01-01 00:00:00", "end_datetime": "2024-01-02 00:00:00", "email": ""})).await;
    assert_eq!(no_email.status, 400);
    let group = format!(
        "{}/api/ver1.0/extension_group/{}/record/archive/",
        sim.base_url(),
        sim.credentials().extension_group_id
    );
    let at_group = send(client().post(group).bearer_auth(&token).body("{}")).await;
    assert_eq!(at_group.status, 404, "archives exist at client level only");
}

/// Checks a stored ZIP: one entry per record, in order, with the record's bytes.
fn assert_zip(zip: &[u8], records: &[record_sim::SimRecord], sim: &record_sim::SimHandle) {
    let le16 = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let le32 = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    assert_eq!(le32(end), 0x0605_4b50, "end of central directory");
    assert_eq!(le16(end + 10), records.len());
    let mut at = 0;
    for record in records {
        assert_eq!(le32(at), 0x0403_4b50, "local header of {}", record.uuid);
        let name_len = le16(at + 26);
        assert_eq!(
            &zip[at + 30..at + 30 + name_len],
            record.file_name().as_bytes()
        );
        let data = at + 30 + name_len;
        let bytes = sim.file_bytes(&record.uuid).unwrap();
        assert_eq!(&zip[data..data + bytes.len()], &bytes[..]);
        let descriptor = data + bytes.len();
        assert_eq!(le32(descriptor), 0x0807_4b50);
        assert_eq!(le32(descriptor + 4) as u32, crc32(&bytes));
        at = descriptor + 16;
    }
    assert_eq!(
        le32(at),
        0x0201_4b50,
        "central directory follows the last entry"
    );
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE), written here so the check does not reuse the simulator's crc32fast.
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn json_is_gzipped_when_asked_and_rate_limit_headers_are_everywhere() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let url = format!(
        "{}/api/ver1.0/client/@me/record/?{}",
        sim.base_url(),
        window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
    );
    let plain = send(client().get(&url).bearer_auth(&token)).await;
    let zipped = send(
        client()
            .get(&url)
            .bearer_auth(&token)
            .header("accept-encoding", "gzip"),
    )
    .await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(zipped.body, plain.body, "the same JSON once decompressed");
    for answer in [&plain, &zipped] {
        assert_eq!(answer.header("x-ratelimit-limit"), Some("100000"));
        assert!(answer.header("x-ratelimit-remaining").is_some());
        assert!(
            answer
                .header("x-ratelimit-reset")
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= 3600
        );
    }
    let unauthorized = send(client().get(&url)).await;
    assert!(unauthorized.header("x-ratelimit-reset").is_some());
    let record = sim.records()[0].clone();
    let file = send(
        client()
            .get(format!(
                "{}/api/ver1.0/client/@me/record/{}",
                sim.base_url(),
                record.uuid
            ))
            .bearer_auth(&token)
            .header("accept-encoding", "gzip"),
    )
    .await;
    assert!(
        file.header("content-encoding").is_none(),
        "audio is not compressed"
    );
    assert!(file.header("x-ratelimit-limit").is_some());
}

#[tokio::test]
async fn the_hourly_limit_answers_429() {
    let config = SimConfig {
        rate_limit: 3,
        rate_limit_period: Duration::from_secs(2),
        ..small_config()
    };
    let sim = start(config).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let path = format!(
        "client/@me/record/?{}",
        window("2024-03-01 00:00:00", "2024-03-01 00:00:00")
    );
    for remaining in [2, 1, 0] {
        let answer = get(&sim, &token, &path).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("x-ratelimit-remaining"),
            Some(remaining.to_string().as_str())
        );
    }
    let limited = get(&sim, &token, &path).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["status"], "rate_limit_exceeded");
    assert!(
        limited
            .header("x-ratelimit-reset")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 2
    );
}

#[tokio::test]
async fn a_second_concurrent_stats_request_gets_429() {
    let config = SimConfig {
        stats_latency: Duration::from_secs(30),
        ..small_config()
    };
    let sim = start(config).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let path = format!(
        "client/@me/record/stats/?{}",
        window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
    );
    let first = {
        let (sim, token, path) = (sim.clone(), token.clone(), path.clone());
        tokio::spawn(async move { get(&sim, &token, &path).await })
    };
    while sim.stats_in_flight() == 0 {
        tokio::task::yield_now().await;
    }
    let second = get(
        &sim,
        &token,
        &format!(
            "extension/{}/record/stats/?{}",
            sim.credentials().extension_id,
            window("2024-03-01 00:00:00", "2024-03-31 23:59:59")
        ),
    )
    .await;
    assert_eq!(second.status, 429);
    assert_eq!(
        second.json(),
        json!({"message": "Stats request already exists, concurrent request not allowed"})
    );
    first.abort();
}
