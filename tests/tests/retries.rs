//! Retries as the policy decides: 5xx on GET and DELETE, never a POST that may have been sent;
//! 429 waited out within the cap, returned beyond it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::time::Duration;

use record_sim::Fault;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use telphin_records::{
    ArchiveRequest, ClientId, Error, QueryWindow, RateLimitKind, RecordUuid, Scope,
};

use telphin_records::{
    ClientBuilder, Credentials, Deletion, FnTransport, Order, Period, TransportError,
    TransportErrorKind,
};
use telphin_records_tests::{App, Env, both_clients, fast_retries, runtime};

fn window() -> QueryWindow {
    QueryWindow::parse("2024-04-01 00:00:00", "2024-04-10 23:59:59").unwrap()
}

#[test]
fn server_errors_are_retried_for_get_and_delete() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let client = env.blocking(App::Client);
    env.sim.inject(Some("list_records"), Fault::Status(503), 2);
    client
        .list_window(scope, window(), Default::default())
        .unwrap();
    let counters = env.sim.counters();
    assert_eq!(counters.route_status("list_records", 503), 2);
    assert_eq!(counters.route_status("list_records", 200), 1);

    let uuid: RecordUuid = env.sim.records()[3].uuid.parse().unwrap();
    env.sim.inject(Some("delete_record"), Fault::Status(500), 1);
    client.delete_record(scope, &uuid).unwrap();
    assert_eq!(env.sim.counters().route_status("delete_record", 500), 1);
    assert_eq!(env.sim.counters().route_status("delete_record", 204), 1);

    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        env.sim.inject(Some("record_stats"), Fault::Status(502), 1);
        client.stats(scope, window()).await.unwrap();
        let uuid: RecordUuid = env.sim.records()[4].uuid.parse().unwrap();
        env.sim.inject(Some("delete_record"), Fault::Status(503), 2);
        client.delete_record(scope, &uuid).await.unwrap();
    });
    let counters = env.sim.counters();
    assert_eq!(counters.route_status("record_stats", 502), 1);
    assert_eq!(counters.route_status("delete_record", 503), 2);
    assert_eq!(counters.route_status("delete_record", 204), 2);
}

#[test]
fn persistent_server_errors_stop_at_the_last_attempt() {
    let env = Env::start();
    let client = env.blocking(App::Client);
    env.sim.inject(Some("list_records"), Fault::Status(500), 10);
    let err = client
        .list_window(Scope::client(ClientId::Me), window(), Default::default())
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        env.sim.counters().route("list_records"),
        4,
        "max_attempts of the policy"
    );
}

#[test]
fn an_archive_post_that_may_have_been_sent_is_not_retried() {
    let env = Env::start();
    let archive = ArchiveRequest::new(window(), ["ops@example.org"]).unwrap();
    env.sim
        .inject(Some("request_archive"), Fault::Status(503), 1);
    let err = env
        .blocking(App::Client)
        .request_archive(ClientId::Me, &archive)
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        env.sim.counters().route("request_archive"),
        1,
        "one POST only"
    );
    assert!(env.sim.outbox().is_empty());

    runtime().block_on(async {
        env.sim
            .inject(Some("request_archive"), Fault::Status(502), 1);
        let err = env
            .asynchronous(App::Client)
            .request_archive(ClientId::Me, &archive)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Api(_)), "{err}");
    });
    assert_eq!(env.sim.counters().route("request_archive"), 2);
}

#[test]
fn a_429_within_the_cap_is_waited_out_and_beyond_it_returned() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let client = env
        .builder(App::Client)
        .rate_limit_wait_cap(Duration::from_secs(5))
        .build_blocking()
        .unwrap();
    env.sim.inject(
        Some("list_records"),
        Fault::RateLimited { reset_secs: 1 },
        1,
    );
    client
        .list_window(scope, window(), Default::default())
        .unwrap();
    assert_eq!(env.sim.counters().route_status("list_records", 429), 1);
    assert_eq!(env.sim.counters().route_status("list_records", 200), 1);

    env.sim.inject(
        Some("list_records"),
        Fault::RateLimited { reset_secs: 3600 },
        1,
    );
    let err = client
        .list_window(scope, window(), Default::default())
        .unwrap_err();
    let Error::RateLimited {
        kind, reset_after, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*kind, RateLimitKind::Hourly);
    assert_eq!(*reset_after, Some(Duration::from_secs(3600)));
    assert_eq!(
        env.sim.counters().route_status("list_records", 429),
        2,
        "not retried"
    );
    assert_eq!(
        client.last_rate_limit().unwrap().reset_after,
        Some(Duration::from_secs(3600))
    );

    runtime().block_on(async {
        let client = env
            .builder(App::Client)
            .rate_limit_wait_cap(Duration::from_secs(5))
            .build_async()
            .unwrap();
        env.sim.inject(
            Some("list_records"),
            Fault::RateLimited { reset_secs: 1 },
            1,
        );
        client
            .list_window(scope, window(), Default::default())
            .await
            .unwrap();
        env.sim.inject(
            Some("list_records"),
            Fault::RateLimited { reset_secs: 600 },
            1,
        );
        assert!(matches!(
            client
                .list_window(scope, window(), Default::default())
                .await,
            Err(Error::RateLimited { .. })
        ));
    });
}

#[test]
fn every_answer_leaves_its_rate_limit_info() {
    let env = Env::start();
    let client = env.blocking(App::Client);
    assert!(client.last_rate_limit().is_none());
    client
        .list_window(Scope::client(ClientId::Me), window(), Default::default())
        .unwrap();
    let info = client.last_rate_limit().unwrap();
    assert_eq!(info.limit, Some(100_000));
    assert!(info.remaining.unwrap() < 100_000);
}

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

fn uuid_of(record: &record_sim::SimRecord) -> RecordUuid {
    record.uuid.parse().unwrap()
}

// A DELETE whose answer was lost is reported as done ("already gone"), not as NotFound.
#[test]
fn a_delete_whose_answer_was_lost_is_already_gone() {
    let env = Env::start();
    let records = env.sim.records();
    let client = env.blocking(App::Client);
    env.sim.inject(Some("delete_record"), Fault::LoseAnswer, 1);
    let deletion = client.delete_record(pbx(), &uuid_of(&records[0])).unwrap();
    assert_eq!(deletion, Deletion::AlreadyGone);
    assert!(!env.sim.records().iter().any(|r| r.uuid == records[0].uuid));
    assert_eq!(env.sim.counters().route_status("delete_record", 404), 1);

    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        env.sim.inject(Some("delete_record"), Fault::LoseAnswer, 1);
        let deletion = client.delete_record(pbx(), &uuid_of(&records[1])).await;
        assert_eq!(deletion.unwrap(), Deletion::AlreadyGone);
        // A plain delete is `Deleted`; a first 404 stays an error.
        let deletion = client.delete_record(pbx(), &uuid_of(&records[2])).await;
        assert_eq!(deletion.unwrap(), Deletion::Deleted);
        let again = client.delete_record(pbx(), &uuid_of(&records[2])).await;
        assert!(again.unwrap_err().is_not_found());
    });
}

// A DELETE the server carries out and then never answers, on a connection kept alive from
// the call before: the transport must not send it again behind the engine's back (the second
// copy would find the record gone, and the caller would see NotFound). Each engine attempt is
// one DELETE at the server, and the outcome is "already gone" (or an error that says the
// request may have been sent).
#[test]
fn a_delete_acted_on_and_never_answered_is_sent_once_per_attempt() {
    let env = Env::start();
    let records = env.sim.records();
    let builder = |env: &Env| {
        env.builder(App::Client)
            .timeouts(Duration::from_secs(5), Duration::from_millis(700))
    };
    let mut next = 0;
    both_clients(&env, builder, |client| {
        let record = &records[next];
        next += 1;
        // A first call leaves a kept-alive connection to the API for the DELETE to reuse.
        client.storage_link(pbx(), &uuid_of(record)).unwrap();
        let before = env.sim.counters().route("delete_record");
        env.sim.inject(Some("delete_record"), Fault::StallAnswer, 1);
        let deletion = client.delete_record(pbx(), &uuid_of(record));
        let deletes = env.sim.counters().route("delete_record") - before;
        assert!(!env.sim.records().iter().any(|r| r.uuid == record.uuid));
        match deletion {
            Ok(deletion) => {
                assert_eq!(deletion, Deletion::AlreadyGone, "{:?}", client.kind);
                assert_eq!(
                    deletes, 2,
                    "{:?}: one DELETE per engine attempt",
                    client.kind
                );
            }
            Err(error) => {
                assert!(!error.is_not_found(), "{:?}: {error}", client.kind);
                assert!(
                    error.to_string().contains("may have"),
                    "{:?}: {error}",
                    client.kind
                );
            }
        }
    });
}

// Errors that can never succeed are not retried.
#[test]
fn final_transport_errors_are_sent_once() {
    for kind in [
        TransportErrorKind::Request,
        TransportErrorKind::BodyTooLarge,
    ] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let transport = FnTransport::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(TransportError::new(kind, false))
        });
        let client = ClientBuilder::new(Credentials::access_token("t0ken"))
            .base_url("http://127.0.0.1:9")
            .retry_policy(fast_retries())
            .build_blocking_with(transport)
            .unwrap();
        let error = client
            .list(pbx(), Period::month(2024, 3).unwrap(), Order::Asc)
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error}");
        assert_eq!(sent.load(Ordering::SeqCst), 1, "{kind:?}");
    }
}
