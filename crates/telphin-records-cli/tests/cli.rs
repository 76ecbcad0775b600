//! The `telphin-records` binary against the simulator: every subcommand, the output formats,
//! the exit codes, secrets, and the `--help` texts (snapshotted).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt as _;
use record_sim::{BlockingSim, Fault, Sim, SimConfig};
use serde_json::Value;

fn sim(config: SimConfig) -> BlockingSim {
    Sim::start_blocking(config).unwrap()
}

fn small() -> SimConfig {
    SimConfig {
        seed: 77,
        record_count: 600,
        max_file_size: Some(32 << 10),
        ..SimConfig::default()
    }
}

/// The binary, configured for `sim` through the environment only, in `dir`.
fn cmd(sim: &BlockingSim, dir: &Path) -> Command {
    let mut command = Command::cargo_bin("telphin-records").unwrap();
    let app = &sim.credentials().client;
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TELPHIN_BASE_URL", sim.base_url())
        .env("TELPHIN_CLIENT_ID", &app.client_id)
        .env("TELPHIN_CLIENT_SECRET", &app.client_secret);
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command, args: &[&str]) -> Run {
    let output = command.args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The `record_uuid` of each line of JSON Lines output.
fn jsonl_uuids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["record_uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The simulator's uuids in March 2024.
fn march(sim: &BlockingSim) -> Vec<String> {
    let start = telphin_records::chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let end = telphin_records::chrono::NaiveDate::from_ymd_opt(2024, 4, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    sim.records_between(start, end)
        .into_iter()
        .filter(|r| r.init_time < end)
        .map(|r| r.uuid)
        .collect()
}

#[test]
fn list_prints_every_format() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    let want = march(&sim);

    let json_run = run(
        &mut cmd(&sim, dir.path()),
        &["list", "--month", "2024-03", "--format", "json"],
    );
    assert_eq!(json_run.code, 0, "{}", json_run.stderr);
    let listed: Vec<String> = json(&json_run)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record_uuid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, want);

    let lines = run(
        &mut cmd(&sim, dir.path()),
        &["list", "--month", "2024-03", "--format", "jsonl", "--desc"],
    );
    let mut reversed = jsonl_uuids(&lines.stdout);
    reversed.reverse();
    assert_eq!(reversed, want);

    let csv = run(
        &mut cmd(&sim, dir.path()),
        &[
            "list",
            "--month",
            "2024-03",
            "--format",
            "csv",
            "--tz",
            "Europe/Moscow",
        ],
    );
    let mut rows = csv.stdout.lines();
    let header = rows.next().unwrap();
    assert_eq!(
        header,
        "init_time,init_time_utc,flow,from,to,duration_s,size_bytes,result,extension_id,record_uuid"
    );
    let first: Vec<&str> = rows.next().unwrap().split(',').collect();
    assert!(
        first[0].ends_with("+03:00") && first[1].ends_with("+00:00"),
        "{first:?}"
    );
    assert!(first[6].parse::<u64>().is_ok(), "exact sizes in CSV");
    assert_eq!(csv.stdout.lines().count(), want.len() + 1);

    let table = run(&mut cmd(&sim, dir.path()), &["list", "--month", "2024-03"]);
    assert!(table.stdout.starts_with("time "), "{}", table.stdout);
    assert!(table.stdout.contains("KiB"), "human sizes in tables");
    assert_eq!(table.stdout.lines().count(), want.len() + 1);
}

/// `list` prints each window's records as they arrive: with the second window's answer held
/// back by the server, the first records are already on stdout (a command that collected the
/// period would print nothing until the server answered).
#[test]
fn list_prints_records_as_they_arrive_and_stops_quietly_when_the_reader_leaves() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    sim.inject(Some("list_records"), Fault::Pass, 1);
    sim.inject(Some("list_records"), Fault::StallAnswer, 1);
    for format in ["jsonl", "csv", "json", "table"] {
        let before = sim.counters().route("list_records");
        let mut child = cmd(&sim, dir.path())
            .args(["list", "--year", "2024", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let second = lines.next().unwrap().unwrap();
        // The second window's answer is held, and the windows read ahead wait behind it: a
        // command that collected the year would have asked for all twelve months first.
        let asked = sim.counters().route("list_records") - before;
        assert!(
            child.try_wait().unwrap().is_none(),
            "{format}: still listing"
        );
        match format {
            "jsonl" => assert!(first.starts_with("{\"") && second.starts_with("{\"")),
            "csv" => assert!(first.starts_with("init_time,") && second.starts_with("2024-01-")),
            "json" => assert!(first == "[" && second.starts_with("{\"")),
            _ => assert!(first.starts_with("time ") && second.starts_with("2024-01-")),
        }
        assert!(asked < 12, "{format}: {asked} list requests");
        child.kill().unwrap();
        child.wait().unwrap();
        // The next run's second window is held again.
        sim.inject(Some("list_records"), Fault::Pass, 1);
        sim.inject(Some("list_records"), Fault::StallAnswer, 1);
    }

    // A reader that leaves after one line (`| head -1`) ends the command, without an error.
    let clean = Sim::start_blocking(small()).unwrap();
    let mut child = cmd(&clean, dir.path())
        .args(["list", "--year", "2024", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    drop(reader);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn stats_monthly_link_download_delete_and_archive() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    let want = march(&sim);
    let size: u64 = sim
        .records()
        .iter()
        .filter(|r| want.contains(&r.uuid))
        .map(|r| r.size)
        .sum();

    let stats = json(&run(
        &mut cmd(&sim, dir.path()),
        &["stats", "--month", "2024-03", "--format", "json"],
    ));
    assert_eq!(stats[0]["recordings"], want.len() as u64);
    assert_eq!(stats[0]["size"], size);

    let monthly = json(&run(
        &mut cmd(&sim, dir.path()),
        &["monthly", "--format", "json"],
    ));
    let march_row = monthly
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2024-03")
        .unwrap()
        .clone();
    assert_eq!(march_row["recordings"], want.len() as u64);

    let link = run(&mut cmd(&sim, dir.path()), &["link", &want[0]]);
    assert_eq!(link.code, 0, "{}", link.stderr);
    assert!(
        link.stdout
            .trim()
            .starts_with(&format!("{}/storage/", sim.base_url()))
    );

    let files = dir.path().join("calls");
    let download = run(
        &mut cmd(&sim, dir.path()),
        &[
            "download",
            &want[0],
            &want[1],
            "--to",
            files.to_str().unwrap(),
        ],
    );
    assert_eq!(download.code, 0, "{}", download.stderr);
    for uuid in &want[..2] {
        let bytes = std::fs::read(files.join(format!("{uuid}.mp3"))).unwrap();
        assert!(bytes == sim.file_bytes(uuid).unwrap());
    }
    // A uuid the PBX does not have: the others still arrive, and the exit code says 5.
    let missing = "1-00000000000000000000000000000000";
    let partly = run(
        &mut cmd(&sim, dir.path()),
        &[
            "download",
            missing,
            &want[2],
            "--to",
            files.to_str().unwrap(),
        ],
    );
    assert_eq!(partly.code, 5, "{}", partly.stderr);
    assert!(files.join(format!("{}.mp3", want[2])).exists());

    // Delete asks for --yes first.
    let refused = run(&mut cmd(&sim, dir.path()), &["delete", &want[3]]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(sim.records().iter().any(|r| r.uuid == want[3]));
    let deleted = run(&mut cmd(&sim, dir.path()), &["delete", &want[3], "--yes"]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    assert!(!sim.records().iter().any(|r| r.uuid == want[3]));

    let archive = run(
        &mut cmd(&sim, dir.path()),
        &[
            "archive",
            "--day",
            "2024-03-05",
            "--email",
            "ops@example.com",
            "--format",
            "json",
        ],
    );
    assert_eq!(archive.code, 0, "{}", archive.stderr);
    let outbox = sim.outbox();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].to, ["ops@example.com"]);
}

#[test]
fn backup_verify_search_and_purge_with_their_exit_codes() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    let want = march(&sim);
    let backup_dir = dir.path().join("backup");
    let to = backup_dir.to_str().unwrap();

    // Five files fail every try (one file at a time): the run finishes with exit code 5.
    sim.inject(Some("storage_file"), Fault::DropAfter(10), 20);
    let first = run(
        &mut cmd(&sim, dir.path()),
        &[
            "backup",
            "--month",
            "2024-03",
            "--to",
            to,
            "--concurrency",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(first.code, 5, "{}", first.stderr);
    let report = json(&first);
    assert_eq!(report[0]["failed"], 5);
    assert_eq!(report[0]["stored"], want.len() as u64 - 5);

    let second = run(
        &mut cmd(&sim, dir.path()),
        &[
            "backup", "--month", "2024-03", "--to", to, "--format", "json",
        ],
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(json(&second)[0]["stored"], 5);
    let third = run(
        &mut cmd(&sim, dir.path()),
        &["backup", "--month", "2024-03", "--to", to],
    );
    assert!(third.stderr.contains("0 to transfer"), "{}", third.stderr);

    let verify = run(
        &mut cmd(&sim, dir.path()),
        &["verify", "--to", to, "--format", "json"],
    );
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert_eq!(json(&verify)[0]["whole"], want.len() as u64);

    // Search the catalog, in CSV, by extension.
    let first_record = sim
        .records()
        .into_iter()
        .find(|r| r.uuid == want[0])
        .unwrap();
    let search = run(
        &mut cmd(&sim, dir.path()),
        &[
            "search",
            "--extension",
            &first_record.extension_id.to_string(),
            "--format",
            "csv",
        ],
    );
    assert_eq!(search.code, 0, "{}", search.stderr);
    assert!(
        search
            .stdout
            .lines()
            .next()
            .unwrap()
            .ends_with(",state,object_key")
    );
    assert!(search.stdout.contains(&want[0]));
    assert!(
        search
            .stdout
            .lines()
            .skip(1)
            .all(|l| l.contains(",verified,")),
        "{}",
        search.stdout
    );

    // By state: every record of the quarter is verified now, none lost; a state is checked.
    let verified = run(
        &mut cmd(&sim, dir.path()),
        &[
            "search", "--state", "verified", "--format", "jsonl", "--desc",
        ],
    );
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let mut newest_first = jsonl_uuids(&verified.stdout);
    assert!(newest_first.contains(&want[0]));
    newest_first.reverse();
    let mut sorted = newest_first.clone();
    sorted.sort_by_key(|u| {
        sim.records()
            .iter()
            .find(|r| &r.uuid == u)
            .map(|r| (r.init_time, r.uuid.clone()))
    });
    assert_eq!(newest_first, sorted, "--desc: newest first");
    let lost = run(&mut cmd(&sim, dir.path()), &["search", "--state", "lost"]);
    assert_eq!(
        (lost.code, lost.stdout.lines().count()),
        (0, 1),
        "{}",
        lost.stdout
    );
    let wrong = run(
        &mut cmd(&sim, dir.path()),
        &["search", "--state", "archived"],
    );
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("off-pbx"), "{}", wrong.stderr);

    // Purge: a dry run lists and deletes nothing; --yes deletes exactly those.
    let dry = run(
        &mut cmd(&sim, dir.path()),
        &[
            "purge",
            "--older-than",
            "2024-03-15",
            "--to",
            to,
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stderr.contains("dry run"), "{}", dry.stderr);
    let listed: BTreeSet<String> = jsonl_uuids(&dry.stdout).into_iter().collect();
    assert!(!listed.is_empty());
    assert_eq!(sim.counters().route("delete_record"), 0);
    let purged = run(
        &mut cmd(&sim, dir.path()),
        &["purge", "--older-than", "2024-03-15", "--to", to, "--yes"],
    );
    assert_eq!(purged.code, 0, "{}", purged.stderr);
    let left: BTreeSet<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    assert!(listed.iter().all(|uuid| !left.contains(uuid)));
    assert_eq!(sim.counters().route("delete_record"), listed.len() as u64);

    // A file removed from the target: verify says 5 and names what is missing.
    let entry = std::fs::read_dir(backup_dir.join("2024/03/31"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    std::fs::remove_file(entry.path()).unwrap();
    let broken = run(&mut cmd(&sim, dir.path()), &["verify", "--to", to]);
    assert_eq!(broken.code, 5, "{}", broken.stderr);

    // A second run on the same catalog at once is refused.
    let lock = std::fs::File::options()
        .write(true)
        .open(dir.path().join("telphin-records.sqlite.lock"))
        .unwrap();
    lock.lock().unwrap();
    let busy = run(
        &mut cmd(&sim, dir.path()),
        &["backup", "--month", "2024-03", "--to", to],
    );
    assert_eq!(busy.code, 1);
    assert!(busy.stderr.contains("another run holds"), "{}", busy.stderr);
}

#[test]
fn a_spent_budget_exits_4_and_the_next_run_resumes() {
    let sim = sim(SimConfig {
        rate_limit: 40,
        ..small()
    });
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup");
    let to = to.to_str().unwrap();
    let args = [
        "backup",
        "--month",
        "2024-03",
        "--to",
        to,
        "--reserve",
        "10",
        "--format",
        "json",
    ];
    let first = run(&mut cmd(&sim, dir.path()), &args);
    assert_eq!(first.code, 4, "{}", first.stderr);
    assert!(
        first.stderr.contains("run the same command again"),
        "{}",
        first.stderr
    );
    assert_eq!(
        sim.counters().status(429),
        0,
        "the reserve was left untouched"
    );
    // Each hour (reset here) a run goes on where the last stopped, until one finishes.
    let mut stored = json(&first)[0]["stored"].as_u64().unwrap();
    let mut runs = 1;
    loop {
        sim.reset_rate_limits();
        let next = run(&mut cmd(&sim, dir.path()), &args);
        runs += 1;
        let more = json(&next)[0]["stored"].as_u64().unwrap();
        assert!(more > 0, "run {runs} made no progress: {}", next.stderr);
        stored += more;
        if next.code == 0 {
            break;
        }
        assert_eq!(next.code, 4, "{}", next.stderr);
        assert!(runs < 6, "{runs} runs");
    }
    let want = march(&sim).len() as u64;
    assert_eq!(stored, want);
    assert_eq!(sim.counters().route("storage_file"), want, "no file twice");
}

#[test]
fn usage_configuration_and_authentication_have_their_exit_codes() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    // Usage: unknown flag, missing period, a bad date; secrets are never arguments.
    for args in [
        &["list", "--month", "2024-03", "--client-secret", "x"][..],
        &["list"],
        &["list", "--day", "2024-02-30"],
        &["purge", "--older-than", "soon", "--to", "b"],
    ] {
        let r = run(&mut cmd(&sim, dir.path()), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    // Configuration: no credentials at all.
    let mut bare = Command::cargo_bin("telphin-records").unwrap();
    bare.current_dir(dir.path()).env_clear();
    let r = run(&mut bare, &["stats", "--month", "2024-03"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("TELPHIN_CLIENT_ID"), "{}", r.stderr);
    // Authentication: a wrong secret, which never appears in any output, even at trace level.
    let secret = "wrong-secret-0123456789";
    let r = run(
        cmd(&sim, dir.path())
            .env("TELPHIN_CLIENT_SECRET", secret)
            .env("RUST_LOG", "trace"),
        &["stats", "--month", "2024-03"],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!r.stderr.contains(secret) && !r.stdout.contains(secret));
    // A config file works as the environment does.
    let app = &sim.credentials().client;
    let config = dir.path().join("telphin.conf");
    std::fs::write(
        &config,
        format!(
            "# comment\nTELPHIN_BASE_URL={}\nTELPHIN_CLIENT_ID={}\nTELPHIN_CLIENT_SECRET=\"{}\"\n",
            sim.base_url(),
            app.client_id,
            app.client_secret
        ),
    )
    .unwrap();
    let mut configured = Command::cargo_bin("telphin-records").unwrap();
    configured.current_dir(dir.path()).env_clear();
    let r = run(
        &mut configured,
        &[
            "--config",
            config.to_str().unwrap(),
            "stats",
            "--month",
            "2024-03",
            "--log-format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for line in r.stderr.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }

    // A file written for the shell (`export KEY=…`) reads the same; a misspelled key is an
    // error naming its line and the key meant, and nothing is sent.
    let exported = dir.path().join("exported.conf");
    std::fs::write(
        &exported,
        format!(
            "export TELPHIN_BASE_URL={}
export TELPHIN_CLIENT_ID={}
             export TELPHIN_CLIENT_SECRET={}
",
            sim.base_url(),
            app.client_id,
            app.client_secret
        ),
    )
    .unwrap();
    let mut configured = Command::cargo_bin("telphin-records").unwrap();
    configured.current_dir(dir.path()).env_clear();
    let r = run(
        &mut configured,
        &[
            "--config",
            exported.to_str().unwrap(),
            "stats",
            "--month",
            "2024-03",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let misspelled = dir.path().join("misspelled.conf");
    std::fs::write(
        &misspelled,
        format!(
            "TELPHIN_BASE_URL={}
TELPHIN_CLIENT_ID={}
TELPHIN_CLIENT_SECRT={}
",
            sim.base_url(),
            app.client_id,
            app.client_secret
        ),
    )
    .unwrap();
    let before: u64 = sim.counters().by_route.values().sum();
    let mut configured = Command::cargo_bin("telphin-records").unwrap();
    configured.current_dir(dir.path()).env_clear();
    let r = run(
        &mut configured,
        &[
            "--config",
            misspelled.to_str().unwrap(),
            "stats",
            "--month",
            "2024-03",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{} line 3: unknown setting TELPHIN_CLIENT_SECRT (did you mean TELPHIN_CLIENT_SECRET?)",
            misspelled.display()
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&app.client_secret), "{}", r.stderr);
    assert_eq!(
        sim.counters().by_route.values().sum::<u64>(),
        before,
        "nothing was sent"
    );
}

/// Plain http to a host other than loopback is refused before anything is sent (no name is
/// even resolved), naming the setting that allows it for a test server; a value of that
/// setting that is neither yes nor no is refused too.
#[test]
fn plain_http_elsewhere_is_refused_unless_the_setting_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::cargo_bin("telphin-records").unwrap();
    command
        .current_dir(dir.path())
        .env_clear()
        .env("TELPHIN_BASE_URL", "http://pbx-test.example.org:8080")
        .env("TELPHIN_TOKEN", "t0ken");
    let r = run(&mut command, &["stats", "--month", "2024-03"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("refusing plain http to http://pbx-test.example.org:8080")
            && r.stderr.contains("set TELPHIN_ALLOW_INSECURE_HTTP=1"),
        "{}",
        r.stderr
    );
    let mut command = Command::cargo_bin("telphin-records").unwrap();
    command
        .current_dir(dir.path())
        .env_clear()
        .env("TELPHIN_BASE_URL", "http://pbx-test.example.org:8080")
        .env("TELPHIN_TOKEN", "t0ken")
        .env("TELPHIN_ALLOW_INSECURE_HTTP", "maybe");
    let r = run(&mut command, &["stats", "--month", "2024-03"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("TELPHIN_ALLOW_INSECURE_HTTP=maybe: write 1 or 0"),
        "{}",
        r.stderr
    );
}

#[test]
fn sim_serves_a_pbx_and_prints_its_credentials() {
    let mut child = Command::cargo_bin("telphin-records")
        .unwrap()
        .args(["sim", "--addr", "127.0.0.1:0", "--records", "100"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announced: Value = serde_json::from_str(&line).unwrap();
    let base = announced["base_url"].as_str().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    // It answers: a client of the announced app lists its records.
    let dir = tempfile::tempdir().unwrap();
    let mut list = Command::cargo_bin("telphin-records").unwrap();
    list.current_dir(dir.path())
        .env_clear()
        .env("TELPHIN_BASE_URL", &base)
        .env(
            "TELPHIN_CLIENT_ID",
            announced["apps"]["client"]["client_id"].as_str().unwrap(),
        )
        .env(
            "TELPHIN_CLIENT_SECRET",
            announced["apps"]["client"]["client_secret"]
                .as_str()
                .unwrap(),
        );
    let r = run(&mut list, &["stats", "--year", "2024", "--format", "json"]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&r)[0]["recordings"].as_u64().unwrap() > 100);
}

#[test]
fn help_texts() {
    let subcommands = [
        "list",
        "stats",
        "monthly",
        "download",
        "link",
        "delete",
        "archive",
        "backup",
        "verify",
        "purge",
        "search",
        "retention",
        "hold",
        "erase",
        "audit",
        "serve",
        "hash-password",
        "completions",
        "manpage",
        "sim",
    ];
    let help = |args: &[&str]| {
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    insta::assert_snapshot!("help", help(&["--help"]));
    for name in subcommands {
        let text = help(&[name, "--help"]);
        assert!(text.contains("Example"), "{name} --help has an example");
        insta::assert_snapshot!(format!("help_{name}"), text);
    }
}

/// Completions and the man page come from the command line's definition: every command is in
/// them.
#[test]
fn completions_and_man_page() {
    let out = |args: &[&str]| {
        let output = Command::cargo_bin("telphin-records")
            .unwrap()
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    for shell in ["bash", "zsh", "fish"] {
        let script = out(&["completions", shell]);
        for command in ["backup", "search", "serve", "check-config", "older-than"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    let page = out(&["manpage"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..40]
    );
    assert!(page.contains(".TH telphin-records 1"), "a section-1 page");
    assert!(page.contains("serve") && page.contains("backup"));
    // Every page the top one names is written by --dir.
    let dir = tempfile::tempdir().unwrap();
    out(&["manpage", "--dir", dir.path().to_str().unwrap()]);
    for name in [
        "telphin-records.1",
        "telphin-records-backup.1",
        "telphin-records-hold-add.1",
        "telphin-records-serve.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name}");
    }
    for named in page.split("telphin\\-records\\-").skip(1) {
        let sub: String = named
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '\\' || *c == '-')
            .collect();
        let file = format!(
            "telphin-records-{}.1",
            sub.replace("\\-", "-")
                .trim_end_matches('(')
                .trim_end_matches('-')
        );
        assert!(
            dir.path().join(&file).exists(),
            "the top page names {file}, which is written"
        );
    }
}

/// A backup killed with SIGKILL in the middle of its transfers, then run again: every file is
/// whole and the same as the PBX's, nothing partial or stray is left, nothing is duplicated.
#[test]
fn a_killed_backup_resumes_with_nothing_partial() {
    let sim = sim(SimConfig {
        seed: 31,
        record_count: 1200,
        max_file_size: Some(4 << 20),
        faults: record_sim::Faults {
            latency: std::time::Duration::from_millis(5),
            ..record_sim::Faults::default()
        },
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup");
    let to = target.to_str().unwrap();
    let mut child = cmd(&sim, dir.path())
        .args(["backup", "--month", "2024-03", "--to", to])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few files are in place (polling the disk: readiness, not timing).
    let mp3s = |dir: &Path| -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    };
    while mp3s(&target)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mp3"))
        .count()
        < 10
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backup ended before the kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let want = march(&sim);
    let left = mp3s(&target);
    assert!(left.len() < want.len(), "killed before the end");
    // What a kill during a large file's multipart upload leaves: its staged file.
    let mut staged = left[0].as_os_str().to_owned();
    staged.push("#1");
    std::fs::write(&staged, b"half a recording").unwrap();

    let again = run(
        &mut cmd(&sim, dir.path()),
        &[
            "backup", "--month", "2024-03", "--to", to, "--format", "json",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("removed unfinished files"),
        "{}",
        again.stderr
    );
    let report = json(&again);
    assert_eq!(
        report[0]["stored"].as_u64().unwrap() + report[0]["already_kept"].as_u64().unwrap(),
        want.len() as u64
    );
    let files = mp3s(&target);
    let objects: Vec<&std::path::PathBuf> = files
        .iter()
        .filter(|p| !p.starts_with(target.join("_manifest")))
        .collect();
    assert_eq!(
        objects.len(),
        want.len(),
        "one file per record, nothing stray: {objects:?}"
    );
    for path in objects {
        let name = path.file_name().unwrap().to_string_lossy();
        let uuid = name
            .trim_end_matches(".mp3")
            .rsplit('_')
            .next()
            .unwrap()
            .to_owned();
        assert!(want.contains(&uuid), "{name}");
        assert!(
            std::fs::read(path).unwrap() == sim.file_bytes(&uuid).unwrap(),
            "{name}"
        );
    }
}

/// Hold, erase, audit and retention from the command line: a held number is refused with the
/// hold's reason (exit code 5), erased once released, with an act on disk and in the target;
/// `audit verify` fails (exit code 1) naming an edited entry; `retention` is dry without
/// --yes.
#[test]
fn hold_erase_audit_and_retention_from_the_command_line() {
    let sim = sim(small());
    let extension = sim.extensions()[0].id;
    let day = |d: u32| {
        telphin_records::chrono::NaiveDate::from_ymd_opt(2024, 3, d)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    };
    let theirs: Vec<String> = ["+7 495 333-44-55", "84953334455"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            sim.add_call_with(extension, day(3 + i as u32), n)
                .unwrap()
                .uuid
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let backup_dir = dir.path().join("backup");
    let to = backup_dir.to_str().unwrap();
    let catalog = dir.path().join("telphin-records.sqlite");
    let ok = |run: &Run| assert_eq!(run.code, 0, "{}", run.stderr);
    ok(&run(
        &mut cmd(&sim, dir.path()),
        &["backup", "--month", "2024-03", "--to", to],
    ));
    ok(&run(&mut cmd(&sim, dir.path()), &["verify", "--to", to]));
    let search = |sim: &BlockingSim| {
        let found = run(
            &mut cmd(sim, dir.path()),
            &["search", "--number", "4953334455", "--format", "jsonl"],
        );
        jsonl_uuids(&found.stdout)
    };
    let found = search(&sim);
    assert!(
        !found.is_empty() && found.iter().all(|u| theirs.contains(u)),
        "{found:?}"
    );

    let held = run(
        &mut cmd(&sim, dir.path()),
        &[
            "hold",
            "add",
            "--number",
            "8 495 333 44 55",
            "--reason",
            "claim 7",
            "--to",
            to,
            "--operator",
            "lawyer",
            "--format",
            "json",
        ],
    );
    ok(&held);
    let hold_id = json(&held)[0]["id"].as_i64().unwrap().to_string();
    let listed = run(
        &mut cmd(&sim, dir.path()),
        &["hold", "list", "--format", "json"],
    );
    assert_eq!(json(&listed)[0]["reason"], "claim 7");
    // Not even `delete` takes a held recording from the PBX.
    let deleted = run(&mut cmd(&sim, dir.path()), &["delete", &found[0], "--yes"]);
    assert_eq!(deleted.code, 1, "{}", deleted.stderr);
    assert!(deleted.stderr.contains("claim 7"), "{}", deleted.stderr);

    let acts = dir.path().join("acts");
    std::fs::create_dir(&acts).unwrap();
    let acts_dir = acts.to_str().unwrap();
    let erase = |extra: &[&str], key: Option<&str>| {
        let mut command = cmd(&sim, dir.path());
        if let Some(key) = key {
            command.env("TELPHIN_ERASURE_KEY", key);
        }
        let mut args = vec![
            "erase",
            "--number",
            "+74953334455",
            "--reason",
            "request 31",
            "--to",
            to,
            "--act-dir",
            acts_dir,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(&mut command, &args)
    };
    let dry = erase(&[], None);
    assert_eq!(dry.code, 5, "held: {}", dry.stderr);
    assert!(dry.stdout.contains("claim 7"), "{}", dry.stdout);
    // Without a key, a real erasure is refused before anything is read or sent, and no key
    // is made beside the catalog (whoever has its directory could match erased numbers).
    let no_key = erase(&["--yes"], None);
    assert_eq!(no_key.code, 2, "{}", no_key.stderr);
    assert!(
        no_key.stderr.contains("TELPHIN_ERASURE_KEY_FILE"),
        "{}",
        no_key.stderr
    );
    assert!(
        !dir.path()
            .join("telphin-records.sqlite.erasure-key")
            .exists()
    );
    // Still held with --yes: nothing erased, and the key is never printed.
    let key = "erasure key of request 31";
    let held_yes = erase(&["--yes"], Some(key));
    assert_eq!(held_yes.code, 5, "{}", held_yes.stderr);
    assert_eq!(search(&sim), found, "nothing was erased");
    assert!(!held_yes.stderr.contains(key) && !held_yes.stdout.contains(key));

    ok(&run(
        &mut cmd(&sim, dir.path()),
        &[
            "hold",
            "release",
            &hold_id,
            "--to",
            to,
            "--operator",
            "lawyer",
        ],
    ));
    let erased = erase(&["--yes"], Some(key));
    ok(&erased);
    assert_eq!(json(&erased).as_array().unwrap().len(), found.len());
    assert!(search(&sim).is_empty());
    let on_pbx: BTreeSet<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    assert!(found.iter().all(|u| !on_pbx.contains(u)));
    let act_files: Vec<String> = std::fs::read_dir(&acts)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        act_files
            .iter()
            .any(|f| f.starts_with("erase-") && f.ends_with(".csv"))
    );
    assert!(std::fs::read_dir(backup_dir.join("_acts")).unwrap().count() >= 2);

    let verified = run(
        &mut cmd(&sim, dir.path()),
        &["audit", "verify", "--to", to, "--format", "json"],
    );
    ok(&verified);
    let export = dir.path().join("audit.jsonl");
    ok(&run(
        &mut cmd(&sim, dir.path()),
        &["audit", "export", "--output", export.to_str().unwrap()],
    ));
    let exported = std::fs::read_to_string(&export).unwrap();
    assert_eq!(
        exported.lines().count() as u64,
        json(&verified)[0]["entries"].as_u64().unwrap()
    );
    assert!(!exported.contains("3334455"), "the log holds no number");

    // The retention policy of a service configuration: a dry run deletes nothing.
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[[pbx]]\nname = \"main\"\nclient_id = \"app\"\nclient_secret_env = \"S\"\n\
             target = \"{to}\"\ncatalog = \"{}\"\n\n[pbx.retention]\ntz = \"Europe/Moscow\"\n\
             keep_on_pbx_days = 30\n",
            catalog.display()
        ),
    )
    .unwrap();
    let deletions = sim.counters().route("delete_record");
    let dry = run(
        &mut cmd(&sim, dir.path()),
        &[
            "retention",
            "--policy",
            config.to_str().unwrap(),
            "--to",
            to,
            "--format",
            "json",
        ],
    );
    ok(&dry);
    let purgeable = json(&dry)[0]["purged"].as_u64().unwrap();
    assert!(purgeable > 0, "{}", dry.stdout);
    assert_eq!(sim.counters().route("delete_record"), deletions);
    let applied = run(
        &mut cmd(&sim, dir.path()),
        &[
            "retention",
            "--policy",
            config.to_str().unwrap(),
            "--to",
            to,
            "--yes",
        ],
    );
    ok(&applied);
    assert_eq!(sim.counters().route("delete_record"), deletions + purgeable);

    // An edited entry is named.
    let connection = rusqlite::Connection::open(&catalog).unwrap();
    connection
        .execute(
            "UPDATE audit SET line = replace(line, 'request 31', 'request 32') WHERE seq = 3",
            [],
        )
        .unwrap();
    drop(connection);
    let broken = run(&mut cmd(&sim, dir.path()), &["audit", "verify", "--to", to]);
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert!(broken.stderr.contains("entry 3"), "{}", broken.stderr);
}

/// `hash-password` reads the password from standard input and prints a hash that serve's
/// configuration takes; a short password is refused and nothing printed.
#[test]
fn hash_password_prints_an_argon2id_hash_the_configuration_takes() {
    let output = hash_password("correct horse battery staple\n");
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("correct horse"));
    let config = format!(
        "[web]\nlisten = \"0.0.0.0:9188\"\n\n[[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\n\n\
         [[pbx]]\nname = \"main\"\nclient_id = \"app\"\nclient_secret_env = \"S\"\n\
         target = \"/srv/a\"\ncatalog = \"/srv/c.sqlite\"\n"
    );
    record_service::ServiceConfig::parse(&config, std::path::Path::new("serve.toml"), Vec::new())
        .unwrap();
    let short = hash_password("short\n");
    assert_eq!(short.status.code(), Some(2));
    assert!(short.stdout.is_empty());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
}

/// Runs `hash-password` with `input` on its standard input.
fn hash_password(input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::cargo_bin("telphin-records")
        .unwrap()
        .arg("hash-password")
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A hold's reason of 100,000 characters is kept whole and printed: cut in the table, whole
/// in JSON — never a panic of the table formatter.
#[test]
fn a_very_long_cell_prints() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup");
    let to = to.to_str().unwrap();
    let ok = |run: &Run| assert_eq!(run.code, 0, "{}", run.stderr);
    ok(&run(
        &mut cmd(&sim, dir.path()),
        &["backup", "--month", "2024-03", "--to", to],
    ));
    let reason = "x".repeat(100_000);
    ok(&run(
        &mut cmd(&sim, dir.path()),
        &[
            "hold",
            "add",
            "--on-extension",
            "101",
            "--reason",
            &reason,
            "--to",
            to,
        ],
    ));
    let table = run(&mut cmd(&sim, dir.path()), &["hold", "list"]);
    ok(&table);
    assert!(table.stdout.contains('…'), "{}", table.stdout);
    assert!(table.stdout.len() < 10_000, "cut in the table");
    let listed = run(
        &mut cmd(&sim, dir.path()),
        &["hold", "list", "--format", "json"],
    );
    ok(&listed);
    assert_eq!(json(&listed)[0]["reason"], reason);
}

/// A backup whose target refuses every file stops downloading after 3 files in a row (one
/// try each: the target's own retries are done), with exit code 5 and a message that says
/// so — instead of fetching every file of the period from the PBX in vain.
#[test]
fn a_backup_stops_downloading_when_the_target_keeps_failing() {
    let sim = sim(small());
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("backup");
    std::fs::create_dir(&to).unwrap();
    // Every name of 2024 needs the folder 2024/, which is a file here: the target refuses.
    std::fs::write(to.join("2024"), b"not a folder").unwrap();
    let listed = march(&sim).len();
    assert!(listed > 20);
    let failed = run(
        &mut cmd(&sim, dir.path()),
        &["backup", "--month", "2024-03", "--to", to.to_str().unwrap()],
    );
    assert_eq!(failed.code, 5, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("failed 3 files in a row") && failed.stderr.contains("stopped"),
        "{}",
        failed.stderr
    );
    let counters = sim.counters();
    let downloads = counters.route("storage_file") + counters.route("download_record");
    assert!(downloads >= 3, "the first files were tried");
    // The files in flight when the third failed (8 at a time) at most, not the month's.
    assert!(downloads <= 3 + 8, "{downloads} downloads of {listed}");
}
