//! Regression tests of the defects the call engine removed, each against `record-sim` where it
//! crosses the network; both clients where both are concerned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use record_sim::{Fault, SimConfig};
use telphin_records::{
    AsyncBody, AsyncTransport, BlockingTransport, ClientBuilder, ClientId, Credentials, Deletion,
    DownloadOptions, DownloadSource, Error, FnTransport, Order, Period, RecordUuid, RetryPolicy,
    Scope, TransportError, TransportErrorKind, bytes::Bytes, http,
};
use telphin_records_tests::{App, Env, fast_retries, runtime};

fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

fn big_record(env: &Env) -> record_sim::SimRecord {
    env.record_larger_than(300_000)
}

fn uuid_of(record: &record_sim::SimRecord) -> RecordUuid {
    record.uuid.parse().unwrap()
}

// 1. A DELETE whose answer was lost is reported as done ("already gone"), not as NotFound.
#[test]
fn a_delete_whose_answer_was_lost_is_already_gone() {
    let env = Env::start();
    let records = env.sim.records();
    let client = env.blocking(App::Client);
    env.sim.inject(Some("delete_record"), Fault::LoseAnswer, 1);
    let deletion = client.delete_record(pbx(), &uuid_of(&records[0])).unwrap();
    assert_eq!(deletion, Deletion::AlreadyGone);
    assert!(!env.sim.records().iter().any(|r| r.uuid == records[0].uuid));
    assert_eq!(env.sim.counters().route_status("delete_record", 404), 1);

    runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        env.sim.inject(Some("delete_record"), Fault::LoseAnswer, 1);
        let deletion = client.delete_record(pbx(), &uuid_of(&records[1])).await;
        assert_eq!(deletion.unwrap(), Deletion::AlreadyGone);
        // A plain delete is `Deleted`; a first 404 stays an error.
        let deletion = client.delete_record(pbx(), &uuid_of(&records[2])).await;
        assert_eq!(deletion.unwrap(), Deletion::Deleted);
        let again = client.delete_record(pbx(), &uuid_of(&records[2])).await;
        assert!(again.unwrap_err().is_not_found());
    });
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

// 2. A sink error never falls back to the API (which would append a whole file to a prefix).
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

// 3. Storage links over plain http reach loopback hosts only, whatever their name looks like.
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

// 4. Both clients fall back to the API when the link's body breaks before the first byte.
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

// 5. A cancelled async download leaves no temporary file; a killed run's file is cleared.
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

// 6. Broken bodies are downloaded again when the sink can be reset: every file arrives.
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

// 7. Errors that can never succeed are not retried.
#[test]
fn final_transport_errors_are_sent_once() {
    for kind in [
        TransportErrorKind::Request,
        TransportErrorKind::BodyTooLarge,
    ] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let transport = FnTransport::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(TransportError::new(kind, false))
        });
        let client = ClientBuilder::new(Credentials::access_token("t0ken"))
            .base_url("http://127.0.0.1:9")
            .retry_policy(fast_retries())
            .build_blocking_with(transport)
            .unwrap();
        let error = client
            .list(pbx(), Period::month(2024, 3).unwrap(), Order::Asc)
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error}");
        assert_eq!(sent.load(Ordering::SeqCst), 1, "{kind:?}");
    }
}

// 8. A refresh that fails in any way falls back to the primary grant.
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

// 9. A token with `expires_in: 0` is fetched once, not once per call.
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
            for result in futures_join_all(calls).await {
                result.unwrap();
            }
        });
        assert_eq!(fetched.load(Ordering::SeqCst), 2, "lifetime {lifetime}");
    }
}

/// Runs futures concurrently on the current task and collects their outputs in order.
async fn futures_join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, output) in handles.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

// 11. A huge value in a list gives a short error.
#[test]
fn an_undecodable_huge_value_gives_a_short_error() {
    let huge = format!(r#"[{{"record_uuid": "1-{}"}}]"#, "Z".repeat(10_000_000));
    let transport = FnTransport::new(move |_| {
        Ok(http::Response::builder()
            .status(200)
            .body(huge.clone().into_bytes())
            .unwrap())
    });
    let client = ClientBuilder::new(Credentials::access_token("t0ken"))
        .base_url("http://127.0.0.1:9")
        .retry_policy(RetryPolicy::never())
        .build_blocking_with(transport)
        .unwrap();
    let error = client
        .list(pbx(), Period::month(2024, 3).unwrap(), Order::Asc)
        .unwrap_err();
    let shown = format!("{error}");
    assert!(shown.len() < 2000, "{} bytes", shown.len());
    assert!(format!("{error:?}").len() < 4000);
}

// 12. An accepted archive whose receipt has another shape is a success.
#[test]
fn an_archive_receipt_of_any_shape_is_a_success() {
    let transport = FnTransport::new(|_| {
        let body = r#"{"id": {"$oid": "65a1"}, "email": ["ops@example.org"], "start_datetime": "2024-10-01T00:00:00Z"}"#;
        Ok(http::Response::builder()
            .status(201)
            .body(body.as_bytes().to_vec())
            .unwrap())
    });
    let client = ClientBuilder::new(Credentials::access_token("t0ken"))
        .base_url("http://127.0.0.1:9")
        .build_blocking_with(transport)
        .unwrap();
    let window =
        telphin_records::QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59").unwrap();
    let archive = telphin_records::ArchiveRequest::new(window, ["ops@example.org"]).unwrap();
    let receipt = client.request_archive(ClientId::Me, &archive).unwrap();
    assert_eq!(receipt.extra["id"]["$oid"], "65a1");
    assert_eq!(receipt.extra["email"][0], "ops@example.org");
}

// 13. Periods people say hold their last fractional second and nothing of the next period.
#[test]
fn a_month_holds_its_last_fraction_of_a_second_and_nothing_of_the_next() {
    use telphin_records::chrono::NaiveDate;
    let env = Env::start();
    let at = |text: &str| {
        telphin_records::chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
    };
    let extension = env.sim.extensions()[0].id;
    let last = env
        .sim
        .add_record(extension, at("2024-03-31 23:59:59.70"))
        .unwrap();
    let next = env
        .sim
        .add_record(extension, at("2024-04-01 00:00:00"))
        .unwrap();
    let march = Period::month(2024, 3).unwrap();
    let expected: Vec<String> = env
        .sim
        .records()
        .into_iter()
        .filter(|r| {
            r.init_time >= at("2024-03-01 00:00:00") && r.init_time < at("2024-04-01 00:00:00")
        })
        .map(|r| r.uuid)
        .collect();
    let client = env.blocking(App::Client);
    let listed: Vec<String> = client
        .list(pbx(), march, Order::Asc)
        .unwrap()
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    assert!(listed.contains(&last.uuid) && !listed.contains(&next.uuid));
    assert_eq!(listed, expected);
    let stats = client.stats(pbx(), march).unwrap();
    assert_eq!(stats.count, expected.len() as u64);
    let listed_async = runtime().block_on(async {
        let client = env.asynchronous(App::Client);
        assert_eq!(client.stats(pbx(), march).await.unwrap(), stats);
        client.list(pbx(), march, Order::Desc).await.unwrap()
    });
    let mut newest_first = expected.clone();
    newest_first.reverse();
    let listed_async: Vec<String> = listed_async
        .into_iter()
        .map(|r| r.record_uuid.to_string())
        .collect();
    assert_eq!(listed_async, newest_first);

    // Deleting the day deletes its last fraction and spares the next day's first second.
    let day = Period::day(NaiveDate::from_ymd_opt(2024, 3, 31).unwrap()).unwrap();
    client.delete_range(pbx(), day).unwrap();
    let left = env.sim.records();
    assert!(!left.iter().any(|r| r.uuid == last.uuid));
    assert!(left.iter().any(|r| r.uuid == next.uuid));
    assert!(!left.iter().any(|r| day.contains(r.init_time.and_utc())));
}
