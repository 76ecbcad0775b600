//! The windows a record stream opens ahead: a failure of one of them, met while the current
//! window is being read, neither freezes the stream nor loses or repeats a record.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use record_sim::{Fault, SimConfig};
use telphin_records::chrono::Datelike as _;
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::{ClientId, ListOptions, Order, Period, Scope};
use telphin_records_tests::{App, Env, Pausing, runtime};

/// The race that froze a year's listing: the current window's body pauses after its first
/// chunk; meanwhile the window opened ahead is refused (401) and starts fetching a token, which
/// takes longer than the pause; the body resumes, ends, and the completeness guard asks for the
/// window's statistics — which need a token.
#[test]
fn a_401_on_the_window_opened_ahead_neither_freezes_nor_loses_a_record() {
    let env = Env::with(SimConfig {
        seed: 77,
        record_count: 3000,
        ..SimConfig::default()
    });
    let scope = Scope::client(ClientId::Me);
    let year = Period::year(2024).unwrap();
    // Every record of 2024, its last fraction of a second included.
    let want: BTreeSet<String> = (env.sim.records().into_iter())
        .filter(|r| r.init_time.date().year() == 2024)
        .map(|r| r.uuid)
        .collect();
    for read_ahead in [1, 3] {
        // The first list request is served; the next one, a window opened ahead, is refused.
        env.sim.inject(Some("list_records"), Fault::Pass, 1);
        env.sim.inject(Some("list_records"), Fault::Unauthorized, 1);
        let transport = Pausing(ReqwestTransport::new().unwrap());
        let client = env
            .builder(App::Client)
            .build_async_with(transport)
            .unwrap();
        let options = ListOptions::new(Order::Asc)
            .completeness_guard(true)
            .read_ahead(read_ahead);
        let records: Vec<_> = runtime()
            .block_on(async {
                let listing = client.records(scope, year, options).try_collect::<Vec<_>>();
                // A hang is the failure; the listing itself takes a few seconds.
                tokio::time::timeout(Duration::from_secs(120), listing).await
            })
            .expect("the listing does not freeze")
            .unwrap();
        let got: Vec<String> = records.iter().map(|r| r.record_uuid.to_string()).collect();
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(unique.len(), got.len(), "each record once");
        let missing: Vec<_> = want.difference(&unique).collect();
        let extra: Vec<_> = unique.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "read ahead {read_ahead}: missing {missing:?}, extra {extra:?}"
        );
    }
    assert_eq!(env.sim.counters().route_status("list_records", 401), 2);
}
