//! The progress bar: drawn when stderr is a terminal (the real binary in a pseudo-terminal),
//! and no escape sequence at all when it is not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::Read as _;

use assert_cmd::cargo::cargo_bin;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// March 2024 of the sandbox, backed up into `./backup`.
const SANDBOX_BACKUP: [&str; 6] = [
    "--sandbox",
    "backup",
    "--month",
    "2024-03",
    "--to",
    "backup",
];

/// Runs the binary with `args` in `dir`, in a pseudo-terminal `cols` wide; gives its success
/// and everything it wrote to the terminal.
fn in_terminal(dir: &std::path::Path, args: &[&str], cols: u16) -> (bool, String) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(cargo_bin("telphin-records"));
    command.args(args);
    command.cwd(dir);
    command.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(command).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    // Read until the program ends and closes its side (EIO on Linux ends the read).
    let mut screen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => screen.extend_from_slice(&chunk[..n]),
        }
    }
    let status = child.wait().unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&screen).into_owned(),
    )
}

#[test]
fn backup_draws_a_progress_bar_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (success, screen) = in_terminal(dir.path(), &SANDBOX_BACKUP, 120);
    assert!(success, "{screen}");
    assert!(
        screen.contains("\u{1b}["),
        "escape sequences of a drawn bar: {screen}"
    );
    assert!(
        screen.contains("backup ["),
        "the bar's prefix and frame: {screen}"
    );
    assert!(screen.contains("files 95/95"), "the files count: {screen}");
    assert!(screen.contains("MiB"), "bytes: {screen}");
}

#[test]
fn tables_fit_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--sandbox", "list", "--month", "2024-03"];
    let (success, wide) = in_terminal(dir.path(), &args, 200);
    assert!(success, "{wide}");
    let (success, narrow) = in_terminal(dir.path(), &args, 80);
    assert!(success, "{narrow}");
    let table = |screen: &str| -> Vec<String> {
        screen
            .lines()
            .map(|l| l.trim_end_matches('\r').to_owned())
            .filter(|l| !l.contains(" INFO "))
            .collect()
    };
    let (wide, narrow) = (table(&wide), table(&narrow));
    assert!(
        wide.iter().any(|l| l.chars().count() > 80),
        "the whole table is wider"
    );
    assert!(wide[0].contains("record_uuid") && wide[0].contains("extension"));
    assert!(
        narrow.iter().all(|l| l.chars().count() <= 80),
        "{narrow:#?}"
    );
    assert!(
        narrow[0].starts_with("time") && narrow[0].contains("from"),
        "{}",
        narrow[0]
    );
    assert_eq!(narrow.len(), wide.len(), "every record is still there");
    // Pages of the terminal's height (24 rows: 22 records under their header).
    let headers = narrow.iter().filter(|l| l.starts_with("time ")).count();
    let records = narrow.len() - headers;
    assert!(records > 22, "{records}");
    assert_eq!(headers, records.div_ceil(22), "a header on every page");
}

#[test]
fn without_a_terminal_there_are_plain_lines_only() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(cargo_bin("telphin-records"))
        .args(SANDBOX_BACKUP)
        .current_dir(dir.path())
        .env("TERM", "xterm-256color")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stderr.contains('\u{1b}') && !stdout.contains('\u{1b}'),
        "{stderr}"
    );
    assert!(stderr.contains("95 of 95 files"), "{stderr}");
    assert!(stderr.contains("95 to transfer"), "{stderr}");
}

/// The README's operator quick start, command by command as written (`cargo run -p
/// telphin-records-cli --` is this binary), in an empty directory: every command succeeds, and
/// the second backup transfers nothing.
#[test]
fn the_readme_quick_start_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("### For operators").unwrap()..];
    let block = &section[section.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    let prefix = "cargo run -p telphin-records-cli -- ";
    let commands: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(commands.len() >= 5, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut backups = 0;
    for command in commands {
        let args = command
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("not a command of the binary: {command}"));
        let args: Vec<&str> = args.split_whitespace().collect();
        let output = std::process::Command::new(cargo_bin("telphin-records"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{command}: {stderr}");
        if args.contains(&"backup") {
            backups += 1;
            let want = if backups == 1 {
                "95 to transfer"
            } else {
                "0 to transfer"
            };
            assert!(stderr.contains(want), "{command}: {stderr}");
        }
        if args.contains(&"search") {
            assert!(String::from_utf8_lossy(&output.stdout).lines().count() > 1);
        }
    }
    assert_eq!(backups, 2);
}
