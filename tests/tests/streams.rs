//! Record streams: the same records as `list()` and as the simulator, in both orders and with
//! both clients; finer windows; the completeness guard against a server that cuts its answers;
//! one undecodable record; resuming after a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use futures_util::{StreamExt, TryStreamExt};
use record_sim::{Fault, Faults, SimConfig};
use telphin_records::chrono::{NaiveDate, NaiveDateTime};
use telphin_records::{
    ClientBuilder, ClientId, Credentials, Error, FnTransport, ListOptions, Order, Period, Record,
    Scope, WindowSize,
};
use telphin_records::{http, serde_json};
use telphin_records_tests::{App, Env, fast_retries, runtime};

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, mi, s)
        .unwrap()
}

/// The simulator's records in `[from, until)`, oldest first.
fn expected(env: &Env, from: NaiveDateTime, until: NaiveDateTime) -> Vec<String> {
    env.sim
        .records()
        .into_iter()
        .filter(|r| from <= r.init_time && r.init_time < until)
        .map(|r| r.uuid)
        .collect()
}

fn uuids(records: impl IntoIterator<Item = Record>) -> Vec<String> {
    records
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect()
}

#[test]
fn the_stream_gives_the_simulators_records_in_both_orders_with_both_clients() {
    let env = Env::start();
    let year = Period::year(2024).unwrap();
    let asc = expected(&env, at(2024, 1, 1, 0, 0, 0), at(2025, 1, 1, 0, 0, 0));
    let last = env.sim.records().into_iter().last().unwrap();
    assert!(
        last.init_time > at(2024, 12, 31, 23, 59, 59),
        "the year's last fraction of a second has a record"
    );
    assert_eq!(asc.last(), Some(&last.uuid));
    let mut desc = asc.clone();
    desc.reverse();

    let client = env.blocking(App::Client);
    for (order, want) in [(Order::Asc, &asc), (Order::Desc, &desc)] {
        let streamed: Vec<Record> = client
            .records(pbx(), year, ListOptions::new(order))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(&uuids(streamed), want, "{order:?}");
        assert_eq!(&uuids(client.list(pbx(), year, order).unwrap()), want);
    }
    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        for (order, want) in [(Order::Asc, &asc), (Order::Desc, &desc)] {
            let streamed: Vec<Record> = client
                .records(pbx(), year, ListOptions::new(order))
                .try_collect()
                .await
                .unwrap();
            assert_eq!(&uuids(streamed), want, "{order:?}");
            assert_eq!(&uuids(client.list(pbx(), year, order).await.unwrap()), want);
        }
    });
    // 12 windows (the year's last second needs its own), each opened once per listing, read
    // ahead or not.
    assert_eq!(env.sim.counters().route("list_records"), 12 * 8);
}

#[test]
fn day_and_week_windows_give_the_same_records_with_more_requests() {
    let env = Env::start();
    let march = Period::month(2024, 3).unwrap();
    let want = expected(&env, at(2024, 3, 1, 0, 0, 0), at(2024, 4, 1, 0, 0, 0));
    let client = env.blocking(App::Client);
    for (size, windows) in [(WindowSize::Day, 31), (WindowSize::Week, 5)] {
        let before = env.sim.counters().route("list_records");
        let options = ListOptions::new(Order::Asc).window_size(size);
        let got = client.list_with(pbx(), march, options).unwrap();
        assert_eq!(uuids(got), want, "{size:?}");
        assert_eq!(
            env.sim.counters().route("list_records") - before,
            windows,
            "{size:?}"
        );
    }
    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        let options = ListOptions::new(Order::Desc).window_size(WindowSize::Day);
        let got = client.list_with(pbx(), march, options).await.unwrap();
        let mut reversed = want.clone();
        reversed.reverse();
        assert_eq!(uuids(got), reversed);
    });
}

fn capped(cap: usize, record_count: usize) -> Env {
    Env::with(SimConfig {
        seed: 9,
        record_count,
        faults: Faults {
            list_cap: Some(cap),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
}

#[test]
fn the_guard_finds_every_record_of_a_server_that_cuts_its_answers() {
    let env = capped(20, 600);
    let quarter = Period::between(
        at(2024, 1, 1, 0, 0, 0).and_utc(),
        at(2024, 4, 1, 0, 0, 0).and_utc(),
    )
    .unwrap();
    let want = expected(&env, at(2024, 1, 1, 0, 0, 0), at(2024, 4, 1, 0, 0, 0));
    assert!(want.len() > 100, "well over the cap per window");
    let client = env.blocking(App::Client);

    // Unguarded, the cut answers lose records without a word: what the guard is for.
    let unguarded = client.list(pbx(), quarter, Order::Asc).unwrap();
    assert!(unguarded.len() < want.len() / 2, "{}", unguarded.len());

    for order in [Order::Asc, Order::Desc] {
        let options = ListOptions::new(order).completeness_guard(true);
        let mut want = want.clone();
        if order == Order::Desc {
            want.reverse();
        }
        let guarded = client.list_with(pbx(), quarter, options.clone()).unwrap();
        assert_eq!(uuids(guarded), want, "blocking {order:?}");
        let streamed: Vec<Record> = runtime()
            .block_on(
                env.asynchronous(App::Client)
                    .records(pbx(), quarter, options)
                    .try_collect(),
            )
            .unwrap();
        assert_eq!(uuids(streamed), want, "async {order:?}");
    }
    let counters = env.sim.counters();
    assert!(counters.route("record_stats") > 10, "{counters:?}");
    assert_eq!(
        counters.route_status("record_stats", 429),
        0,
        "one at a time"
    );
}

#[test]
fn the_guard_reports_what_splitting_cannot_reach() {
    let env = capped(2, 0);
    let crowded = at(2024, 5, 10, 12, 0, 0);
    let extension = env.sim.extensions()[0].id;
    for _ in 0..3 {
        env.sim.add_record(extension, crowded).unwrap();
    }
    env.sim
        .add_record(extension, at(2024, 5, 10, 18, 0, 0))
        .unwrap();
    let day = Period::day(NaiveDate::from_ymd_opt(2024, 5, 10).unwrap()).unwrap();
    let client = env.blocking(App::Client);
    let options = ListOptions::new(Order::Asc).completeness_guard(true);
    let mut stream = client.records(pbx(), day, options);
    let mut handed_out = Vec::new();
    let error = loop {
        match stream.next().unwrap() {
            Ok(record) => handed_out.push(record),
            Err(error) => break error,
        }
    };
    let Error::IncompleteListing {
        window,
        listed,
        expected,
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!((*listed, *expected), (2, 3), "{error}");
    let crowded_utc = crowded.and_utc();
    assert!(
        window.start() <= crowded_utc && crowded_utc <= window.end(),
        "{error}"
    );
    assert!(
        (window.end() - window.start()).num_seconds() <= 1,
        "{error}"
    );
    assert!(error.to_string().contains("2 records listed"), "{error}");
    assert!(stream.next().is_none(), "the listing stops at the error");
    let uuids_once: std::collections::HashSet<_> =
        handed_out.iter().map(|r| &r.record_uuid).collect();
    assert_eq!(
        uuids_once.len(),
        handed_out.len(),
        "nothing handed out twice"
    );
    assert_eq!(stream.position().unwrap().window(), *window);
}

fn list_body(records: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(records).unwrap()
}

#[test]
fn one_undecodable_record_does_not_lose_the_others() {
    let env = Env::start();
    let march = expected(&env, at(2024, 3, 10, 0, 0, 0), at(2024, 3, 20, 0, 0, 0));
    let mut records: Vec<serde_json::Value> = env
        .sim
        .records()
        .into_iter()
        .filter(|r| march.contains(&r.uuid))
        .map(|r| r.json())
        .collect();
    assert!(records.len() >= 3);
    let broken = records[1]["record_uuid"].as_str().unwrap().to_owned();
    records[1]["duration"] = serde_json::json!("a while");
    let body = list_body(&records);
    let transport = FnTransport::new(move |request: http::Request<Vec<u8>>| {
        let body = if request.uri().path().contains("/oauth/token") {
            br#"{"access_token": "t0ken", "expires_in": 3600}"#.to_vec()
        } else {
            body.clone()
        };
        Ok(http::Response::builder().status(200).body(body).unwrap())
    });
    let builder = || {
        ClientBuilder::new(Credentials::client_credentials("id", "secret"))
            .base_url("http://127.0.0.1:9")
            .retry_policy(fast_retries())
    };
    let transport = std::sync::Arc::new(transport);
    let client = builder()
        .build_blocking_with(std::sync::Arc::clone(&transport))
        .unwrap();
    let window = Period::parse("2024-03-10 00:00:00", "2024-03-20 00:00:00").unwrap();
    let items: Vec<Result<Record, Error>> = client
        .records(pbx(), window, ListOptions::new(Order::Asc))
        .collect();
    assert_eq!(items.len(), records.len());
    let Err(Error::UndecodableRecord { record_uuid, .. }) = &items[1] else {
        panic!("{:?}", items[1]);
    };
    assert_eq!(record_uuid.as_deref(), Some(broken.as_str()));
    assert!(
        items
            .iter()
            .enumerate()
            .all(|(i, item)| i == 1 || item.is_ok())
    );

    let strict = client.list(pbx(), window, Order::Asc).unwrap_err();
    assert!(strict.to_string().contains(&broken), "{strict}");
    let lenient = client
        .list_with(
            pbx(),
            window,
            ListOptions::new(Order::Asc).skip_undecodable(true),
        )
        .unwrap();
    assert_eq!(lenient.len(), records.len() - 1);

    // The async client alike: the stream goes on, `list` is strict, `list_with` skips.
    let client = builder().build_async_with(transport).unwrap();
    runtime().block_on(async {
        let items: Vec<Result<Record, Error>> = client
            .records(pbx(), window, ListOptions::new(Order::Asc))
            .collect()
            .await;
        assert_eq!(items.len(), records.len());
        assert!(matches!(items[1], Err(Error::UndecodableRecord { .. })));
        assert!(client.list(pbx(), window, Order::Asc).await.is_err());
        let lenient = client
            .list_with(
                pbx(),
                window,
                ListOptions::new(Order::Asc).skip_undecodable(true),
            )
            .await
            .unwrap();
        assert_eq!(lenient.len(), records.len() - 1);
    });
}

#[test]
fn a_failed_listing_resumes_where_it_stopped() {
    let env = Env::start();
    let year = Period::year(2024).unwrap();
    let want = expected(&env, at(2024, 1, 1, 0, 0, 0), at(2025, 1, 1, 0, 0, 0));
    let client = env
        .blocking(App::Client)
        .with_retry_policy(telphin_records::RetryPolicy::never());
    let mut stream = client.records(pbx(), year, ListOptions::new(Order::Asc));
    let mut got: Vec<Record> = stream.by_ref().take(150).map(Result::unwrap).collect();
    // The next window's list fails.
    env.sim.inject(Some("list_records"), Fault::Status(503), 1);
    let error = loop {
        match stream.next().unwrap() {
            Ok(record) => got.push(record),
            Err(error) => break error,
        }
    };
    assert_eq!(error.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    let position = stream.position().unwrap();
    assert!(position.window().start() > year.start());

    let resumed = client.records(pbx(), year, ListOptions::new(Order::Asc).resume(position));
    got.extend(resumed.map(Result::unwrap));
    assert_eq!(uuids(got), want);
}

/// A server whose list answers reach hours past the window asked for puts the records near
/// every window edge in two answers: each still comes out once, on both clients.
#[test]
fn records_a_server_puts_in_two_windows_answers_come_out_once() {
    let env = Env::with(SimConfig {
        seed: 31,
        record_count: 3000,
        faults: Faults {
            list_overreach: Some(std::time::Duration::from_secs(6 * 3600)),
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let scope = Scope::client(ClientId::Me);
    let quarter = Period::parse("2024-01-01 00:00:00", "2024-04-01 00:00:00").unwrap();
    let want: Vec<String> = (env.sim.records().into_iter())
        .filter(|r| r.init_time.date() < NaiveDate::from_ymd_opt(2024, 4, 1).unwrap())
        .filter(|r| r.init_time.date() >= NaiveDate::from_ymd_opt(2024, 1, 1).unwrap())
        .map(|r| r.uuid)
        .collect();
    telphin_records_tests::both_clients(&env, telphin_records_tests::app(App::Client), |client| {
        for (size, order) in [
            (WindowSize::Day, Order::Asc),
            (WindowSize::Week, Order::Desc),
        ] {
            let options = ListOptions::new(order).window_size(size);
            let records = client.records(scope, quarter, options).unwrap();
            let mut got: Vec<String> = records.iter().map(|r| r.record_uuid.to_string()).collect();
            got.sort();
            let mut expected = want.clone();
            expected.sort();
            assert_eq!(
                got, expected,
                "{:?}, {size:?}: each record once",
                client.kind
            );
        }
    });
}
