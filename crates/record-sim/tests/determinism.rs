//! The same seed gives byte-identical answers; another seed gives other data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::*;
use record_sim::SimConfig;

async fn answers(seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let sim = start(SimConfig {
        seed,
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let list = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/?{}",
            window("2024-05-01 00:00:00", "2024-06-30 23:59:59")
        ),
    )
    .await;
    let stats = get(
        &sim,
        &token,
        &format!(
            "client/@me/record/stats/?{}",
            window("2024-05-01 00:00:00", "2024-06-30 23:59:59")
        ),
    )
    .await;
    let months = get(&sim, &token, "client/@me/records_stats/").await;
    let uuid = uuids(&list.json())[0].clone();
    let file = get(&sim, &token, &format!("client/@me/record/{uuid}")).await;
    (list.body, stats.body, months.body, file.body)
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let first = answers(9).await;
    let second = answers(9).await;
    assert_eq!(first, second);
    let other = answers(10).await;
    assert_ne!(first.0, other.0);
    assert_ne!(first.3, other.3);
}

#[tokio::test]
async fn the_data_set_is_realistic() {
    let sim = start(SimConfig {
        record_count: 2000,
        ..SimConfig::default()
    })
    .await;
    let records = sim.records();
    assert_eq!(
        records.len(),
        2000 + 24,
        "plus a boundary record at each month's start and end"
    );
    let json: Vec<_> = records.iter().map(|r| r.json()).collect();
    let has = |field: &str, test: &dyn Fn(&serde_json::Value) -> bool| {
        json.iter().any(|r| test(&r[field]))
    };
    assert!(has("hangup_disposition", &|v| v == ""));
    assert!(has("hangup_disposition", &|v| v.is_null()));
    assert!(
        json.iter().any(|r| r.get("ani_number").is_none()),
        "ani_number is sometimes absent"
    );
    assert!(has("from_screen_name", &|v| v
        .as_str()
        .is_some_and(|s| !s.is_ascii())));
    assert!(has("extension_group_owner_id", &|v| v.is_null()));
    assert!(has("record_transfer", &|v| v == true));
    for kind in ["phone", "queue", "ivr", "fax"] {
        assert!(has("extension_type", &|v| v == kind), "{kind}");
    }
    for record in &records {
        let json = record.json();
        let init = json["init_time_gmt"].as_str().unwrap();
        assert_eq!(init.len(), 22, "two-digit fraction: {init}");
        assert!(json["file_name"].as_str().unwrap().ends_with(".mp3"));
        assert_eq!(json["record_file_size"], record.size);
        assert_eq!(json["record_uuid"], record.uuid);
    }
    let sizes: Vec<u64> = records.iter().map(|r| r.size).collect();
    assert!(sizes.iter().min().unwrap() < &16_384 && sizes.iter().max().unwrap() > &2_000_000);
}
