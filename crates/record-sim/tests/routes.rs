//! Every route at every level, driven with a plain HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::*;
use record_sim::chrono::NaiveDateTime;

fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

#[tokio::test]
async fn list_stats_download_link_and_deletes_at_every_level() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let c = sim.credentials().clone();
    let (start, end) = JANUARY;
    for (level, scope) in scopes(&sim) {
        let all_january = sim.records_between(time(start), time(end));
        let expected: Vec<_> = all_january
            .iter()
            .filter(|r| match level {
                "extension_group" => r.group == Some(c.extension_group_id),
                "extension" => r.extension_id == c.extension_id,
                _ => true,
            })
            .collect();
        assert!(
            !expected.is_empty(),
            "{level}: the data set has records there"
        );

        let list = get(
            &sim,
            &token,
            &format!("{scope}/record/?{}", window(start, end)),
        )
        .await;
        assert_eq!(list.status, 200, "{level}");
        let listed = uuids(&list.json());
        let mut wanted: Vec<String> = expected.iter().map(|r| r.uuid.clone()).collect();
        wanted.reverse(); // the default order is desc
        assert_eq!(listed, wanted, "{level}: list");

        let stats = get(
            &sim,
            &token,
            &format!("{scope}/record/stats/?{}", window(start, end)),
        )
        .await;
        assert_eq!(stats.status, 200);
        let size: u64 = expected.iter().map(|r| r.size).sum();
        assert_eq!(
            stats.json(),
            serde_json::json!({"count": expected.len(), "size": size}),
            "{level}"
        );

        let record = expected[0];
        let file = get(&sim, &token, &format!("{scope}/record/{}", record.uuid)).await;
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), Some("audio/mpeg"));
        assert_eq!(
            file.header("content-length"),
            Some(record.size.to_string().as_str())
        );
        let disposition = file.header("content-disposition").unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"{}\"", record.file_name())
        );
        assert_eq!(file.body, sim.file_bytes(&record.uuid).unwrap());
        assert_eq!(&file.body[..3], b"ID3");

        let link = get(
            &sim,
            &token,
            &format!("{scope}/record/{}/storage_url/", record.uuid),
        )
        .await;
        assert_eq!(link.status, 200);
        let url = link.json()["record_url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(sim.base_url()), "{url}");
        let stored = send(client().get(&url)).await; // no authentication
        assert_eq!(stored.status, 200);
        assert_eq!(stored.body.len() as u64, record.size);

        let gone = delete(&sim, &token, &format!("{scope}/record/{}", record.uuid)).await;
        assert_eq!(gone.status, 204, "{level}: delete one");
        assert_eq!(
            get(&sim, &token, &format!("{scope}/record/{}", record.uuid))
                .await
                .status,
            404
        );
        assert_eq!(
            send(client().get(&url)).await.status,
            404,
            "the link dies with the record"
        );
        let again = delete(&sim, &token, &format!("{scope}/record/{}", record.uuid)).await;
        assert_eq!(again.status, 404);
        assert_eq!(
            again.json(),
            serde_json::json!({"message": "Record not found"})
        );
    }
}

#[tokio::test]
async fn delete_range_removes_the_window_at_each_level() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let months = [
        ("2024-02-01 00:00:00", "2024-02-29 23:59:59"),
        ("2024-03-01 00:00:00", "2024-03-31 23:59:59"),
        ("2024-04-01 00:00:00", "2024-04-30 23:59:59"),
        ("2024-05-01 00:00:00", "2024-05-31 23:59:59"),
    ];
    for ((level, scope), (start, end)) in scopes(&sim).into_iter().zip(months) {
        let before = sim.records().len();
        let listed = uuids(
            &get(
                &sim,
                &token,
                &format!("{scope}/record/?{}", window(start, end)),
            )
            .await
            .json(),
        );
        assert!(!listed.is_empty());
        let answer = delete(
            &sim,
            &token,
            &format!("{scope}/record/?{}", window(start, end)),
        )
        .await;
        assert_eq!(answer.status, 204, "{level}");
        assert_eq!(sim.records().len(), before - listed.len(), "{level}");
        let after = get(
            &sim,
            &token,
            &format!("{scope}/record/?{}", window(start, end)),
        )
        .await;
        assert!(uuids(&after.json()).is_empty(), "{level}");
    }
}

#[tokio::test]
async fn monthly_stats_for_the_client() {
    let sim = start(small_config()).await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let id = sim.credentials().client_id_number;
    for scope in [format!("client/{id}"), "client/@me".to_owned()] {
        let months = get(&sim, &token, &format!("{scope}/records_stats/")).await;
        assert_eq!(months.status, 200);
        let months = months.json();
        assert_eq!(months.as_array().unwrap().len(), 12);
        let january: Vec<_> = sim
            .records()
            .into_iter()
            .filter(|r| r.init_time.format("%Y-%m").to_string() == "2024-01")
            .collect();
        let size: u64 = january.iter().map(|r| r.size).sum();
        assert_eq!(
            months[0],
            serde_json::json!({"year_month": "2024-01", "call_records_count": january.len(), "call_records_size": size})
        );
        for end in ["2024-03", "2024-03-31", "2024-03-31%2023:59:59"] {
            let until = get(
                &sim,
                &token,
                &format!("{scope}/records_stats/?end_datetime={end}"),
            )
            .await;
            assert_eq!(until.json().as_array().unwrap().len(), 3, "{end}");
        }
        assert_eq!(
            get(
                &sim,
                &token,
                &format!("{scope}/records_stats/?end_datetime=March")
            )
            .await
            .status,
            400
        );
    }
}
