//! Developer tasks: `cargo xtask ci` runs every check CI runs, in the order that fails fastest.

use std::process::{Command, ExitCode};

mod bench;
mod fuzz;
mod homes;

/// A cargo command line and extra environment.
struct Cargo {
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const fn cargo(args: &'static [&'static str]) -> Cargo {
    Cargo { args, env: &[] }
}

/// The checks, in order: cheap ones first.
const CHECKS: &[(&str, Cargo)] = &[
    ("format", cargo(&["fmt", "--all", "--", "--check"])),
    (
        "lint",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    ),
    ("test", cargo(&["test", "--workspace"])),
    (
        "docs",
        Cargo {
            args: &["doc", "--workspace", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        },
    ),
    // Every published crate packages and builds on its own, as crates.io would take it, in a
    // target directory of its own (see `clear_overlay_packages`).
    (
        "publish",
        Cargo {
            args: &["publish", "--workspace", "--dry-run", "--allow-dirty"],
            env: &[("CARGO_TARGET_DIR", "target/publish-check")],
        },
    ),
];

/// Feature sets of the facade that must each build on their own: none (custom transports
/// only), each transport alone, both with native TLS, and the tokio helpers without reqwest.
const FEATURE_SETS: &[&str] = &[
    "",
    "blocking,rustls",
    "ureq,rustls",
    "async,rustls",
    "blocking,async,native-tls",
    "tokio",
    "async-client",
];

/// Dependency rules: (what, `cargo tree` arguments, crates that must not appear).
const DEPENDENCY_RULES: &[(&str, &[&str], &[&str])] = &[
    (
        "record-model depends on serde, serde_json, chrono and thiserror only",
        &["-p", "record-model", "-e", "normal", "--depth", "1"],
        &[
            "http",
            "url",
            "tokio",
            "reqwest",
            "ureq",
            "hyper",
            "async-trait",
        ],
    ),
    (
        "record-api has no HTTP client and no runtime",
        &["-p", "record-api", "-e", "normal"],
        &["reqwest", "ureq", "hyper", "tokio"],
    ),
    (
        "record-sim is independent of the SDK",
        &["-p", "record-sim"],
        &["record-model", "record-api"],
    ),
    (
        "the blocking-only facade has no tokio, hyper, reqwest, futures, url/IDNA or time-zone database",
        &[
            "-p",
            "telphin-records",
            "--no-default-features",
            "--features",
            "blocking",
            "-e",
            "normal",
        ],
        &[
            "tokio",
            "hyper",
            "reqwest",
            "futures-util",
            "url",
            "idna",
            "iana-time-zone",
        ],
    ),
    (
        "the async-only facade has no blocking transport",
        &[
            "-p",
            "telphin-records",
            "--no-default-features",
            "--features",
            "async",
            "-e",
            "normal",
        ],
        &["transport-blocking"],
    ),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("deps") => report("dependencies", dependencies()),
        Some("homes") => report("homes", homes::check(&root())),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask ci | cargo xtask deps | cargo xtask homes | cargo xtask bench [--quick] | cargo xtask fuzz [--seconds N]"
            );
            ExitCode::from(2)
        }
    }
}

/// The workspace root: xtask's parent folder.
fn root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

fn cargo_path() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The crates `cargo publish --workspace` packages.
const PUBLISHED: &[&str] = &[
    "record-model",
    "record-api",
    "transport-blocking",
    "transport-async",
    "telphin-records",
    "record-backup",
    "record-sim",
    "record-service",
    "telphin-records-cli",
];

/// Removes the copies of this workspace's crates that an earlier `cargo publish --dry-run`
/// extracted into cargo's local overlay registries (`$CARGO_HOME/registry/src/-<hash>/`) and
/// built in `target/package`. Cargo treats a registry's `name-version` as immutable and never
/// refreshes either, so on a machine that keeps its cargo home or target directory, the next
/// dry run would verify against the old code of an unbumped version.
fn clear_overlay_packages() {
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    for stale in ["package", "publish-check"] {
        let _ = std::fs::remove_dir_all(target.join(stale));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(home) = home else { return };
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return;
    };
    for registry in registries.flatten() {
        // Local overlays are named `-<hash>`; real registries `<host>-<hash>`.
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(packages) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for package in packages.flatten() {
            let name = package.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|crate_name| {
                name.strip_prefix(crate_name)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                let _ = std::fs::remove_dir_all(package.path());
            }
        }
    }
}

fn ci() -> ExitCode {
    eprintln!("== xtask: homes (SQL and `impl Catalog` only in record-backup's catalog)");
    if let Err(message) = homes::check(&root()) {
        return failed("homes", &message);
    }
    for (i, (name, step)) in CHECKS.iter().enumerate() {
        eprintln!("== xtask: {name} (cargo {})", step.args.join(" "));
        if *name == "publish" {
            clear_overlay_packages();
        }
        let status = Command::new(cargo_path())
            .args(step.args)
            .envs(step.env.iter().copied())
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => return failed(name, &status.to_string()),
            Err(err) => return failed(name, &format!("could not start cargo: {err}")),
        }
        // Once the code compiles, and before the long test run: dependency rules, then the
        // facade's feature sets.
        if i == 1 {
            if let Err(message) = dependencies() {
                return failed("dependencies", &message);
            }
            if let Err(message) = feature_sets() {
                return failed("features", &message);
            }
        }
    }
    eprintln!(
        "== xtask: bench --quick (that it runs and writes its summary; no speed is asserted)"
    );
    if let Err(message) = bench::check_quick() {
        return failed("bench", &message);
    }
    eprintln!("== xtask: all checks passed");
    ExitCode::SUCCESS
}

/// Lints the facade with each of [`FEATURE_SETS`].
fn feature_sets() -> Result<(), String> {
    for features in FEATURE_SETS {
        eprintln!("== xtask: features: [{features}]");
        let mut command = Command::new(cargo_path());
        command.args(["clippy", "-p", "telphin-records", "--no-default-features"]);
        if !features.is_empty() {
            command.args(["--features", features]);
        }
        let status = command
            .args(["--", "-D", "warnings"])
            .status()
            .map_err(|e| format!("could not start cargo: {e}"))?;
        if !status.success() {
            return Err(format!("features [{features}]: {status}"));
        }
    }
    Ok(())
}

fn failed(step: &str, why: &str) -> ExitCode {
    eprintln!("== xtask: {step} failed: {why}");
    ExitCode::FAILURE
}

fn report(step: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => failed(step, &message),
    }
}

/// Checks every rule of [`DEPENDENCY_RULES`] with `cargo tree`.
fn dependencies() -> Result<(), String> {
    for (what, args, forbidden) in DEPENDENCY_RULES {
        eprintln!("== xtask: dependencies: {what}");
        let output = Command::new(cargo_path())
            .arg("tree")
            .args(*args)
            .args(["--prefix", "none", "--format", "{p}"])
            .output()
            .map_err(|e| format!("could not run cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        let names: Vec<&str> = tree
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        let found: Vec<&&str> = forbidden.iter().filter(|f| names.contains(f)).collect();
        if !found.is_empty() {
            return Err(format!(
                "{what}: found {found:?} in cargo tree {}",
                args.join(" ")
            ));
        }
    }
    Ok(())
}
