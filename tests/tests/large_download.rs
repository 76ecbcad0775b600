//! A download of several hundred MiB completes with memory that does not grow with its size.
//! Alone in its test binary, so that the process's peak memory is this test's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_sim::SimConfig;
use telphin_records::{ClientId, DownloadOptions, RecordUuid, Scope};
use telphin_records_tests::{App, Env, peak_rss_kib, runtime};

const SIZE: u64 = 300 * 1024 * 1024;

/// A sink that counts and drops what it is given.
#[derive(Default)]
struct Counting(u64);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn both_clients_stream_a_huge_file_in_flat_memory() {
    let env = Env::with(SimConfig {
        record_count: 50,
        huge_file_size: Some(SIZE),
        ..SimConfig::default()
    });
    let scope = Scope::client(ClientId::Me);
    let uuid: RecordUuid = env.sim.huge_record_uuid().unwrap().parse().unwrap();
    let options = DownloadOptions::default().expect_size(SIZE);
    let before = peak_rss_kib();

    let mut sink = Counting::default();
    let report = env
        .blocking(App::Client)
        .download(scope, &uuid, &mut sink, options.clone())
        .unwrap();
    assert_eq!((report.bytes, sink.0), (SIZE, SIZE));

    let received = runtime().block_on(async {
        let mut sink = tokio::io::sink();
        env.asynchronous(App::Client)
            .download(scope, &uuid, &mut sink, options)
            .await
            .unwrap()
            .bytes
    });
    assert_eq!(received, SIZE);

    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    eprintln!("peak memory grew by {grown_mib} MiB");
    assert!(
        grown_mib < 64,
        "two downloads of {} MiB grew the peak memory by {grown_mib} MiB",
        SIZE >> 20
    );
}
