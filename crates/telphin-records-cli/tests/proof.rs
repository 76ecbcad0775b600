//! Proof that survives a crash and an insider, with the real binary against the simulator:
//! `erase --yes` and `retention --yes` killed at 20 points, and run out of disk, leave every
//! destroyed record in a stored act (the catalog, the target's `_acts/`, `--act-dir`) and no
//! act naming a record that was not destroyed; a history rewritten by whoever could write the
//! catalog and the target fails `audit verify --public-key` at the first changed entry; an
//! erased number's tombstone cannot be matched without the key, which is not beside the
//! catalog.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt as _;
use record_backup::Catalog;
use record_sim::{BlockingSim, Fault, Sim, SimConfig};
use serde_json::Value;

const NUMBER: &str = "+7 495 777-12-34";

struct Setup {
    sim: BlockingSim,
    dir: tempfile::TempDir,
    /// Calls of [`NUMBER`].
    theirs: Vec<String>,
    /// Every record listed.
    all: Vec<String>,
}

impl Setup {
    fn backup(&self) -> PathBuf {
        self.dir.path().join("backup")
    }
    fn to(&self) -> String {
        self.backup().to_str().unwrap().to_owned()
    }
    fn catalog(&self) -> PathBuf {
        self.dir.path().join("telphin-records.sqlite")
    }
    fn acts(&self) -> PathBuf {
        self.dir.path().join("acts")
    }
    /// Kept apart from the catalog's directory, as an operator would.
    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }
    fn public_key(&self) -> PathBuf {
        self.keys().join("audit.pub")
    }

    /// The binary with the credentials, the signing key and the erasure key.
    fn cmd(&self) -> Command {
        let mut command = Command::cargo_bin("telphin-records").unwrap();
        let app = &self.sim.credentials().client;
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TELPHIN_BASE_URL", self.sim.base_url())
            .env("TELPHIN_CLIENT_ID", &app.client_id)
            .env("TELPHIN_CLIENT_SECRET", &app.client_secret)
            .env(
                "TELPHIN_AUDIT_SIGNING_KEY_FILE",
                self.keys().join("audit.key"),
            )
            .env("TELPHIN_ERASURE_KEY_FILE", self.keys().join("erasure.key"))
            .env("TELPHIN_OPERATOR", "dpo")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.cmd().args(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    }

    fn erase_args(&self) -> Vec<String> {
        [
            "erase",
            "--number",
            NUMBER,
            "--reason",
            "request 2026/31",
            "--yes",
            "--to",
            &self.to(),
            "--act-dir",
            self.acts().to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    fn retention_args(&self) -> Vec<String> {
        let policy = self.dir.path().join("serve.toml");
        std::fs::write(
            &policy,
            format!(
                "[[pbx]]\nname = \"main\"\nclient_id = \"app\"\nclient_secret_env = \"S\"\n\
                 target = \"{}\"\ncatalog = \"{}\"\n\n[pbx.retention]\ntz = \"Europe/Moscow\"\n\
                 keep_in_archive_years = 1\n",
                self.to(),
                self.catalog().display()
            ),
        )
        .unwrap();
        [
            "retention",
            "--policy",
            policy.to_str().unwrap(),
            "--yes",
            "--to",
            &self.to(),
            "--act-dir",
            self.acts().to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Runs `args`, lets its `nth` deletion on the PBX be carried out and never answered,
    /// and kills it (SIGKILL) there: it has destroyed `nth - 1` records since it started,
    /// and the PBX has deleted one more that the catalog still holds.
    fn kill_at_deletion(&self, args: &[String], nth: u32) {
        let before = self.sim.counters().route("delete_record");
        self.sim
            .inject(Some("delete_record"), Fault::Pass, nth.saturating_sub(1));
        self.sim
            .inject(Some("delete_record"), Fault::StallAnswer, 1);
        let mut child = self
            .cmd()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while self.sim.counters().route("delete_record") < before + u64::from(nth) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{args:?} ended ({status}) before its deletion {nth}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no deletion {nth}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Every act the run wrote, by id, from a directory of act files.
    fn act_files(dir: &Path) -> BTreeMap<String, Value> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return BTreeMap::new();
        };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| {
                let act: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                (act["act_id"].as_str().unwrap().to_owned(), act)
            })
            .collect()
    }

    /// What must hold after any command that opened the catalog for writing: every
    /// destroyed record (among `candidates`) in exactly one act, that act stored in the
    /// catalog, the target and the act directory alike; no act listing a record that was not
    /// destroyed; the log and its checkpoints proven with the public key. Returns how many
    /// records are destroyed.
    fn check_proof(&self, candidates: &[String]) -> usize {
        let in_target = Setup::act_files(&self.backup().join("_acts"));
        let in_dir = Setup::act_files(&self.acts());
        assert_eq!(
            in_target.keys().collect::<Vec<_>>(),
            in_dir.keys().collect::<Vec<_>>(),
            "the same acts in _acts/ and --act-dir"
        );
        let catalog = Catalog::open(self.catalog()).unwrap();
        assert_eq!(catalog.unstored_acts().unwrap(), Vec::<String>::new());
        let on_pbx: BTreeSet<String> = self.sim.records().into_iter().map(|r| r.uuid).collect();
        let mut listed = BTreeSet::new();
        for (act_id, act) in &in_target {
            assert_eq!(
                act, &in_dir[act_id],
                "act {act_id}: the same in both places"
            );
            let kept = catalog
                .act(act_id)
                .unwrap()
                .expect("the catalog holds the act");
            assert_eq!(
                serde_json::to_value(&kept).unwrap(),
                *act,
                "act {act_id}: the file is the catalog's act"
            );
            for record in act["records"].as_array().unwrap() {
                let uuid = record["record_uuid"].as_str().unwrap().to_owned();
                assert!(listed.insert(uuid.clone()), "{uuid} is in two acts");
                assert!(
                    catalog.tombstone(&uuid).unwrap().is_some(),
                    "act {act_id} lists {uuid}, which was not destroyed"
                );
                assert!(
                    !on_pbx.contains(&uuid),
                    "{uuid} is listed and still on the PBX"
                );
            }
            // The act carries the log's export of its entries and a checkpoint covering them.
            let entries = act["audit_entries"].as_array().unwrap();
            assert_eq!(entries.len(), act["records"].as_array().unwrap().len());
            if !entries.is_empty() {
                assert!(act["checkpoint"]["signature"].is_string(), "{act_id}");
            }
        }
        let destroyed: BTreeSet<String> = candidates
            .iter()
            .filter(|uuid| catalog.tombstone(uuid).unwrap().is_some())
            .cloned()
            .collect();
        assert_eq!(
            destroyed, listed,
            "every destroyed record is in a stored act"
        );
        drop(catalog);
        let (code, stdout, stderr) = self.run(&[
            "audit",
            "verify",
            "--to",
            &self.to(),
            "--public-key",
            self.public_key().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "the proof holds: {stdout}{stderr}");
        destroyed.len()
    }
}

/// A PBX with 36 calls of [`NUMBER`] in 2024 (those the catalog finds by it are `theirs`), backed up and verified, with the keys made by
/// `audit keygen` in a directory apart from the catalog.
fn setup(records: usize) -> Setup {
    let sim = Sim::start_blocking(SimConfig {
        seed: 91,
        record_count: records,
        max_file_size: Some(8 << 10),
        ..SimConfig::default()
    })
    .unwrap();
    let extension = sim.extensions()[0].id;
    for i in 0..36 {
        let at = telphin_records::chrono::NaiveDate::from_ymd_opt(2024, 2, 1 + i / 2)
            .unwrap()
            .and_hms_opt(9 + i % 2 * 5, 0, 0)
            .unwrap();
        sim.add_call_with(extension, at, NUMBER).unwrap();
    }
    let all = sim.records().into_iter().map(|r| r.uuid).collect();
    let setup = Setup {
        sim,
        dir: tempfile::tempdir().unwrap(),
        theirs: Vec::new(),
        all,
    };
    std::fs::create_dir(setup.acts()).unwrap();
    std::fs::create_dir(setup.keys()).unwrap();
    let keys = setup.keys();
    setup.ok(&[
        "audit",
        "keygen",
        "--signing-key",
        keys.join("audit.key").to_str().unwrap(),
        "--public-key",
        keys.join("audit.pub").to_str().unwrap(),
        "--erasure-key",
        keys.join("erasure.key").to_str().unwrap(),
    ]);
    setup.ok(&["backup", "--year", "2024", "--to", &setup.to()]);
    setup.ok(&["verify", "--to", &setup.to()]);
    // The calls the number's erasure destroys: those the catalog finds by it.
    let found = setup.ok(&["search", "--number", NUMBER, "--format", "jsonl"]);
    let mut setup = setup;
    setup.theirs = found
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["record_uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(setup.theirs.len() >= 30, "{found}");
    setup
}

#[test]
fn erase_and_retention_killed_at_twenty_points_lose_no_act() {
    let setup = setup(260);
    let erase = setup.erase_args();
    let mut destroyed = 0;
    // Eight kills over the erasure, each at the given deletion of its run.
    for nth in [1, 2, 3, 5, 4, 6, 3, 7] {
        setup.kill_at_deletion(&erase, nth);
        // The next command that opens the catalog for writing finishes the act.
        setup.ok(&["verify", "--to", &setup.to()]);
        let now = setup.check_proof(&setup.theirs);
        assert!(now >= destroyed, "destroyed records do not come back");
        assert_eq!(
            now,
            destroyed + nth as usize - 1,
            "the kill at deletion {nth}"
        );
        destroyed = now;
    }
    setup.ok(&erase.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(setup.check_proof(&setup.theirs), setup.theirs.len());
    destroyed = setup.theirs.len();

    // Twelve kills over the application of the retention policy (every call of 2024).
    let retention = setup.retention_args();
    for nth in [1, 9, 17, 2, 25, 33, 8, 41, 12, 20, 30, 5] {
        setup.kill_at_deletion(&retention, nth);
        setup.ok(&["verify", "--to", &setup.to()]);
        let now = setup.check_proof(&setup.all);
        assert_eq!(
            now,
            destroyed + nth as usize - 1,
            "the kill at deletion {nth}"
        );
        destroyed = now;
    }
    setup.ok(&retention.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(setup.check_proof(&setup.all), setup.all.len());
    let interrupted = Setup::act_files(&setup.acts())
        .values()
        .filter(|act| act["outcome"] == "interrupted")
        .count();
    assert_eq!(
        interrupted, 20,
        "each killed run's act, finished as interrupted"
    );
}

/// The catalog on a small tmpfs that fills up mid-retention: the command fails saying how
/// many records it destroyed and which act lists them; the next run, with room again, stores
/// that act, and the proof holds.
#[test]
fn a_full_disk_mid_retention_loses_no_act() {
    let setup = setup(400);
    let mount = setup.dir.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
        .arg(&mount)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        // Mounting needs root (CI has it); say so rather than pass quietly.
        eprintln!("SKIPPED: mounting a tmpfs was refused (run as root to test a full disk)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    // The catalog moves to the tmpfs; a filler leaves it 1.5 MiB to grow.
    let catalog = mount.join("telphin-records.sqlite");
    std::fs::copy(setup.catalog(), &catalog).unwrap();
    std::fs::remove_file(setup.catalog()).unwrap();
    std::os::unix::fs::symlink(&catalog, setup.catalog()).unwrap();
    let filler = mount.join("filler");
    let free = {
        let output = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&mount)
            .output()
            .unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    std::fs::write(
        &filler,
        vec![0u8; usize::try_from(free - (1536 << 10)).unwrap()],
    )
    .unwrap();

    let retention = setup.retention_args();
    let args: Vec<&str> = retention.iter().map(String::as_str).collect();
    let (code, _, stderr) = setup.run(&args);
    assert_ne!(code, 0, "the disk is full: {stderr}");
    let destroyed = stderr
        .split(" records had been destroyed before it")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("the failure says how many were destroyed: {stderr}"));
    assert!(destroyed > 0, "the disk filled mid-run: {stderr}");
    assert!(stderr.contains("full"), "{stderr}");
    assert!(stderr.contains("deletion act expire-"), "{stderr}");

    std::fs::remove_file(&filler).unwrap();
    // The next command that opens the catalog for writing — a dry run here — stores the act.
    let dry: Vec<&str> = args.iter().copied().filter(|a| *a != "--yes").collect();
    setup.ok(&dry);
    assert_eq!(setup.check_proof(&setup.all), destroyed);
    // The record whose tombstone the full disk refused is finished by the next real run.
    setup.ok(&args);
    assert_eq!(setup.check_proof(&setup.all), setup.all.len());
}

/// The genuine log's lines, from the catalog.
fn audit_lines(setup: &Setup) -> Vec<String> {
    let catalog = Catalog::open(setup.catalog()).unwrap();
    let mut lines = Vec::new();
    catalog
        .export_audit(None, None, |line| {
            lines.push(line.to_owned());
            Ok(())
        })
        .unwrap();
    lines
}

/// Rewrites history as an insider with write access to the catalog and the target would:
/// keeps the entries of `lines` that `keep` chooses (edited by `edit`), renumbers them,
/// recomputes every hash of the chain (the signatures cannot be, and are left as they were),
/// and writes the result over both copies; the tombstones of the records whose entries went
/// and the checkpoints past the new end are removed too. Returns the new log's size.
fn rewrite_history(
    setup: &Setup,
    lines: &[String],
    keep: impl Fn(usize) -> bool,
    edit: impl Fn(usize, &str) -> String,
) -> usize {
    let mut prev = "0".repeat(64);
    let mut rewritten: Vec<(String, String)> = Vec::new();
    let mut dropped = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if !keep(i) {
            dropped.extend(entry["record_uuid"].as_str().map(str::to_owned));
            continue;
        }
        // The text as it was, field order and all: its hash (and signature) cut off, its
        // number and link rewritten, then hashed again.
        let at = line.rfind(",\"hash\":\"").unwrap();
        let signature = &line[at..]
            .split_once(",\"sig\":")
            .map(|(_, s)| s.trim_end_matches('}').to_owned());
        let json = edit(i, &format!("{}}}", &line[..at]));
        let (_, rest) = json.split_once(',').unwrap();
        let json = format!("{{\"seq\":{},{rest}", rewritten.len() + 1);
        let link = json.find("\"prev\":\"").unwrap() + 8;
        let json = format!("{}{prev}{}", &json[..link], &json[link + 64..]);
        let hash = sha256_hex(&json);
        let mut line = format!("{},\"hash\":\"{hash}\"", &json[..json.len() - 1]);
        if let Some(signature) = signature {
            line.push_str(&format!(",\"sig\":{signature}"));
        }
        line.push('}');
        rewritten.push((line, hash.clone()));
        prev = hash;
    }
    let size = rewritten.len();
    let db = rusqlite::Connection::open(setup.catalog()).unwrap();
    db.execute("DELETE FROM audit", []).unwrap();
    for (seq, (line, hash)) in rewritten.iter().enumerate() {
        db.execute(
            "INSERT INTO audit (seq, at, line, hash, exported) \
             VALUES (?1, '2026-01-01T00:00:00.000000Z', ?2, ?3, 1)",
            rusqlite::params![seq as i64 + 1, line, hash],
        )
        .unwrap();
    }
    for uuid in &dropped {
        db.execute("DELETE FROM tombstone WHERE record_uuid = ?1", [uuid])
            .unwrap();
    }
    db.execute("DELETE FROM checkpoint WHERE size > ?1", [size as i64])
        .unwrap();
    let audit_dir = setup.backup().join("_audit");
    for entry in std::fs::read_dir(&audit_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let covers = name
            .strip_prefix("checkpoint-")
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<usize>().ok());
        if name.ends_with(".jsonl") || covers.is_some_and(|covers| covers > size) {
            std::fs::remove_file(path).unwrap();
        }
    }
    let text: String = rewritten
        .iter()
        .map(|(line, _)| format!("{line}\n"))
        .collect();
    std::fs::write(audit_dir.join("000000000001.jsonl"), text).unwrap();
    size
}

/// `audit verify` with `extra`, as JSON: its exit code and each copy's first break.
fn audit_verify(setup: &Setup, extra: &[&str]) -> (i32, Vec<String>) {
    let to = setup.to();
    let mut args = vec!["audit", "verify", "--to", &to, "--format", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = setup.run(&args);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    let breaks = report
        .as_array()
        .unwrap()
        .iter()
        .map(|copy| copy["first_break"].as_str().unwrap_or_default().to_owned())
        .collect();
    (code, breaks)
}

/// An insider who can write the catalog and the target rewrites history — edits an entry,
/// drops one in the middle and the last 20 with their tombstones, recomputes every hash of
/// both copies and removes the checkpoints that covered what was dropped: the chain alone
/// holds, `audit verify --public-key` names the first changed entry; the removed tail is
/// named by the checkpoint an act kept apart carries.
#[test]
fn a_history_rewritten_by_an_insider_fails_the_signed_check() {
    let setup = setup(120);
    setup.ok(&setup
        .erase_args()
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let retention = setup.retention_args();
    setup.ok(&retention.iter().map(String::as_str).collect::<Vec<_>>());
    let lines = audit_lines(&setup);
    let total = lines.len();
    assert!(total > 60, "{total} entries");
    let public = setup.public_key();
    let signed = ["--public-key", public.to_str().unwrap()];
    assert_eq!(
        audit_verify(&setup, &signed).0,
        0,
        "the genuine log is proven"
    );

    // Entry 10's reason edited, entry 30 and the last 20 dropped.
    rewrite_history(
        &setup,
        &lines,
        |i| i != 29 && i < total - 20,
        |i, json| {
            let entry: Value = serde_json::from_str(json).unwrap();
            let reason = serde_json::to_string(&entry["reason"]).unwrap();
            if i == 9 {
                json.replace(
                    &format!("\"reason\":{reason}"),
                    "\"reason\":\"routine clean-up\"",
                )
            } else {
                json.to_owned()
            }
        },
    );
    let (code, breaks) = audit_verify(&setup, &[]);
    assert_eq!(code, 0, "the chain alone is fooled: {breaks:?}");
    let (code, breaks) = audit_verify(&setup, &signed);
    assert_eq!(code, 1);
    for broken in &breaks {
        assert!(broken.starts_with("entry 10:"), "{broken}");
        assert!(broken.contains("not the entry that was signed"), "{broken}");
    }

    // Without the edit, the dropped middle entry is named where it stood.
    rewrite_history(
        &setup,
        &lines,
        |i| i != 29 && i < total - 20,
        |_, json| json.to_owned(),
    );
    let (code, breaks) = audit_verify(&setup, &signed);
    assert_eq!(code, 1);
    assert!(
        breaks.iter().all(|b| b.starts_with("entry 30:")),
        "{breaks:?}"
    );

    // Only the tail dropped, with the checkpoints that covered it: what is left is what was
    // signed — but the checkpoint the last act carries, kept apart in --act-dir, names the
    // first entry removed.
    let kept = rewrite_history(
        &setup,
        &lines,
        |i| i < total - 20,
        |_, json| json.to_owned(),
    );
    let (code, breaks) = audit_verify(&setup, &signed);
    assert_eq!(code, 0, "a prefix of the signed log: {breaks:?}");
    let newest_act = Setup::act_files(&setup.acts())
        .into_values()
        .max_by_key(|act| act["checkpoint"]["size"].as_u64().unwrap_or(0))
        .unwrap();
    assert_eq!(
        newest_act["checkpoint"]["size"].as_u64(),
        Some(total as u64)
    );
    let apart = setup.dir.path().join("kept-apart.json");
    std::fs::write(&apart, newest_act.to_string()).unwrap();
    let (code, breaks) = audit_verify(
        &setup,
        &[&signed[..], &["--checkpoint", apart.to_str().unwrap()]].concat(),
    );
    assert_eq!(code, 1);
    for broken in &breaks {
        assert!(
            broken.starts_with(&format!("entry {}:", kept + 1)),
            "{broken}"
        );
        assert!(broken.contains("removed"), "{broken}");
    }
}

fn sha256_hex(text: &str) -> String {
    use std::fmt::Write as _;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
    digest.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The tombstone of an erased number holds its keyed hash only: the number, its usual
/// spellings and its plain SHA-256 do not match it, a wrong key does not, the right key —
/// which lives apart from the catalog — does; no key file is made beside the catalog.
#[test]
fn an_erased_number_cannot_be_matched_without_its_key() {
    let setup = setup(60);
    setup.ok(&setup
        .erase_args()
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let catalog = Catalog::open(setup.catalog()).unwrap();
    let tombstone = catalog.tombstone(&setup.theirs[0]).unwrap().unwrap();
    let hash = tombstone.number_hash.unwrap();
    // The last 10 digits are hashed: +7 495 … and 8 495 … are one person.
    let digits = "4957771234";
    for candidate in [digits, "74957771234", "84957771234", NUMBER] {
        assert_ne!(sha256_hex(candidate), hash);
        assert_ne!(hmac_hex(b"a wrong key of sixteen bytes", candidate), hash);
    }
    let key = std::fs::read_to_string(setup.keys().join("erasure.key")).unwrap();
    assert_eq!(
        hmac_hex(key.trim().as_bytes(), digits),
        hash,
        "the key proves it"
    );
    // Nothing beside the catalog holds the key.
    for entry in std::fs::read_dir(setup.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(key.trim()),
                "{} holds the key",
                path.display()
            );
        }
    }
    assert!(
        !setup
            .dir
            .path()
            .join("telphin-records.sqlite.erasure-key")
            .exists()
    );
    // Without a key, a real erasure is refused before anything is sent, and none is made.
    let mut command = setup.cmd();
    command.env_remove("TELPHIN_ERASURE_KEY_FILE");
    let deletions = setup.sim.counters().route("delete_record");
    let output = command.args(setup.erase_args()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TELPHIN_ERASURE_KEY_FILE"), "{stderr}");
    assert_eq!(setup.sim.counters().route("delete_record"), deletions);
    assert!(
        !setup
            .dir
            .path()
            .join("telphin-records.sqlite.erasure-key")
            .exists()
    );
}

fn hmac_hex(key: &[u8], digits: &str) -> String {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(digits.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
