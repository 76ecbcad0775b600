//! Tokens that expire under a burst of calls: every call still succeeds, with a handful of
//! token requests, on both clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::sync::Arc;
use std::time::Duration;

use record_sim::{Faults, SimConfig};
use telphin_records::{ClientId, Error, QueryWindow, RecordUuid, Scope};
use telphin_records_tests::{App, Env, runtime};

const CALLS: usize = 1000;

/// A simulator answering after 20 ms, whose tokens all expire every 150 API requests.
fn expiring() -> Env {
    Env::with(SimConfig {
        seed: 2024,
        record_count: 600,
        faults: Faults {
            latency: Duration::from_millis(20),
            expire_tokens_every: Some(150),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
}

fn window() -> QueryWindow {
    QueryWindow::parse("2024-03-01 00:00:00", "2024-03-10 23:59:59").unwrap()
}

fn failures(results: impl IntoIterator<Item = Result<(), Error>>) -> Vec<String> {
    results
        .into_iter()
        .filter_map(|result| result.err().map(|error| error.to_string()))
        .collect()
}

/// 1,000 calls (a window's list, a storage link, the monthly statistics) on `threads` threads
/// of a blocking client: the failures and the token requests.
fn blocking_burst(app: App, threads: usize) -> (Vec<String>, u64) {
    let env = expiring();
    let client = env.blocking(app);
    let uuid: RecordUuid = env.sim.records()[0].uuid.parse().unwrap();
    let scope = Scope::client(ClientId::Me);
    let results: Vec<Result<(), Error>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (client, uuid) = (client.clone(), uuid.clone());
                s.spawn(move || {
                    (worker..CALLS)
                        .step_by(threads)
                        .map(|call| match call % 3 {
                            0 => client
                                .list_window(scope, window(), Default::default())
                                .map(drop),
                            1 => client.storage_link(scope, &uuid).map(drop),
                            _ => client.monthly_stats(ClientId::Me, None).map(drop),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    (failures(results), env.sim.counters().route("token"))
}

/// The same 1,000 calls at once on the async client.
fn async_burst(app: App) -> (Vec<String>, u64) {
    let env = expiring();
    let client = Arc::new(env.asynchronous(app));
    let uuid: RecordUuid = env.sim.records()[0].uuid.parse().unwrap();
    let scope = Scope::client(ClientId::Me);
    let results = runtime().block_on(async {
        let calls: Vec<_> = (0..CALLS)
            .map(|call| {
                let (client, uuid) = (client.clone(), uuid.clone());
                tokio::spawn(async move {
                    match call % 3 {
                        0 => client
                            .list_window(scope, window(), Default::default())
                            .await
                            .map(drop),
                        1 => client.storage_link(scope, &uuid).await.map(drop),
                        _ => client.monthly_stats(ClientId::Me, None).await.map(drop),
                    }
                })
            })
            .collect();
        let mut results = Vec::new();
        for call in calls {
            results.push(call.await.unwrap());
        }
        results
    });
    (failures(results), env.sim.counters().route("token"))
}

#[test]
fn a_burst_of_calls_survives_tokens_expiring_under_it() {
    let (blocking_failed, blocking_tokens) = blocking_burst(App::Client, 50);
    assert_eq!(blocking_failed, Vec::<String>::new());
    for app in [App::Client, App::Password] {
        let (failed, tokens) = async_burst(app);
        eprintln!(
            "{app:?}: {} failed, {tokens} tokens; blocking {blocking_tokens}",
            failed.len()
        );
        assert_eq!(failed, Vec::<String>::new(), "{app:?}: every call succeeds");
        // At least one token per 150 requests; of the same order as the blocking client's.
        assert!(tokens >= 7, "{app:?}: {tokens} token requests");
        assert!(
            tokens <= 2 * blocking_tokens + 4,
            "{app:?}: {tokens} token requests, the blocking client made {blocking_tokens}"
        );
    }
}
