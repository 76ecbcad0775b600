//! The client's instructions counted under callgrind, SDK next to raw: a figure that does not
//! move with the machine's load, to tell a regression from noise where wall and CPU time move
//! by a third between runs of the same code on two shared cores.
//!
//! `telphin-bench instructions` runs a few calls inside one function, `counted`; callgrind
//! counts only what runs inside it (`--toggle-collect`), on the calling thread. Byte copies
//! (`memcpy`, `memmove`, `memset`) are left out of the figure: valgrind counts a `rep movsb`
//! once per byte, so a copy's count follows the buffers' alignment, not the code. The list
//! window is read from the simulator over loopback; the download from memory in 64 KiB chunks,
//! since over a socket the number of reads (and so the count) follows the kernel's timing.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{Bins, Plan, spread, strings};

const LIST: [(&str, &str); 2] = [("sdk-blocking", "raw-ureq"), ("sdk-async", "raw-reqwest")];
const MEMORY: [(&str, &str); 2] = [("sdk-blocking", "raw-blocking"), ("sdk-async", "raw-async")];
/// Each variant is counted this many times: the figures of the runs must agree.
const RUNS: usize = 2;

pub(super) fn instructions(bins: &Bins, plan: &Plan) -> Result<Value, String> {
    let probe = Command::new("valgrind").arg("--version").output();
    if !probe.is_ok_and(|out| out.status.success()) {
        return Err("valgrind is needed (apt-get install valgrind)".to_owned());
    }
    let records = plan.window_records.to_string();
    let sim = bins.sim("instructions", &strings(&["--records", &records]))?;
    let announcement = sim.announcement.to_string_lossy().into_owned();
    let calls = plan.instruction_calls.to_string();
    let list_args = [
        "--sim",
        &announcement,
        "--measure",
        "list-window",
        "--calls",
        &calls,
    ];
    let bytes = plan.instruction_bytes.to_string();
    let memory_args = [
        "--measure",
        "download-memory",
        "--bytes",
        &bytes,
        "--calls",
        "1",
    ];
    Ok(json!({
        "list_window": pairs(bins, &list_args, &LIST)?,
        "download_memory": pairs(bins, &memory_args, &MEMORY)?,
        "calls": plan.instruction_calls,
        "download_bytes": plan.instruction_bytes,
    }))
}

/// Counts each variant of `pairs` `RUNS` times: the counts, SDK / raw per pair, and how far
/// apart the runs of one variant were.
fn pairs(bins: &Bins, args: &[&str], pairs: &[(&str, &str)]) -> Result<Value, String> {
    let mut out = json!({});
    let mut apart: f64 = 0.0;
    for (sdk, raw) in pairs {
        let mut ratios = Vec::new();
        for _ in 0..RUNS {
            let sdk_count = count(bins, args, sdk)?;
            let raw_count = count(bins, args, raw)?;
            ratios.push(sdk_count.own as f64 / raw_count.own as f64);
            for (variant, counted) in [(sdk, sdk_count), (raw, raw_count)] {
                let runs = out[*variant]["own"].as_array().cloned().unwrap_or_default();
                if let Some(first) = runs.first().and_then(Value::as_f64) {
                    apart = apart.max((counted.own as f64 - first).abs() / first);
                }
                let mut own = runs;
                own.push(json!(counted.own));
                out[*variant]["own"] = json!(own);
                out[*variant]["copies"] = json!(counted.copies);
            }
        }
        let name = if sdk.contains("async") {
            "async_ratio"
        } else {
            "blocking_ratio"
        };
        out[name] = spread(&ratios);
    }
    out["runs_apart"] = json!(apart);
    Ok(out)
}

/// What callgrind counted in one run.
struct Counted {
    /// Instructions, byte copies left out.
    own: u64,
    /// Instructions of the byte copies.
    copies: u64,
}

fn count(bins: &Bins, args: &[&str], variant: &str) -> Result<Counted, String> {
    let out = bins.out.join(format!("callgrind-{variant}.out"));
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--toggle-collect=*counted*"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&bins.bench)
        .arg("instructions")
        .args(args)
        .args(["--variant", variant])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    if !status.success() {
        return Err(format!("callgrind of {variant} failed"));
    }
    let counted = annotate(&out);
    let _ = std::fs::remove_file(&out);
    counted
}

/// The total and the byte copies' share of a callgrind file, read with `callgrind_annotate`.
fn annotate(file: &Path) -> Result<Counted, String> {
    let output = Command::new("callgrind_annotate")
        .arg("--threshold=100")
        .arg(file)
        .output()
        .map_err(|e| format!("cannot start callgrind_annotate: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let number = |line: &str| -> Option<u64> {
        let first = line.split_whitespace().next()?;
        first.replace(',', "").parse().ok()
    };
    let mut total = None;
    let mut copies = 0;
    for line in text.lines() {
        if line.contains("PROGRAM TOTALS") {
            total = number(line);
        } else if ["memcpy", "memmove", "memset"]
            .iter()
            .any(|f| line.contains(f))
        {
            copies += number(line).unwrap_or(0);
        }
    }
    let total = total.ok_or_else(|| format!("no total in {}", file.display()))?;
    Ok(Counted {
        own: total.saturating_sub(copies),
        copies,
    })
}
