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

/// What a burst came to: the calls that failed, the token requests, the requests refused
/// (401).
struct Burst {
    failed: Vec<String>,
    tokens: u64,
    refused: u64,
}

/// 1,000 calls (a window's list, a storage link, the monthly statistics) on `threads` threads
/// of a blocking client.
fn blocking_burst(app: App, threads: usize) -> Burst {
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
    Burst {
        failed: failures(results),
        tokens: env.sim.counters().route("token"),
        refused: env.sim.counters().status(401),
    }
}

/// The same 1,000 calls on the async client, at most `in_flight` at once.
fn async_burst(app: App, in_flight: usize) -> Burst {
    let env = expiring();
    let client = Arc::new(env.asynchronous(app));
    let uuid: RecordUuid = env.sim.records()[0].uuid.parse().unwrap();
    let scope = Scope::client(ClientId::Me);
    let gate = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let results = runtime().block_on(async {
        let calls: Vec<_> = (0..CALLS)
            .map(|call| {
                let (client, uuid, gate) = (client.clone(), uuid.clone(), gate.clone());
                tokio::spawn(async move {
                    let _call = gate.acquire().await.unwrap();
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
    Burst {
        failed: failures(results),
        tokens: env.sim.counters().route("token"),
        refused: env.sim.counters().status(401),
    }
}

#[test]
fn a_burst_of_calls_survives_tokens_expiring_under_it() {
    let blocking = blocking_burst(App::Client, 50);
    assert_eq!(blocking.failed, Vec::<String>::new());
    for app in [App::Client, App::Password] {
        let burst = async_burst(app, CALLS);
        eprintln!(
            "{app:?}: {} failed, {} tokens, {} refused; blocking {} tokens",
            burst.failed.len(),
            burst.tokens,
            burst.refused,
            blocking.tokens
        );
        assert_eq!(
            burst.failed,
            Vec::<String>::new(),
            "{app:?}: every call succeeds"
        );
        // At least one token per 150 requests; of the same order as the blocking client's.
        assert!(
            burst.tokens >= 7,
            "{app:?}: {} token requests",
            burst.tokens
        );
        assert!(
            burst.tokens <= 2 * blocking.tokens + 4,
            "{app:?}: {} token requests, the blocking client made {}",
            burst.tokens,
            blocking.tokens
        );
    }
}

/// With as many calls in flight as the blocking client's threads, the async client's calls
/// are refused no more often than the blocking client's: a call that saw its token refused
/// waits for the one fetch of a new token and sends once with it. (All 1,000 at once, each
/// token the simulator retires after 150 requests is refused to every request in flight —
/// that is concurrency, not the token cache.)
#[test]
fn at_equal_concurrency_the_async_client_is_refused_no_more_than_the_blocking_one() {
    let runs = 3;
    let (mut blocking, mut asynchronous) = (0, 0);
    for _ in 0..runs {
        let burst = blocking_burst(App::Client, 50);
        assert_eq!(burst.failed, Vec::<String>::new());
        blocking += burst.refused;
        let burst = async_burst(App::Client, 50);
        assert_eq!(burst.failed, Vec::<String>::new());
        asynchronous += burst.refused;
    }
    eprintln!("refused in {runs} runs of {CALLS} calls: async {asynchronous}, blocking {blocking}");
    assert!(blocking > 0, "the tokens did expire under the calls");
    assert!(
        asynchronous as f64 <= blocking as f64 * 1.1,
        "async {asynchronous} refused requests against blocking {blocking}"
    );
}
