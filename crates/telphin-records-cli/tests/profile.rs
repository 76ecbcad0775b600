//! Every command from the operator's configuration alone: `--config FILE --pbx NAME` and the
//! command's own arguments, nothing in the environment — the credentials, the target, the
//! catalog, the time zone, the names and the policy all come from the `[[pbx]]` profile that
//! `serve` reads too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;
use record_sim::{BlockingSim, Sim, SimConfig};
use serde_json::Value;

struct Setup {
    sim: BlockingSim,
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    /// A simulator and a configuration of two PBX profiles: `main` (the simulator) and
    /// `branch` (never contacted), the secret in an owner-only file.
    fn new() -> Setup {
        let sim = Sim::start_blocking(SimConfig {
            seed: 41,
            record_count: 300,
            max_file_size: Some(16 << 10),
            ..SimConfig::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("client-secret");
        std::fs::write(&secret, &sim.credentials().client.client_secret).unwrap();
        set_owner_only(&secret);
        let config = dir.path().join("telphin-records.toml");
        let text = format!(
            "[service]\noperator = \"ops-bot\"\n\n\
             [[pbx]]\nname = \"main\"\nbase_url = \"{base}\"\nclient_id = \"{id}\"\n\
             client_secret_file = \"{secret}\"\ntarget = \"{archive}\"\ncatalog = \"{catalog}\"\n\
             tz = \"Europe/Moscow\"\nnames = \"{{yyyy}}/{{mm}}/{{record_uuid}}.mp3\"\n\n\
             [pbx.retention]\ntz = \"Europe/Moscow\"\nkeep_on_pbx_days = 90\n\n\
             [[pbx]]\nname = \"branch\"\nclient_id = \"other\"\n\
             client_secret_env = \"BRANCH_SECRET\"\ntarget = \"{branch}\"\n\
             catalog = \"{branch_catalog}\"\n",
            base = sim.base_url(),
            id = sim.credentials().client.client_id,
            secret = secret.display(),
            archive = dir.path().join("archive").display(),
            catalog = dir.path().join("state/main.sqlite").display(),
            branch = dir.path().join("branch").display(),
            branch_catalog = dir.path().join("state/branch.sqlite").display(),
        );
        std::fs::write(&config, text).unwrap();
        set_owner_only(&config);
        Setup { sim, dir, config }
    }

    /// `telphin-records --config FILE --pbx main ARGS…`, with an empty environment.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg("--config")
            .arg(&self.config)
            .args(["--pbx", "main"])
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The command's standard output; it must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    }
}

#[cfg(unix)]
fn set_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(not(unix))]
fn set_owner_only(_: &Path) {}

fn uuids(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            value["record_uuid"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The API's commands: list, stats, monthly, link, download, delete, archive.
#[test]
fn the_api_commands_run_from_the_profile() {
    let setup = Setup::new();
    let listed = uuids(&setup.ok(&["list", "--month", "2024-03", "--format", "jsonl"]));
    assert!(!listed.is_empty());
    // The profile's time zone reads the month: Moscow's March starts at 21:00 UTC.
    let want: Vec<String> = setup
        .sim
        .records()
        .into_iter()
        .filter(|r| {
            let at = r.init_time.and_utc().to_rfc3339();
            at.as_str() >= "2024-02-29T21:00:00" && at.as_str() < "2024-03-31T21:00:00"
        })
        .map(|r| r.uuid)
        .collect();
    let mut sorted = listed.clone();
    sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(sorted, want_sorted, "March in Europe/Moscow");
    let stats: Value =
        serde_json::from_str(&setup.ok(&["stats", "--month", "2024-03", "--format", "json"]))
            .unwrap();
    assert_eq!(
        stats[0]["recordings"].as_u64().unwrap() as usize,
        listed.len()
    );
    setup.ok(&["monthly", "--until", "2024-12", "--format", "json"]);
    let link = setup.ok(&["link", &listed[0]]);
    assert!(link.starts_with("http"), "{link}");
    let calls = setup.dir.path().join("calls");
    setup.ok(&["download", &listed[0], "--to", calls.to_str().unwrap()]);
    assert_eq!(std::fs::read_dir(&calls).unwrap().count(), 1);
    setup.ok(&["delete", &listed[1], "--yes"]);
    assert!(!setup.sim.records().iter().any(|r| r.uuid == listed[1]));
    setup.ok(&[
        "archive",
        "--day",
        "2024-03-05",
        "--email",
        "ops@example.com",
    ]);
}

/// The archive's commands: backup, verify, search, hold, purge, erase, retention, audit —
/// none given --to or --catalog.
#[test]
fn the_archive_commands_run_from_the_profile() {
    let setup = Setup::new();
    setup.ok(&["backup", "--month", "2024-03"]);
    let catalog = setup.dir.path().join("state/main.sqlite");
    assert!(catalog.exists(), "the profile's catalog, its folder made");
    // The profile's names: {yyyy}/{mm}/{record_uuid}.mp3.
    let march = setup.dir.path().join("archive/2024/03");
    let kept = std::fs::read_dir(&march).unwrap().count();
    assert!(kept > 0, "kept under the profile's names");
    setup.ok(&["verify", "--month", "2024-03"]);
    let found = uuids(&setup.ok(&["search", "--month", "2024-03", "--format", "jsonl"]));
    assert_eq!(found.len(), kept);
    setup.ok(&[
        "hold",
        "add",
        "--on-extension",
        &setup.sim.extensions()[0].id.to_string(),
        "--reason",
        "claim 9",
    ]);
    let holds: Value =
        serde_json::from_str(&setup.ok(&["hold", "list", "--format", "json"])).unwrap();
    assert_eq!(holds[0]["reason"], "claim 9");
    setup.ok(&["purge", "--older-than", "2024-04-01"]);
    let acts = setup.dir.path().join("acts");
    std::fs::create_dir(&acts).unwrap();
    setup.ok(&[
        "erase",
        "--number",
        "+7 495 000-00-00",
        "--reason",
        "request 4",
        "--act-dir",
        acts.to_str().unwrap(),
    ]);
    // Without --act-dir, a dry run writes no act anywhere (once it wrote into the folder it
    // ran in).
    setup.ok(&[
        "erase",
        "--number",
        "+7 495 000-00-00",
        "--reason",
        "request 5",
    ]);
    let stray: Vec<_> = std::fs::read_dir(setup.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .path()
                .extension()
                .is_some_and(|ext| ext == "json" || ext == "csv")
        })
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // The policy is the profile's: no --policy, --to or --catalog.
    let report = setup.ok(&["retention", "--format", "json"]);
    assert!(report.contains("purged"), "{report}");
    setup.ok(&["audit", "verify"]);
    // The audit log of the profile's catalog holds the hold placed above.
    let exported = setup.ok(&["audit", "export"]);
    assert!(exported.contains("claim 9"), "{exported}");
}

/// `serve --check-config` reads the same file; a file of several profiles needs `--pbx`.
#[test]
fn the_same_file_serves_and_names_its_profiles() {
    let setup = Setup::new();
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .current_dir(setup.dir.path())
        .env_clear()
        .env("BRANCH_SECRET", "branch-secret")
        .arg("--config")
        .arg(&setup.config)
        .args(["serve", "--check-config"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .current_dir(setup.dir.path())
        .env_clear()
        .arg("--config")
        .arg(&setup.config)
        .args(["stats", "--month", "2024-03"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("name one with --pbx (main, branch)"),
        "{stderr}"
    );
    // The branch's secret variable is unset: the error names the file, line and key.
    let (code, _, stderr) = {
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .current_dir(setup.dir.path())
            .env_clear()
            .arg("--config")
            .arg(&setup.config)
            .args(["--pbx", "branch", "stats", "--month", "2024-03"])
            .output()
            .unwrap();
        (
            output.status.code(),
            (),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:", setup.config.display()))
            && stderr.contains("pbx[1].client_secret_env")
            && stderr.contains("BRANCH_SECRET"),
        "{stderr}"
    );
}

/// The repository's root, where `deploy/dev.toml` is read from.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `deploy/dev.toml` passes `--check-config` on any machine (its secret is the simulator's,
/// in a file beside it), and lists the simulator `telphin-records sim` serves — the same seed,
/// so the same credentials — when pointed at it.
#[test]
fn the_dev_configuration_checks_anywhere_and_reaches_the_simulator() {
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .current_dir(repository())
        .env_clear()
        .args(["--config", "deploy/dev.toml", "serve", "--check-config"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // What `telphin-records sim` serves (seed 1), here on a free port.
    let sim = Sim::start_blocking(SimConfig {
        seed: 1,
        record_count: 1200,
        max_file_size: Some(256 << 10),
        ..SimConfig::default()
    })
    .unwrap();
    let output = Command::cargo_bin("telphin-records")
        .unwrap()
        .current_dir(repository())
        .env_clear()
        .env("TELPHIN_BASE_URL", sim.base_url())
        .args([
            "--config",
            "deploy/dev.toml",
            "stats",
            "--month",
            "2024-03",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stats: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(stats[0]["recordings"].as_u64().unwrap() > 0, "{stats}");
}

/// `serve --sandbox` needs no file and no account: the service, the page and the endpoints
/// over a simulated PBX, on loopback; the page answers once the first sync is done.
#[test]
fn serve_sandbox_serves_the_page_without_a_file() {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::cargo_bin("telphin-records")
        .unwrap()
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "info")
        .args([
            "--sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--web",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let web = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let (_, rest) = line.split_once("web=http://")?;
            Some(rest.split('/').next()?.to_owned())
        })
        .expect("the page's address is logged");
    let mut stream = std::net::TcpStream::connect(&web).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET /search HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("sandbox"),
        "the page names the PBX: {answer}"
    );
}
