//! The facade's ureq client (feature `ureq`): the same calls over ureq 3, against the
//! simulator, with the figures the built-in transport gives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use telphin_records::{ClientId, Order, Period, Scope};
use telphin_records_tests::{App, Env};

#[test]
fn the_ureq_client_lists_and_counts_as_the_built_in_one_does() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let period = Period::month(2024, 3).unwrap();
    let ureq = env.builder(App::Client).build_blocking_ureq().unwrap();
    let built_in = env.blocking(App::Client);
    let listed = ureq.list(scope, period, Order::Asc).unwrap();
    assert!(!listed.is_empty());
    assert_eq!(listed, built_in.list(scope, period, Order::Asc).unwrap());
    assert_eq!(
        ureq.stats(scope, period).unwrap(),
        built_in.stats(scope, period).unwrap()
    );
}
