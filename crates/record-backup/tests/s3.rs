//! Backup into a real S3-compatible server on loopback (moto's server mode, started here),
//! a multipart upload among the files; verify finds objects deleted or altered behind the
//! catalog's back, and purge then keeps their records on the PBX.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod support;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt as _, PutPayload};
use record_backup::{ArchiveOptions, Outcome, PART_SIZE, Progress, PurgeOptions, Target};
use record_sim::{Fault, SimConfig};
use support::*;
use telphin_records::Period;
use telphin_records::chrono::{TimeZone as _, Utc};

/// moto's S3 server on a free loopback port; stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        // One start at a time: a free port is found by binding and releasing it, so two
        // servers starting at once could be given the same one.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with moto[server] (`.ci/run` installs it)");
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        // Readiness, not timing: wait until it accepts connections (or has exited).
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto's server exited ({status}); is moto[server] installed?");
            }
            assert!(Instant::now() < deadline, "moto's server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// A new bucket, by S3's `CreateBucket` (moto takes unsigned requests).
    async fn bucket(&self, name: &str) {
        let answer = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    }

    /// The multipart uploads of `bucket` begun and neither completed nor aborted.
    async fn unfinished_uploads(&self, bucket: &str) -> usize {
        let text = reqwest::Client::new()
            .get(format!("{}/{bucket}?uploads", self.endpoint))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains("ListMultipartUploadsResult"), "{text}");
        text.matches("<UploadId>").count()
    }

    fn target(&self, bucket: &str) -> Target {
        Target::from_url(
            &format!("s3://{bucket}/pbx-main"),
            [
                ("aws_endpoint", self.endpoint.as_str()),
                ("aws_allow_http", "true"),
                ("aws_region", "us-east-1"),
                ("aws_access_key_id", "testing"),
                ("aws_secret_access_key", "testing"),
            ],
        )
        .unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_month_into_s3_with_a_multipart_file_verified_and_purged_safely() {
    let huge = 2 * PART_SIZE as u64 + 123_457;
    let sim = start(SimConfig {
        seed: 909,
        record_count: 800,
        max_file_size: Some(64 << 10),
        huge_file_size: Some(huge),
        ..SimConfig::default()
    });
    let huge_uuid = sim.huge_record_uuid().unwrap().to_owned();
    // The huge file's first download breaks after 2 parts' worth of bytes (the client sees
    // fewer: a connection reset drops what is still in its socket): that upload is aborted.
    sim.inject(
        Some("storage_file"),
        Fault::DropAfter(PART_SIZE as u64 * 2),
        1,
    );
    let moto = Moto::start();
    let runtime = runtime();
    runtime.block_on(moto.bucket("recordings"));
    let target = moto.target("recordings");
    let dir = tempfile::tempdir().unwrap();
    // One file at a time from the huge one (at noon on June 15th), so that it gets the
    // injected fault.
    let restarts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&restarts);
    let options = ArchiveOptions::default()
        .concurrency(1)
        .on_progress(move |event| {
            if let Progress::Restarted {
                record_uuid,
                discarded_bytes,
            } = event
            {
                seen.lock().unwrap().push((record_uuid, discarded_bytes));
            }
        });
    let archive = archive(&sim, target.clone(), &dir.path().join("c.sqlite"), options);
    let june = Period::parse("2024-06-15 12:00:00", "2024-07-01 00:00:00").unwrap();
    let noon = at(2024, 6, 15) + telphin_records::chrono::Duration::hours(12);
    let want = expected(&sim, noon, at(2024, 7, 1));
    assert_eq!(want[0].uuid, huge_uuid);

    let report = runtime.block_on(archive.backup(pbx(), june)).unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    assert_eq!(
        (report.stored, report.failed),
        (want.len() as u64, 0),
        "{report:?}"
    );
    // The huge file's first try broke midway, after its first part had gone up (how much of
    // the rest arrived before the break depends on buffering).
    let restarts = restarts.lock().unwrap().clone();
    assert_eq!(restarts.len(), 1, "{restarts:?}");
    assert_eq!(restarts[0].0, huge_uuid);
    assert!(
        (PART_SIZE as u64..=PART_SIZE as u64 * 2).contains(&restarts[0].1),
        "{restarts:?}"
    );
    // Its first multipart upload was aborted, the second completed: none is left over.
    assert_eq!(runtime.block_on(moto.unfinished_uploads("recordings")), 0);

    // Every object byte for byte; the huge one went up in parts (its ETag says how many).
    let store = target.store();
    let mut keys = BTreeSet::new();
    for record in &want {
        let key = archive
            .catalog()
            .entry(&record.uuid)
            .unwrap()
            .unwrap()
            .state
            .object_key
            .unwrap();
        let path = ObjectPath::parse(&key).unwrap();
        let bytes =
            runtime.block_on(async { store.get(&path).await.unwrap().bytes().await.unwrap() });
        assert!(
            bytes.as_ref() == sim.file_bytes(&record.uuid).unwrap().as_slice(),
            "{key}"
        );
        if record.uuid == huge_uuid {
            let meta = runtime.block_on(store.head(&path)).unwrap();
            assert_eq!(meta.size, huge);
            assert!(meta.e_tag.unwrap().ends_with("-3\""), "a multipart ETag");
            // A ranged read (the web page's seek) across a part boundary: exactly those bytes,
            // one S3 Range GET.
            let range = PART_SIZE as u64 - 1000..PART_SIZE as u64 + 5000;
            let got = runtime.block_on(async {
                let mut stream = target
                    .read_range(&key, range.clone())
                    .await
                    .unwrap()
                    .unwrap();
                let mut got = Vec::new();
                while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                    got.extend_from_slice(&chunk.unwrap());
                }
                got
            });
            let whole = sim.file_bytes(&record.uuid).unwrap();
            assert!(got == whole[range.start as usize..range.end as usize]);
            assert!(
                runtime
                    .block_on(target.read_range("no/such/object", 0..10))
                    .unwrap()
                    .is_none()
            );
        }
        keys.insert(key);
    }
    assert_eq!(keys.len(), want.len());

    let verified = runtime.block_on(archive.verify(pbx(), None)).unwrap();
    assert!(verified.all_whole());
    assert_eq!(verified.checked, want.len() as u64);

    // Behind the catalog's back: one object deleted, one rewritten with other bytes of the
    // same size.
    let entry = |uuid: &str| archive.catalog().entry(uuid).unwrap().unwrap();
    let (deleted, altered) = (&want[1], &want[2]);
    let deleted_key = ObjectPath::parse(entry(&deleted.uuid).state.object_key.unwrap()).unwrap();
    let altered_key = ObjectPath::parse(entry(&altered.uuid).state.object_key.unwrap()).unwrap();
    runtime.block_on(store.delete(&deleted_key)).unwrap();
    let same_size = vec![0x55u8; altered.size as usize];
    runtime
        .block_on(store.put(&altered_key, PutPayload::from(same_size)))
        .unwrap();
    let found = runtime.block_on(archive.verify(pbx(), None)).unwrap();
    assert_eq!((found.missing, found.altered), (1, 1), "{found:?}");
    assert!(!entry(&deleted.uuid).state.is_kept());
    assert!(!entry(&altered.uuid).state.is_kept());

    // Purge everything older than July: all of the period but those two.
    let cutoff = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
    let purged = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default()))
        .unwrap();
    assert_eq!(purged.deleted, want.len() as u64 - 2);
    let left: BTreeSet<String> = expected(&sim, noon, at(2024, 7, 1))
        .into_iter()
        .map(|r| r.uuid)
        .collect();
    assert_eq!(
        left,
        BTreeSet::from([deleted.uuid.clone(), altered.uuid.clone()])
    );

    // The next backup keeps the two again from the PBX, which still has them.
    let again = runtime.block_on(archive.backup(pbx(), june)).unwrap();
    assert_eq!(again.stored, 2, "{again:?}");
    let bytes = runtime.block_on(async {
        store
            .get(&altered_key)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    assert!(bytes.as_ref() == sim.file_bytes(&altered.uuid).unwrap().as_slice());
}

#[test]
fn the_faulty_quarter_goes_into_s3_byte_for_byte_and_a_rerun_transfers_nothing() {
    let sim = start(faulty());
    let moto = Moto::start();
    let runtime = runtime();
    runtime.block_on(moto.bucket("quarter"));
    let target = moto.target("quarter");
    let dir = tempfile::tempdir().unwrap();
    // One download in ten breaks: eight tries per file.
    let options = ArchiveOptions::default().attempts(8);
    let archive = archive(&sim, target.clone(), &dir.path().join("c.sqlite"), options);
    let want = expected(&sim, at(2024, 1, 1), at(2024, 4, 1)).len() as u64;

    let report = runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    assert_eq!((report.stored, report.failed), (want, 0), "{report:?}");
    assert_quarter_kept(&sim, &target, archive.catalog(), &runtime);
    assert_eq!(runtime.block_on(moto.unfinished_uploads("quarter")), 0);
    let verified = runtime.block_on(archive.verify(pbx(), None)).unwrap();
    assert!(
        verified.all_whole() && verified.checked == want,
        "{verified:?}"
    );

    let files = sim.counters().route("storage_file") + sim.counters().route("download_record");
    let again = runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    assert_eq!((again.stored, again.already_kept), (0, want), "{again:?}");
    assert_eq!(
        sim.counters().route("storage_file") + sim.counters().route("download_record"),
        files
    );
}

/// Every object name in `bucket` and whether its bytes hold `needle`.
fn objects_holding(
    target: &Target,
    runtime: &tokio::runtime::Runtime,
    needle: &str,
) -> Vec<(String, bool)> {
    let store = target.store();
    runtime.block_on(async {
        let names: Vec<String> = store
            .list(None)
            .map(|meta| meta.unwrap().location.to_string())
            .collect()
            .await;
        let mut found = Vec::new();
        for name in names {
            let path = object_store::path::Path::parse(&name).unwrap();
            let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
            let holds = String::from_utf8_lossy(&bytes).contains(needle);
            found.push((name, holds));
        }
        found
    })
}

#[test]
fn erasure_and_expiry_in_s3_leave_no_object_and_no_manifest_line_of_what_they_destroy() {
    let sim = start(SimConfig {
        seed: 4711,
        record_count: 200,
        max_file_size: Some(16 << 10),
        ..SimConfig::default()
    });
    let extension = sim.extensions()[1].id;
    let mut theirs = Vec::new();
    for (month, written) in [
        (1, "+7 495 222-33-44"),
        (2, "8 (495) 222-33-44"),
        (3, "74952223344"),
    ] {
        let when = at(2024, month, 5) + telphin_records::chrono::Duration::hours(11);
        theirs.push(sim.add_call_with(extension, when, written).unwrap().uuid);
    }
    let moto = Moto::start();
    let runtime = runtime();
    runtime.block_on(moto.bucket("erasure"));
    let target = moto.target("erasure");
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(
        &sim,
        target.clone(),
        &dir.path().join("c.sqlite"),
        ArchiveOptions::default().operator("dpo"),
    );
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    let search = || {
        found(
            archive.catalog(),
            &record_backup::SearchQuery::default().number("4952223344"),
        )
    };
    let matching: Vec<String> = search()
        .iter()
        .map(|e| e.record.record_uuid.to_string())
        .collect();
    assert!(!matching.is_empty() && matching.iter().all(|u| theirs.contains(u)));
    let keys: Vec<String> = search()
        .iter()
        .map(|e| e.state.object_key.clone().unwrap())
        .collect();
    assert!(
        objects_holding(&target, &runtime, "4952223344")
            .iter()
            .any(|(name, holds)| *holds && name.starts_with("_manifest/")),
        "the manifests held the number before"
    );

    let options = record_backup::ErasureOptions::new("subject access request 9", "dpo")
        .key(b"key".to_vec())
        .dry_run(false);
    let report = runtime
        .block_on(archive.erase("8 495 222 33 44", pbx(), &options))
        .unwrap();
    assert!(!report.is_partial(), "{:?}", report.act.not_destroyed);
    assert_eq!(report.act.records.len(), matching.len());
    assert!(search().is_empty());
    let on_pbx: Vec<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    assert!(matching.iter().all(|u| !on_pbx.contains(u)));
    let objects = objects_holding(&target, &runtime, "4952223344");
    for key in &keys {
        assert!(
            !objects.iter().any(|(name, _)| name == key),
            "{key} is left"
        );
    }
    let holding: Vec<&String> = objects
        .iter()
        .filter(|(_, holds)| *holds)
        .map(|(name, _)| name)
        .collect();
    assert!(holding.is_empty(), "{holding:?} still hold the number");
    assert!(objects.iter().any(|(name, _)| name.starts_with("_audit/")));
    let check = runtime
        .block_on(record_backup::check_target_audit(&target))
        .unwrap();
    assert!(check.holds(), "{check:?}");
    assert_eq!(check.entries, matching.len() as u64);

    // The retention policy as of 1 March 2027: three years in the archive (UTC midnights),
    // so January and February 2024 are destroyed, their objects and manifests with them.
    let mut policy = record_backup::RetentionPolicy::default();
    policy.keep_in_archive_years = Some(3);
    let now = Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap();
    let before_march: Vec<(String, String)> = found(
        archive.catalog(),
        &record_backup::SearchQuery::default()
            .before(Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()),
    )
    .into_iter()
    .map(|e| {
        (
            e.record.record_uuid.to_string(),
            e.state.object_key.clone().unwrap(),
        )
    })
    .collect();
    assert!(!before_march.is_empty());
    let report = runtime
        .block_on(archive.apply_retention(&policy, pbx(), false, now))
        .unwrap();
    let act = report.act.unwrap();
    assert_eq!(act.records.len(), before_march.len());
    runtime.block_on(act.store(&target)).unwrap();
    let names: Vec<String> = objects_holding(&target, &runtime, "")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for (uuid, key) in &before_march {
        assert!(!names.contains(key), "{key} is left");
        assert!(archive.catalog().tombstone(uuid).unwrap().is_some());
    }
    assert!(
        !names
            .iter()
            .any(|n| n == "_manifest/2024-01.jsonl" || n == "_manifest/2024-02.jsonl")
    );
    assert!(names.iter().any(|n| n == "_manifest/2024-03.jsonl"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("_acts/expire-") && n.ends_with(".csv"))
    );
    let check = runtime
        .block_on(record_backup::check_target_audit(&target))
        .unwrap();
    assert!(check.holds(), "{check:?}");
    assert_eq!(check.entries, (matching.len() + before_march.len()) as u64);
}
