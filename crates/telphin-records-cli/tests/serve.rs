//! `telphin-records serve`, the real binary, against a live simulator: calls keep arriving
//! and the service keeps them. Waits are bounded and end on counters (the simulator's, the
//! service's metrics, the catalog); nothing asserts on time slept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt as _;
use record_backup::Catalog;
use record_sim::{BlockingSim, LiveConfig, Sim, SimConfig};

const EVENT_SECRET: &str = "evt-0f1e2d3c4b5a69788796a5b4";

fn live_sim(running: bool) -> BlockingSim {
    Sim::start_blocking(SimConfig {
        seed: 5,
        record_count: 200,
        max_file_size: Some(16 << 10),
        live: Some(LiveConfig {
            calls_per_second: 8.0,
            call_length: Duration::from_secs(2),
            callback_url: None,
            running,
        }),
        ..SimConfig::default()
    })
    .unwrap()
}

/// A PBX's table for `sim`, kept under `dir/name`.
fn pbx_table(sim: &BlockingSim, dir: &Path, name: &str, secret_env: &str, extra: &str) -> String {
    format!(
        "[[pbx]]\nname = \"{name}\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_env = \"{secret_env}\"\ntarget = \"{}\"\ncatalog = \"{}\"\n\
         concurrency = 4\n{extra}\n",
        sim.base_url(),
        sim.credentials().client.client_id,
        dir.join(name).display(),
        dir.join(format!("{name}.sqlite")).display(),
    )
}

/// The service's settings: listening on a free port.
fn service_table(interval: &str, extra: &str) -> String {
    format!(
        "[service]\nlisten = \"127.0.0.1:0\"\ninterval = \"{interval}\"\nmargin = \"10s\"\n\
         debounce = \"200ms\"\n{extra}\n"
    )
}

/// The running binary, its log lines collected as they come.
struct Served {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    addr: String,
}

fn serve(dir: &Path, config: &str, env: &[(&str, &str)]) -> Served {
    let path = dir.join("serve.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::cargo_bin("telphin-records").unwrap();
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .args(["serve", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            lines.lock().unwrap().push(line);
        }
    });
    let addr = wait_for("the service to listen", Duration::from_secs(60), || {
        log.lock().unwrap().iter().find_map(|line| {
            let (_, rest) = line.split_once("listen=")?;
            Some(rest.split_whitespace().next()?.to_owned())
        })
    });
    Served { child, log, addr }
}

impl Served {
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn get(&self, path: &str) -> (u16, String) {
        http(&self.addr, "GET", path)
    }

    fn metrics(&self) -> Metrics {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "{text}");
        let lines = text.lines().map(|line| Ok(line.to_owned()));
        Metrics(prometheus_parse::Scrape::parse(lines).unwrap())
    }

    /// Sends SIGTERM and waits (bounded) for the exit code.
    fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The log thread ends with the pipe.
                std::thread::sleep(Duration::from_millis(50));
                return (status.code().unwrap_or(-1), self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no exit within 30 s of SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parsed metrics.
struct Metrics(prometheus_parse::Scrape);

impl Metrics {
    /// The sum of the samples of `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }

    fn complete_syncs(&self, pbx: &str) -> f64 {
        self.value(
            "telphin_records_syncs_total",
            &[("pbx", pbx), ("kind", "complete")],
        )
    }
}

/// One HTTP/1.1 request on loopback: the status and the body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // Bodies here are short: chunked framing, if any, is dropped line-wise.
    (status, body.to_owned())
}

/// Polls `probe` until it gives a value, failing after `bound`.
fn wait_for<T>(what: &str, bound: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(started.elapsed() < bound, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn kept(catalog: &Catalog, uuid: &str) -> bool {
    catalog
        .entry(uuid)
        .unwrap()
        .is_some_and(|entry| entry.state.is_kept())
}

/// Every object file under `dir` (manifests and the probe aside), by name.
fn objects(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                folders.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.insert(name, path);
            }
        }
    }
    found
}

#[test]
fn every_call_that_ends_is_kept_within_two_syncs_without_events() {
    let sim = live_sim(true);
    let dir = tempfile::tempdir().unwrap();
    // From the start of this month: the reconcile then holds the month against the PBX's.
    let since = format!("since = \"{}-01\"", chrono_month());
    let config =
        service_table("1s", "") + &pbx_table(&sim, dir.path(), "main", "MAIN_SECRET", &since);
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(dir.path(), &config, &[("MAIN_SECRET", &secret)]);
    // Calls arrive while it syncs; then they stop, and two more syncs must keep them all.
    wait_for("three syncs", Duration::from_secs(60), || {
        (served.metrics().complete_syncs("main") >= 3.0).then_some(())
    });
    sim.pause_calls();
    let calls = sim.live_calls();
    assert!(calls.len() >= 8, "{} calls", calls.len());
    let before = served.metrics().complete_syncs("main");
    wait_for("two more syncs", Duration::from_secs(60), || {
        (served.metrics().complete_syncs("main") >= before + 2.0).then_some(())
    });
    let catalog = Catalog::open(dir.path().join("main.sqlite")).unwrap();
    let missing: Vec<_> = calls
        .iter()
        .filter(|call| !kept(&catalog, &call.record_uuid))
        .collect();
    assert!(missing.is_empty(), "not kept after two syncs: {missing:?}");
    // Kept means stored and read back: each one verified.
    for call in &calls {
        let entry = catalog.entry(&call.record_uuid).unwrap().unwrap();
        assert!(entry.state.is_verified(), "{entry:?}");
    }

    // The metrics agree with the catalog and with the simulator's counters.
    let metrics = served.metrics();
    let stored = metrics.value("telphin_records_records_stored_total", &[("pbx", "main")]);
    assert_eq!(
        stored as usize,
        calls.len(),
        "every live call, nothing of 2024"
    );
    let bytes = metrics.value("telphin_records_bytes_stored_total", &[("pbx", "main")]);
    let sizes: u64 = calls
        .iter()
        .map(|c| {
            catalog
                .entry(&c.record_uuid)
                .unwrap()
                .unwrap()
                .state
                .size
                .unwrap()
        })
        .sum();
    assert_eq!(bytes as u64, sizes);
    assert_eq!(
        metrics.value("telphin_records_records_pending", &[("pbx", "main")]),
        0.0
    );
    let counters = sim.counters();
    assert_eq!(
        counters.route("storage_url") as usize,
        calls.len(),
        "one link per record"
    );
    assert_eq!(
        counters.route("storage_file") as usize,
        calls.len(),
        "one transfer per record"
    );
    let remaining = metrics.value("telphin_records_rate_limit_remaining", &[("pbx", "main")]);
    let limit = metrics.value("telphin_records_rate_limit", &[("pbx", "main")]);
    assert_eq!(limit, 100_000.0);
    assert!(remaining > 0.0 && remaining < limit, "{remaining}");
    let lag = metrics.value("telphin_records_lag_seconds", &[("pbx", "main")]);
    assert!(lag < 60.0, "lag {lag}");
    // The PBX's monthly statistics and the catalog's count, side by side after the reconcile.
    let month = chrono_month();
    let of_month = |name: &str| metrics.value(name, &[("pbx", "main"), ("month", &month)]);
    let pbx_count = of_month("telphin_records_pbx_month_records");
    let catalog_count = of_month("telphin_records_catalog_month_records");
    // The reconcile ran after the first sync: a month that differed was listed again, so the
    // catalog then held at least what the PBX counted.
    assert!(
        pbx_count >= 1.0,
        "the reconcile reported the PBX's month: {pbx_count}"
    );
    assert!(catalog_count >= pbx_count, "{catalog_count} < {pbx_count}");
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("sync") && log.contains("stored="),
        "one line per sync:\n{log}"
    );
}

fn chrono_month() -> String {
    let now =
        record_sim::chrono::DateTime::<record_sim::chrono::Utc>::from(std::time::SystemTime::now());
    now.format("%Y-%m").to_string()
}

#[test]
fn events_wake_the_sync_and_a_wrong_secret_is_refused_unlogged() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    // An hour between syncs: only the events can keep the calls in time.
    let config = service_table("1h", "")
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            "event_secret_env = \"MAIN_EVENTS\"",
        );
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(
        dir.path(),
        &config,
        &[("MAIN_SECRET", &secret), ("MAIN_EVENTS", EVENT_SECRET)],
    );
    wait_for("the first sync", Duration::from_secs(60), || {
        (served.metrics().complete_syncs("main") >= 1.0).then_some(())
    });
    // A wrong secret and an unknown PBX get the same 404.
    assert_eq!(served.get("/events/main/not-the-secret-at-all").0, 404);
    assert_eq!(served.get(&format!("/events/other/{EVENT_SECRET}")).0, 404);
    assert_eq!(
        served
            .metrics()
            .value("telphin_records_events_refused_total", &[]),
        2.0
    );

    sim.set_callback(Some(format!(
        "http://{}/events/main/{EVENT_SECRET}",
        served.addr
    )));
    sim.resume_calls();
    wait_for("ten events delivered", Duration::from_secs(60), || {
        (sim.live_counters().events_delivered >= 10).then_some(())
    });
    sim.pause_calls();
    let calls = sim.live_calls();
    let delivered = wait_for("every event answered", Duration::from_secs(30), || {
        let counters = sim.live_counters();
        (counters.events_delivered + counters.events_failed == counters.calls)
            .then_some(counters.events_delivered)
    });
    assert_eq!(delivered as usize, calls.len(), "every event accepted");
    let catalog = Catalog::open(dir.path().join("main.sqlite")).unwrap();
    // The last event's sync starts one debounce (200 ms) after it; a bounded wait for it.
    wait_for(
        "every call kept through events",
        Duration::from_secs(30),
        || {
            calls
                .iter()
                .all(|c| kept(&catalog, &c.record_uuid))
                .then_some(())
        },
    );
    let metrics = served.metrics();
    assert_eq!(
        metrics.value("telphin_records_events_total", &[("pbx", "main")]) as usize,
        calls.len()
    );
    // Debounced: fewer syncs than events.
    let syncs = metrics.complete_syncs("main");
    assert!(
        syncs < calls.len() as f64,
        "{syncs} syncs for {} events",
        calls.len()
    );
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(
        !log.contains(EVENT_SECRET),
        "the event secret was logged:\n{log}"
    );
    assert!(!log.contains(&secret), "the client secret was logged");
    assert!(log.contains("refused"), "{log}");
}

/// Syncs woken by events skip the completeness guard; the guarded sync of every interval must
/// still run while events never stop.
#[test]
fn a_steady_stream_of_events_never_starves_the_guarded_sync() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let config = service_table("1s", "")
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            "event_secret_env = \"MAIN_EVENTS\"",
        );
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(
        dir.path(),
        &config,
        &[("MAIN_SECRET", &secret), ("MAIN_EVENTS", EVENT_SECRET)],
    );
    sim.set_callback(Some(format!(
        "http://{}/events/main/{EVENT_SECRET}",
        served.addr
    )));
    sim.resume_calls();
    // Events every 125 ms, a debounce of 200 ms: a woken sync is always due.
    let count = |what: &str| served.log().matches(what).count();
    wait_for(
        "quick and guarded syncs, interleaved",
        Duration::from_secs(60),
        || (count("guarded=false") >= 3 && count("guarded=true") >= 4).then_some(()),
    );
    sim.pause_calls();
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn sigterm_mid_transfer_leaves_nothing_partial_and_a_restart_keeps_the_rest() {
    let sim = Sim::start_blocking(SimConfig {
        seed: 9,
        record_count: 400,
        max_file_size: Some(256 << 10),
        faults: record_sim::Faults {
            latency: Duration::from_millis(20),
            ..record_sim::Faults::default()
        },
        ..SimConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = service_table("1h", "")
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            "since = \"2024-01-01\"",
        );
    let secret = sim.credentials().client.client_secret.clone();
    let env = [("MAIN_SECRET", secret.as_str())];
    let served = serve(dir.path(), &config, &env);
    // Transfers are under way: some files fetched, most not.
    wait_for("transfers under way", Duration::from_secs(60), || {
        (sim.counters().route("storage_file") >= 20).then_some(())
    });
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
    let total = sim.records().len();
    let target = dir.path().join("main");
    let files = objects(&target);
    assert!(
        files.keys().all(|name| !name.contains('#')),
        "staged files left: {files:?}"
    );
    let mut whole = 0;
    for (name, path) in &files {
        if name.starts_with("_manifest") || name.starts_with(".telphin-records") {
            continue;
        }
        let uuid = name.rsplit('_').next().unwrap().trim_end_matches(".mp3");
        let expected = sim.file_bytes(uuid).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            std::fs::read(path).unwrap(),
            expected,
            "{name} is not whole"
        );
        whole += 1;
    }
    assert!(
        whole < total,
        "the stop came mid-transfer ({whole} of {total})"
    );

    // A restart keeps the rest, each file once.
    let served = serve(dir.path(), &config, &env);
    let catalog = Catalog::open(dir.path().join("main.sqlite")).unwrap();
    let uuids: Vec<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    wait_for("every 2024 record kept", Duration::from_secs(120), || {
        uuids.iter().all(|u| kept(&catalog, u)).then_some(())
    });
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
    let files = objects(&target);
    let records = files
        .keys()
        .filter(|n| !n.starts_with("_manifest") && !n.starts_with(".telphin-records"))
        .count();
    assert_eq!(records, total, "one object per record");
}

#[test]
fn readiness_follows_the_target() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let config = service_table("1s", "") + &pbx_table(&sim, dir.path(), "main", "MAIN_SECRET", "");
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(dir.path(), &config, &[("MAIN_SECRET", &secret)]);
    assert_eq!(served.get("/healthz").0, 200);
    wait_for("ready", Duration::from_secs(60), || {
        (served.get("/readyz").0 == 200).then_some(())
    });
    // One process per catalog: a second one stops at once, naming the lock.
    let second = Command::cargo_bin("telphin-records")
        .unwrap()
        .env_clear()
        .env("MAIN_SECRET", &secret)
        .args(["serve", "--config"])
        .arg(dir.path().join("serve.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(second.stderr).unwrap();
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("main.sqlite.lock"), "{stderr}");
    // The target's directory becomes a file: nothing can be written there.
    let target = dir.path().join("main");
    let aside = dir.path().join("main.aside");
    std::fs::rename(&target, &aside).unwrap();
    std::fs::write(&target, b"not a directory").unwrap();
    // Within the probe's kept answer (5 s): one probe serves every /readyz meanwhile.
    let body = wait_for("not ready", Duration::from_secs(30), || {
        let (status, body) = served.get("/readyz");
        (status == 503).then_some(body)
    });
    assert!(
        body.contains("main: not ready: the target is not writable"),
        "{body}"
    );
    assert_eq!(
        served
            .metrics()
            .value("telphin_records_ready", &[("pbx", "main")]),
        0.0
    );
    std::fs::remove_file(&target).unwrap();
    std::fs::rename(&aside, &target).unwrap();
    // Ready again (bounded: the last sync must also be recent, which a loaded machine delays).
    wait_for("ready again", Duration::from_secs(30), || {
        (served.get("/readyz").0 == 200).then_some(())
    });
    assert_eq!(served.get("/healthz").0, 200);
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn two_pbxs_are_kept_and_one_failing_never_stops_the_other() {
    let sim = live_sim(true);
    let other = live_sim(true);
    let dir = tempfile::tempdir().unwrap();
    let config = service_table("1s", "")
        + &pbx_table(&sim, dir.path(), "head-office", "HEAD_SECRET", "")
        + &pbx_table(&other, dir.path(), "branch", "BRANCH_SECRET", "")
        + &pbx_table(&other, dir.path(), "broken", "BROKEN_SECRET", "");
    let head = sim.credentials().client.client_secret.clone();
    let branch = other.credentials().client.client_secret.clone();
    let served = serve(
        dir.path(),
        &config,
        &[
            ("HEAD_SECRET", &head),
            ("BRANCH_SECRET", &branch),
            ("BROKEN_SECRET", "a-wrong-secret-entirely"),
        ],
    );
    wait_for(
        "both good PBXs synced twice, the broken one failed",
        Duration::from_secs(60),
        || {
            let m = served.metrics();
            (m.complete_syncs("head-office") >= 2.0
                && m.complete_syncs("branch") >= 2.0
                && m.value(
                    "telphin_records_failures_total",
                    &[("pbx", "broken"), ("kind", "auth")],
                ) >= 2.0)
                .then_some(())
        },
    );
    sim.pause_calls();
    other.pause_calls();
    let before = served.metrics();
    let (h, b) = (
        before.complete_syncs("head-office"),
        before.complete_syncs("branch"),
    );
    wait_for("two more syncs each", Duration::from_secs(60), || {
        let m = served.metrics();
        (m.complete_syncs("head-office") >= h + 2.0 && m.complete_syncs("branch") >= b + 2.0)
            .then_some(())
    });
    for (name, pbx) in [("head-office", &sim), ("branch", &other)] {
        let catalog = Catalog::open(dir.path().join(format!("{name}.sqlite"))).unwrap();
        let calls = pbx.live_calls();
        assert!(!calls.is_empty());
        assert!(
            calls.iter().all(|c| kept(&catalog, &c.record_uuid)),
            "{name}"
        );
    }
    let metrics = served.metrics();
    assert_eq!(metrics.complete_syncs("broken"), 0.0);
    // The good ones ready, the broken one not (bounded: readiness also wants a recent sync).
    wait_for("the good PBXs ready", Duration::from_secs(30), || {
        let (status, body) = served.get("/readyz");
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("broken: not ready"), "{body}");
        (body.contains("head-office: ready") && body.contains("branch: ready")).then_some(())
    });
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("a-wrong-secret-entirely"));
}

#[test]
fn a_bad_config_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.toml");
    std::fs::write(
        &path,
        "[service]\ninterval = \"5m\"\nmargin = \"an hour\"\n\n[[pbx]]\nname = \"main\"\n\
         client_id = \"app\"\nclient_secret_env = \"S\"\ntarget = \"t\"\ncatalog = \"c\"\n",
    )
    .unwrap();
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .env_clear()
        .args(["serve", "--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("serve.toml:3:10: service.margin: \"an hour\" is not a duration"),
        "{stderr}"
    );
    // A usable one, its secret from a file.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-from-a-file\n").unwrap();
    std::fs::write(
        &path,
        format!(
            "[[pbx]]\nname = \"main\"\nclient_id = \"app\"\nclient_secret_file = \"{}\"\n\
             target = \"{}\"\ncatalog = \"{}\"\n",
            secret.display(),
            dir.path().join("t").display(),
            dir.path().join("c.sqlite").display()
        ),
    )
    .unwrap();
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .env_clear()
        .args(["serve", "--check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("usable (1 PBX)"), "{stderr}");
    assert!(!stderr.contains("s3cr3t"));
}

/// The service applies its retention policy after its first sync: exactly the calls past two
/// years (Moscow midnights) are destroyed everywhere, the rest of 2024 is purged from the PBX,
/// one extension's held calls stay untouched; each deletion is an audit entry naming the
/// service's operator, and the act is stored in the target.
#[test]
fn the_service_applies_its_retention_policy_and_leaves_what_is_held() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let held_extension = sim.extensions()[0].id;
    let catalog_path = dir.path().join("main.sqlite");
    let hold = Catalog::open(&catalog_path)
        .unwrap()
        .add_hold(
            &record_backup::HoldOn::Extension(held_extension),
            "dispute 12",
            None,
            "lawyer",
        )
        .unwrap();
    let config = service_table("1h", "operator = \"retention-bot\"")
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            "since = \"2023-12-01\"\n\n[pbx.retention]\ntz = \"Europe/Moscow\"\n\
             keep_on_pbx_days = 30\nkeep_in_archive_years = 2\n",
        );
    let records = sim.records();
    let served = serve(
        dir.path(),
        &config,
        &[("MAIN_SECRET", &sim.credentials().client.client_secret)],
    );
    let metrics = wait_for("the policy to be applied", Duration::from_secs(120), || {
        let metrics = served.metrics();
        (metrics.value("telphin_records_records_held", &[("pbx", "main")]) > 0.0).then_some(metrics)
    });
    let (code, log) = served.terminate();
    assert_eq!(code, 0, "{log}");

    // Two years before today's Moscow midnight.
    let moscow: record_backup::chrono_tz::Tz = "Europe/Moscow".parse().unwrap();
    let today = telphin_records::chrono::Utc::now()
        .with_timezone(&moscow)
        .date_naive();
    let cutoff = today
        .checked_sub_months(telphin_records::chrono::Months::new(24))
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(moscow)
        .unwrap()
        .naive_utc();
    let catalog = Catalog::open(&catalog_path).unwrap();
    let on_pbx: std::collections::BTreeSet<String> =
        sim.records().into_iter().map(|r| r.uuid).collect();
    let (mut expired, mut purged, mut held) = (0, 0, 0);
    for record in &records {
        let entry = catalog.entry(&record.uuid).unwrap();
        if record.extension_id == held_extension {
            held += 1;
            assert!(on_pbx.contains(&record.uuid), "held: {}", record.uuid);
            assert!(entry.unwrap().state.deleted_from_pbx_at.is_none());
        } else if record.init_time < cutoff {
            expired += 1;
            assert!(!on_pbx.contains(&record.uuid), "expired: {}", record.uuid);
            assert!(entry.is_none(), "expired: {}", record.uuid);
            assert!(catalog.tombstone(&record.uuid).unwrap().is_some());
        } else {
            purged += 1;
            assert!(!on_pbx.contains(&record.uuid), "purged: {}", record.uuid);
            assert!(entry.unwrap().state.deleted_from_pbx_at.is_some());
        }
    }
    assert!(expired > 0 && held > 0, "{expired} expired, {held} held");
    assert_eq!(
        metrics.value(
            "telphin_records_retention_deleted_total",
            &[("pbx", "main"), ("kind", "expired")]
        ),
        f64::from(expired)
    );
    assert!(
        metrics.value(
            "telphin_records_retention_deleted_total",
            &[("pbx", "main"), ("kind", "purged")]
        ) >= f64::from(purged)
    );
    let check = catalog.check_audit().unwrap();
    assert!(check.holds(), "{check:?}");
    let mut exported = Vec::new();
    catalog
        .export_audit(None, None, |line| {
            exported.push(line.to_owned());
            Ok(())
        })
        .unwrap();
    assert!(exported[0].contains("\"operator\":\"lawyer\""));
    assert!(
        exported[1..]
            .iter()
            .all(|l| l.contains("\"operator\":\"retention-bot\""))
    );
    assert!(
        catalog
            .holds(false)
            .unwrap()
            .iter()
            .any(|h| h.id == hold.id)
    );
    let acts = std::fs::read_dir(dir.path().join("main/_acts"))
        .unwrap()
        .count();
    assert_eq!(acts, 2, "the act as JSON and CSV");
}

/// Every listener cuts a client that trickles its request's header, serves a bounded number
/// of connections so that a crowd of them never starves `/healthz`, answers 50 `/readyz` at
/// once (one target probe shared, with a name of its own), and counts a flood of refused
/// events — a wrong secret, none, an unknown PBX — writing only a line or two about them.
#[test]
fn the_listeners_hold_against_trickling_clients_parallel_probes_and_refused_events() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("event-secret");
    std::fs::write(&secret_file, EVENT_SECRET).unwrap();
    let config = service_table("1h", "header_timeout = \"1s\"\nmax_connections = 8")
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            &format!(
                "event_secret_file = \"{}\"\nsince = \"{}-01\"",
                secret_file.display(),
                chrono_month()
            ),
        );
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(dir.path(), &config, &[("MAIN_SECRET", &secret)]);
    wait_for("the first sync", Duration::from_secs(60), || {
        (served.metrics().complete_syncs("main") >= 1.0).then_some(())
    });

    // A client that sends half a header is cut off (the socket closes) within the timeout.
    let trickle = || {
        let mut stream = std::net::TcpStream::connect(&served.addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        stream
    };
    let mut slow = trickle();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let read = slow.read_to_end(&mut answer);
    assert!(
        read.is_ok(),
        "the trickling client was not cut off: {read:?}"
    );
    // Twenty more of them than the listener serves at once: /healthz still answers, once
    // they are cut.
    let crowd: Vec<_> = (0..28).map(|_| trickle()).collect();
    assert_eq!(served.get("/healthz"), (200, "ok\n".to_owned()));
    drop(crowd);

    // Fifty /readyz at once: all ready; no probe object is left behind.
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let asks: Vec<_> = (0..50)
            .map(|_| scope.spawn(|| served.get("/readyz").0))
            .collect();
        asks.into_iter().map(|ask| ask.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|&status| status == 200), "{answers:?}");
    let probes = objects(&dir.path().join("main"))
        .into_keys()
        .filter(|name| name.contains("probe"))
        .count();
    assert_eq!(probes, 0);

    // A flood of refused events: every one counted, a line or two in the log.
    let logged_before = served.log().lines().count();
    let paths = [
        "/events/main/wrong-secret".to_owned(),
        "/events/main/".to_owned(),
        "/events/main".to_owned(),
        format!("/events/other/{EVENT_SECRET}"),
    ];
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let paths = &paths;
            let served = &served;
            scope.spawn(move || {
                for i in 0..100 {
                    let (status, _) = http(&served.addr, "POST", &paths[(i + worker) % 4]);
                    assert_eq!(status, 404);
                }
            });
        }
    });
    let refused = served
        .metrics()
        .value("telphin_records_events_refused_total", &[]);
    assert_eq!(refused, 400.0);
    let log = served.log();
    let about_refusals = log
        .lines()
        .skip(logged_before)
        .filter(|line| line.contains("refused"))
        .count();
    assert!(about_refusals <= 2, "{about_refusals} lines:\n{log}");
    assert!(!log.contains(EVENT_SECRET) && !log.contains("wrong-secret"));
}

/// Two PBXs whose targets overlap — the same directory, or one inside the other — are
/// refused by `--check-config`, naming both.
#[test]
fn overlapping_targets_are_refused() {
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    for (first, second) in [
        ("archive", "archive/"),
        ("archive", "archive/branch"),
        ("./a/../archive", "archive"),
    ] {
        let table = |name: &str, target: &str| {
            pbx_table(&sim, dir.path(), name, "S", "").replace(
                &format!("target = \"{}\"", dir.path().join(name).display()),
                &format!("target = \"{}\"", dir.path().join(target).display()),
            )
        };
        let config = service_table("1m", "") + &table("main", first) + &table("branch", second);
        let path = dir.path().join("serve.toml");
        std::fs::write(&path, config).unwrap();
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .env_clear()
            .env("S", "secret")
            .args(["serve", "--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{first} / {second}: {stderr}"
        );
        assert!(
            stderr.contains("pbx[1].target")
                && stderr.contains("\"main\"")
                && stderr.contains("overlaps"),
            "{stderr}"
        );
    }
}

/// `key=value` form data, as a browser posts the login form.
fn post_form(addr: &str, path: &str, form: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    (answer[9..12].parse().unwrap(), answer)
}

/// A page's HTML, with the session `cookie`.
fn page(addr: &str, path: &str, cookie: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    answer
}

/// What a page's `<dt>{label}</dt><dd>…</dd>` holds.
fn described(html: &str, label: &str) -> String {
    let (_, after) = html
        .split_once(&format!("<dt>{label}</dt><dd>"))
        .unwrap_or_else(|| panic!("no {label} on the page"));
    after.split_once("</dd>").unwrap().0.to_owned()
}

/// One rule for who called whom (`Record::caller`, `Record::callee`): a call's "from" and "to"
/// are the same in its object's name, on its page, in `list`'s table and in its CSV, and a
/// transferred call's "to" is the extension that was dialled, everywhere.
#[test]
fn a_calls_parties_are_the_same_in_its_name_on_its_page_and_in_the_tables() {
    const PASSWORD: &str = "correct horse battery staple";
    let sim = live_sim(false);
    let dir = tempfile::tempdir().unwrap();
    let hash = record_service::hash_password(PASSWORD).unwrap();
    let config = service_table("1h", "")
        + &format!(
            "[web]\nlisten = \"127.0.0.1:0\"\ntz = \"Europe/Moscow\"\n\n\
             [[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\n\n"
        )
        + &pbx_table(
            &sim,
            dir.path(),
            "main",
            "MAIN_SECRET",
            "since = \"2023-12-01\"",
        );
    let secret = sim.credentials().client.client_secret.clone();
    let served = serve(dir.path(), &config, &[("MAIN_SECRET", &secret)]);
    wait_for("a complete sync", Duration::from_secs(120), || {
        (served.metrics().complete_syncs("main") >= 1.0).then_some(())
    });
    let web = wait_for("the page's address", Duration::from_secs(10), || {
        served.log.lock().unwrap().iter().find_map(|line| {
            let (_, rest) = line.split_once("web=http://")?;
            Some(rest.split('/').next()?.to_owned())
        })
    });
    let (status, answer) = post_form(
        &web,
        "/login",
        &format!(
            "name=anna&password={}&next=%2Fsearch",
            PASSWORD.replace(' ', "+")
        ),
    );
    assert_eq!(status, 303, "{answer}");
    let cookie = answer
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {answer}"))
        .to_owned();

    let app = &sim.credentials().client;
    let until = (telphin_records::chrono::Utc::now() + telphin_records::chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let list = |format: &str| {
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .env("TELPHIN_BASE_URL", sim.base_url())
            .env("TELPHIN_CLIENT_ID", &app.client_id)
            .env("TELPHIN_CLIENT_SECRET", &app.client_secret)
            .args([
                "list",
                "--from",
                "2023-12-01",
                "--until",
                &until,
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let (csv, table) = (list("csv"), list("table"));
    let objects = objects(&dir.path().join("main"));
    let catalog = Catalog::open(dir.path().join("main.sqlite")).unwrap();
    let (mut checked, mut transfers) = (0, 0);
    for record in sim.records() {
        let record = catalog.entry(&record.uuid).unwrap().unwrap().record;
        let (Some(from), Some(to)) = (record.caller(), record.callee()) else {
            continue;
        };
        let uuid = record.record_uuid.to_string();
        // The object: `…_{flow}_{from}_{to}_{record_uuid}.mp3`.
        let name = objects
            .keys()
            .find(|key| key.ends_with(&format!("_{uuid}.mp3")))
            .unwrap_or_else(|| panic!("{uuid} is not kept"));
        assert!(
            name.ends_with(&format!("_{from}_{to}_{uuid}.mp3")),
            "{name}: {from} → {to}"
        );
        let html = page(&web, &format!("/recordings/main/{uuid}"), &cookie);
        assert_eq!(
            (described(&html, "From"), described(&html, "To")),
            (from.to_owned(), to.to_owned()),
            "{uuid} on its page"
        );
        // CSV: local time, UTC time, flow, from, to, …
        let row = csv.lines().find(|line| line.contains(&uuid)).unwrap();
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!((cells[3], cells[4]), (from, to), "{uuid} in the CSV");
        // Table: date, time, flow, from, to, …
        let row = table.lines().find(|line| line.contains(&uuid)).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!((cells[3], cells[4]), (from, to), "{uuid} in the table");
        checked += 1;
        if record.flow.to_string() == "transfer" && record.dest_number.as_deref() != Some(to) {
            transfers += 1;
        }
        if checked >= 40 && transfers >= 2 {
            break;
        }
    }
    assert!(
        checked >= 40 && transfers >= 2,
        "{checked} calls, {transfers} transfers"
    );
}
