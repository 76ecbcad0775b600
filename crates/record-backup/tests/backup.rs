//! Backup of a quarter from the simulator into a local directory: through faults, rerun,
//! aborted midway and restarted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use record_backup::{ArchiveOptions, Catalog, Outcome, Progress, Target};
use record_sim::SimConfig;
use support::*;
use telphin_records::{ClientBuilder, Credentials};

/// The quarter is kept in the directory, and no stray file (a staged upload) is left beside.
fn assert_kept(sim: &record_sim::BlockingSim, dir: &std::path::Path, catalog: &Catalog) {
    assert_quarter_kept(sim, &Target::local(dir).unwrap(), catalog, &runtime());
    let keys: BTreeSet<String> = entries(catalog)
        .into_iter()
        .filter_map(|e| e.state.object_key)
        .collect();
    for name in files_under(dir).keys() {
        assert!(
            keys.contains(name) || name.starts_with("_manifest/"),
            "stray file {name}"
        );
    }
}

#[test]
fn a_quarter_survives_faults_and_a_rerun_transfers_nothing() {
    let sim = start(faulty());
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("target");
    let catalog_path = dir.path().join("catalog.sqlite");
    let want = expected(&sim, at(2024, 1, 1), at(2024, 4, 1));
    assert!(want.len() > 250, "{} records", want.len());
    let transferred = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&transferred);
    // One download in ten breaks: eight tries make a file that fails every time unlikely
    // (0.14⁸ per file).
    let options = ArchiveOptions::default()
        .attempts(8)
        .on_progress(move |event| {
            if let Progress::Transferred { bytes } = event {
                seen.fetch_add(bytes, Ordering::Relaxed);
            }
        });
    let archive = archive(
        &sim,
        Target::local(&target_dir).unwrap(),
        &catalog_path,
        options,
    );
    let report = runtime()
        .block_on(archive.backup(pbx(), quarter()))
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    let errors: Vec<String> = entries(archive.catalog())
        .into_iter()
        .filter_map(|e| e.state.last_error)
        .collect();
    assert_eq!(report.failed, 0, "{report:?}: {errors:?}");
    assert_eq!(report.listed, want.len() as u64);
    assert_eq!(report.stored, want.len() as u64);
    assert_eq!(report.already_kept, 0);
    let total: u64 = want.iter().map(|r| r.size).sum();
    assert_eq!(report.bytes, total);
    assert!(transferred.load(Ordering::Relaxed) >= total);
    let counters = sim.counters();
    assert!(counters.status(500) + counters.status(502) + counters.status(503) > 10);
    assert!(counters.status(429) > 3, "{counters:?}");
    assert!(
        counters.by_grant.values().sum::<u64>() > 2,
        "tokens were renewed"
    );
    assert_kept(&sim, &target_dir, archive.catalog());

    // The catalog file is its owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&catalog_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // A second run lists again but transfers nothing.
    let files = sim.counters().route("storage_file") + sim.counters().route("download_record");
    let links = sim.counters().route("storage_url");
    let again = runtime()
        .block_on(archive.backup(pbx(), quarter()))
        .unwrap();
    assert_eq!((again.stored, again.failed), (0, 0), "{again:?}");
    assert_eq!(again.already_kept, want.len() as u64);
    assert_eq!(
        sim.counters().route("storage_file") + sim.counters().route("download_record"),
        files
    );
    assert_eq!(sim.counters().route("storage_url"), links);
    assert_kept(&sim, &target_dir, archive.catalog());
}

#[test]
fn a_run_aborted_midway_and_restarted_ends_identical_to_an_uninterrupted_one() {
    let config = SimConfig {
        seed: 5150,
        record_count: 800,
        max_file_size: Some(96 << 10),
        ..SimConfig::default()
    };
    let sim = start(config);
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();

    // The reference: one uninterrupted run.
    let whole_dir = dir.path().join("whole");
    let whole = archive(
        &sim,
        Target::local(&whole_dir).unwrap(),
        &dir.path().join("whole.sqlite"),
        ArchiveOptions::default(),
    );
    runtime.block_on(whole.backup(pbx(), quarter())).unwrap();

    // The interrupted one: dropped (as a killed process stops) once 40 files are stored.
    let cut_dir = dir.path().join("cut");
    let cut_catalog = dir.path().join("cut.sqlite");
    let stored = Arc::new(AtomicU64::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (count, wake) = (Arc::clone(&stored), Arc::clone(&notify));
    let options = ArchiveOptions::default().on_progress(move |event| {
        if let Progress::Stored { .. } = event
            && count.fetch_add(1, Ordering::SeqCst) + 1 == 40
        {
            wake.notify_one();
        }
    });
    let cut = archive(
        &sim,
        Target::local(&cut_dir).unwrap(),
        &cut_catalog,
        options,
    );
    runtime.block_on(async {
        tokio::select! {
            done = cut.backup(pbx(), quarter()) => panic!("the run ended before the cut: {done:?}"),
            () = notify.notified() => {}
        }
    });
    drop(cut);
    let kept_before = {
        let catalog = Catalog::open(&cut_catalog).unwrap();
        entries(&catalog)
            .iter()
            .filter(|e| e.state.is_kept())
            .count() as u64
    };
    assert!(
        (40..100).contains(&kept_before),
        "{kept_before} kept at the cut"
    );

    let files_before = sim.counters().route("storage_file");
    let restarted = archive(
        &sim,
        Target::local(&cut_dir).unwrap(),
        &cut_catalog,
        ArchiveOptions::default(),
    );
    let report = runtime
        .block_on(restarted.backup(pbx(), quarter()))
        .unwrap();
    let want = expected(&sim, at(2024, 1, 1), at(2024, 4, 1)).len() as u64;
    assert_eq!(report.already_kept, kept_before);
    assert_eq!(report.stored, want - kept_before);
    // Nothing kept before the cut was transferred again; at most the files under way then.
    assert_eq!(
        sim.counters().route("storage_file") - files_before,
        report.stored
    );
    assert_kept(&sim, &cut_dir, restarted.catalog());

    // The same objects, byte for byte, and the same manifests but for the times of storing.
    let (a, b) = (files_under(&whole_dir), files_under(&cut_dir));
    let objects = |files: &std::collections::BTreeMap<String, Vec<u8>>| {
        files
            .iter()
            .filter(|(name, _)| !name.starts_with("_manifest/"))
            .map(|(name, bytes)| (name.clone(), bytes.clone()))
            .collect::<Vec<_>>()
    };
    assert!(objects(&a) == objects(&b), "the objects differ");
    let state = |catalog: &Catalog| {
        entries(catalog)
            .into_iter()
            .map(|e| (e.record, e.state.object_key, e.state.size, e.state.sha256))
            .collect::<Vec<_>>()
    };
    assert_eq!(state(whole.catalog()), state(restarted.catalog()));
}

/// A 401 on the list request of the window opened ahead (a token expired at the wrong moment)
/// once froze a year's backup for ever: the opening ahead was left suspended in its token fetch
/// while holding the token lock that the guard's statistics request then waited on. The
/// transport makes the race certain: each list body pauses after its first chunk, and a token
/// takes longer than that pause.
#[test]
fn a_401_on_the_window_opened_ahead_does_not_freeze_a_year() {
    use telphin_records::layers::transport_async::ReqwestTransport;
    use telphin_records_tests::Pausing;

    let sim = start(SimConfig {
        seed: 77,
        record_count: 400,
        max_file_size: Some(4 << 10),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let want = expected(&sim, at(2024, 1, 1), at(2025, 1, 1));
    // The first list request is served; the second, the window opened ahead, is refused once.
    sim.inject(Some("list_records"), record_sim::Fault::Pass, 1);
    sim.inject(Some("list_records"), record_sim::Fault::Unauthorized, 1);
    let app = &sim.credentials().client;
    let credentials = Credentials::client_credentials(&app.client_id, &app.client_secret);
    let client = ClientBuilder::new(credentials)
        .base_url(sim.base_url())
        .build_async_with(Pausing(ReqwestTransport::new().unwrap()))
        .unwrap();
    let catalog = Catalog::open(dir.path().join("catalog.sqlite")).unwrap();
    let target = Target::local(dir.path().join("target")).unwrap();
    let archive = record_backup::Archive::new(client, target, catalog, ArchiveOptions::default());
    let year = telphin_records::Period::year(2024).unwrap();
    // A hang is the failure: the bound turns it into one, far beyond the run's few seconds.
    let report = runtime()
        .block_on(async {
            let backup = archive.backup(pbx(), year);
            tokio::time::timeout(std::time::Duration::from_secs(120), backup).await
        })
        .expect("the backup does not freeze")
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    assert_eq!(sim.counters().route_status("list_records", 401), 1);
    assert_eq!(report.listed, want.len() as u64, "every record once");
    assert_eq!(report.stored, want.len() as u64);
}
