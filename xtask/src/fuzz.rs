//! `cargo xtask fuzz [--seconds N] [TARGET…]`: runs each fuzz target of `fuzz/` in turn for N
//! seconds (60 by default) with cargo-fuzz, on the stable toolchain (`RUSTC_BOOTSTRAP=1` lets it
//! pass its `-Z` flags). Not part of CI. A crash leaves its input in `fuzz/artifacts/TARGET/`;
//! turn it into a regression test of the crate it broke.

use std::path::Path;
use std::process::{Command, ExitCode};

pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut seconds = 60u64;
    let mut chosen = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => seconds = n,
                None => return usage("--seconds takes a whole number"),
            },
            target => chosen.push(target.to_owned()),
        }
    }
    let root = crate::root();
    let targets = if chosen.is_empty() {
        match targets(&root) {
            Ok(targets) => targets,
            Err(error) => return usage(&format!("cannot list fuzz/fuzz_targets: {error}")),
        }
    } else {
        chosen
    };
    let version = Command::new(crate::cargo_path())
        .args(["fuzz", "--version"])
        .output();
    if !version.is_ok_and(|output| output.status.success()) {
        return usage("cargo-fuzz is missing: install it with `cargo install cargo-fuzz`");
    }
    let mut crashed = Vec::new();
    for target in &targets {
        eprintln!("== xtask: fuzz {target} for {seconds} s");
        let status = Command::new(crate::cargo_path())
            .current_dir(&root)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--fuzz-dir", "fuzz", target, "--"])
            .arg(format!("-max_total_time={seconds}"))
            .arg("-rss_limit_mb=4096")
            .status();
        match status {
            Ok(status) if status.success() => eprintln!("== xtask: fuzz {target}: no crash"),
            Ok(status) => {
                eprintln!(
                    "== xtask: fuzz {target}: CRASH ({status}), see fuzz/artifacts/{target}/"
                );
                crashed.push(target.clone());
            }
            Err(error) => return usage(&format!("could not start cargo fuzz: {error}")),
        }
    }
    eprintln!(
        "== xtask: fuzzed {} targets for {seconds} s each; crashed: {crashed:?}",
        targets.len()
    );
    if crashed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The names of the targets in `fuzz/fuzz_targets`, sorted.
fn targets(root: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("fuzz").join("fuzz_targets"))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

fn usage(why: &str) -> ExitCode {
    eprintln!("== xtask: fuzz: {why}");
    eprintln!("usage: cargo xtask fuzz [--seconds N] [TARGET…]");
    ExitCode::from(2)
}
