//! The whole of 2024, boundary records included, none twice, in both orders, with both clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use telphin_records::{ClientId, DateRange, Order, Scope};
use telphin_records_tests::{App, Env, runtime};

fn year() -> DateRange {
    DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59").unwrap()
}

#[test]
fn listing_2024_returns_exactly_the_simulators_records() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let expected: Vec<String> = env
        .expected(scope, &year())
        .into_iter()
        .map(|r| r.uuid)
        .collect();
    // The simulator planted records at 00:00:00.00 of every month and in the last fraction of
    // every month's last second; all but December's last lie inside the year's range.
    let boundary = env
        .sim
        .records()
        .into_iter()
        .filter(|r| {
            let t = r.init_time.format("%d %H:%M:%S").to_string();
            t.starts_with("01 00:00:00") || t.ends_with("23:59:59")
        })
        .count();
    assert!(boundary >= 24);

    let client = env.blocking(App::Client);
    let asc: Vec<String> = client
        .list(scope, year(), Order::Asc)
        .unwrap()
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    assert_eq!(asc, expected, "ascending");
    assert_eq!(
        env.sim.counters().route("list_records"),
        11,
        "one request per window"
    );
    let desc: Vec<String> = client
        .list(scope, year(), Order::Desc)
        .unwrap()
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(desc, reversed, "descending");
    assert_eq!(env.sim.counters().route("list_records"), 22);

    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        let asc: Vec<String> = client
            .list(scope, year(), Order::Asc)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.record_uuid.to_string())
            .collect();
        assert_eq!(asc, expected);
        let desc: Vec<String> = client
            .list(scope, year(), Order::Desc)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.record_uuid.to_string())
            .collect();
        assert_eq!(desc, reversed);
    });
    assert_eq!(env.sim.counters().route("list_records"), 44);
}

#[test]
fn statistics_over_the_year_equal_the_simulators_totals() {
    let env = Env::start();
    for (level, scope, app) in env.levels() {
        let expected = env.expected(scope, &year());
        let count = expected.len() as u64;
        let size: u64 = expected.iter().map(|r| r.size).sum();
        let stats = env.blocking(app).stats(scope, year()).unwrap();
        assert_eq!(
            (stats.count, stats.size),
            (count, size),
            "{level}: blocking"
        );
        let stats = runtime()
            .block_on(env.asynchronous(app).stats(scope, year()))
            .unwrap();
        assert_eq!((stats.count, stats.size), (count, size), "{level}: async");
    }
    // Each year: 11 windows and 10 overlap points, one request each, none concurrent.
    assert_eq!(env.sim.counters().route("record_stats"), 4 * 2 * 21);
    assert_eq!(env.sim.counters().route_status("record_stats", 429), 0);
}

#[test]
fn a_record_exactly_on_a_window_boundary_is_counted_once() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    // A record at the whole second where two windows meet: both windows hold it.
    let on_boundary = env
        .sim
        .add_record(
            env.sim.extensions()[0].id,
            telphin_records::chrono::NaiveDateTime::parse_from_str(
                "2024-02-29 23:59:59",
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap(),
        )
        .unwrap();
    let records = env
        .blocking(App::Client)
        .list(scope, year(), Order::Asc)
        .unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.record_uuid.as_str() == on_boundary.uuid)
            .count(),
        1
    );
    let stats = env.blocking(App::Client).stats(scope, year()).unwrap();
    assert_eq!(stats.count, records.len() as u64);
}
