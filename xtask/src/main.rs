//! Developer tasks: `cargo xtask ci` runs every check CI runs, in the order that fails fastest.

use std::process::{Command, ExitCode};

/// One step of a task: a cargo command line and extra environment.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
}

const CI: &[Step] = &[
    Step {
        name: "format",
        args: &["fmt", "--all", "--", "--check"],
        env: &[],
    },
    Step {
        name: "lint",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Step {
        name: "test",
        args: &["test", "--workspace"],
        env: &[],
    },
    Step {
        name: "docs",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some("ci") => run(CI),
        _ => {
            eprintln!("usage: cargo xtask ci");
            ExitCode::from(2)
        }
    }
}

fn run(steps: &[Step]) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for step in steps {
        eprintln!("== xtask: {} (cargo {})", step.name, step.args.join(" "));
        let status = Command::new(&cargo)
            .args(step.args)
            .envs(step.env.iter().copied())
            .status();
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("== xtask: {} failed ({status})", step.name);
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("== xtask: could not start cargo for {}: {err}", step.name);
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!("== xtask: all checks passed");
    ExitCode::SUCCESS
}
