//! No secret — client secret, password, access or refresh token, storage link — reaches the
//! `tracing` output or the `Debug` of clients, configurations and errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_sim::Fault;
use telphin_records::{
    ClientBuilder, ClientId, Credentials, DownloadOptions, DownloadSource, Order, QueryWindow,
    Scope,
};
use telphin_records_tests::{App, Captured, Env, runtime};

/// The secrets of the test: the simulator's credentials, and the shapes of its tokens and
/// storage links (every access token starts `sim-at-`, every refresh token `sim-rt-`).
fn secrets(env: &Env) -> Vec<String> {
    let c = env.sim.credentials();
    vec![
        c.client.client_secret.clone(),
        c.extension.client_secret.clone(),
        c.pbx_password.clone(),
        "sim-at-".to_owned(),
        "sim-rt-".to_owned(),
        "/storage/".to_owned(),
    ]
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} leaks {secret:?}:\n{text}"
        );
    }
}

#[test]
fn tracing_and_debug_output_hold_no_secret() {
    let env = Env::start();
    let secrets = secrets(&env);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let scope = Scope::client(ClientId::Me);
    let window = QueryWindow::parse("2024-05-01 00:00:00", "2024-05-31 23:59:59").unwrap();
    let mut shown = Vec::new();

    tracing::subscriber::with_default(subscriber, || {
        let client = env.blocking(App::Password);
        let records = client.list_window(scope, window, Order::Asc).unwrap();
        let uuid = records[0].record_uuid.clone();
        let link = client.storage_link(scope, &uuid).unwrap();
        shown.push(format!("{link:?}"));
        let mut sink = Vec::new();
        let options = DownloadOptions::from_source(DownloadSource::StorageLink);
        client
            .download(scope, &uuid, &mut sink, options.clone())
            .unwrap();
        // Retries, 401 replays and failures are logged too.
        env.sim.inject(Some("list_records"), Fault::Status(503), 1);
        env.sim.inject(Some("list_records"), Fault::Unauthorized, 1);
        client.list_window(scope, window, Order::Asc).unwrap();
        env.sim.expire_tokens();
        client.list_window(scope, window, Order::Asc).unwrap();
        // A storage link that breaks mid-body gives an error that must not quote the link.
        env.sim.inject(Some("storage_url"), Fault::Status(500), 4);
        let err = client
            .download(scope, &uuid, &mut Vec::new(), options.clone())
            .unwrap_err();
        shown.push(format!("{err} {err:?}"));
        shown.push(format!("{client:?}"));

        runtime().block_on(async {
            let client = env.asynchronous(App::Extension);
            let ext = Scope::extension(telphin_records::ExtensionId::new(
                env.sim.credentials().extension_id,
            ));
            let records = client.list_window(ext, window, Order::Desc).await.unwrap();
            let link = client
                .storage_link(ext, &records[0].record_uuid)
                .await
                .unwrap();
            shown.push(format!("{link:?}"));
            let mut sink: Vec<u8> = Vec::new();
            client
                .download(ext, &records[0].record_uuid, &mut sink, options)
                .await
                .unwrap();
            shown.push(format!("{client:?}"));
        });
    });

    let log = captured.text();
    assert!(
        log.contains("telphin_records.call"),
        "spans are recorded:\n{log}"
    );
    assert!(log.contains("operation") && log.contains("attempt") && log.contains("status"));
    assert_clean("tracing output", &log, &secrets);
    assert_clean("Debug output", &shown.join("\n"), &secrets);
}

#[test]
fn configurations_credentials_and_errors_print_redacted() {
    let env = Env::start();
    let secrets = secrets(&env);
    let c = env.sim.credentials();
    let all = [
        Credentials::client_credentials(&c.client.client_id, &c.client.client_secret),
        Credentials::password(
            &c.client.client_id,
            &c.client.client_secret,
            &c.pbx_username,
            &c.pbx_password,
        ),
        Credentials::pbx_login(&c.pbx_username, &c.pbx_password),
        Credentials::access_token("sim-at-1234"),
    ];
    for credentials in all {
        let builder = ClientBuilder::new(credentials.clone()).base_url(env.sim.base_url());
        assert_clean("credentials", &format!("{credentials:?}"), &secrets);
        assert_clean("builder", &format!("{builder:?}"), &secrets);
        let client = builder.clone().build_blocking().unwrap();
        assert_clean("blocking client", &format!("{client:?}"), &secrets);
        let client = builder.build_async().unwrap();
        assert_clean("async client", &format!("{client:?}"), &secrets);
    }
    // An error from a refused secret does not repeat it.
    let wrong = ClientBuilder::new(Credentials::client_credentials(
        &c.client.client_id,
        "sim-at-wrong-secret",
    ))
    .base_url(env.sim.base_url())
    .build_blocking()
    .unwrap();
    let err = wrong
        .list_window(
            Scope::client(ClientId::Me),
            QueryWindow::parse("2024-05-01 00:00:00", "2024-05-02 00:00:00").unwrap(),
            Order::Asc,
        )
        .unwrap_err();
    assert_clean("error", &format!("{err} {err:?}"), &secrets);
}
