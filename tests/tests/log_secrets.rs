//! No secret used by a test — client secret, password, access and refresh tokens, storage links —
//! reaches the `tracing` output, dependencies' `log` output, or an error message, even when a
//! server echoes them back.
//!
//! A `log` logger is global to a process, so this file is a test binary of its own and its
//! scenarios run in one test, one after another.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::Write;
use std::sync::OnceLock;

use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    ClientBuilder, ClientId, Credentials, DownloadOptions, DownloadSource, FnTransport, Order,
    Period, Scope, http,
};
use telphin_records_tests::secrets::{
    Noting, Seen, assert_clean, blocking_scenario, credentials_secrets,
};
use telphin_records_tests::{App, Captured, Env, runtime};

/// Everything logged through `log` and `tracing`.
type Sink = Captured;

/// A `log` logger writing every record into a [`Sink`].
struct Logger(Sink);

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}\n", record.level(), record.target(), record.args());
        let _ = self.0.clone().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// The `log` and `tracing` sinks, installed once for the process.
fn logs() -> &'static (Sink, Sink) {
    static LOGS: OnceLock<(Sink, Sink)> = OnceLock::new();
    LOGS.get_or_init(|| {
        let log_sink = Sink::default();
        let tracing_sink = Sink::default();
        log::set_boxed_logger(Box::new(Logger(log_sink.clone()))).unwrap();
        let writer = tracing_sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        (log_sink, tracing_sink)
    })
}

#[test]
fn no_secret_reaches_logs_or_errors() {
    let (log_sink, tracing_sink) = logs();
    let env = Env::start();
    let seen = Seen::default();
    let mut secrets = credentials_secrets(&env);

    // Every dependency logs at TRACE: hyper, reqwest, rustls, the SDK.
    log::set_max_level(log::LevelFilter::Trace);
    runtime().block_on(async {
        let transport = Noting {
            inner: ReqwestTransport::new().unwrap(),
            seen: seen.clone(),
        };
        let client = env
            .builder(App::Password)
            .build_async_with(transport)
            .unwrap();
        let scope = Scope::client(ClientId::Me);
        let march = Period::month(2024, 3).unwrap();
        let records = client.list(scope, march, Order::Desc).await.unwrap();
        let uuid = &records[0].record_uuid;
        let options = DownloadOptions::from_source(DownloadSource::StorageLink);
        let download = client.open_download(scope, uuid, options).await.unwrap();
        drop(download);
        env.sim.expire_tokens();
        client.stats(scope, march).await.unwrap();
    });

    // The blocking client over the built-in transport, with `log` still at TRACE.
    let transport = Noting {
        inner: HttpTransport::new(),
        seen: seen.clone(),
    };
    let client = env
        .builder(App::Password)
        .build_blocking_with(transport)
        .unwrap();
    blocking_scenario(&env, &client);

    // A server that echoes what it was sent in its error bodies.
    let echo = FnTransport::new(|request: http::Request<Vec<u8>>| {
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let form = String::from_utf8_lossy(request.body()).into_owned();
        let body = serde_json_text(&format!("refused {authorization} with {form}"));
        Ok(http::Response::builder()
            .status(if request.uri().path() == "/oauth/token" { 200 } else { 400 })
            .body(if request.uri().path() == "/oauth/token" {
                br#"{"access_token": "echoed-access-t0ken", "refresh_token": "echoed-refresh-t0ken"}"#.to_vec()
            } else {
                body.into_bytes()
            })
            .unwrap())
    });
    let client = ClientBuilder::new(Credentials::password(
        "app",
        "echo-app-s3cret",
        "user",
        "echo-passw0rd",
    ))
    .base_url("http://127.0.0.1:9")
    .build_blocking_with(echo)
    .unwrap();
    let error = client
        .list(
            Scope::client(ClientId::Me),
            Period::month(2024, 3).unwrap(),
            Order::Asc,
        )
        .unwrap_err();
    tracing::info!(%error, "an echoed error");
    let mut shown = format!("{error} {error:?} {client:?}");
    secrets.extend(
        [
            "echo-app-s3cret",
            "echo-passw0rd",
            "echoed-access-t0ken",
            "echoed-refresh-t0ken",
        ]
        .map(str::to_owned),
    );

    // A password written into a base URL.
    let builder = ClientBuilder::new(Credentials::access_token("x"))
        .base_url("https://user:url-passw0rd-1@api.example.org");
    shown.push_str(&format!("{builder:?}"));
    let error = builder.build_blocking().unwrap_err();
    shown.push_str(&format!("{error} {error:?}"));
    secrets.push("url-passw0rd-1".to_owned());

    secrets.extend(seen.0.lock().unwrap().iter().cloned());
    assert!(
        secrets.iter().any(|s| s.starts_with("sim-at-"))
            && secrets.iter().any(|s| s.starts_with("storage/")),
        "tokens and storage links were used: {} secrets",
        secrets.len()
    );
    let log_text = log_sink.take();
    let tracing_text = tracing_sink.take();
    assert!(!log_text.is_empty(), "dependencies logged through `log`");
    assert!(tracing_text.contains("telphin_records.call"));
    assert_clean("the `log` output", &log_text, &secrets);
    assert_clean("the `tracing` output", &tracing_text, &secrets);
    assert_clean("Display and Debug", &shown, &secrets);
}

/// JSON text of an error body whose message is `message`.
fn serde_json_text(message: &str) -> String {
    telphin_records::serde_json::json!({ "message": message }).to_string()
}
