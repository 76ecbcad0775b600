//! Downloads that fail leave nothing behind; storage links go out without credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::sync::{Arc, Mutex};

use record_sim::Fault;
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    BlockingTransport, ClientId, DownloadOptions, DownloadSource, Error, RecordUuid, Scope,
    TransportError, http,
};
use telphin_records_tests::{App, Env, runtime};

fn big_record(env: &Env) -> record_sim::SimRecord {
    env.record_larger_than(500_000)
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("telphin-records-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_body_that_breaks_on_every_attempt_leaves_no_file() {
    // Each download is retried from zero up to the policy's 4 attempts: break them all.
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let record = big_record(&env);
    let uuid: RecordUuid = record.uuid.parse().unwrap();
    let dir = scratch("broken");
    let target = dir.join("call.mp3");
    let client = env.blocking(App::Client);
    for fault in [Fault::DropAfter(200_000), Fault::TruncateAfter(200_000)] {
        env.sim.inject(Some("download_record"), fault.clone(), 4);
        let err = client
            .download_to_path(
                scope,
                &uuid,
                &target,
                DownloadOptions::default().expect_size(record.size),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::Transport(_) | Error::SizeMismatch { .. }),
            "{fault:?}: {err}"
        );
        assert!(!target.exists(), "{fault:?}");
        assert!(
            leftovers(&dir).is_empty(),
            "{fault:?}: {:?}",
            leftovers(&dir)
        );
    }
    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        for fault in [Fault::DropAfter(200_000), Fault::TruncateAfter(200_000)] {
            env.sim.inject(Some("download_record"), fault.clone(), 4);
            let err = client
                .download_to_path(scope, &uuid, &target, DownloadOptions::default())
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::Transport(_) | Error::SizeMismatch { .. }),
                "{fault:?}: {err}"
            );
            assert!(!target.exists(), "{fault:?}");
            assert!(leftovers(&dir).is_empty(), "{fault:?}");
        }
        // And a good download lands complete.
        let report = client
            .download_to_path(scope, &uuid, &target, DownloadOptions::default())
            .await
            .unwrap();
        assert_eq!(report.bytes, record.size);
    });
    assert_eq!(
        std::fs::read(&target).unwrap(),
        env.sim.file_bytes(&record.uuid).unwrap()
    );
    assert_eq!(leftovers(&dir), ["call.mp3"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_expected_size_is_caught_before_writing() {
    let env = Env::start();
    let record = big_record(&env);
    let uuid: RecordUuid = record.uuid.parse().unwrap();
    let mut sink = Vec::new();
    let err = env
        .blocking(App::Client)
        .download(
            Scope::client(ClientId::Me),
            &uuid,
            &mut sink,
            DownloadOptions::default().expect_size(record.size + 1),
        )
        .unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { .. }), "{err}");
    assert!(sink.is_empty(), "nothing written");
}

#[test]
fn an_error_status_writes_nothing() {
    let env = Env::start();
    let uuid: RecordUuid = "1-ABCDEF".parse().unwrap();
    let mut sink = Vec::new();
    let err = env
        .blocking(App::Client)
        .download(
            Scope::client(ClientId::Me),
            &uuid,
            &mut sink,
            DownloadOptions::default(),
        )
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("Record not found"));
    assert!(sink.is_empty());
}

/// A transport that records every request it forwards: a custom transport wrapping the built-in one.
#[derive(Clone)]
struct Recording {
    inner: HttpTransport,
    seen: Arc<Mutex<Vec<(String, bool)>>>,
}

impl Recording {
    fn note(&self, request: &http::Request<Vec<u8>>) {
        let authorized = request.headers().contains_key(http::header::AUTHORIZATION);
        self.seen
            .lock()
            .unwrap()
            .push((request.uri().path().to_owned(), authorized));
    }
}

impl BlockingTransport for Recording {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.note(&request);
        self.inner.send(request)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<telphin_records::BlockingBody>, TransportError> {
        self.note(&request);
        self.inner.send_streaming(request)
    }
}

#[test]
fn storage_links_are_fetched_without_authorization_and_fall_back_to_the_api() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let record = big_record(&env);
    let uuid: RecordUuid = record.uuid.parse().unwrap();
    let transport = Recording {
        inner: HttpTransport::new(),
        seen: Arc::default(),
    };
    let client = env
        .builder(App::Client)
        .build_blocking_with(transport.clone())
        .unwrap();

    let mut sink = Vec::new();
    let options =
        DownloadOptions::from_source(DownloadSource::StorageLink).expect_size(record.size);
    client.download(scope, &uuid, &mut sink, options).unwrap();
    let seen = transport.seen.lock().unwrap().clone();
    let storage: Vec<_> = seen
        .iter()
        .filter(|(path, _)| path.starts_with("/storage/"))
        .collect();
    assert_eq!(storage.len(), 1);
    assert!(
        !storage[0].1,
        "the storage link went out without Authorization"
    );
    assert!(
        seen.iter()
            .filter(|(p, _)| p.starts_with("/api/"))
            .all(|(_, auth)| *auth)
    );

    // A storage link that fails falls back to the API before anything is written.
    env.sim.inject(Some("storage_url"), Fault::Status(404), 1);
    let mut sink = Vec::new();
    let report = client
        .download(
            scope,
            &uuid,
            &mut sink,
            DownloadOptions::from_source(DownloadSource::StorageLinkThenApi),
        )
        .unwrap();
    assert_eq!(report.source, DownloadSource::Api);
    assert_eq!(sink.len() as u64, record.size);
}

#[test]
fn a_storage_link_that_breaks_midway_starts_over_from_the_api() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let record = big_record(&env);
    let uuid: RecordUuid = record.uuid.parse().unwrap();
    let dir = scratch("fallback");
    let target = dir.join("call.mp3");
    let options =
        DownloadOptions::from_source(DownloadSource::StorageLinkThenApi).expect_size(record.size);

    env.sim
        .inject(Some("storage_file"), Fault::DropAfter(300_000), 1);
    let report = env
        .blocking(App::Client)
        .download_to_path(scope, &uuid, &target, options.clone())
        .unwrap();
    assert_eq!(report.source, DownloadSource::Api);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        env.sim.file_bytes(&record.uuid).unwrap()
    );
    std::fs::remove_file(&target).unwrap();

    runtime().block_on(async {
        env.sim
            .inject(Some("storage_file"), Fault::TruncateAfter(300_000), 1);
        let report = env
            .asynchronous(App::Client)
            .download_to_path(scope, &uuid, &target, options)
            .await
            .unwrap();
        assert_eq!(report.source, DownloadSource::Api);
    });
    assert_eq!(
        std::fs::read(&target).unwrap(),
        env.sim.file_bytes(&record.uuid).unwrap()
    );
    assert_eq!(leftovers(&dir), ["call.mp3"]);
    let counters = env.sim.counters();
    assert_eq!(counters.route("storage_file"), 2);
    assert_eq!(counters.route_status("download_record", 200), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_kept_storage_link_makes_a_repeated_download_one_request() {
    let env = Env::start();
    let scope = Scope::client(ClientId::Me);
    let record = big_record(&env);
    let uuid: RecordUuid = record.uuid.parse().unwrap();
    let client = env.blocking(App::Client);
    let link = client.storage_link(scope, &uuid).unwrap();
    let before = env.sim.counters();
    let options = DownloadOptions::from_source(DownloadSource::StorageLink)
        .with_storage_link(link.clone())
        .expect_size(record.size);
    let mut sink = Vec::new();
    client
        .download(scope, &uuid, &mut sink, options.clone())
        .unwrap();
    let mut async_sink = Vec::new();
    runtime()
        .block_on(
            env.asynchronous(App::Client)
                .download(scope, &uuid, &mut async_sink, options),
        )
        .unwrap();
    let after = env.sim.counters();
    assert_eq!(
        after.route("storage_url"),
        before.route("storage_url"),
        "no link lookup"
    );
    assert_eq!(
        after.route("storage_file") - before.route("storage_file"),
        2
    );
    assert_eq!(
        after.route("download_record"),
        before.route("download_record")
    );
    assert_eq!(sink, env.sim.file_bytes(&record.uuid).unwrap());
    assert_eq!(async_sink, sink);
}
