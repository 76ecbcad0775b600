//! `cargo xtask bench [--quick]`: the SDK next to its physical limit, in one run.
//!
//! Release builds; the simulator in its own process; client variants interleaved A B A B (in
//! one process when CPU time is compared per thread, one process each when peak memory is);
//! min / median / max of several rounds, ratios taken pair by pair within a round. Prints a
//! table and writes `target/bench/summary.json`. `--quick` runs every measure briefly: CI runs
//! it so that the bench never rots, and asserts only that it ran. `--only NAME` runs one measure
//! and keeps the others of the last summary.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};

use serde_json::{Value, json};

mod instructions;
mod minimal;
mod operator;

/// Sizes of one run.
struct Plan {
    quick: bool,
    decode_records: usize,
    decode_rounds: usize,
    window_records: usize,
    window_rounds: usize,
    window_calls: usize,
    year_records: [usize; 2],
    download_bytes: u64,
    download_rounds: usize,
    token_calls: usize,
    /// Records of the simulator's year for the bulk backup: the wall-time case (run
    /// `backup_rounds` times), then the memory comparison's larger case.
    backup_records: [usize; 2],
    backup_rounds: usize,
    backup_latency_ms: u64,
    /// Calls of one list window counted under callgrind, and the bytes of the download.
    instruction_calls: usize,
    instruction_bytes: u64,
    /// Calls of the catalog searched (generated once, kept in `target/bench`).
    catalog_records: usize,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                decode_records: 2_000,
                decode_rounds: 3,
                window_records: 6_000,
                window_rounds: 2,
                window_calls: 3,
                year_records: [2_500, 25_000],
                download_bytes: 16 << 20,
                download_rounds: 1,
                token_calls: 100,
                backup_records: [76, 276],
                backup_rounds: 1,
                backup_latency_ms: 5,
                instruction_calls: 1,
                instruction_bytes: 4 << 20,
                catalog_records: 20_000,
            }
        } else {
            Plan {
                quick,
                decode_records: 10_000,
                decode_rounds: 11,
                window_records: 6_000,
                window_rounds: 7,
                window_calls: 100,
                year_records: [250_000, 2_500_000],
                download_bytes: 1 << 30,
                download_rounds: 7,
                token_calls: 1_000,
                // With the simulator's 24 boundary records: 1,000 and 10,000 files.
                backup_records: [976, 9_976],
                backup_rounds: 3,
                backup_latency_ms: 20,
                instruction_calls: 3,
                instruction_bytes: 64 << 20,
                catalog_records: 10_000_000,
            }
        }
    }
}

pub(crate) fn run(args: &[String]) -> ExitCode {
    let quick = args.iter().any(|arg| arg == "--quick");
    let only = args
        .iter()
        .position(|arg| arg == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    match execute(quick, only.as_deref()) {
        Ok(summary) => {
            print!("{}", table(&summary));
            ExitCode::SUCCESS
        }
        Err(error) => crate::failed("bench", &error),
    }
}

/// The measures every summary holds.
const MEASURES: [&str; 13] = [
    "decode",
    "list_window",
    "instructions",
    "list_year_stream",
    "download",
    "tokens",
    "weight",
    "bulk_backup",
    "list_command",
    "catalog_search",
    "catalog_erase",
    "live_service",
    "web_page",
];

/// The most packages a blocking-only facade may pull, as a multiple of the same program written
/// with raw ureq + serde_json.
const MAX_BLOCKING_PACKAGE_RATIO: f64 = 1.6;

/// For `cargo xtask ci`: runs `--quick` and checks that the summary holds every measure, and
/// the package-count goal. Never a speed: CI machines vary.
pub(crate) fn check_quick() -> Result<(), String> {
    execute(true, None)?;
    let path = crate::root().join("target/bench/summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let summary: Value = serde_json::from_str(&text).map_err(|e| format!("summary.json: {e}"))?;
    let missing: Vec<&str> = MEASURES
        .iter()
        .copied()
        .filter(|name| summary.get(*name).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        return Err(format!("summary.json lacks {missing:?}"));
    }
    // The weight is a count, not a speed: the same on any machine, so CI holds it.
    let ratio = summary["weight"]["blocking_package_ratio"]
        .as_f64()
        .unwrap_or(f64::NAN);
    if ratio.is_nan() || ratio > MAX_BLOCKING_PACKAGE_RATIO {
        let of = |name: &str| summary["weight"][name]["packages"].clone();
        return Err(format!(
            "a blocking-only facade pulls {} packages, raw ureq + serde_json {}: {ratio:.3}×, \
             more than {MAX_BLOCKING_PACKAGE_RATIO}×",
            of("facade-blocking"),
            of("raw-ureq")
        ));
    }
    Ok(())
}

/// Runs every measure, or only `only` (then the summary keeps the other measures of the last
/// run).
fn execute(quick: bool, only: Option<&str>) -> Result<Value, String> {
    let plan = Plan::new(quick);
    let root = crate::root();
    let out = root.join("target").join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    eprintln!("== xtask: bench: building release binaries");
    let built = Command::new(crate::cargo_path())
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "record-sim",
            "-p",
            "telphin-bench",
            "-p",
            "telphin-records-cli",
        ])
        .status();
    if !built.is_ok_and(|status| status.success()) {
        return Err("the release build failed".to_owned());
    }
    let bins = Bins {
        sim: root.join("target/release/record-sim"),
        bench: root.join("target/release/telphin-bench"),
        bench_backup: root.join("target/release/telphin-bench-backup"),
        bench_catalog: root.join("target/release/telphin-bench-catalog"),
        bench_service: root.join("target/release/telphin-bench-service"),
        bench_web: root.join("target/release/telphin-bench-web"),
        cli: root.join("target/release/telphin-records"),
        out: out.clone(),
    };
    let previous = std::fs::read_to_string(out.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(|_| only.is_some());
    let mut summary = previous.unwrap_or_else(|| json!({}));
    summary["quick"] = json!(quick);
    summary["machine"] = json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
    });
    let measures: [(&str, Measure); 13] = [
        ("decode", decode),
        ("list_window", list_window),
        ("instructions", instructions::instructions),
        ("list_year_stream", list_year),
        ("download", download),
        ("tokens", tokens),
        ("weight", |_, plan| minimal::weight(plan.quick)),
        ("bulk_backup", bulk_backup),
        ("list_command", operator::list_command),
        ("catalog_search", operator::catalog_search),
        ("catalog_erase", operator::catalog_erase),
        ("live_service", operator::live_service),
        ("web_page", operator::web_page),
    ];
    for (name, measure) in measures {
        if only.is_some_and(|only| only != name) {
            continue;
        }
        eprintln!("== xtask: bench: {name}");
        summary[name] = measure(&bins, &plan).map_err(|error| format!("{name}: {error}"))?;
    }
    let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
    std::fs::write(out.join("summary.json"), &text)
        .map_err(|e| format!("cannot write summary.json: {e}"))?;
    eprintln!(
        "== xtask: bench: wrote {}",
        out.join("summary.json").display()
    );
    Ok(summary)
}

/// One measure: its figures, or why it could not be taken.
type Measure = fn(&Bins, &Plan) -> Result<Value, String>;

struct Bins {
    sim: PathBuf,
    bench: PathBuf,
    /// The bulk backup, a program of its own: its code (SQLite, object_store) stays out of the
    /// SDK's memory figures.
    bench_backup: PathBuf,
    /// The catalog's generator and searcher.
    bench_catalog: PathBuf,
    /// `serve` against a live simulator.
    bench_service: PathBuf,
    /// `serve`'s web page at a call centre's size.
    bench_web: PathBuf,
    /// The `telphin-records` command.
    cli: PathBuf,
    out: PathBuf,
}

/// A simulator in its own process, killed when dropped.
struct SimProcess {
    child: Child,
    announcement: PathBuf,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bins {
    fn sim(&self, name: &str, flags: &[String]) -> Result<SimProcess, String> {
        let mut child = Command::new(&self.sim)
            .args(["--addr", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the simulator: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| format!("the simulator said nothing: {e}"))?;
        }
        let announcement = self.out.join(format!("sim-{name}.json"));
        std::fs::write(&announcement, &line).map_err(|e| e.to_string())?;
        Ok(SimProcess {
            child,
            announcement,
        })
    }

    /// Runs `telphin-bench` and parses its JSON line.
    fn bench(&self, args: &[String]) -> Result<Value, String> {
        Bins::measure(&self.bench, args)
    }

    /// Runs the measuring program `program` and parses its JSON line.
    fn measure(program: &std::path::Path, args: &[String]) -> Result<Value, String> {
        let output = Command::new(program)
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        if !output.status.success() {
            return Err(format!("{} {} failed", program.display(), args.join(" ")));
        }
        serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("{} output: {e}", program.display()))
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// `Record`, a plain struct and `Value`, each decoding in a process of its own, interleaved
/// round by round; the throughput ratio is taken within each round.
fn decode(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let run = |variant: &str| -> Result<Value, String> {
        bins.bench(&strings(&[
            "decode",
            "--variant",
            variant,
            "--records",
            &plan.decode_records.to_string(),
            "--repeat",
            if plan.quick { "3" } else { "9" },
        ]))
    };
    let best = |run: &Value| run["best_ms"].as_f64().unwrap_or(f64::NAN);
    let (mut record, mut plain, mut value, mut ratio) = (vec![], vec![], vec![], vec![]);
    let (mut record_each, mut plain_each, mut ratio_each) = (vec![], vec![], vec![]);
    let mut payload_bytes = Value::Null;
    for round in 0..plan.decode_rounds {
        let pair = |a: &str, b: &str| -> Result<(f64, f64), String> {
            if round % 2 == 0 {
                let x = best(&run(a)?);
                Ok((x, best(&run(b)?)))
            } else {
                let y = best(&run(b)?);
                Ok((best(&run(a)?), y))
            }
        };
        let (r, p) = pair("record", "plain")?;
        let (re, pe) = pair("record-each", "plain-each")?;
        record.push(r);
        plain.push(p);
        ratio.push(p / r);
        record_each.push(re);
        plain_each.push(pe);
        ratio_each.push(pe / re);
        let v = run("value")?;
        payload_bytes = v["payload_bytes"].clone();
        value.push(best(&v));
    }
    let mib = payload_bytes.as_f64().unwrap_or(f64::NAN) / (1 << 20) as f64;
    let per_second = |ms: &[f64]| -> Vec<f64> { ms.iter().map(|m| mib / (m / 1e3)).collect() };
    Ok(json!({
        "records": plan.decode_records,
        "payload_bytes": payload_bytes,
        "rounds": plan.decode_rounds,
        "record_ms": spread(&record),
        "plain_ms": spread(&plain),
        "value_ms": spread(&value),
        "record_mib_s": spread(&per_second(&record)),
        "plain_mib_s": spread(&per_second(&plain)),
        "throughput_record_over_plain": spread(&ratio),
        "record_each_ms": spread(&record_each),
        "plain_each_ms": spread(&plain_each),
        "stream_throughput_record_over_plain": spread(&ratio_each),
    }))
}

fn list_window(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let sim = bins.sim(
        "window",
        &strings(&["--records", &plan.window_records.to_string()]),
    )?;
    bins.bench(&strings(&[
        "list-window",
        "--sim",
        &sim.announcement.to_string_lossy(),
        "--rounds",
        &plan.window_rounds.to_string(),
        "--calls",
        &plan.window_calls.to_string(),
    ]))
}

fn list_year(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let mut runs = Vec::new();
    for records in plan.year_records {
        let sim = bins.sim("year", &strings(&["--records", &records.to_string()]))?;
        let run = bins.bench(&strings(&[
            "list-stream",
            "--sim",
            &sim.announcement.to_string_lossy(),
        ]))?;
        runs.push(run);
    }
    let rss = |run: &Value| run["peak_rss_kib"].as_f64().unwrap_or(f64::NAN);
    Ok(json!({
        "runs": runs,
        "peak_rss_mib_small": rss(&runs[0]) / 1024.0,
        "peak_rss_mib_large": rss(&runs[1]) / 1024.0,
        "rss_large_over_small": rss(&runs[1]) / rss(&runs[0]),
        "goal_mib": 64,
    }))
}

const DOWNLOAD_VARIANTS: [&str; 6] = [
    "sdk-blocking",
    "raw-ureq",
    "sdk-async",
    "raw-reqwest",
    "sdk-async-file",
    "raw-reqwest-file",
];

fn download(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let sim = bins.sim(
        "download",
        &strings(&[
            "--records",
            "100",
            "--huge-file-bytes",
            &plan.download_bytes.to_string(),
        ]),
    )?;
    let mut rounds: Vec<Vec<Value>> = Vec::new();
    for round in 0..plan.download_rounds {
        let mut order = DOWNLOAD_VARIANTS;
        if round % 2 == 1 {
            // B A B A: each pair swaps its order every other round.
            for pair in order.chunks_mut(2) {
                pair.swap(0, 1);
            }
        }
        let mut runs = Vec::new();
        for variant in order {
            runs.push(bins.bench(&strings(&[
                "download",
                "--sim",
                &sim.announcement.to_string_lossy(),
                "--variant",
                variant,
            ]))?);
        }
        rounds.push(runs);
    }
    let of = |runs: &[Value], variant: &str, key: &str| -> f64 {
        runs.iter()
            .find(|run| run["variant"] == variant)
            .and_then(|run| run[key].as_f64())
            .unwrap_or(f64::NAN)
    };
    let mut result = json!({"bytes": plan.download_bytes, "rounds": plan.download_rounds});
    for variant in DOWNLOAD_VARIANTS {
        for key in ["gib_per_s", "cpu_s_per_gib", "peak_rss_kib"] {
            let values: Vec<f64> = rounds.iter().map(|runs| of(runs, variant, key)).collect();
            result[format!("{variant}:{key}")] = spread(&values);
        }
    }
    for (sdk, raw, key, name) in [
        (
            "sdk-blocking",
            "raw-ureq",
            "gib_per_s",
            "blocking_throughput_ratio",
        ),
        (
            "sdk-async",
            "raw-reqwest",
            "gib_per_s",
            "async_throughput_ratio",
        ),
        (
            "sdk-async-file",
            "raw-reqwest-file",
            "cpu_s_per_gib",
            "async_file_cpu_ratio",
        ),
    ] {
        let values: Vec<f64> = rounds
            .iter()
            .map(|runs| of(runs, sdk, key) / of(runs, raw, key))
            .collect();
        result[name] = spread(&values);
    }
    Ok(result)
}

fn tokens(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    bins.bench(&strings(&[
        "tokens",
        "--calls",
        &plan.token_calls.to_string(),
    ]))
}

/// `record-backup` keeping a year of small files from a simulator that adds a latency to every
/// request, 8 files at a time: wall time against files × 2 round trips × latency / 8, and
/// peak memory for a small and a ten times larger year.
fn bulk_backup(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    const CONCURRENCY: &str = "8";
    let latency = plan.backup_latency_ms.to_string();
    let run = |records: usize| -> Result<Value, String> {
        let flags = [
            "--records",
            &records.to_string(),
            "--latency-ms",
            &latency,
            "--max-file-bytes",
            "32768",
        ];
        let sim = bins.sim("backup", &strings(&flags))?;
        let dir = bins.out.join("backup-run");
        let _ = std::fs::remove_dir_all(&dir);
        let result = Bins::measure(
            &bins.bench_backup,
            &strings(&[
                "--sim",
                &sim.announcement.to_string_lossy(),
                "--dir",
                &dir.to_string_lossy(),
                "--concurrency",
                CONCURRENCY,
                "--latency-ms",
                &latency,
            ]),
        );
        let _ = std::fs::remove_dir_all(&dir);
        result
    };
    let mut small = Vec::new();
    for _ in 0..plan.backup_rounds {
        small.push(run(plan.backup_records[0])?);
    }
    let large = run(plan.backup_records[1])?;
    let field = |run: &Value, name: &str| run[name].as_f64().unwrap_or(f64::NAN);
    let ratios: Vec<f64> = small.iter().map(|r| field(r, "wall_over_ideal")).collect();
    let rss_small = small
        .iter()
        .map(|r| field(r, "peak_rss_kib"))
        .fold(0.0, f64::max);
    let rss_large = field(&large, "peak_rss_kib");
    Ok(json!({
        "small": small,
        "large": large,
        "files_small": small.first().map(|r| r["files"].clone()),
        "files_large": large["files"],
        "latency_ms": plan.backup_latency_ms,
        "concurrency": 8,
        "wall_over_ideal": spread(&ratios),
        "wall_over_ideal_large": field(&large, "wall_over_ideal"),
        "peak_rss_mib_small": rss_small / 1024.0,
        "peak_rss_mib_large": rss_large / 1024.0,
        "rss_large_over_small": rss_large / rss_small,
        "goal_wall_over_ideal": 1.2,
    }))
}

/// Min, median and max of `values`.
pub(crate) fn spread(values: &[f64]) -> Value {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Value::Null;
    }
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    json!({"min": sorted[0], "median": median, "max": sorted[n - 1]})
}

/// The summary as a table: measure, figure, min / median / max.
fn table(summary: &Value) -> String {
    let median = |v: &Value| v["median"].as_f64().or_else(|| v.as_f64());
    let spread_text = |v: &Value| match (v["min"].as_f64(), v["median"].as_f64(), v["max"].as_f64())
    {
        (Some(min), Some(med), Some(max)) => format!("{min:.3} / {med:.3} / {max:.3}"),
        _ => v
            .as_f64()
            .map_or_else(|| v.to_string(), |x| format!("{x:.3}")),
    };
    let rows: Vec<(&str, &Value, &str)> = vec![
        (
            "decode into Vec: Record / plain struct",
            &summary["decode"]["throughput_record_over_plain"],
            "goal >= 0.95",
        ),
        (
            "decode as a stream: Record / plain struct",
            &summary["decode"]["stream_throughput_record_over_plain"],
            "goal >= 0.95",
        ),
        (
            "decode: Record MiB/s",
            &summary["decode"]["record_mib_s"],
            "",
        ),
        ("decode: plain MiB/s", &summary["decode"]["plain_mib_s"], ""),
        (
            "decode: serde_json::Value ms",
            &summary["decode"]["value_ms"],
            "",
        ),
        (
            "list window: blocking wall SDK / raw ureq",
            &summary["list_window"]["blocking_wall_ratio"],
            "",
        ),
        (
            "list window: blocking CPU SDK / raw ureq",
            &summary["list_window"]["blocking_cpu_ratio"],
            "goal <= 1.05",
        ),
        (
            "list window: async wall SDK / raw reqwest",
            &summary["list_window"]["async_wall_ratio"],
            "",
        ),
        (
            "list window: async CPU SDK / raw reqwest",
            &summary["list_window"]["async_cpu_ratio"],
            "goal <= 1.05",
        ),
        (
            "instructions: list window, blocking SDK / raw",
            &summary["instructions"]["list_window"]["blocking_ratio"],
            "stable; <= 1.05",
        ),
        (
            "instructions: list window, async SDK / raw",
            &summary["instructions"]["list_window"]["async_ratio"],
            "stable; <= 1.05",
        ),
        (
            "instructions: list window, runs apart",
            &summary["instructions"]["list_window"]["runs_apart"],
            "goal < 0.01",
        ),
        (
            "list year (stream): peak RSS MiB, small",
            &summary["list_year_stream"]["peak_rss_mib_small"],
            "",
        ),
        (
            "list year (stream): peak RSS MiB, large",
            &summary["list_year_stream"]["peak_rss_mib_large"],
            "goal <= 64",
        ),
        (
            "list year (stream): RSS large / small",
            &summary["list_year_stream"]["rss_large_over_small"],
            "goal ~ 1",
        ),
        (
            "download: blocking throughput SDK / raw",
            &summary["download"]["blocking_throughput_ratio"],
            "goal >= 0.98",
        ),
        (
            "download: async throughput SDK / raw",
            &summary["download"]["async_throughput_ratio"],
            "goal >= 0.98",
        ),
        (
            "download: raw ureq GiB/s",
            &summary["download"]["raw-ureq:gib_per_s"],
            "goal >= 2",
        ),
        (
            "download: raw reqwest GiB/s",
            &summary["download"]["raw-reqwest:gib_per_s"],
            "goal >= 2",
        ),
        (
            "download to file: async CPU/GiB SDK / raw",
            &summary["download"]["async_file_cpu_ratio"],
            "goal <= 1.1",
        ),
        (
            "instructions: download, blocking SDK / raw",
            &summary["instructions"]["download_memory"]["blocking_ratio"],
            "from memory, copies excluded",
        ),
        (
            "instructions: download, async SDK / raw",
            &summary["instructions"]["download_memory"]["async_ratio"],
            "from memory, copies excluded",
        ),
        (
            "instructions: download, runs apart",
            &summary["instructions"]["download_memory"]["runs_apart"],
            "goal < 0.01",
        ),
        (
            "download: SDK blocking peak RSS KiB",
            &summary["download"]["sdk-blocking:peak_rss_kib"],
            "",
        ),
        (
            "download: SDK async peak RSS KiB",
            &summary["download"]["sdk-async:peak_rss_kib"],
            "",
        ),
        (
            "tokens: requests for concurrent calls",
            &summary["tokens"]["token_requests"],
            "ideal 1",
        ),
        (
            "weight: packages blocking facade / raw ureq",
            &summary["weight"]["blocking_package_ratio"],
            "goal <= 1.6",
        ),
        (
            "weight: packages async facade / raw reqwest",
            &summary["weight"]["async_package_ratio"],
            "",
        ),
        (
            "weight: binary blocking facade / raw ureq",
            &summary["weight"]["blocking_binary_ratio"],
            "",
        ),
        (
            "weight: binary async facade / raw reqwest",
            &summary["weight"]["async_binary_ratio"],
            "",
        ),
        (
            "bulk backup: wall / ideal (1,000 files)",
            &summary["bulk_backup"]["wall_over_ideal"],
            "goal <= 1.2",
        ),
        (
            "bulk backup: wall / ideal (10,000 files)",
            &summary["bulk_backup"]["wall_over_ideal_large"],
            "",
        ),
        (
            "bulk backup: peak RSS MiB, 1,000 files",
            &summary["bulk_backup"]["peak_rss_mib_small"],
            "",
        ),
        (
            "bulk backup: peak RSS MiB, 10,000 files",
            &summary["bulk_backup"]["peak_rss_mib_large"],
            "",
        ),
        (
            "bulk backup: RSS 10,000 / 1,000 files",
            &summary["bulk_backup"]["rss_large_over_small"],
            "goal ~ 1",
        ),
        (
            "list command jsonl: peak RSS MiB, small year",
            &summary["list_command"]["jsonl_peak_rss_mib_small"],
            "",
        ),
        (
            "list command jsonl: peak RSS MiB, large year",
            &summary["list_command"]["jsonl_peak_rss_mib_large"],
            "goal <= 64",
        ),
        (
            "list command csv: peak RSS MiB, large year",
            &summary["list_command"]["csv_peak_rss_mib_large"],
            "goal <= 64",
        ),
        (
            "list command jsonl: RSS large / small",
            &summary["list_command"]["jsonl_rss_large_over_small"],
            "goal < 1.1",
        ),
        (
            "list command csv: RSS large / small",
            &summary["list_command"]["csv_rss_large_over_small"],
            "goal < 1.1",
        ),
        (
            "list command: first line s after the SDK's",
            &summary["list_command"]["first_line_after_sdk_s"],
            "goal < 1",
        ),
        (
            "catalog: first page ms, full number",
            &summary["catalog_search"]["full_number"]["first_page_ms"],
            "goal med <= 50, max <= 200",
        ),
        (
            "catalog: first page ms, last 4-7 digits",
            &summary["catalog_search"]["trailing_digits"]["first_page_ms"],
            "goal med <= 50, max <= 200",
        ),
        (
            "catalog: first page ms, extension + month",
            &summary["catalog_search"]["extension_month"]["first_page_ms"],
            "goal med <= 50, max <= 200",
        ),
        (
            "catalog: first page ms, flow+result+duration",
            &summary["catalog_search"]["flow_result_duration"]["first_page_ms"],
            "goal med <= 50, max <= 200",
        ),
        (
            "catalog: first page ms, number in every call",
            &summary["catalog_search"]["company_number_in_every_call"]["first_page_ms"],
            "",
        ),
        (
            "catalog: search peak RSS MiB",
            &summary["catalog_search"]["peak_rss_mib"],
            "goal <= 64",
        ),
        (
            "catalog: bytes per record",
            &summary["catalog_search"]["bytes_per_record"],
            "",
        ),
        (
            "catalog: records searched",
            &summary["catalog_search"]["records"],
            "",
        ),
        (
            "catalog: erase one number (250 calls) ms",
            &summary["catalog_erase"]["erase_ms"],
            "goal max <= 1000",
        ),
        (
            "catalog: erasure dry run ms",
            &summary["catalog_erase"]["dry_run_ms"],
            "",
        ),
        (
            "serve, events: lag p50 s, call end to kept",
            &summary["live_service"]["events"]["lag_s"]["p50"],
            "",
        ),
        (
            "serve, events: lag p95 s",
            &summary["live_service"]["events"]["lag_s"]["p95"],
            "goal <= 5",
        ),
        (
            "serve, polling: lag p50 s",
            &summary["live_service"]["polling"]["lag_s"]["p50"],
            "",
        ),
        (
            "serve, polling: lag p95 s",
            &summary["live_service"]["polling"]["lag_s"]["p95"],
            "goal <= interval + 5",
        ),
        (
            "serve, polling: interval s",
            &summary["live_service"]["polling"]["interval_s"],
            "",
        ),
        (
            "serve, polling: API requests per kept record",
            &summary["live_service"]["polling"]["requests_per_kept_record"],
            "goal <= 1.1",
        ),
        (
            "serve, events: API requests per kept record",
            &summary["live_service"]["events"]["requests_per_kept_record"],
            "",
        ),
        (
            "serve, events: idle RSS MiB",
            &summary["live_service"]["events"]["idle_rss_mib"],
            "goal <= 32",
        ),
        (
            "serve, polling: idle RSS MiB",
            &summary["live_service"]["polling"]["idle_rss_mib"],
            "goal <= 32",
        ),
        (
            "serve, events: idle CPU % between syncs",
            &summary["live_service"]["events"]["idle_cpu_percent"],
            "goal < 1",
        ),
        (
            "serve, polling: idle CPU % between syncs",
            &summary["live_service"]["polling"]["idle_cpu_percent"],
            "goal < 1",
        ),
        (
            "web: search page ms (number, first page)",
            &summary["web_page"]["search_first_page_ms"],
            "goal med <= 100, max <= 300",
        ),
        (
            "web: search page ms (newest calls, landing)",
            &summary["web_page"]["search_landing_ms"],
            "",
        ),
        (
            "web: overview ms, 30 days",
            &summary["web_page"]["overview"]["days_30_ms"],
            "goal med <= 100, max <= 300",
        ),
        (
            "web: overview ms, 90 days",
            &summary["web_page"]["overview"]["days_90_ms"],
            "goal med <= 100, max <= 300",
        ),
        (
            "web: seek in S3 file, first byte ms",
            &summary["web_page"]["seek"]["first_byte_ms"],
            "",
        ),
        (
            "web: seek, bytes read from S3",
            &summary["web_page"]["seek"]["read_from_s3_bytes"],
            "goal = the range (1 MiB)",
        ),
        (
            "web: service peak RSS MiB",
            &summary["web_page"]["service_peak_rss_mib"],
            "goal <= 128",
        ),
        ("web: catalog records", &summary["web_page"]["records"], ""),
    ];
    let mut text = String::new();
    text.push_str(&format!(
        "{:<46} {:<32} {}\n",
        "measure", "min / median / max", "note"
    ));
    for (name, value, note) in rows {
        let shown = if value.get("pending").is_some() {
            "pending".to_owned()
        } else if median(value).is_some() || value.get("median").is_some() {
            spread_text(value)
        } else {
            value.to_string()
        };
        text.push_str(&format!("{name:<46} {shown:<32} {note}\n"));
    }
    text
}
