//! The token cache: one token request for many callers, renewal after a 401, one replay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::sync::Arc;

use record_sim::Fault;
use telphin_records::{ClientId, Error, QueryWindow, Scope};
use telphin_records_tests::{App, Env, app, both_clients, runtime};

fn window() -> QueryWindow {
    QueryWindow::parse("2024-03-01 00:00:00", "2024-03-10 23:59:59").unwrap()
}

fn tokens(env: &Env) -> u64 {
    env.sim.counters().route("token")
}

#[test]
fn sixty_four_concurrent_async_calls_share_one_token_request() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let client = Arc::new(env.asynchronous(App::Client));
    runtime().block_on(async {
        let calls = |client: &Arc<telphin_records::Client<_>>| {
            (0..64)
                .map(|_| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        client
                            .list_window(scope, window(), Default::default())
                            .await
                    })
                })
                .collect::<Vec<_>>()
        };
        // A fresh client: 64 callers, one token.
        for call in calls(&client) {
            call.await.unwrap().unwrap();
        }
        assert_eq!(tokens(&env), 1);

        // The server expires every token: each caller gets a 401, and still one token request
        // renews it for all.
        env.sim.expire_tokens();
        for call in calls(&client) {
            call.await.unwrap().unwrap();
        }
        assert_eq!(tokens(&env), 2);
        assert_eq!(env.sim.counters().route_status("list_records", 200), 128);
    });
}

#[test]
fn a_401_is_replayed_with_a_new_token_and_once_more_on_a_newer_one() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let refused = |env: &Env| env.sim.counters().route_status("list_records", 401);
    both_clients(&env, app(App::Client), |client| {
        client.list_window(scope, window()).unwrap();
        let (tokens_before, refused_before) = (tokens(&env), refused(&env));

        env.sim.inject(Some("list_records"), Fault::Unauthorized, 1);
        client.list_window(scope, window()).unwrap();
        assert_eq!(
            tokens(&env),
            tokens_before + 1,
            "the 401 fetched a new token"
        );

        // Refused again on the new token: one more token, one more replay.
        env.sim.inject(Some("list_records"), Fault::Unauthorized, 2);
        client.list_window(scope, window()).unwrap();
        assert_eq!(tokens(&env), tokens_before + 3);

        // A third refusal in a row is returned.
        env.sim.inject(Some("list_records"), Fault::Unauthorized, 3);
        let err = client.list_window(scope, window()).unwrap_err();
        assert!(
            matches!(err, Error::Unauthorized(_)),
            "{:?}: {err}",
            client.kind
        );
        assert_eq!(refused(&env), refused_before + 6);
        assert_eq!(tokens(&env), tokens_before + 5);
    });
}

#[test]
fn the_password_grant_renews_with_its_refresh_token() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let client = env.blocking(App::Password);
    client
        .list_window(scope, window(), Default::default())
        .unwrap();
    env.sim.expire_tokens();
    client
        .list_window(scope, window(), Default::default())
        .unwrap();
    let grants = env.sim.counters().by_grant;
    assert_eq!(grants.get("password"), Some(&1));
    assert_eq!(grants.get("refresh_token"), Some(&1));
}

#[test]
fn a_fixed_access_token_is_not_renewed() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    // A token the server does not know, as one revoked after another service obtained it.
    let client = telphin_records::ClientBuilder::new(telphin_records::Credentials::access_token(
        "sim-at-0000000000000000",
    ))
    .base_url(env.sim.base_url())
    .build_blocking()
    .unwrap();
    let before = tokens(&env);
    let err = client
        .list_window(scope, window(), Default::default())
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)));
    assert_eq!(tokens(&env), before, "no token request for a fixed token");
    assert_eq!(
        env.sim.counters().route_status("list_records", 401),
        1,
        "and no replay"
    );
}

#[test]
fn bad_credentials_are_a_typed_error() {
    let env = Env::start();
    let client = telphin_records::ClientBuilder::new(
        telphin_records::Credentials::client_credentials("nobody", "wrong"),
    )
    .base_url(env.sim.base_url())
    .build_blocking()
    .unwrap();
    let err = client
        .list_window(Scope::client(ClientId::Me), window(), Default::default())
        .unwrap_err();
    let Error::Unauthorized(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code.as_deref(), Some("invalid_client"));
    assert_eq!(tokens(&env), 1, "refused credentials are not retried");
}
