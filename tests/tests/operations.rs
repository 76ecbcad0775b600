//! Every operation at every level, with both clients, against the simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use telphin_records::{
    ArchiveRequest, ClientId, DateRange, DownloadOptions, DownloadSource, Error, MonthlyStatsEnd,
    Order, QueryWindow, RecordUuid, Scope, YearMonth,
};
use telphin_records::{ClientBuilder, Credentials, FnTransport, Period, RetryPolicy, http};
use telphin_records_tests::{App, Env, runtime};

fn month(n: u32) -> DateRange {
    let last = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][n as usize - 1];
    DateRange::parse(
        &format!("2024-{n:02}-01 00:00:00"),
        &format!("2024-{n:02}-{last} 23:59:59"),
    )
    .unwrap()
}

fn uuids(records: &[telphin_records::Record]) -> Vec<String> {
    records.iter().map(|r| r.record_uuid.to_string()).collect()
}

fn sim_uuids(records: &[record_sim::SimRecord]) -> Vec<String> {
    records.iter().map(|r| r.uuid.clone()).collect()
}

#[test]
fn blocking_client_does_everything_at_every_level() {
    let env = Env::start();
    for (i, (level, scope, app)) in env.levels().into_iter().enumerate() {
        let client = env.blocking(app);
        let range = month(i as u32 + 1);
        let expected = env.expected(scope, &range);
        assert!(expected.len() > 2, "{level}: data to work with");

        let listed = client.list(scope, range, Order::Asc).unwrap();
        assert_eq!(uuids(&listed), sim_uuids(&expected), "{level}: list");
        let stats = client.stats(scope, range).unwrap();
        assert_eq!(stats.count, expected.len() as u64, "{level}: stats");
        assert_eq!(
            stats.size,
            expected.iter().map(|r| r.size).sum::<u64>(),
            "{level}"
        );

        let record = &listed[0];
        for source in [
            DownloadSource::Api,
            DownloadSource::StorageLink,
            DownloadSource::StorageLinkThenApi,
        ] {
            let mut file = Vec::new();
            let report = client
                .download_record(scope, record, &mut file, source)
                .unwrap();
            assert_eq!(report.bytes, record.record_file_size, "{level} {source:?}");
            assert_eq!(
                file,
                env.sim.file_bytes(record.record_uuid.as_str()).unwrap(),
                "{level} {source:?}"
            );
            assert_eq!(
                report.source,
                if source == DownloadSource::Api {
                    DownloadSource::Api
                } else {
                    DownloadSource::StorageLink
                }
            );
        }
        let link = client.storage_link(scope, &record.record_uuid).unwrap();
        assert!(link.expose_url().contains("/storage/"));

        client.delete_record(scope, &record.record_uuid).unwrap();
        assert!(
            client
                .delete_record(scope, &record.record_uuid)
                .unwrap_err()
                .is_not_found(),
            "{level}"
        );
        let day = DateRange::parse(
            &format!("2024-{:02}-10 00:00:00", i + 1),
            &format!("2024-{:02}-25 23:59:59", i + 1),
        )
        .unwrap();
        assert!(
            !client.list(scope, day, Order::Desc).unwrap().is_empty(),
            "{level}: records to delete"
        );
        client.delete_range(scope, day).unwrap();
        assert!(
            client.list(scope, day, Order::Desc).unwrap().is_empty(),
            "{level}: delete range"
        );
        assert!(env.expected(scope, &day).is_empty());
    }
}

#[test]
fn async_client_does_everything_at_every_level() {
    let env = Env::start();
    runtime().block_on(async {
        for (i, (level, scope, app)) in env.levels().into_iter().enumerate() {
            let client = env.asynchronous(app);
            let range = month(i as u32 + 5);
            let expected = env.expected(scope, &range);
            let listed = client.list(scope, range, Order::Desc).await.unwrap();
            let mut wanted = sim_uuids(&expected);
            wanted.reverse();
            assert_eq!(uuids(&listed), wanted, "{level}: list");
            let stats = client.stats(scope, range).await.unwrap();
            assert_eq!(stats.count, expected.len() as u64, "{level}: stats");

            let record = &listed[0];
            for source in [
                DownloadSource::Api,
                DownloadSource::StorageLink,
                DownloadSource::StorageLinkThenApi,
            ] {
                let mut file: Vec<u8> = Vec::new();
                let report = client
                    .download_record(scope, record, &mut file, source)
                    .await
                    .unwrap();
                assert_eq!(report.bytes, record.record_file_size, "{level} {source:?}");
                assert_eq!(
                    file,
                    env.sim.file_bytes(record.record_uuid.as_str()).unwrap()
                );
            }
            client
                .delete_record(scope, &record.record_uuid)
                .await
                .unwrap();
            assert!(
                client
                    .storage_link(scope, &record.record_uuid)
                    .await
                    .unwrap_err()
                    .is_not_found()
            );
            let day = DateRange::parse(
                &format!("2024-{:02}-10 00:00:00", i + 5),
                &format!("2024-{:02}-25 23:59:59", i + 5),
            )
            .unwrap();
            assert!(
                !client
                    .list(scope, day, Order::Asc)
                    .await
                    .unwrap()
                    .is_empty(),
                "{level}: records to delete"
            );
            client.delete_range(scope, day).await.unwrap();
            assert!(
                client
                    .list(scope, day, Order::Asc)
                    .await
                    .unwrap()
                    .is_empty(),
                "{level}"
            );
        }
    });
}

#[test]
fn archive_and_monthly_stats_for_the_client_with_both_clients() {
    let env = Env::start();
    let window = QueryWindow::parse("2024-03-01 00:00:00", "2024-03-02 23:59:59").unwrap();
    let archive = ArchiveRequest::new(window, ["ops@example.org", "boss@example.org"]).unwrap();
    let blocking = env.blocking(App::Client);
    let receipt = blocking.request_archive(ClientId::Me, &archive).unwrap();
    assert_eq!(
        receipt.email.as_deref(),
        Some("ops@example.org,boss@example.org")
    );
    assert_eq!(env.sim.outbox().len(), 1);
    let again = blocking
        .request_archive(ClientId::Me, &archive)
        .unwrap_err();
    assert!(
        matches!(
            again,
            Error::RateLimited {
                kind: telphin_records::RateLimitKind::Archive,
                ..
            }
        ),
        "{again}"
    );
    let months = blocking.monthly_stats(ClientId::Me, None).unwrap();
    assert_eq!(months.len(), 12);
    let until = blocking
        .monthly_stats(
            ClientId::Id(env.sim.credentials().client_id_number),
            Some(MonthlyStatsEnd::Month(YearMonth::new(2024, 4).unwrap())),
        )
        .unwrap();
    assert_eq!(until.len(), 4);
    assert_eq!(until[..], months[..4]);

    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        let months_async = client.monthly_stats(ClientId::Me, None).await.unwrap();
        assert_eq!(months_async, months);
        let err = client
            .request_archive(ClientId::Me, &archive)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "the first archive is not downloaded yet"
        );
    });
}

#[test]
fn the_password_grant_and_basic_download_work() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let record = env.sim.records()[10].clone();
    let uuid: RecordUuid = record.uuid.parse().unwrap();

    let password = env.blocking(App::Password);
    assert!(
        !password
            .list(scope, month(2), Order::Asc)
            .unwrap()
            .is_empty()
    );
    assert_eq!(env.sim.counters().by_grant.get("password"), Some(&1));

    let basic = env.blocking(App::PbxLogin);
    let mut file = Vec::new();
    let options = DownloadOptions::default().expect_size(record.size);
    basic
        .download(scope, &uuid, &mut file, options.clone())
        .unwrap();
    assert_eq!(file.len() as u64, record.size);
    let refused = basic.list(scope, month(2), Order::Asc).unwrap_err();
    assert!(
        matches!(refused, Error::Config(ref m) if m.contains("file downloads only")),
        "{refused}"
    );

    runtime().block_on(async {
        let basic = env.asynchronous(App::PbxLogin);
        let mut file: Vec<u8> = Vec::new();
        basic
            .download(scope, &uuid, &mut file, options)
            .await
            .unwrap();
        assert_eq!(file.len() as u64, record.size);
    });
}

#[test]
fn an_app_without_record_access_gets_403_with_its_code() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let err = env
        .blocking(App::CallApiOnly)
        .list(scope, month(1), Order::Asc)
        .unwrap_err();
    let Error::Forbidden(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code.as_deref(), Some("app_access_type_deny"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));

    let other = Scope::extension(telphin_records::ExtensionId::new(
        env.sim
            .extensions()
            .iter()
            .find(|e| e.id != env.sim.credentials().extension_id)
            .unwrap()
            .id,
    ));
    runtime().block_on(async {
        let err = env
            .asynchronous(App::Extension)
            .stats(other, month(1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Forbidden(api) if api.code.as_deref() == Some("access_denied")),
            "{err:?}"
        );
    });
}

#[test]
fn invalid_input_is_refused_before_any_request() {
    let env = Env::start();
    let before = env.sim.counters();
    assert!(DateRange::parse("2024-02-01 00:00:00", "2024-01-01 00:00:00").is_err());
    assert!("not-a-uuid".parse::<RecordUuid>().is_err());
    assert!(
        ArchiveRequest::new(
            QueryWindow::parse("2024-01-01 00:00:00", "2024-01-02 00:00:00").unwrap(),
            ["nobody"]
        )
        .is_err()
    );
    let insecure = telphin_records::ClientBuilder::new(env.credentials(App::Client))
        .base_url("http://pbx.example.org")
        .build_blocking()
        .unwrap_err();
    assert!(insecure.to_string().contains("unencrypted"), "{insecure}");
    assert!(
        telphin_records::ClientBuilder::new(env.credentials(App::Client))
            .base_url("http://pbx.example.org")
            .allow_insecure_http(true)
            .build_blocking()
            .is_ok()
    );
    assert_eq!(env.sim.counters(), before, "nothing was sent");
}

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

// A huge value in a list gives a short error.
#[test]
fn an_undecodable_huge_value_gives_a_short_error() {
    let huge = format!(r#"[{{"record_uuid": "1-{}"}}]"#, "Z".repeat(10_000_000));
    let transport = FnTransport::new(move |_| {
        Ok(http::Response::builder()
            .status(200)
            .body(huge.clone().into_bytes())
            .unwrap())
    });
    let client = ClientBuilder::new(Credentials::access_token("t0ken"))
        .base_url("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::never())
        .build_blocking_with(transport)
        .unwrap();
    let error = client
        .list(pbx(), Period::month(2024, 3).unwrap(), Order::Asc)
        .unwrap_err();
    let shown = format!("{error}");
    assert!(shown.len() < 2000, "{} bytes", shown.len());
    assert!(format!("{error:?}").len() < 4000);
}

// An accepted archive whose receipt has another shape is a success.
#[test]
fn an_archive_receipt_of_any_shape_is_a_success() {
    let transport = FnTransport::new(|_| {
        let body = r#"{"id": {"$oid": "65a1"}, "email": ["ops@example.org"], "start_datetime": "2024-10-01T00:00:00Z"}"#;
        Ok(http::Response::builder()
            .status(201)
            .body(body.as_bytes().to_vec())
            .unwrap())
    });
    let client = ClientBuilder::new(Credentials::access_token("t0ken"))
        .base_url("http://127.0.0.1:9")
        .build_blocking_with(transport)
        .unwrap();
    let window =
        telphin_records::QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59").unwrap();
    let archive = telphin_records::ArchiveRequest::new(window, ["ops@example.org"]).unwrap();
    let receipt = client.request_archive(ClientId::Me, &archive).unwrap();
    assert_eq!(receipt.extra["id"]["$oid"], "65a1");
    assert_eq!(receipt.extra["email"][0], "ops@example.org");
}

// Periods people say hold their last fractional second and nothing of the next period.
#[test]
fn a_month_holds_its_last_fraction_of_a_second_and_nothing_of_the_next() {
    use telphin_records::chrono::NaiveDate;
    let env = Env::start();
    let at = |text: &str| {
        telphin_records::chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
    };
    let extension = env.sim.extensions()[0].id;
    let last = env
        .sim
        .add_record(extension, at("2024-03-31 23:59:59.70"))
        .unwrap();
    let next = env
        .sim
        .add_record(extension, at("2024-04-01 00:00:00"))
        .unwrap();
    let march = Period::month(2024, 3).unwrap();
    let expected: Vec<String> = env
        .sim
        .records()
        .into_iter()
        .filter(|r| {
            r.init_time >= at("2024-03-01 00:00:00") && r.init_time < at("2024-04-01 00:00:00")
        })
        .map(|r| r.uuid)
        .collect();
    let client = env.blocking(App::Client);
    let listed: Vec<String> = client
        .list(pbx(), march, Order::Asc)
        .unwrap()
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    assert!(listed.contains(&last.uuid) && !listed.contains(&next.uuid));
    assert_eq!(listed, expected);
    let stats = client.stats(pbx(), march).unwrap();
    assert_eq!(stats.count, expected.len() as u64);
    let listed_async = runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        assert_eq!(client.stats(pbx(), march).await.unwrap(), stats);
        client.list(pbx(), march, Order::Desc).await.unwrap()
    });
    let mut newest_first = expected.clone();
    newest_first.reverse();
    let listed_async: Vec<String> = listed_async
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    assert_eq!(listed_async, newest_first);

    // Deleting the day deletes its last fraction and spares the next day's first second.
    let day = Period::day(NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()).unwrap();
    client.delete_range(pbx(), day).unwrap();
    let left = env.sim.records();
    assert!(!left.iter().any(|r| r.uuid == last.uuid));
    assert!(left.iter().any(|r| r.uuid == next.uuid));
    assert!(!left.iter().any(|r| day.contains(r.init_time.and_utc())));
}
