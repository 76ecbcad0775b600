//! Live mode: calls keep arriving, each record listable from its call's end, and a `hangup`
//! event posted for each to the callback URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use record_sim::{LiveConfig, Sim, SimConfig};

/// A callback endpoint: each request's first line and body, answered 200.
fn callback() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/events/main/s3cret",
        listener.local_addr().unwrap()
    );
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
            if sender
                .send((first.trim().to_owned(), String::from_utf8(body).unwrap()))
                .is_err()
            {
                break;
            }
        }
    });
    (url, receiver)
}

#[test]
fn calls_arrive_listable_from_their_end_with_a_hangup_event_each() {
    let (url, events) = callback();
    let sim = Sim::start_blocking(SimConfig {
        seed: 4,
        record_count: 20,
        live: Some(LiveConfig {
            calls_per_second: 50.0,
            call_length: Duration::from_secs(90),
            callback_url: Some(url),
            running: true,
        }),
        ..SimConfig::default()
    })
    .unwrap();
    let before = sim.records().len();
    let mut received = Vec::new();
    while received.len() < 5 {
        received.push(events.recv_timeout(Duration::from_secs(30)).unwrap());
    }
    sim.pause_calls();
    let calls = sim.live_calls();
    assert!(calls.len() >= 5);
    let records = sim.records();
    for call in &calls {
        // Listed by its start, which is a call's length before its end.
        assert_eq!((call.ended - call.started).num_seconds(), 90);
        let record = records.iter().find(|r| r.uuid == call.record_uuid).unwrap();
        assert_eq!(record.init_time, call.started.naive_utc());
    }
    assert_eq!(records.len(), before + calls.len());
    for (first, body) in &received[..5] {
        assert_eq!(first, "POST /events/main/s3cret HTTP/1.1");
        let fields: std::collections::BTreeMap<&str, &str> = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        assert_eq!(fields["EventType"], "hangup");
        assert_eq!(fields["Duration"], "90000000", "microseconds");
        assert!(
            calls.iter().any(|c| c.record_uuid == fields["RecID"]),
            "RecID is a live call's record: {body}"
        );
    }
    assert_eq!(sim.live_counters().calls as usize, calls.len());
}
