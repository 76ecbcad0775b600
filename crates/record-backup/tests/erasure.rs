//! Erasure of a person's number, legal holds and the audit log, against the simulator and a
//! directory target: the PBX, the target, the catalog and the manifests keep nothing of the
//! number; tombstones, the act and the audit log prove what went; a held recording stays
//! until its hold is released; tampering with the log is named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod support;

use std::collections::BTreeSet;

use record_backup::{
    ArchiveOptions, Catalog, ErasureOptions, HoldOn, Place, PurgeOptions, SearchQuery, Target,
    check_target_audit, rebuild_catalog,
};
use record_sim::SimConfig;
use support::*;
use telphin_records::chrono::{Duration, TimeZone as _, Utc};

/// The person: written three ways by the PBX.
const PERSON: &str = "+7 (495) 111-22-33";
const WRITTEN: [&str; 3] = ["74951112233", "84951112233", "4951112233"];
/// Numbers that are not the person's.
const OTHERS: [&str; 2] = ["74951112234", "1112233"];

fn small() -> SimConfig {
    SimConfig {
        seed: 977,
        record_count: 300,
        max_file_size: Some(24 << 10),
        ..SimConfig::default()
    }
}

/// Whether an entry has `digits` (the person's last 10) ending one of its number fields.
fn holds_number(entry: &record_backup::CatalogEntry, digits: &str) -> bool {
    let r = &entry.record;
    [
        r.from_username.as_deref(),
        r.to_username.as_deref(),
        r.source_number.as_deref(),
        r.dest_number.as_deref(),
        r.did_number.as_deref(),
        r.ani_number.as_ref().and_then(Option::as_deref),
        r.ext_number_reg.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|n| {
        let d: String = n.chars().filter(char::is_ascii_digit).collect();
        d.ends_with(digits)
    })
}

fn tamper(catalog: &std::path::Path, sql: &str) {
    let connection = rusqlite::Connection::open(catalog).unwrap();
    connection.execute_batch(sql).unwrap();
}

#[test]
fn erasing_a_number_leaves_nothing_of_it_but_tombstones_an_act_and_a_log() {
    let sim = start(small());
    let extension = sim.extensions()[0].id;
    let mut theirs = Vec::new();
    for (i, written) in WRITTEN.iter().enumerate() {
        let day = at(2024, 1 + i as u32, 10) + Duration::hours(9);
        theirs.push(sim.add_call_with(extension, day, written).unwrap().uuid);
    }
    for (i, other) in OTHERS.iter().enumerate() {
        let day = at(2024, 2, 20 + i as u32);
        sim.add_call_with(extension, day, other).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("target");
    let catalog_path = dir.path().join("catalog.sqlite");
    let archive = archive(
        &sim,
        Target::local(&target_dir).unwrap(),
        &catalog_path,
        ArchiveOptions::default().operator("dpo@example"),
    );
    let runtime = runtime();
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    runtime.block_on(archive.verify(pbx(), None)).unwrap();
    // January is purged from the PBX: the archive is its only copy.
    let february = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
    runtime
        .block_on(archive.purge(february, pbx(), PurgeOptions::default()))
        .unwrap();

    // Every record of the person, by the catalog's own fields (a call whose fields the PBX
    // left empty is not theirs to find).
    let matching: BTreeSet<String> = entries(archive.catalog())
        .into_iter()
        .filter(|e| holds_number(e, "4951112233"))
        .map(|e| e.record.record_uuid.to_string())
        .collect();
    assert!(matching.len() >= 2, "{matching:?}");
    assert!(matching.iter().all(|u| theirs.contains(u)), "{matching:?}");
    let found = |catalog: &Catalog| -> BTreeSet<String> {
        support::found(catalog, &SearchQuery::default().number("4951112233"))
            .into_iter()
            .map(|e| e.record.record_uuid.to_string())
            .collect()
    };
    assert_eq!(found(archive.catalog()), matching);
    let before_files = files_under(&target_dir);
    let before_pbx = sim.records().len();

    // A short number names no person: refused before anything is read.
    let options = ErasureOptions::new("GDPR art. 17 request #12", "dpo@example");
    let refused = runtime
        .block_on(archive.erase("2233", pbx(), &options))
        .unwrap_err();
    assert!(refused.to_string().contains("at least 7"), "{refused}");

    // One of them is held.
    let held = matching.iter().next_back().unwrap().clone();
    let hold = archive
        .catalog()
        .add_hold(
            &HoldOn::Recording(held.clone()),
            "dispute 2024-17",
            None,
            "lawyer",
        )
        .unwrap();

    // A dry run changes nothing, and says what would go.
    let audit_before = archive.catalog().audit_len().unwrap();
    let dry = runtime
        .block_on(archive.erase(PERSON, pbx(), &options))
        .unwrap();
    assert!(dry.act.dry_run);
    let would: BTreeSet<String> = dry
        .act
        .records
        .iter()
        .map(|r| r.record_uuid.clone())
        .collect();
    let mut unheld = matching.clone();
    unheld.remove(&held);
    assert_eq!(would, unheld);
    assert_eq!(dry.act.not_destroyed.len(), 1);
    assert!(dry.act.not_destroyed[0].reason.contains("dispute 2024-17"));
    assert_eq!(
        files_under(&target_dir),
        before_files,
        "a dry run touches no object"
    );
    assert_eq!(sim.records().len(), before_pbx);
    assert_eq!(
        sim.counters().route("delete_record"),
        archive.catalog().audit_len().unwrap() - 1
    );
    assert_eq!(archive.catalog().audit_len().unwrap(), audit_before);
    assert_eq!(found(archive.catalog()), matching);

    // A real erasure needs the key of the tombstones' hash.
    let refused = runtime
        .block_on(archive.erase(PERSON, pbx(), &options.clone().dry_run(false)))
        .unwrap_err();
    assert!(refused.to_string().contains("key"), "{refused}");

    let options = options
        .key(b"operator's erasure key".to_vec())
        .dry_run(false);
    let report = runtime
        .block_on(archive.erase(PERSON, pbx(), &options))
        .unwrap();
    let erased: BTreeSet<String> = report
        .act
        .records
        .iter()
        .map(|r| r.record_uuid.clone())
        .collect();
    assert_eq!(erased, unheld, "every unheld recording, once");
    assert!(report.is_partial(), "the held one is not erased");
    assert_eq!(report.act.not_destroyed[0].record_uuid, held);
    for record in &report.act.records {
        assert!(record.destroyed.contains(&Place::Target), "{record:?}");
        assert!(record.destroyed.contains(&Place::Catalog), "{record:?}");
        assert!(record.audit_seq.is_some() && record.audit_hash.is_some());
    }
    // January's recording was off the PBX already; the others were deleted there.
    let on_pbx: BTreeSet<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    for uuid in &unheld {
        assert!(!on_pbx.contains(uuid), "{uuid} is still on the PBX");
    }
    assert!(
        on_pbx.contains(&held)
            || archive
                .catalog()
                .entry(&held)
                .unwrap()
                .unwrap()
                .state
                .deleted_from_pbx_at
                .is_some()
    );
    assert_eq!(found(archive.catalog()), BTreeSet::from([held.clone()]));

    // The tombstones keep no personal data; the hash is the same for each way of writing.
    let mut hashes = BTreeSet::new();
    for uuid in &unheld {
        let tombstone = archive.catalog().tombstone(uuid).unwrap().unwrap();
        assert_eq!(tombstone.reason, "GDPR art. 17 request #12");
        assert_eq!(tombstone.operator, "dpo@example");
        hashes.insert(tombstone.number_hash.clone().unwrap());
        assert!(archive.catalog().entry(uuid).unwrap().is_none());
    }
    assert_eq!(hashes.len(), 1);
    assert!(!hashes.iter().next().unwrap().contains("4951112233"));
    let json = report.act.to_json().unwrap();
    let csv = String::from_utf8(report.act.to_csv().unwrap()).unwrap();
    for uuid in &unheld {
        assert!(
            json.contains(uuid.as_str()) && csv.contains(uuid.as_str()),
            "{uuid}"
        );
    }
    assert!(
        !json.contains("1112233") && !csv.contains("1112233"),
        "the act holds no number"
    );

    // Released, the held one is erased too; then nothing of the number is left anywhere.
    archive.catalog().release_hold(hold.id, "lawyer").unwrap();
    let rest = runtime
        .block_on(archive.erase(PERSON, pbx(), &options))
        .unwrap();
    assert!(!rest.is_partial(), "{:?}", rest.act.not_destroyed);
    assert_eq!(rest.act.records.len(), 1);
    assert!(found(archive.catalog()).is_empty());
    let on_pbx: BTreeSet<String> = sim.records().into_iter().map(|r| r.uuid).collect();
    assert!(matching.iter().all(|u| !on_pbx.contains(u)));
    let files = files_under(&target_dir);
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("4951112233"),
            "{name} still holds the number"
        );
    }
    for uuid in &matching {
        assert!(
            !files
                .keys()
                .any(|name| name.contains(uuid.as_str()) && !name.starts_with("_audit")),
            "{uuid} is still in the target"
        );
    }
    // Nor in the catalog's file: deleted content is zeroed, the write-ahead log emptied.
    for file in ["catalog.sqlite", "catalog.sqlite-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("4951112233") && !text.contains("3322111594"),
            "{file} still holds the number"
        );
    }
    // The other numbers' calls are all still there.
    for other in OTHERS {
        assert!(
            !support::found(archive.catalog(), &SearchQuery::default().number(other)).is_empty(),
            "{other}"
        );
    }

    // The log holds, in the catalog and in the target, and says what happened.
    let check = archive.catalog().check_audit().unwrap();
    assert!(check.holds(), "{check:?}");
    let purged = sim.counters().route("delete_record");
    assert!(purged > 0);
    let target_check = runtime
        .block_on(check_target_audit(archive.target()))
        .unwrap();
    assert!(target_check.holds(), "{target_check:?}");
    assert_eq!(target_check.entries, check.entries);
    assert_eq!(target_check.last_hash, check.last_hash);

    // A catalog rebuilt from the target does not bring an erased record back.
    let (rebuilt, _) = runtime
        .block_on(rebuild_catalog(
            archive.target(),
            dir.path().join("rebuilt.sqlite"),
        ))
        .unwrap();
    assert!(found(&rebuilt).is_empty());
    for uuid in &matching {
        assert!(rebuilt.entry(uuid).unwrap().is_none());
        assert!(rebuilt.tombstone(uuid).unwrap().is_some());
    }
    assert!(rebuilt.check_audit().unwrap().holds());
    assert_eq!(rebuilt.audit_len().unwrap(), check.entries);
    // Listing again does not either.
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    assert!(found(archive.catalog()).is_empty());
    drop(archive);

    // Tampering with one entry is named: edited, removed, moved.
    let copy = |name: &str| {
        let path = dir.path().join(name);
        std::fs::copy(&catalog_path, &path).unwrap();
        path
    };
    let checked = |path: &std::path::Path| Catalog::open(path).unwrap().check_audit().unwrap();
    let edited = copy("edited.sqlite");
    tamper(
        &edited,
        "UPDATE audit SET line = replace(line, '\"operator\":\"dpo@example\"', \
         '\"operator\":\"someone else\"') WHERE seq = 3",
    );
    let broken = checked(&edited).broken.unwrap();
    assert_eq!(broken.seq, 3, "{broken}");
    let removed = copy("removed.sqlite");
    tamper(&removed, "DELETE FROM audit WHERE seq = 2");
    let broken = checked(&removed).broken.unwrap();
    assert_eq!(broken.seq, 2, "{broken}");
    let moved = copy("moved.sqlite");
    tamper(
        &moved,
        "UPDATE audit SET seq = -1 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5; \
         UPDATE audit SET seq = 5 WHERE seq = -1;",
    );
    let broken = checked(&moved).broken.unwrap();
    assert_eq!(broken.seq, 4, "{broken}");
    assert!(broken.reason.contains("entry 5"), "{broken}");

    // The same in the target's copy.
    let segment = std::fs::read_dir(target_dir.join("_audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let original = std::fs::read_to_string(&segment).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.len() >= 3, "{segment:?}");
    let target = Target::local(&target_dir).unwrap();
    let mut edited: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    edited[1] = edited[1].replacen("\"seq\":2,", "\"seq\":2, ", 1);
    std::fs::write(&segment, edited.join("\n")).unwrap();
    let broken = runtime
        .block_on(check_target_audit(&target))
        .unwrap()
        .broken
        .unwrap();
    assert_eq!(broken.seq, 2, "{broken}");
    let mut removed: Vec<&str> = lines.clone();
    removed.remove(0);
    std::fs::write(&segment, removed.join("\n")).unwrap();
    let broken = runtime
        .block_on(check_target_audit(&target))
        .unwrap()
        .broken
        .unwrap();
    assert_eq!(broken.seq, 1, "{broken}");
    std::fs::write(&segment, &original).unwrap();
    assert!(
        runtime
            .block_on(check_target_audit(&target))
            .unwrap()
            .holds()
    );
}
