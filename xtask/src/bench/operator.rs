//! The operator's tool at a call centre's scale: `telphin-records list` over a year (peak memory
//! of the process, time to its first line), and the catalog's search at ten million records.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use super::{Bins, Plan, spread, strings};

/// What one run of the command came to.
struct CommandRun {
    lines: u64,
    first_line_s: f64,
    wall_s: f64,
    peak_rss_kib: u64,
}

/// GNU time: the peak resident set of the program it runs (`%M`, KiB), from the kernel's
/// account of the waited-for process (the issue's own measure).
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `program args` with `env` under GNU time, reading its stdout line by line as a reader
/// would.
fn run_command(
    program: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
    out: &std::path::Path,
) -> Result<CommandRun, String> {
    if !std::path::Path::new(GNU_TIME).exists() {
        return Err(format!(
            "{GNU_TIME} is missing (Debian's package `time`; .ci/run installs it)"
        ));
    }
    let rss_file = out.join("command-rss.txt");
    let started = Instant::now();
    let mut child = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut first_line_s = f64::NAN;
    let mut lines = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        if lines == 0 {
            first_line_s = started.elapsed().as_secs_f64();
        }
        lines += 1;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "{} {} failed: {status}",
            program.display(),
            args.join(" ")
        ));
    }
    let peak_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|text| text.trim().lines().last()?.trim().parse().ok())
        .ok_or("GNU time wrote no peak memory")?;
    Ok(CommandRun {
        lines,
        first_line_s,
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_kib,
    })
}

/// `telphin-records list --year 2024` against the simulator for a small and a ten times larger
/// year, in JSON Lines and CSV: peak memory, and how soon the first line comes next to the
/// SDK's first record of the same year (both with a fresh token).
pub(super) fn list_command(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let mut runs = Vec::new();
    for records in plan.year_records {
        let sim = bins.sim("cli-year", &strings(&["--records", &records.to_string()]))?;
        let announcement: Value = serde_json::from_str(
            &std::fs::read_to_string(&sim.announcement).map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        let app = &announcement["apps"]["client"];
        let env = [
            (
                "TELPHIN_BASE_URL",
                announcement["base_url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            (
                "TELPHIN_CLIENT_ID",
                app["client_id"].as_str().unwrap_or_default().to_owned(),
            ),
            (
                "TELPHIN_CLIENT_SECRET",
                app["client_secret"].as_str().unwrap_or_default().to_owned(),
            ),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ];
        let sdk = bins.bench(&strings(&[
            "list-stream",
            "--sim",
            &sim.announcement.to_string_lossy(),
        ]))?;
        let sdk_first = sdk["first_record_s"].as_f64().unwrap_or(f64::NAN);
        for format in ["jsonl", "csv"] {
            let run = run_command(
                &bins.cli,
                &["list", "--year", "2024", "--format", format],
                &env,
                &bins.out,
            )?;
            let header = u64::from(format == "csv");
            runs.push(json!({
                "records": run.lines - header,
                "format": format,
                "peak_rss_kib": run.peak_rss_kib,
                "wall_s": run.wall_s,
                "first_line_s": run.first_line_s,
                "sdk_first_record_s": sdk_first,
                "first_line_after_sdk_s": run.first_line_s - sdk_first,
            }));
        }
    }
    let rss = |records: usize, format: &str| -> f64 {
        runs.iter()
            .find(|r| {
                r["format"] == format
                    && r["records"].as_u64().is_some_and(|n| n as usize >= records)
            })
            .and_then(|r| r["peak_rss_kib"].as_f64())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    let [small, large] = plan.year_records;
    let first_after: Vec<f64> = runs
        .iter()
        .filter_map(|r| r["first_line_after_sdk_s"].as_f64())
        .collect();
    Ok(json!({
        "runs": runs,
        "jsonl_peak_rss_mib_small": rss(small, "jsonl"),
        "jsonl_peak_rss_mib_large": rss(large, "jsonl"),
        "csv_peak_rss_mib_small": rss(small, "csv"),
        "csv_peak_rss_mib_large": rss(large, "csv"),
        "jsonl_rss_large_over_small": rss(large, "jsonl") / rss(small, "jsonl"),
        "csv_rss_large_over_small": rss(large, "csv") / rss(small, "csv"),
        "first_line_after_sdk_s": spread(&first_after),
        "goal_mib": 64,
    }))
}

/// The generated catalog of `plan.catalog_records` calls (made once, kept in `target/bench`):
/// its path, its size as an argument, and what the generator said.
fn generated_catalog(bins: &Bins, plan: &Plan) -> Result<(String, String, Value), String> {
    let records = plan.catalog_records.to_string();
    let path = bins
        .out
        .join(format!("catalog-{records}.sqlite"))
        .to_string_lossy()
        .into_owned();
    let generated = Bins::measure(
        &bins.bench_catalog,
        &strings(&["generate", "--path", &path, "--records", &records]),
    )?;
    Ok((path, records, generated))
}

/// The catalog of a call centre (`catalog_records` calls, generated once and kept in
/// `target/bench`), searched in another process: first pages, memory, size per record.
pub(super) fn catalog_search(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let (path, records, generated) = generated_catalog(bins, plan)?;
    let mut searched = Bins::measure(
        &bins.bench_catalog,
        &strings(&[
            "search",
            "--path",
            &path,
            "--records",
            &records,
            "--rounds",
            "20",
        ]),
    )?;
    searched["generate"] = generated;
    searched["peak_rss_mib"] =
        json!(searched["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0);
    searched["goal_first_page_ms"] = json!({"median": 50, "max": 200});
    Ok(searched)
}

/// Erasing one person's number (250 calls spread over a year) from the generated catalog:
/// the catalog's time, the PBX and the target asked nothing (see `telphin-bench-catalog`).
pub(super) fn catalog_erase(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let (path, _, _) = generated_catalog(bins, plan)?;
    let mut erased = Bins::measure(
        &bins.bench_catalog,
        &strings(&[
            "erase",
            "--path",
            &path,
            "--rounds",
            if plan.quick { "2" } else { "5" },
        ]),
    )?;
    erased["goal_erase_ms"] = json!({"max": 1000});
    Ok(erased)
}

/// `telphin-records serve` against a live simulator (2 calls/s, 20 ms per answer), with event
/// callbacks and without: lag from a call's end to its recording kept, API requests per kept
/// record in the steady state, and, once calls stop, memory and CPU between syncs.
pub(super) fn live_service(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let (seconds, interval) = if plan.quick {
        ("10", "5")
    } else {
        ("120", "15")
    };
    let run = |mode: &str| {
        Bins::measure(
            &bins.bench_service,
            &strings(&[
                "run",
                "--cli",
                &bins.cli.to_string_lossy(),
                "--mode",
                mode,
                "--seconds",
                seconds,
                "--interval-s",
                interval,
                "--out",
                &bins.out.to_string_lossy(),
            ]),
        )
    };
    let events = run("events")?;
    let polling = run("polling")?;
    let interval_s: f64 = interval.parse().unwrap_or(f64::NAN);
    Ok(json!({
        "events": events,
        "polling": polling,
        "goal_lag_p95_s": {"events": 5.0, "polling": interval_s + 5.0},
        "goal_requests_per_kept_record": 1.1,
        "goal_idle_rss_mib": 32,
        "goal_idle_cpu_percent": 1.0,
    }))
}

/// The web page of `serve` over the generated catalog (and one recording in moto's S3): the
/// search page's and the overview's answers over HTTP, a seek's first byte and what it read
/// from S3, the service's peak memory (see `telphin-bench-web`).
pub(super) fn web_page(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let (path, records, _) = generated_catalog(bins, plan)?;
    let mut measured = Bins::measure(
        &bins.bench_web,
        &strings(&[
            "run",
            "--cli",
            &bins.cli.to_string_lossy(),
            "--catalog",
            &path,
            "--records",
            &records,
            "--out",
            &bins.out.to_string_lossy(),
            "--rounds",
            if plan.quick { "3" } else { "20" },
            "--file-mib",
            if plan.quick { "8" } else { "50" },
        ]),
    )?;
    measured["goal_page_ms"] = json!({"median": 100, "max": 300});
    measured["goal_service_peak_rss_mib"] = json!(128);
    Ok(measured)
}
