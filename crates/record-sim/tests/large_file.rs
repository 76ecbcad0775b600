//! A file of hundreds of MiB is generated and served with flat memory. Alone in its test binary,
//! so that the process's peak memory is this test's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod common;

use common::*;
use record_sim::SimConfig;

/// The peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_huge_file_streams_with_flat_memory() {
    const SIZE: u64 = 320 * 1024 * 1024;
    let sim = start(SimConfig {
        huge_file_size: Some(SIZE),
        ..small_config()
    })
    .await;
    let token = token_for(&sim, &sim.credentials().client.clone()).await;
    let uuid = sim.huge_record_uuid().unwrap().to_owned();
    let before = peak_rss_kib();
    let mut response = client()
        .get(format!(
            "{}/api/ver1.0/client/@me/record/{uuid}",
            sim.base_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.content_length(), Some(SIZE));
    let mut received = 0u64;
    let mut first = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        if first.len() < 4096 {
            first.extend_from_slice(&chunk[..chunk.len().min(4096 - first.len())]);
        }
        received += chunk.len() as u64;
    }
    assert_eq!(received, SIZE);
    assert_eq!(&first[..3], b"ID3");
    let grown_mib = (peak_rss_kib() - before) / 1024;
    eprintln!("peak memory grew by {grown_mib} MiB");
    assert!(
        grown_mib < 64,
        "serving {} MiB grew the peak memory by {grown_mib} MiB",
        SIZE >> 20
    );
}
