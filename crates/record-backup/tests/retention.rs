//! The retention policy against the simulator and a directory target: exactly the records past
//! each period go — boundaries at the last hundredth of a second before local midnight in the
//! policy's time zone — per extension where a rule says so; a held number survives until its
//! hold is released; a dry run changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod support;

use std::collections::{BTreeMap, BTreeSet};

use record_backup::{ArchiveOptions, HoldOn, RetentionPolicy, RetentionRule, Target};
use record_sim::SimConfig;
use support::*;
use telphin_records::chrono::{DateTime, Duration, NaiveDateTime, TimeZone as _, Utc};

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

#[test]
fn retention_destroys_exactly_what_is_past_each_period_and_spares_what_is_held() {
    let sim = start(SimConfig {
        seed: 5150,
        record_count: 400,
        max_file_size: Some(16 << 10),
        ..SimConfig::default()
    });
    let extensions: Vec<u64> = sim.extensions().iter().map(|e| e.id).collect();
    let (short, plain) = (extensions[0], extensions[1]);

    // As of 15 February 2027, 22:00 in Vladivostok (UTC+10, no clock changes).
    let tz: record_backup::chrono_tz::Tz = "Asia/Vladivostok".parse().unwrap();
    let now = Utc.with_ymd_and_hms(2027, 2, 15, 12, 0, 0).unwrap();
    let archive_cutoff = tz
        .with_ymd_and_hms(2024, 2, 15, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let pbx_cutoff = tz
        .with_ymd_and_hms(2024, 3, 10, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let days = (tz.with_ymd_and_hms(2027, 2, 15, 0, 0, 0).unwrap()
        - tz.with_ymd_and_hms(2024, 3, 10, 0, 0, 0).unwrap())
    .num_days();
    let mut policy = RetentionPolicy::default();
    policy.tz = Some("Asia/Vladivostok".to_owned());
    policy.keep_on_pbx_days = Some(u32::try_from(days).unwrap());
    policy.keep_in_archive_years = Some(3);
    let mut rule = RetentionRule::default();
    rule.extension = Some(short);
    rule.keep_on_pbx_days = Some(30);
    rule.keep_in_archive_years = Some(2);
    policy.rules.push(rule);
    let passes = policy.passes(now).unwrap();
    let default = passes.iter().find(|p| p.label == "default").unwrap();
    assert_eq!(default.archive_cutoff, Some(archive_cutoff));
    assert_eq!(default.pbx_cutoff, Some(pbx_cutoff));

    // The last hundredth of a second of the last day past, and the first of the next.
    let hundredth = Duration::milliseconds(10);
    let edge = |at: DateTime<Utc>| sim.add_record(plain, naive(at)).unwrap().uuid;
    let last_expired = edge(archive_cutoff - hundredth);
    let first_archived = edge(archive_cutoff);
    let last_purged = edge(pbx_cutoff - hundredth);
    let first_on_pbx = edge(pbx_cutoff);
    let held = sim
        .add_call_with(
            plain,
            naive(archive_cutoff - Duration::days(20)),
            "+7 495 765-43-21",
        )
        .unwrap()
        .uuid;

    let dir = tempfile::tempdir().unwrap();
    let archive = archive(
        &sim,
        Target::local(dir.path().join("target")).unwrap(),
        &dir.path().join("catalog.sqlite"),
        ArchiveOptions::default().operator("retention@example"),
    );
    let runtime = runtime();
    runtime.block_on(archive.backup(pbx(), quarter())).unwrap();
    assert!(
        runtime
            .block_on(archive.verify(pbx(), None))
            .unwrap()
            .all_whole()
    );
    let hold = archive
        .catalog()
        .add_hold(
            &HoldOn::Number("84957654321".to_owned()),
            "tax inspection 2027/4",
            None,
            "lawyer",
        )
        .unwrap();
    assert!(
        !archive
            .catalog()
            .holds_on(&held, Utc::now())
            .unwrap()
            .is_empty(),
        "the number hold covers the call"
    );

    // The first quarter of 2024, which the archive holds.
    let in_quarter = |r: &record_sim::SimRecord| r.init_time < at(2024, 4, 1);
    let records: BTreeMap<String, (DateTime<Utc>, u64)> = sim
        .records()
        .into_iter()
        .filter(in_quarter)
        .map(|r| (r.uuid, (r.init_time.and_utc(), r.extension_id)))
        .collect();
    let expires = |uuid: &str| {
        let (at, extension) = records[uuid];
        uuid != held && (extension == short || at < archive_cutoff)
    };
    let purged = |uuid: &str| uuid != held && records[uuid].0 < pbx_cutoff;

    // A dry run counts and changes nothing.
    let audit = archive.catalog().audit_len().unwrap();
    let dry = runtime
        .block_on(archive.apply_retention(&policy, pbx(), true, now))
        .unwrap();
    let would_expire: u64 = dry.passes.iter().map(|p| p.expired).sum();
    assert_eq!(
        would_expire,
        records.keys().filter(|u| expires(u)).count() as u64
    );
    assert_eq!(
        sim.records().into_iter().filter(in_quarter).count(),
        records.len()
    );
    assert_eq!(archive.catalog().audit_len().unwrap(), audit);
    assert_eq!(entries(archive.catalog()).len(), records.len());

    let report = runtime
        .block_on(archive.apply_retention(&policy, pbx(), false, now))
        .unwrap();
    assert_eq!(
        report.passes.iter().map(|p| p.held).sum::<u64>(),
        2,
        "held past both periods"
    );
    let on_pbx: BTreeSet<String> = sim
        .records()
        .into_iter()
        .filter(in_quarter)
        .map(|r| r.uuid)
        .collect();
    let want_on_pbx: BTreeSet<String> = records
        .keys()
        .filter(|u| !expires(u) && !purged(u))
        .cloned()
        .collect();
    assert_eq!(
        on_pbx, want_on_pbx,
        "the PBX keeps exactly what is in its period"
    );
    let catalogued: BTreeMap<String, bool> = entries(archive.catalog())
        .into_iter()
        .map(|e| {
            (
                e.record.record_uuid.to_string(),
                e.state.deleted_from_pbx_at.is_some(),
            )
        })
        .collect();
    let want_catalogued: BTreeMap<String, bool> = records
        .keys()
        .filter(|u| !expires(u))
        .map(|u| (u.clone(), purged(u)))
        .collect();
    assert_eq!(
        catalogued, want_catalogued,
        "the archive keeps exactly the rest"
    );
    assert!(!catalogued.contains_key(&last_expired));
    assert_eq!(catalogued.get(&first_archived), Some(&true));
    assert_eq!(catalogued.get(&last_purged), Some(&true));
    assert_eq!(catalogued.get(&first_on_pbx), Some(&false));
    assert_eq!(catalogued.get(&held), Some(&false));

    let act = report.act.unwrap();
    let destroyed = records.keys().filter(|u| expires(u)).count();
    assert_eq!(act.records.len(), destroyed);
    assert_eq!(
        archive.catalog().tombstone_count().unwrap() as usize,
        destroyed
    );
    let tombstone = archive.catalog().tombstone(&last_expired).unwrap().unwrap();
    assert!(tombstone.reason.contains("3 years"), "{}", tombstone.reason);
    assert!(tombstone.number_hash.is_none());
    assert!(archive.catalog().check_audit().unwrap().holds());

    // The held number survives its erasure too, refused with the hold's reason.
    let erasure = record_backup::ErasureOptions::new("request 5", "dpo")
        .key(b"key".to_vec())
        .dry_run(false);
    let refused = runtime
        .block_on(archive.erase("+7 495 765-43-21", pbx(), &erasure))
        .unwrap();
    assert!(refused.act.records.is_empty());
    assert_eq!(refused.act.not_destroyed.len(), 1);
    assert!(
        refused.act.not_destroyed[0]
            .reason
            .contains("tax inspection 2027/4")
    );
    assert!(archive.catalog().entry(&held).unwrap().is_some());
    assert!(sim.records().iter().any(|r| r.uuid == held));
    let again = runtime
        .block_on(archive.apply_retention(&policy, pbx(), false, now))
        .unwrap();
    assert!(again.act.is_none(), "nothing more is past, or not held");

    // Once released, it is erased.
    archive.catalog().release_hold(hold.id, "lawyer").unwrap();
    let erased = runtime
        .block_on(archive.erase("+7 495 765-43-21", pbx(), &erasure))
        .unwrap();
    assert!(!erased.is_partial(), "{:?}", erased.act.not_destroyed);
    assert_eq!(erased.act.records.len(), 1);
    assert!(archive.catalog().entry(&held).unwrap().is_none());
    assert!(!sim.records().iter().any(|r| r.uuid == held));
    let after = runtime
        .block_on(archive.apply_retention(&policy, pbx(), false, now))
        .unwrap();
    assert!(after.act.is_none());
    let check = archive.catalog().check_audit().unwrap();
    assert!(check.holds(), "{check:?}");
    let target = runtime
        .block_on(record_backup::check_target_audit(archive.target()))
        .unwrap();
    assert_eq!(target.last_hash, check.last_hash);

    // An archive told to stop (a service shutting down) destroys nothing more, and says so.
    let left = entries(archive.catalog()).len();
    archive.stop_destroying();
    let mut all = RetentionPolicy::default();
    all.keep_in_archive_years = Some(1);
    let stopped = runtime
        .block_on(archive.apply_retention(&all, pbx(), false, now))
        .unwrap();
    assert!(stopped.passes.iter().any(|p| p.more), "{stopped:?}");
    assert!(stopped.act.is_none());
    assert_eq!(entries(archive.catalog()).len(), left);
}

#[test]
fn a_policy_that_cannot_be_applied_is_refused_with_its_reason() {
    let parse = |json: &str| serde_json::from_str::<RetentionPolicy>(json);
    let refused = |json: &str| parse(json).unwrap().check().unwrap_err().to_string();
    assert!(refused(r#"{"tz": "Mars/Olympus"}"#).contains("not a time zone"));
    assert!(refused(r#"{"keep_on_pbx_days": 0}"#).contains("0"));
    assert!(
        refused(r#"{"keep_on_pbx_days": 800, "keep_in_archive_years": 2}"#).contains("end before")
    );
    assert!(
        refused(r#"{"rule": [{"extension": 1, "group": 2, "keep_on_pbx_days": 3}]}"#)
            .contains("not both")
    );
    assert!(refused(r#"{"rule": [{"extension": 1}, {"extension": 1}]}"#).contains("two rules"));
    assert!(
        parse(r#"{"keep_days": 3}"#).is_err(),
        "unknown keys are refused"
    );
}
