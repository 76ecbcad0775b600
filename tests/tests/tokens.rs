//! The token cache: one token request for many callers, renewal after a 401, one replay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::sync::Arc;

use record_sim::Fault;
use std::sync::atomic::{AtomicUsize, Ordering};
use telphin_records::{ClientId, Error, QueryWindow, Scope};

use telphin_records::{ClientBuilder, Credentials, FnTransport, Order, Period, http};
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

/// Answers token requests after a pause, every other request with an empty list; counts the
/// token requests.
#[derive(Default)]
struct SlowTokens(std::sync::atomic::AtomicU64);

#[telphin_records_tests::async_trait]
impl telphin_records::AsyncTransport for SlowTokens {
    async fn send(
        &self,
        request: telphin_records::http::Request<Vec<u8>>,
    ) -> Result<telphin_records::http::Response<Vec<u8>>, telphin_records::TransportError> {
        let body = if request.uri().path().ends_with("/oauth/token") {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            r#"{"access_token": "t0ken", "token_type": "bearer", "expires_in": 3600}"#
        } else {
            "[]"
        };
        Ok(telphin_records::http::Response::new(
            body.as_bytes().to_vec(),
        ))
    }

    async fn send_streaming(
        &self,
        request: telphin_records::http::Request<Vec<u8>>,
    ) -> Result<
        telphin_records::http::Response<Box<dyn telphin_records::AsyncBody>>,
        telphin_records::TransportError,
    > {
        let answer = self.send(request).await?;
        Ok(answer.map(|body| {
            let body = telphin_records::layers::record_api::BufferedBody(Some(body.into()));
            Box::new(body) as Box<dyn telphin_records::AsyncBody>
        }))
    }
}

#[test]
fn a_token_waiter_is_never_blocked_by_a_caller_left_unpolled_or_dropped() {
    use std::sync::atomic::Ordering;

    use std::task::Poll;
    use telphin_records::Record;

    let client = || {
        telphin_records::ClientBuilder::new(telphin_records::Credentials::client_credentials(
            "id", "s3cret",
        ))
        .base_url("http://127.0.0.1:9")
        .build_async_with(SlowTokens::default())
        .unwrap()
    };
    fn list(
        client: &telphin_records::Client<SlowTokens>,
    ) -> std::pin::Pin<Box<impl std::future::Future<Output = Result<Vec<Record>, Error>> + '_>>
    {
        let scope = Scope::client(ClientId::Me);
        Box::pin(client.list_window(scope, window(), Default::default()))
    }
    // Polled once: it starts the token fetch, which then waits on the transport.
    async fn started<F: std::future::Future + Unpin>(mut call: F) -> F {
        let polled = std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut call).poll(cx)));
        assert!(polled.await.is_pending(), "the token fetch is under way");
        call
    }
    // A hang is the failure; the calls take a few milliseconds.
    let bound = std::time::Duration::from_secs(60);
    runtime().block_on(async {
        // A caller never polled again: the next caller drives the fetch it started.
        let stalled_client = client();
        let _stalled = started(list(&stalled_client)).await;
        let next = tokio::time::timeout(bound, list(&stalled_client)).await;
        next.expect("not blocked by the stalled caller").unwrap();
        assert_eq!(stalled_client.transport().0.load(Ordering::SeqCst), 1);

        // A caller dropped mid-fetch: the next caller fetches anew.
        let dropped_client = client();
        drop(started(list(&dropped_client)).await);
        let next = tokio::time::timeout(bound, list(&dropped_client)).await;
        next.expect("not blocked by the dropped caller").unwrap();
        assert_eq!(dropped_client.transport().0.load(Ordering::SeqCst), 2);
    });
}

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

// A refresh that fails in any way falls back to the primary grant.
#[test]
fn a_failed_refresh_falls_back_to_the_password_grant() {
    let env = Env::start();
    let client = env.blocking(App::Password);
    let march = Period::month(2024, 3).unwrap();
    client.stats(pbx(), march).unwrap();
    env.sim.expire_tokens();
    // The refresh fails with a 500 on every attempt the policy allows.
    env.sim.inject(Some("token"), Fault::TokenError, 4);
    client.stats(pbx(), march).unwrap();
    let grants = env.sim.counters().by_grant;
    assert_eq!(grants.get("refresh_token"), Some(&4), "{grants:?}");
    assert_eq!(grants.get("password"), Some(&2), "{grants:?}");
    // Not wedged: later calls use the new token.
    client.stats(pbx(), march).unwrap();
    assert_eq!(env.sim.counters().route("token"), 6);
}

// A token with `expires_in: 0` is fetched once, not once per call.
#[test]
fn a_zero_lifetime_token_is_fetched_once_for_a_burst_and_later_calls() {
    for lifetime in [0, 1] {
        let fetched = Arc::new(AtomicUsize::new(0));
        let counter = fetched.clone();
        let transport = FnTransport::new(move |request: http::Request<Vec<u8>>| {
            let body = if request.uri().path() == "/oauth/token" {
                counter.fetch_add(1, Ordering::SeqCst);
                format!(r#"{{"access_token": "t0ken-fake", "expires_in": {lifetime}}}"#)
            } else {
                "[]".to_owned()
            };
            Ok(http::Response::builder()
                .status(200)
                .body(body.into_bytes())
                .unwrap())
        });
        let transport = Arc::new(transport);
        let builder = ClientBuilder::new(Credentials::client_credentials("id", "secret"))
            .base_url("http://127.0.0.1:9");
        let blocking = builder
            .clone()
            .build_blocking_with(transport.clone())
            .unwrap();
        for _ in 0..10 {
            blocking
                .list(pbx(), Period::month(2024, 3).unwrap(), Order::Asc)
                .unwrap();
        }
        assert_eq!(fetched.load(Ordering::SeqCst), 1);
        let client = builder.build_async_with(transport).unwrap();
        runtime().block_on(async {
            let calls =
                (0..32).map(|_| client.list(pbx(), Period::year(2024).unwrap(), Order::Asc));
            for result in futures_util::future::join_all(calls).await {
                result.unwrap();
            }
        });
        assert_eq!(fetched.load(Ordering::SeqCst), 2, "lifetime {lifetime}");
    }
}
