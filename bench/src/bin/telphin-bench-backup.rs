//! `telphin-bench-backup`: a year of the simulator's records backed up into a local directory
//! with `record-backup`, the simulator adding a latency to every request; wall time against the
//! ideal of the round trips alone, and peak memory. A program of its own, so that its code
//! (SQLite, object_store) does not weigh on `telphin-bench`'s memory figures of the SDK.

use std::time::Instant;

use record_backup::{Archive, ArchiveOptions, Catalog, Target};
use serde_json::json;
use telphin_records::Period;

use telphin_bench::measure::{flag, number, peak_rss_kib, process_cpu};
use telphin_bench::net::{pbx, sim, two_workers};

/// Requests per file: the storage link, then the file from it.
const ROUND_TRIPS_PER_FILE: f64 = 2.0;

fn run(args: &[String]) -> Result<String, String> {
    let sim = sim(args)?;
    let concurrency = number(args, "--concurrency", 8)?;
    let latency_ms = number(args, "--latency-ms", 20)? as f64;
    let dir = std::path::PathBuf::from(flag(args, "--dir").ok_or("--dir DIR is needed")?);
    let runtime = two_workers()?;
    runtime.block_on(async {
        let client = sim
            .builder()
            .concurrency(concurrency)
            .build_async()
            .map_err(|e| e.to_string())?;
        let target = Target::local(dir.join("target")).map_err(|e| e.to_string())?;
        let catalog = Catalog::open(dir.join("catalog.sqlite")).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let listed_at = std::sync::Arc::new(std::sync::Mutex::new(None::<f64>));
        let listed = std::sync::Arc::clone(&listed_at);
        let options = ArchiveOptions::default()
            .concurrency(concurrency)
            .on_progress(move |event| {
                if let record_backup::Progress::Planned { .. } = event
                    && let Ok(mut at) = listed.lock()
                {
                    *at = Some(started.elapsed().as_secs_f64());
                }
            });
        let archive = Archive::new(client, target, catalog, options);
        let year = Period::year(2024).map_err(|e| e.to_string())?;
        let report = archive
            .backup(pbx(), year)
            .await
            .map_err(|e| e.to_string())?;
        let wall = started.elapsed().as_secs_f64();
        if report.failed > 0 || report.stored == 0 {
            return Err(format!("the backup did not keep every file: {report:?}"));
        }
        let files = report.stored as f64;
        let ideal = files * ROUND_TRIPS_PER_FILE * latency_ms / 1000.0 / concurrency as f64;
        Ok(json!({
            "files": report.stored,
            "bytes": report.bytes,
            "concurrency": concurrency,
            "latency_ms": latency_ms,
            "wall_s": wall,
            "ideal_s": ideal,
            "wall_over_ideal": wall / ideal,
            "listing_s": listed_at.lock().ok().and_then(|at| *at),
            "cpu_s": process_cpu(),
            "peak_rss_kib": peak_rss_kib(),
        })
        .to_string())
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("telphin-bench-backup: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
