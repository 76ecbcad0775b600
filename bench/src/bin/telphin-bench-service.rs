//! `telphin-bench-service`: `telphin-records serve` (the release binary, a process of its own)
//! against a live simulator in this process — calls ending at a steady rate, each answer
//! delayed — and what an operator would watch:
//!
//! - the lag from each call's end to its recording kept (the catalog's `stored_at`), p50 and
//!   p95, in the steady state (after the first sync);
//! - API requests per kept record in the steady state (the simulator's counters: listing,
//!   completeness guard, storage links, tokens — every request but the file transfers
//!   themselves, which are not API requests);
//! - once calls stop: the service's resident memory, and its CPU time over a stretch between
//!   syncs.
//!
//! `run --cli PATH --mode events|polling --seconds S --interval-s I --out DIR` prints one
//! JSON line.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use record_backup::{Catalog, SearchQuery};
use record_sim::{LiveConfig, Sim, SimConfig};
use serde_json::{Value, json};
use telphin_records::chrono::{DateTime, Utc};

use telphin_bench::measure::{flag, free_port, number, status_kib};

/// Calls end at this rate (the figure).
const CALLS_PER_SECOND: f64 = 2.0;
/// Each answer of the simulator is delayed this much.
const LATENCY: Duration = Duration::from_millis(20);
/// Each call lasts this long: its record is listable this long after its start.
const CALL_LENGTH: Duration = Duration::from_secs(5);
const EVENT_SECRET: &str = "bench-event-secret-0123456789";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => fail(&error.to_string()),
    };
    match runtime.block_on(run(&args)) {
        Ok(value) => println!("{value}"),
        Err(error) => fail(&error),
    }
}

fn fail(error: &str) -> ! {
    eprintln!("telphin-bench-service: {error}");
    std::process::exit(1)
}

/// The service's process, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn run(args: &[String]) -> Result<Value, String> {
    let cli = PathBuf::from(flag(args, "--cli").ok_or("--cli PATH")?);
    let events = match flag(args, "--mode") {
        Some("events") => true,
        Some("polling") => false,
        _ => return Err("--mode events|polling".to_owned()),
    };
    let seconds = number(args, "--seconds", 60)? as u64;
    let interval_s = number(args, "--interval-s", 15)? as u64;
    let out = PathBuf::from(flag(args, "--out").ok_or("--out DIR")?);
    let dir = out.join(if events {
        "service-events"
    } else {
        "service-polling"
    });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    let sim = Sim::start(SimConfig {
        seed: 3,
        record_count: 50,
        max_file_size: Some(64 << 10),
        faults: record_sim::Faults {
            latency: LATENCY,
            ..record_sim::Faults::default()
        },
        live: Some(LiveConfig {
            calls_per_second: CALLS_PER_SECOND,
            call_length: CALL_LENGTH,
            callback_url: None,
            running: false,
        }),
        ..SimConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let port = free_port()?;
    let interval = if events {
        // Events alone keep the archive in step; polling is the safety net.
        "5m".to_owned()
    } else {
        format!("{interval_s}s")
    };
    let catalog_path = dir.join("catalog.sqlite");
    let config = format!(
        "[service]\nlisten = \"127.0.0.1:{port}\"\ninterval = \"{interval}\"\nmargin = \"1m\"\n\
         debounce = \"1s\"\n\n[[pbx]]\nname = \"bench\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_env = \"BENCH_SECRET\"\nevent_secret_env = \"BENCH_EVENTS\"\n\
         target = \"{}\"\ncatalog = \"{}\"\n",
        sim.base_url(),
        sim.credentials().client.client_id,
        dir.join("target").display(),
        catalog_path.display(),
    );
    let config_path = dir.join("serve.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
    let child = Command::new(&cli)
        .args(["serve", "--config"])
        .arg(&config_path)
        .env("BENCH_SECRET", &sim.credentials().client.client_secret)
        .env("BENCH_EVENTS", EVENT_SECRET)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
    let served = Served(child);
    let pid = served.0.id();
    let addr = format!("127.0.0.1:{port}");
    // The first sync (an empty period) marks the steady state's start.
    wait_for(Duration::from_secs(60), || complete_syncs(&addr) >= 1.0).await?;
    if events {
        sim.set_callback(Some(format!("http://{addr}/events/bench/{EVENT_SECRET}")));
    }
    let steady_from = Utc::now();
    let counted_before = sim.counters();
    let before = api_requests(&counted_before);
    sim.resume_calls();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    sim.pause_calls();
    let calls = sim.live_calls();
    if calls.is_empty() {
        return Err("no call ended".to_owned());
    }
    // Every call kept (bounded): with events, one debounce after the last; without, at the
    // next sync.
    let catalog = Catalog::open(&catalog_path).map_err(|e| e.to_string())?;
    let bound = Duration::from_secs(interval_s * 3 + 60);
    wait_for(bound, || {
        calls.iter().all(|c| {
            catalog
                .entry(&c.record_uuid)
                .ok()
                .flatten()
                .is_some_and(|e| e.state.is_kept())
        })
    })
    .await?;
    let counted_after = sim.counters();
    let after = api_requests(&counted_after);
    let by_route: serde_json::Map<String, Value> = counted_after
        .by_route
        .iter()
        .map(|(route, n)| (route.clone(), json!(n - counted_before.route(route))))
        .filter(|(_, n)| n.as_u64() != Some(0))
        .collect();
    let mut lags = Vec::new();
    for call in &calls {
        let entry = catalog
            .entry(&call.record_uuid)
            .map_err(|e| e.to_string())?
            .ok_or("a call's record is not in the catalog")?;
        let stored: DateTime<Utc> = entry.state.stored_at.ok_or("not stored")?;
        lags.push((stored - call.ended).num_milliseconds() as f64 / 1000.0);
    }
    lags.sort_by(f64::total_cmp);
    let requests = after - before;
    let kept = count_stored_after(&catalog, steady_from)?;

    // Idle: no calls; between syncs (events mode: none for 5 min; polling: measured right
    // after a sync, for less than an interval).
    if !events {
        let syncs = complete_syncs(&addr);
        wait_for(Duration::from_secs(interval_s * 2 + 30), || {
            complete_syncs(&addr) > syncs
        })
        .await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_window = if events {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(interval_s.saturating_sub(3).clamp(1, 10))
    };
    let cpu_before = process_cpu(pid);
    let syncs_before = complete_syncs(&addr);
    tokio::time::sleep(idle_window).await;
    let cpu_after = process_cpu(pid);
    let idle_syncs = complete_syncs(&addr) - syncs_before;
    let rss_kib = status_kib(pid, "VmRSS:");
    let peak_kib = status_kib(pid, "VmHWM:");
    drop(served);
    sim.shutdown();
    Ok(json!({
        "mode": if events { "events" } else { "polling" },
        "interval_s": if events { 300 } else { interval_s },
        "calls": calls.len(),
        "calls_per_second": CALLS_PER_SECOND,
        "latency_ms": LATENCY.as_millis() as u64,
        "lag_s": {
            "p50": percentile(&lags, 0.50),
            "p95": percentile(&lags, 0.95),
            "max": lags.last().copied().unwrap_or(f64::NAN),
        },
        "api_requests": requests,
        "requests_by_route": by_route,
        "kept": kept,
        "requests_per_kept_record": requests as f64 / kept.max(1) as f64,
        "idle_rss_mib": rss_kib as f64 / 1024.0,
        "peak_rss_mib": peak_kib as f64 / 1024.0,
        "idle_cpu_percent": (cpu_after - cpu_before) / idle_window.as_secs_f64() * 100.0,
        "idle_window_s": idle_window.as_secs_f64(),
        "syncs_in_idle_window": idle_syncs,
    }))
}

/// Every request to the API: all routes but the file transfers from storage and archives.
fn api_requests(counters: &record_sim::Counters) -> u64 {
    counters
        .by_route
        .iter()
        .filter(|(route, _)| !matches!(route.as_str(), "storage_file" | "archive_file"))
        .map(|(_, n)| n)
        .sum()
}

fn count_stored_after(catalog: &Catalog, from: DateTime<Utc>) -> Result<u64, String> {
    let mut search = catalog
        .search(&SearchQuery::default())
        .map_err(|e| e.to_string())?;
    let mut kept = 0;
    while let Some(page) = search.next_page().map_err(|e| e.to_string())? {
        kept += page
            .iter()
            .filter(|e| e.state.stored_at.is_some_and(|at| at >= from))
            .count() as u64;
    }
    Ok(kept)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn wait_for(bound: Duration, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > bound {
            return Err(format!("not done within {} s", bound.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The service's complete syncs, from its `/metrics`.
fn complete_syncs(addr: &str) -> f64 {
    let Ok(text) = get(addr, "/metrics") else {
        return 0.0;
    };
    text.lines()
        .filter(|l| {
            l.starts_with("telphin_records_syncs_total{") && l.contains("kind=\"complete\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn get(addr: &str, path: &str) -> Result<String, String> {
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(answer)
}

/// CPU time of process `pid` (every thread, those ended included: `utime + stime` of
/// `/proc/<pid>/stat`), in seconds.
fn process_cpu(pid: u32) -> f64 {
    let ticks_per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8(out.stdout)
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // The fields after the command name (in parentheses, which may hold spaces).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / ticks_per_second,
        _ => f64::NAN,
    }
}
