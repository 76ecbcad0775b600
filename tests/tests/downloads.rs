//! Downloads that fail leave nothing behind; storage links go out without credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::sync::{Arc, Mutex};

use record_sim::Fault;
use std::pin::Pin;
use std::task::{Context, Poll};
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    BlockingTransport, ClientId, DownloadOptions, DownloadSource, Error, RecordUuid, Scope,
    TransportError, TransportErrorKind, http,
};

use record_sim::SimConfig;
use telphin_records::bytes::Bytes;
use telphin_records::{AsyncBody, AsyncTransport, ClientBuilder, Credentials, FnTransport};
use telphin_records_tests::{App, Env, fast_retries, runtime};

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

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

fn uuid_of(record: &record_sim::SimRecord) -> RecordUuid {
    record.uuid.parse().unwrap()
}

/// A sink that takes `room` bytes, then fails: a full disk in the middle of a chunk.
struct FullDisk {
    taken: Vec<u8>,
    room: usize,
}

impl std::io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.room - self.taken.len());
        if n == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncWrite for FullDisk {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(std::io::Write::write(&mut *self, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

// A sink error never falls back to the API (which would append a whole file to a prefix).
#[test]
fn a_failing_sink_never_falls_back() {
    let env = Env::start();
    let record = big_record(&env);
    let options = DownloadOptions::from_source(DownloadSource::StorageLinkThenApi);
    let mut sink = FullDisk {
        taken: Vec::new(),
        room: 1000,
    };
    let error = env
        .blocking(App::Client)
        .download(pbx(), &uuid_of(&record), &mut sink, options.clone())
        .unwrap_err();
    assert!(matches!(error, Error::Sink(_)), "{error}");
    assert_eq!(sink.taken.len(), 1000);
    runtime().block_on(async {
        let mut sink = FullDisk {
            taken: Vec::new(),
            room: 1000,
        };
        let client = env.asynchronous(App::Client);
        let error = client
            .download(pbx(), &uuid_of(&record), &mut sink, options)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Sink(_)), "{error}");
    });
    assert_eq!(
        env.sim.counters().route("download_record"),
        0,
        "no API fallback"
    );
}

/// A transport for a fake API whose storage links point at `link`; it records every URI.
fn fake_api(
    link: &'static str,
    uris: Arc<Mutex<Vec<String>>>,
) -> impl BlockingTransport + AsyncTransport {
    FnTransport::new(move |request: http::Request<Vec<u8>>| {
        let uri = request.uri().to_string();
        uris.lock().unwrap().push(uri.clone());
        let body = if uri.contains("/oauth/token") {
            r#"{"access_token": "t0ken-of-the-fake", "expires_in": 3600}"#.to_owned()
        } else if uri.ends_with("/storage_url/") {
            format!(r#"{{"record_url": "{link}"}}"#)
        } else {
            "audio".to_owned()
        };
        Ok(http::Response::builder()
            .status(200)
            .body(body.into_bytes())
            .unwrap())
    })
}

// Storage links over plain http reach loopback hosts only, whatever their name looks like.
#[test]
fn plain_http_storage_links_to_other_hosts_are_never_fetched() {
    let uuid: RecordUuid = "30-624835FEEE0E11E6A19D331E4D6A0606".parse().unwrap();
    for link in [
        "http://localhost.evil.example/k3y",
        "http://127.evil.example/k3y",
        "http://127.0.0.1.nip.io/k3y",
    ] {
        let uris = Arc::new(Mutex::new(Vec::new()));
        let builder = ClientBuilder::new(Credentials::client_credentials("id", "secret"))
            .base_url("http://127.0.0.1:9");
        let options = DownloadOptions::from_source(DownloadSource::StorageLink);
        let client = builder
            .clone()
            .build_blocking_with(fake_api(link, uris.clone()))
            .unwrap();
        let error = client
            .download(pbx(), &uuid, &mut Vec::new(), options.clone())
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{link}: {error}");
        assert!(!error.to_string().contains("k3y"));
        let client = builder
            .build_async_with(fake_api(link, uris.clone()))
            .unwrap();
        let error = runtime()
            .block_on(client.open_download(pbx(), &uuid, options.clone()))
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{link}: {error}");
        let fetched = uris.lock().unwrap().clone();
        assert!(
            fetched.iter().all(|uri| !uri.contains("k3y")),
            "{link} was fetched: {fetched:?}"
        );
    }
}

// Both clients fall back to the API when the link's body breaks before the first byte.
#[test]
fn both_clients_fall_back_when_the_link_breaks_before_the_first_byte() {
    let env = Env::start();
    let record = big_record(&env);
    let expected = env.sim.file_bytes(&record.uuid).unwrap();
    let options =
        DownloadOptions::from_source(DownloadSource::StorageLinkThenApi).expect_size(record.size);
    env.sim.inject(Some("storage_file"), Fault::DropAfter(0), 1);
    let mut blocking = Vec::new();
    let report = env
        .blocking(App::Client)
        .download(pbx(), &uuid_of(&record), &mut blocking, options.clone())
        .unwrap();
    assert_eq!(report.source, DownloadSource::Api);
    assert!(blocking == expected);
    env.sim.inject(Some("storage_file"), Fault::DropAfter(0), 1);
    let report = runtime().block_on(async {
        let mut sink = Vec::new();
        let client = env.asynchronous(App::Client);
        let report = client
            .download(pbx(), &uuid_of(&record), &mut sink, options)
            .await
            .unwrap();
        assert!(sink == expected);
        report
    });
    assert_eq!(report.source, DownloadSource::Api);
    assert_eq!(env.sim.counters().route("download_record"), 2);
}

/// A transport whose download bodies hand out their first chunk, say so, then never end.
struct Stalling<T> {
    inner: T,
    started: Arc<tokio::sync::Notify>,
}

struct StallingBody {
    inner: Box<dyn AsyncBody>,
    started: Arc<tokio::sync::Notify>,
    handed: bool,
}

#[telphin_records_tests::async_trait]
impl AsyncBody for StallingBody {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        if self.handed {
            self.started.notify_one();
            std::future::pending::<()>().await;
        }
        self.handed = true;
        self.inner.next_chunk().await
    }
}

#[telphin_records_tests::async_trait]
impl<T: AsyncTransport> AsyncTransport for Stalling<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.inner.send(request).await
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let response = self.inner.send_streaming(request).await?;
        let started = self.started.clone();
        Ok(response.map(|inner| {
            Box::new(StallingBody {
                inner,
                started,
                handed: false,
            }) as Box<dyn AsyncBody>
        }))
    }
}

// A cancelled async download leaves no temporary file; a killed run's file is cleared.
#[test]
fn a_cancelled_download_leaves_no_temporary_file_and_stale_ones_are_cleared() {
    let env = Env::start();
    let record = big_record(&env);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("call.mp3");
    let started = Arc::new(tokio::sync::Notify::new());
    let transport = Stalling {
        inner: telphin_records::layers::transport_async::ReqwestTransport::new().unwrap(),
        started: started.clone(),
    };
    let client = env
        .builder(App::Client)
        .build_async_with(transport)
        .unwrap();
    let uuid = uuid_of(&record);
    runtime().block_on(async {
        let download = client.download_to_path(pbx(), &uuid, &target, Default::default());
        tokio::select! {
            _ = download => panic!("the stalled download cannot finish"),
            () = started.notified() => {}
        }
    });
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "the dropped download left {left:?}");

    // A process killed mid-download left its temporary file; the next run removes it. (A
    // directory is read once per process, so the "next run" downloads into one not read yet.)
    let next_run = tempfile::tempdir().unwrap();
    let target = next_run.path().join("call.mp3");
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let stale = next_run
        .path()
        .join(format!(".call.mp3.{dead_pid}.x1y2z3.part"));
    std::fs::write(&stale, b"half a file").unwrap();
    env.blocking(App::Client)
        .download_to_path(pbx(), &uuid_of(&record), &target, Default::default())
        .unwrap();
    assert!(!stale.exists());
    let names: Vec<_> = std::fs::read_dir(next_run.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("call.mp3")]);
}

// Broken bodies are downloaded again when the sink can be reset: every file arrives.
#[test]
fn downloads_to_paths_survive_dropped_and_truncated_bodies() {
    let env = Env::with(SimConfig {
        seed: 99,
        record_count: 600,
        faults: record_sim::Faults {
            drop_percent: 5,
            truncate_percent: 5,
            ..Default::default()
        },
        ..SimConfig::default()
    });
    let records: Vec<_> = env.sim.records().into_iter().take(120).collect();
    let dir = tempfile::tempdir().unwrap();
    let blocking = env.blocking(App::Client);
    for record in &records[..60] {
        let path = dir.path().join(format!("{}.mp3", record.uuid));
        let options = DownloadOptions::default().expect_size(record.size);
        blocking
            .download_to_path(pbx(), &uuid_of(record), &path, options)
            .unwrap();
    }
    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        for record in &records[60..] {
            let path = dir.path().join(format!("{}.mp3", record.uuid));
            let options = DownloadOptions::default().expect_size(record.size);
            client
                .download_to_path(pbx(), &uuid_of(record), &path, options)
                .await
                .unwrap();
        }
    });
    for record in &records {
        let path = dir.path().join(format!("{}.mp3", record.uuid));
        assert!(std::fs::read(&path).unwrap() == env.sim.file_bytes(&record.uuid).unwrap());
    }
    let requests = env.sim.counters().route("download_record");
    assert!(
        requests > 120,
        "the faults were exercised: {requests} requests"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 120);
}

/// A server that answers a download's head at once and then drips its body, a byte every
/// 20 ms, on every connection: no read timeout ever fires.
fn dripping_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n",
                );
                for _ in 0..100_000 {
                    if stream.write_all(b"x").is_err() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            });
        }
    });
    (base, connections)
}

// A body dripped slower than the floor is cut off as a retriable timeout — tried again, then
// given up — by both clients; a read timeout alone never ends it.
#[test]
fn a_dripping_download_is_cut_off_by_both_clients() {
    let (base, connections) = dripping_server();
    let uuid: RecordUuid = "30-624835FEEE0E11E6A19D331E4D6A0606".parse().unwrap();
    let builder = ClientBuilder::new(Credentials::access_token("t0ken"))
        .base_url(&base)
        .retry_policy(fast_retries())
        .min_transfer_rate(1024, std::time::Duration::from_millis(500));
    let options = DownloadOptions::from_source(DownloadSource::Api);
    let check = |error: Error, what: &str| match &error {
        Error::Transport(transport) => {
            assert_eq!(
                transport.kind(),
                TransportErrorKind::Timeout,
                "{what}: {error}"
            );
        }
        other => panic!("{what}: {other}"),
    };
    // Into a file: the download starts over after the cut, then gives up.
    let dir = tempfile::tempdir().unwrap();
    let blocking = builder.clone().build_blocking().unwrap();
    let error = blocking
        .download_to_path(pbx(), &uuid, dir.path().join("a.mp3"), options.clone())
        .unwrap_err();
    check(error, "blocking");
    assert!(
        connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "started over"
    );
    assert!(!dir.path().join("a.mp3").exists());
    let before = connections.load(std::sync::atomic::Ordering::SeqCst);
    let client = builder.build_async().unwrap();
    let error = runtime()
        .block_on(client.download_to_path(pbx(), &uuid, dir.path().join("b.mp3"), options))
        .unwrap_err();
    check(error, "async");
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= before + 2);
    assert!(!dir.path().join("b.mp3").exists());
}
