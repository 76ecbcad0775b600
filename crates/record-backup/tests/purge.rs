//! Purge deletes exactly the verified records older than the cutoff; a dry run deletes
//! nothing; the catalog is rebuilt from the manifests; search; the rate-limit budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod support;

use std::collections::BTreeSet;

use object_store::ObjectStoreExt as _;
use object_store::path::Path as ObjectPath;
use record_backup::{
    ArchiveOptions, Outcome, PurgeOptions, RateBudget, Reserve, SearchQuery, Target,
    WhenReserveReached, rebuild_catalog,
};
use record_sim::SimConfig;
use support::*;
use telphin_records::chrono::{TimeZone as _, Utc};
use telphin_records::{ExtensionId, Period, Scope};

fn small() -> SimConfig {
    SimConfig {
        seed: 31337,
        record_count: 800,
        max_file_size: Some(48 << 10),
        ..SimConfig::default()
    }
}

fn uuids_on_pbx(sim: &record_sim::BlockingSim) -> BTreeSet<String> {
    sim.records().into_iter().map(|r| r.uuid).collect()
}

#[test]
fn purge_deletes_exactly_the_verified_records_older_than_the_cutoff() {
    let sim = start(small());
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("target");
    let archive = archive(
        &sim,
        Target::local(&target_dir).unwrap(),
        &dir.path().join("catalog.sqlite"),
        ArchiveOptions::default(),
    );
    let runtime = runtime();
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();

    // Only January and February are verified; March is kept but never read back.
    let jan_feb = Period::parse("2024-01-01 00:00:00", "2024-03-01 00:00:00").unwrap();
    let verified = runtime
        .block_on(archive.verify(pbx(), Some(jan_feb)))
        .unwrap();
    assert!(verified.all_whole(), "{verified:?}");
    let jan_feb_records = expected(&sim, at(2024, 1, 1), at(2024, 3, 1));
    assert_eq!(verified.checked, jan_feb_records.len() as u64);

    // One verified January object is altered behind the catalog's back after verify: the
    // check right before deletion keeps its record on the PBX.
    // (The last one: the capped purge below deletes the oldest ones first.)
    let altered = jan_feb_records.last().unwrap();
    let altered_key = archive
        .catalog()
        .entry(&altered.uuid)
        .unwrap()
        .unwrap()
        .state
        .object_key
        .unwrap();
    std::fs::write(target_dir.join(&altered_key), b"not the recording").unwrap();

    // The cutoff is in March: every verified record is older, no March record may go.
    let cutoff = Utc.with_ymd_and_hms(2024, 3, 20, 0, 0, 0).unwrap();
    let before = uuids_on_pbx(&sim);
    let dry = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default().dry_run(true)))
        .unwrap();
    assert_eq!(uuids_on_pbx(&sim), before, "a dry run deletes nothing");
    assert_eq!(sim.counters().route("delete_record"), 0);
    let would: BTreeSet<String> = found(archive.catalog(), &SearchQuery::purgeable(cutoff))
        .iter()
        .map(|e| e.record.record_uuid.to_string())
        .collect();
    let want: BTreeSet<String> = jan_feb_records.iter().map(|r| r.uuid.clone()).collect();
    assert_eq!(
        would, want,
        "what purge would delete: the verified records before the cutoff"
    );
    assert_eq!(dry.would_delete, want.len() as u64, "a dry run counts them");

    // A cap stops after that many deletions.
    let capped = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default().max_deletions(5)))
        .unwrap();
    assert_eq!(capped.deleted, 5);
    assert_eq!(before.len() - uuids_on_pbx(&sim).len(), 5);

    let purged = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default()))
        .unwrap();
    assert_eq!(purged.not_kept, 1, "{} deleted", purged.deleted);
    let gone: BTreeSet<String> = before.difference(&uuids_on_pbx(&sim)).cloned().collect();
    let mut want_gone = want.clone();
    want_gone.remove(&altered.uuid);
    assert_eq!(
        gone, want_gone,
        "exactly the verified, whole records before the cutoff"
    );
    assert_eq!(capped.deleted + purged.deleted, want_gone.len() as u64);
    assert_eq!(
        sim.counters().route("delete_record"),
        want_gone.len() as u64,
        "one request per record, no range delete"
    );
    assert_eq!(sim.counters().route("delete_records"), 0);
    let altered_entry = archive.catalog().entry(&altered.uuid).unwrap().unwrap();
    assert!(!altered_entry.state.is_kept());
    assert!(altered_entry.state.deleted_from_pbx_at.is_none());
    for uuid in &want_gone {
        let entry = archive.catalog().entry(uuid).unwrap().unwrap();
        assert!(entry.state.deleted_from_pbx_at.is_some(), "{uuid}");
    }

    // A record someone else deleted already counts as gone, and nothing breaks.
    let march = expected(&sim, at(2024, 3, 1), at(2024, 3, 20));
    runtime.block_on(archive.verify(pbx(), None)).unwrap();
    assert!(sim.remove_record(&march[0].uuid));
    let late = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default()))
        .unwrap();
    assert_eq!(late.already_gone, 1, "{late:?}");
    assert_eq!(late.deleted, march.len() as u64 - 1);

    // The catalog rebuilt from the target's manifests alone equals the original's kept part.
    let (rebuilt, restored) = runtime
        .block_on(rebuild_catalog(
            archive.target(),
            dir.path().join("rebuilt.sqlite"),
        ))
        .unwrap();
    let kept = |catalog: &record_backup::Catalog| {
        entries(catalog)
            .into_iter()
            .filter(|e| e.state.is_kept())
            .collect::<Vec<_>>()
    };
    let original = kept(archive.catalog());
    assert_eq!(restored, original.len() as u64);
    assert_eq!(kept(&rebuilt), original);
}

#[test]
fn search_finds_calls_by_number_extension_flow_result_and_duration() {
    let sim = start(small());
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(
        &sim,
        Target::local(dir.path().join("target")).unwrap(),
        &dir.path().join("catalog.sqlite"),
        ArchiveOptions::default(),
    );
    runtime()
        .block_on(archive.backup(pbx(), quarter()))
        .unwrap();
    let all = entries(archive.catalog());
    let catalog = archive.catalog();

    // By number, written any way: the digits count.
    let with_number = all
        .iter()
        .find(|e| {
            e.record
                .from_username
                .as_deref()
                .is_some_and(|n| n.len() >= 10)
        })
        .unwrap();
    let number = with_number.record.from_username.clone().unwrap();
    let spaced = format!("+{} ({}) {}", &number[..1], &number[1..4], &number[4..]);
    let by_number = found(catalog, &SearchQuery::default().number(&spaced));
    assert!(
        by_number
            .iter()
            .any(|e| e.record.record_uuid == with_number.record.record_uuid)
    );
    for entry in &by_number {
        let r = &entry.record;
        let fields = [
            r.from_username.as_deref(),
            r.to_username.as_deref(),
            r.source_number.as_deref(),
            r.dest_number.as_deref(),
            r.did_number.as_deref(),
            r.ani_number.as_ref().and_then(|a| a.as_deref()),
            r.ext_number_reg.as_deref(),
        ];
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        assert!(
            fields
                .iter()
                .flatten()
                .any(|f| digits(f).ends_with(&number)),
            "{r:?}"
        );
    }

    // By extension, flow, result and duration: the same as filtering every entry by hand.
    let feb = Period::month(2024, 2).unwrap();
    let example = all
        .iter()
        .find(|e| {
            let r = &e.record;
            feb.contains(r.init_time_gmt.instant())
                && r.flow.to_string() == "in"
                && r.result.to_string() == "answered"
                && r.duration >= 30
        })
        .unwrap();
    let extension = example.record.extension_id;
    let query = SearchQuery::default()
        .scope(Scope::Extension(extension))
        .flow("in")
        .result("answered")
        .min_duration(30)
        .period(Period::month(2024, 2).unwrap());
    let by_criteria: Vec<String> = found(catalog, &query.clone().page_size(3))
        .into_iter()
        .map(|e| e.record.record_uuid.to_string())
        .collect();
    let by_hand: Vec<String> = all
        .iter()
        .filter(|e| {
            let r = &e.record;
            r.extension_id == extension
                && r.flow.to_string() == "in"
                && r.result.to_string() == "answered"
                && r.duration >= 30
                && feb.contains(r.init_time_gmt.instant())
        })
        .map(|e| e.record.record_uuid.to_string())
        .collect();
    assert!(!by_hand.is_empty());
    assert_eq!(by_criteria, by_hand, "in pages of 3");
    assert_eq!(
        catalog.search(&query).unwrap().total().unwrap(),
        by_hand.len() as u64
    );
    let one = SearchQuery::default()
        .scope(Scope::Extension(ExtensionId::new(1)))
        .limit(3);
    assert!(found(catalog, &one).is_empty());
    assert!(
        catalog
            .search(&SearchQuery::default().number("no digits"))
            .is_err()
    );
}

#[test]
fn the_budget_stops_the_backup_with_a_resume_time_and_a_later_run_finishes() {
    let sim = start(SimConfig {
        rate_limit: 150,
        ..small()
    });
    let dir = tempfile::tempdir().unwrap();
    let budget = RateBudget::new(Reserve::Requests(20), WhenReserveReached::Stop);
    let options = ArchiveOptions::default().budget(budget);
    let target = Target::local(dir.path().join("target")).unwrap();
    let catalog = dir.path().join("catalog.sqlite");
    let archive = archive(&sim, target.clone(), &catalog, options.clone());
    let want = expected(&sim, at(2024, 1, 1), at(2024, 4, 1)).len() as u64;
    let runtime = runtime();
    let first = runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    let Outcome::Paused { resume_after } = first.outcome else {
        panic!("the budget did not stop the run: {first:?}");
    };
    assert!(resume_after.as_secs() > 0 && resume_after.as_secs() <= 3600);
    assert!(first.stored > 0 && first.stored < want, "{first:?}");
    assert_eq!(first.failed, 0);
    // The reserve was left to the others: the API never refused a request, and what is left
    // of the limit is at least the reserve less the requests that were under way.
    assert_eq!(sim.counters().status(429), 0);
    let left = archive
        .client()
        .last_rate_limit()
        .and_then(|r| r.remaining)
        .unwrap();
    assert!(left + 8 >= 20, "{left} requests left");

    // The hour passes; the next run finishes the job without transferring a file twice.
    sim.reset_rate_limits();
    let second = support::archive(&sim, target, &catalog, options);
    let report = runtime.block_on(second.backup(pbx(), quarter())).unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:?}");
    assert_eq!(report.already_kept, first.stored);
    assert_eq!(first.stored + report.stored, want);
    assert_eq!(sim.counters().route("storage_file"), want);
}

#[test]
fn an_object_deleted_behind_the_catalogs_back_is_downloaded_again() {
    let sim = start(small());
    let dir = tempfile::tempdir().unwrap();
    let target = Target::local(dir.path().join("target")).unwrap();
    let archive = archive(
        &sim,
        target.clone(),
        &dir.path().join("catalog.sqlite"),
        ArchiveOptions::default(),
    );
    let runtime = runtime();
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    let victim = entries(archive.catalog()).remove(10);
    let key = victim.state.object_key.clone().unwrap();
    runtime
        .block_on(target.store().delete(&ObjectPath::parse(&key).unwrap()))
        .unwrap();
    let checked = runtime.block_on(archive.verify(pbx(), None)).unwrap();
    assert_eq!((checked.missing, checked.altered), (1, 0), "{checked:?}");
    let entry = archive
        .catalog()
        .entry(victim.record.record_uuid.as_str())
        .unwrap()
        .unwrap();
    assert!(!entry.state.is_kept());
    assert!(entry.state.last_error.unwrap().contains("missing"));
    // Never purged while not kept.
    let cutoff = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let dry = runtime
        .block_on(archive.purge(cutoff, pbx(), PurgeOptions::default().dry_run(true)))
        .unwrap();
    let purgeable = found(archive.catalog(), &SearchQuery::purgeable(cutoff));
    assert_eq!(dry.would_delete, purgeable.len() as u64);
    assert!(
        !purgeable
            .iter()
            .any(|e| e.record.record_uuid == victim.record.record_uuid)
    );
    // The next backup downloads it again, and only it.
    let again = runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    assert_eq!(again.stored, 1, "{again:?}");
    let bytes = std::fs::read(dir.path().join("target").join(&key)).unwrap();
    assert!(bytes == sim.file_bytes(victim.record.record_uuid.as_str()).unwrap());
}
