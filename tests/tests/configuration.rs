//! Configuration that cannot work is refused by both clients the same way, with a typed error,
//! before a single request is sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::time::Duration;

use telphin_records::{ClientBuilder, Credentials, Error};
use telphin_records_tests::Env;

/// Each builder, and the words its error must hold.
fn unusable(env: &Env) -> Vec<(ClientBuilder, &'static str)> {
    let base =
        |credentials: Credentials| ClientBuilder::new(credentials).base_url(env.sim.base_url());
    let app = &env.sim.credentials().client;
    let good = || Credentials::client_credentials(&app.client_id, &app.client_secret);
    vec![
        (base(Credentials::pbx_login("admin:1", "pa55word")), "':'"),
        (base(Credentials::pbx_login("", "pa55word")), "PBX login"),
        (
            base(Credentials::client_credentials("", "")),
            "must not be empty",
        ),
        (
            base(Credentials::client_credentials(&app.client_id, " ")),
            "must not be empty",
        ),
        (
            base(Credentials::password(
                &app.client_id,
                &app.client_secret,
                "",
                "pw",
            )),
            "user name",
        ),
        (base(Credentials::access_token("")), "access token"),
        (
            base(good()).timeouts(Duration::ZERO, Duration::from_secs(5)),
            "connect timeout",
        ),
        (
            base(good()).timeouts(Duration::from_secs(5), Duration::ZERO),
            "read timeout",
        ),
    ]
}

#[test]
fn unusable_configuration_is_refused_by_both_clients_before_any_request() {
    let env = Env::start();
    for (builder, words) in unusable(&env) {
        let shown = format!("{builder:?}");
        let blocking = builder.clone().build_blocking().unwrap_err();
        let asynchronous = builder.build_async().unwrap_err();
        for error in [blocking, asynchronous] {
            assert!(matches!(error, Error::Config(_)), "{shown}: {error}");
            assert!(error.to_string().contains(words), "{shown}: {error}");
            assert!(
                !error.to_string().contains("pa55word"),
                "no secret: {error}"
            );
        }
    }
    let sent: u64 = env.sim.counters().by_route.values().sum();
    assert_eq!(sent, 0, "no request reached the server");
}
