//! The ureq transport writes every byte it sends and receives to `log` at TRACE, secrets
//! included; with the filter `UreqTransport`'s documentation shows (`ureq_proto` and `ureq`
//! below TRACE), no secret reaches the log. A `log` logger is global to a process, so this file
//! is a test binary of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use telphin_records_tests::secrets::{
    Noting, Seen, assert_clean, blocking_scenario, credentials_secrets,
};
use telphin_records_tests::{App, Captured, Env};
use transport_blocking::UreqTransport;

/// A logger of every record at every level, but for ureq's TRACE records while `FILTERED`.
struct Logger(Captured);

static FILTERED: AtomicBool = AtomicBool::new(false);

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // The filter of the documentation: `ureq_proto` and `ureq` at DEBUG at most.
        let ureq = metadata.target().starts_with("ureq");
        !(FILTERED.load(Ordering::SeqCst) && ureq && metadata.level() > log::Level::Debug)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {} {}\n", record.level(), record.target(), record.args());
            let _ = self.0.clone().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

fn sink() -> &'static Captured {
    static SINK: OnceLock<Captured> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Captured::default();
        log::set_boxed_logger(Box::new(Logger(sink.clone()))).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        sink
    })
}

/// The scenario's secrets, once it ran: the apps' and the PBX's, and those seen on the wire.
fn run_scenario(env: &Env) -> Vec<String> {
    let seen = Seen::default();
    let transport = Noting {
        inner: UreqTransport::with_proxy(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(30),
            None,
        )
        .unwrap(),
        seen: seen.clone(),
    };
    let client = env
        .builder(App::Password)
        .build_blocking_with(transport)
        .unwrap();
    blocking_scenario(env, &client);
    let mut secrets = credentials_secrets(env);
    secrets.extend(seen.0.lock().unwrap().iter().cloned());
    assert!(
        secrets.iter().any(|s| s.starts_with("sim-at-"))
            && secrets.iter().any(|s| s.starts_with("storage/")),
        "tokens and storage links were used"
    );
    secrets
}

#[test]
fn with_the_documented_filter_ureq_logs_no_secret() {
    let sink = sink();
    let env = Env::start();

    // Unfiltered, ureq writes the secrets: the filter is needed.
    let secrets = run_scenario(&env);
    let unfiltered = sink.take();
    assert!(
        secrets
            .iter()
            .any(|secret| unfiltered.contains(secret.as_str())),
        "ureq at TRACE no longer shows secrets; its documentation should say so"
    );

    FILTERED.store(true, Ordering::SeqCst);
    let secrets = run_scenario(&env);
    let filtered = sink.take();
    assert!(!filtered.is_empty(), "the other dependencies still log");
    assert_clean("the `log` output with the filter", &filtered, &secrets);
}
