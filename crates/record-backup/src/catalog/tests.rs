//! The catalog's queries on real SQLite: files for opening and migrating, in-memory
//! catalogs for search, pages of work, and the query plans that keep search indexed.
#![allow(clippy::unwrap_used)]

use super::*;
use telphin_records::{ExtensionId, Period, Record, Scope};

#[test]
fn migrations_run_once_and_a_newer_catalog_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let catalog = Catalog::open(&path).unwrap();
    assert_eq!(catalog.with(schema::version).unwrap(), schema::LATEST);
    let mode: String = catalog
        .with(|c| c.pragma_query_value(None, "journal_mode", |row| row.get(0)))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(catalog);
    // Reopening changes nothing.
    let catalog = Catalog::open(&path).unwrap();
    assert_eq!(catalog.with(schema::version).unwrap(), schema::LATEST);
    catalog
        .with(|c| c.pragma_update(None, "user_version", schema::LATEST + 1))
        .unwrap();
    drop(catalog);
    let error = Catalog::open(&path).unwrap_err();
    assert!(
        matches!(error, BackupError::CatalogTooNew { found, .. } if found == schema::LATEST + 1),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn the_catalog_is_its_owners_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let catalog = Catalog::open(&path).unwrap();
    catalog.add_listed(&[]).unwrap();
    for file in ["c.sqlite", "c.sqlite-wal", "c.sqlite-shm"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}

/// A record like the API's, with the fields that matter to search changed.
fn record(
    n: u32,
    time: &str,
    from: &str,
    extension: u64,
    flow: &str,
    result: &str,
    duration: u64,
) -> Record {
    let mut value: serde_json::Value = serde_json::from_str(include_str!(
        "../../../record-model/tests/fixtures/full_record.json"
    ))
    .unwrap();
    value["record_uuid"] = format!("30-{n:032X}").into();
    value["init_time_gmt"] = time.into();
    value["from_username"] = from.into();
    value["source_number"] = from.into();
    value["extension_id"] = extension.into();
    value["flow"] = flow.into();
    value["result"] = result.into();
    value["duration"] = duration.into();
    serde_json::from_value(value).unwrap()
}

/// Twelve calls over three months, from three customers, on two extensions.
fn calls() -> Vec<Record> {
    let customers = ["+7 (916) 555-01-23", "8 916 555 0123", "74991112233"];
    (0..12u32)
        .map(|n| {
            let month = 1 + n % 3;
            let time = format!("2024-{month:02}-{:02} 10:00:{:02}", 1 + n, n);
            record(
                n,
                &time,
                customers[n as usize % 3],
                if n % 2 == 0 { 204 } else { 205 },
                if n % 4 == 0 { "out" } else { "in" },
                if n % 3 == 0 { "busy" } else { "answered" },
                u64::from(n) * 20,
            )
        })
        .collect()
}

fn uuids(catalog: &Catalog, query: &SearchQuery) -> Vec<u32> {
    let pages: Vec<Vec<CatalogEntry>> = catalog
        .search(query)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    pages
        .concat()
        .iter()
        .map(|e| u32::from_str_radix(&e.record.record_uuid.to_string()[3..], 16).unwrap())
        .collect()
}

fn filled() -> Catalog {
    let catalog = Catalog::in_memory().unwrap();
    catalog.add_listed(&calls()).unwrap();
    catalog
}

fn by_time(mut ns: Vec<u32>) -> Vec<u32> {
    let calls = calls();
    ns.sort_by_key(|&n| (calls[n as usize].init_time_gmt.instant(), n));
    ns
}

#[test]
fn a_number_is_found_by_its_digits_whole_or_by_its_last_four_or_more() {
    let catalog = filled();
    // Customers 0 and 1 share the digits 9165550123 (one with the country code 7, one with 8).
    let first = by_time(vec![0, 3, 6, 9]);
    let both = by_time(vec![0, 1, 3, 4, 6, 7, 9, 10]);
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("79165550123")),
        first
    );
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("(916) 555-0123")),
        both
    );
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("0123")),
        both
    );
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("2233")),
        by_time(vec![2, 5, 8, 11])
    );
    // Fewer than four digits: whole numbers only (none is that short here).
    assert!(uuids(&catalog, &SearchQuery::default().number("123")).is_empty());
    // The record's own number (ext_number_reg, DID, to) is found too: every call has it, once.
    let every = uuids(&catalog, &SearchQuery::default().number("74951234567"));
    assert_eq!(every, by_time((0..12).collect()));
    assert!(matches!(
        catalog.search(&SearchQuery::default().number("no digits")),
        Err(BackupError::InvalidOption(_))
    ));
}

#[test]
fn a_relisted_record_is_found_by_its_new_numbers_only() {
    let catalog = filled();
    let mut changed = calls()[0].clone();
    changed.from_username = Some("74990000001".to_owned());
    changed.source_number = None;
    catalog.add_listed(&[changed]).unwrap();
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("74990000001")),
        vec![0]
    );
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("79165550123")),
        by_time(vec![3, 6, 9])
    );
}

#[test]
fn filters_combine_and_pages_follow_each_other_in_either_order() {
    let catalog = filled();
    let q = SearchQuery::default()
        .scope(Scope::Extension(ExtensionId::new(204)))
        .flow("in")
        .min_duration(40);
    let want: Vec<u32> = by_time(
        calls()
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.extension_id.get() == 204 && r.flow.to_string() == "in" && r.duration >= 40
            })
            .map(|(n, _)| n as u32)
            .collect(),
    );
    assert!(want.len() >= 2);
    for size in [1, 2, 100] {
        assert_eq!(
            uuids(&catalog, &q.clone().page_size(size)),
            want,
            "pages of {size}"
        );
    }
    let mut newest = want.clone();
    newest.reverse();
    assert_eq!(
        uuids(&catalog, &q.clone().newest_first().page_size(1)),
        newest
    );
    assert_eq!(uuids(&catalog, &q.clone().limit(1).page_size(1)), want[..1]);
    assert_eq!(
        catalog.search(&q).unwrap().total().unwrap(),
        want.len() as u64
    );

    let february = SearchQuery::default().period(Period::month(2024, 2).unwrap());
    assert_eq!(uuids(&catalog, &february), by_time(vec![1, 4, 7, 10]));
    let busy = SearchQuery::default()
        .result("busy")
        .period(Period::month(2024, 1).unwrap());
    assert_eq!(uuids(&catalog, &busy), by_time(vec![0, 3, 6, 9]));
    // Few calls of a flow and result last this long: the duration index, the same calls.
    let long_busy = SearchQuery::default()
        .flow("in")
        .result("busy")
        .min_duration(100);
    assert!(plan(&catalog, long_busy.clone()).contains("record_by_duration"));
    assert_eq!(
        uuids(&catalog, &long_busy.clone().page_size(1)),
        by_time(vec![6, 9])
    );
    assert_eq!(uuids(&catalog, &long_busy.newest_first()), vec![9, 6]);
    assert!(matches!(
        catalog.search(&SearchQuery::default().page_size(0)),
        Err(BackupError::InvalidOption(_))
    ));
}

#[test]
fn states_are_searched_and_work_pages_hold_what_their_state_says() {
    let catalog = filled();
    let calls = calls();
    let uuid = |n: usize| calls[n].record_uuid.to_string();
    for n in [0, 1, 2] {
        catalog
            .mark_stored(&uuid(n), &format!("k{n}"), 10, &"ab".repeat(32))
            .unwrap();
    }
    catalog.mark_verified(&uuid(0)).unwrap();
    catalog.mark_verified(&uuid(1)).unwrap();
    catalog
        .mark_deleted(
            &uuid(1),
            crate::catalog::Draft::new("test", crate::chain::AuditAction::Purge),
        )
        .unwrap();
    catalog.mark_failed(&uuid(3), "boom").unwrap();
    let status = |s: Status| uuids(&catalog, &SearchQuery::default().status(s));
    assert_eq!(status(Status::Verified), vec![0]);
    assert_eq!(status(Status::OffPbx), vec![1]);
    assert_eq!(status(Status::Kept), vec![2]);
    assert_eq!(status(Status::Failed), vec![3]);
    assert_eq!(status(Status::Pending).len(), 8);
    let far = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(uuids(&catalog, &SearchQuery::purgeable(far)), vec![0]);

    let year = Period::year(2024).unwrap();
    let kept = catalog
        .kept_page(ScopeFilter::All, Some(&year), KeptWhich::All, &None, 10)
        .unwrap();
    assert_eq!(kept.len(), 3);
    let purgeable = catalog
        .kept_page(
            ScopeFilter::All,
            None,
            KeptWhich::PurgeableBefore(far.timestamp_micros(), &Conditions::default()),
            &None,
            10,
        )
        .unwrap();
    assert_eq!(
        purgeable
            .iter()
            .map(|k| k.record_uuid.clone())
            .collect::<Vec<_>>(),
        vec![uuid(0)]
    );
    let pending = catalog
        .pending_page(ScopeFilter::All, &year, &None, None, 100)
        .unwrap();
    assert_eq!(pending.len(), 9, "the failed one is pending too");
    assert_eq!(catalog.pending_count(ScopeFilter::All, &year).unwrap().0, 9);
    assert_eq!(
        catalog.kept_count(ScopeFilter::All, &year).unwrap(),
        (3, 30)
    );
    // Page after page by the keyset.
    let first = catalog
        .pending_page(ScopeFilter::All, &year, &None, None, 4)
        .unwrap();
    let last = first.last().unwrap();
    let after = Some((last.init_time_us, last.record.record_uuid.to_string()));
    let rest = catalog
        .pending_page(ScopeFilter::All, &year, &after, None, 100)
        .unwrap();
    assert_eq!(first.len() + rest.len(), 9);
}

/// The plan of the first page of `query`.
fn plan(catalog: &Catalog, query: SearchQuery) -> String {
    catalog.search(&query).unwrap().query_plan().unwrap()
}

#[test]
fn every_filter_is_served_by_an_index() {
    let catalog = filled();
    let month = || Period::month(2024, 2).unwrap();
    let cases = [
        (SearchQuery::default(), "record_by_time"),
        (SearchQuery::default().period(month()), "record_by_time"),
        (
            SearchQuery::default().number("79165550123"),
            "record_number",
        ),
        // In 8 calls, more than the tests' threshold: the calls are walked in time order.
        (SearchQuery::default().number("0123"), "record_by_time"),
        (SearchQuery::default().number("123"), "record_number"),
        (
            SearchQuery::default().number("79165550123").period(month()),
            "record_number",
        ),
        (
            SearchQuery::default()
                .scope(Scope::Extension(ExtensionId::new(204)))
                .period(month()),
            "record_by_extension",
        ),
        (SearchQuery::default().flow("in"), "record_by_outcome"),
        (
            SearchQuery::default()
                .flow("in")
                .result("answered")
                .min_duration(60),
            "record_by_outcome",
        ),
        // Fewer matches than the tests' threshold: found through the duration index.
        (
            SearchQuery::default()
                .flow("in")
                .result("busy")
                .min_duration(1000),
            "record_by_duration",
        ),
        (
            // Alone, a minimum duration walks the time index and filters: pages in time
            // order at once when long calls are common (see docs/decisions.md).
            SearchQuery::default().min_duration(3600),
            "record_by_time",
        ),
        (SearchQuery::purgeable(chrono::Utc::now()), "record_by_time"),
    ];
    for (query, index) in cases {
        let described = format!("{query:?}");
        let plan = plan(&catalog, query);
        assert!(
            plan.contains(index),
            "{described}: wanted {index}, got\n{plan}"
        );
        // No step reads the whole table.
        for step in plan.lines() {
            let scan = step.starts_with("SCAN record") && !step.contains("USING");
            assert!(!scan, "{described}: a full scan\n{plan}");
        }
    }
}

#[test]
fn a_catalog_written_by_schema_1_migrates_and_is_searched_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    {
        // The catalog as version 1 wrote it: its schema, its rows.
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection.execute_batch(schema::V1).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        for call in calls() {
            connection
                .execute(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at) VALUES (?1, ?2, ?3, 'x', 'x')",
                    rusqlite::params![
                        call.record_uuid.to_string(),
                        call.init_time_gmt.instant().timestamp_micros(),
                        serde_json::to_string(&call).unwrap()
                    ],
                )
                .unwrap();
        }
    }
    let catalog = Catalog::open(&path).unwrap();
    assert_eq!(catalog.with(schema::version).unwrap(), schema::LATEST);
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("+7 916 555-01-23")),
        by_time(vec![0, 3, 6, 9])
    );
    assert_eq!(
        uuids(&catalog, &SearchQuery::default().number("0123")),
        by_time(vec![0, 1, 3, 4, 6, 7, 9, 10])
    );
    assert!(plan(&catalog, SearchQuery::default().number("79165550123")).contains("record_number"));
    // Schema 6 counted what was there.
    assert_eq!(kept_figures(&catalog), scanned_figures(&catalog));
    assert_eq!(
        kept_figures(&catalog)
            .1
            .iter()
            .map(|m| m.records)
            .sum::<u64>(),
        12
    );
}

#[test]
fn every_plan_of_a_number_search_finds_what_filtering_by_hand_finds() {
    let catalog = filled();
    let calls = calls();
    let digits = |text: &str| {
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
    };
    let has = |record: &Record, wanted: &str| {
        [
            record.from_username.as_deref(),
            record.to_username.as_deref(),
            record.source_number.as_deref(),
            record.dest_number.as_deref(),
            record.did_number.as_deref(),
            record.ani_number.as_ref().and_then(Option::as_deref),
            record.ext_number_reg.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| {
            let field = digits(field);
            field == wanted || (wanted.len() >= 4 && field.ends_with(wanted))
        })
    };
    // (number, extension): few matches (rows, or joined), many (walked), with filters or not.
    for (number, extension) in [
        ("79165550123", None),
        ("0123", None),
        ("74951234567", None),
        ("74991112233", Some(205)),
        ("0123", Some(204)),
        ("123", None),
    ] {
        let mut query = SearchQuery::default().number(number);
        if let Some(extension) = extension {
            query = query.scope(Scope::Extension(ExtensionId::new(extension)));
        }
        let want = by_time(
            calls
                .iter()
                .enumerate()
                .filter(|(_, r)| has(r, number))
                .filter(|(_, r)| extension.is_none_or(|e| r.extension_id.get() == e))
                .map(|(n, _)| n as u32)
                .collect(),
        );
        for size in [1, 3, 100] {
            let found = uuids(&catalog, &query.clone().page_size(size));
            assert_eq!(found, want, "{number} {extension:?}, pages of {size}");
        }
        let mut newest = want.clone();
        newest.reverse();
        assert_eq!(
            uuids(&catalog, &query.clone().newest_first().page_size(2)),
            newest
        );
        let total = catalog.search(&query).unwrap().total().unwrap();
        assert_eq!(total, want.len() as u64, "{number} {extension:?}");
    }
}

/// The calls (by number `n`) an active hold covers at `now`.
fn held_calls(catalog: &Catalog, now: chrono::DateTime<chrono::Utc>) -> Vec<u32> {
    (0..12u32)
        .filter(|n| {
            !catalog
                .holds_on(&format!("30-{n:032X}"), now)
                .unwrap()
                .is_empty()
        })
        .collect()
}

#[test]
fn holds_cover_what_they_name_until_they_end_or_are_released() {
    use chrono::{TimeZone as _, Utc};
    let catalog = filled();
    let now = Utc::now();
    let at = |m: u32| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();

    // A number written another way: the same subscriber's last 10 digits.
    let number = catalog
        .add_hold(
            &HoldOn::Number("89165550123".into()),
            "claim 1",
            None,
            "lawyer",
        )
        .unwrap();
    assert_eq!(held_calls(&catalog, now), vec![0, 1, 3, 4, 6, 7, 9, 10]);
    catalog.release_hold(number.id, "lawyer").unwrap();
    assert!(held_calls(&catalog, now).is_empty());

    let extension = catalog
        .add_hold(&HoldOn::Extension(205), "audit", None, "lawyer")
        .unwrap();
    assert_eq!(held_calls(&catalog, now), vec![1, 3, 5, 7, 9, 11]);
    catalog.release_hold(extension.id, "lawyer").unwrap();

    // February: calls 1, 4, 7, 10 (month = 1 + n % 3).
    let period = catalog
        .add_hold(
            &HoldOn::Period {
                from: at(2),
                until: at(3),
            },
            "tax",
            None,
            "lawyer",
        )
        .unwrap();
    assert_eq!(held_calls(&catalog, now), vec![1, 4, 7, 10]);
    catalog.release_hold(period.id, "lawyer").unwrap();

    // A hold that ends: active before its end, not from it on.
    let end = now + chrono::Duration::hours(1);
    let recording = catalog
        .add_hold(
            &HoldOn::Recording(format!("30-{:032X}", 2)),
            "complaint",
            Some(end),
            "lawyer",
        )
        .unwrap();
    assert_eq!(held_calls(&catalog, now), vec![2]);
    assert!(held_calls(&catalog, end).is_empty());
    assert!(recording.is_active(now) && !recording.is_active(end));
    assert_eq!(catalog.holds(false).unwrap().len(), 1);
    assert_eq!(catalog.holds(true).unwrap().len(), 4);

    // Refused before anything is written.
    let refused = |on: HoldOn, reason: &str| {
        catalog
            .add_hold(&on, reason, None, "lawyer")
            .unwrap_err()
            .to_string()
    };
    assert!(refused(HoldOn::Extension(1), " ").contains("reason"));
    assert!(refused(HoldOn::Number("0123".into()), "x").contains("at least 7"));
    assert!(
        refused(
            HoldOn::Period {
                from: at(3),
                until: at(3)
            },
            "x"
        )
        .contains("end after")
    );
    assert!(catalog.release_hold(99, "lawyer").is_err());

    // Every change is in the log, and the log holds no number.
    assert_eq!(catalog.audit_len().unwrap(), 7);
    assert!(catalog.check_audit().unwrap().holds());
    let mut lines = Vec::new();
    catalog
        .export_audit(None, None, |line| {
            lines.push(line.to_owned());
            Ok(())
        })
        .unwrap();
    assert!(lines.iter().all(|l| !l.contains("5550123")), "{lines:?}");
    assert!(lines[0].contains("\"action\":\"hold-add\""));
    assert!(lines[1].contains("\"action\":\"hold-release\""));
}

/// The figures of schema 6 as a scan of every record gives them.
/// Hours (hour, flow, result, calls, seconds) and months.
type Figures = (Vec<(i64, String, String, i64, i64)>, Vec<MonthStorage>);

fn scanned_figures(catalog: &Catalog) -> Figures {
    catalog
        .with(|c| {
            let hours = c
                .prepare(
                    "SELECT init_time_us / 3600000000, coalesce(flow, ''), coalesce(result, ''), \
                     count(*), sum(duration) FROM record GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let months = c
                .prepare(
                    "SELECT strftime('%Y-%m', init_time_us / 1000000, 'unixepoch'), count(*), \
                     sum(deleted_from_pbx_at IS NULL), \
                     sum(CASE WHEN deleted_from_pbx_at IS NULL THEN record_file_size ELSE 0 END), \
                     sum(stored_at IS NOT NULL), \
                     sum(CASE WHEN stored_at IS NOT NULL THEN stored_size ELSE 0 END) \
                     FROM record GROUP BY 1 ORDER BY 1 DESC",
                )?
                .query_map([], |r| {
                    Ok(MonthStorage {
                        month: r.get(0)?,
                        records: r.get::<_, i64>(1)? as u64,
                        on_pbx: r.get::<_, i64>(2)? as u64,
                        on_pbx_bytes: r.get::<_, i64>(3)? as u64,
                        kept: r.get::<_, i64>(4)? as u64,
                        kept_bytes: r.get::<_, i64>(5)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((hours, months))
        })
        .unwrap()
}

fn kept_figures(catalog: &Catalog) -> Figures {
    let from = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let until = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let hours = catalog
        .calls_by_hour(from, until)
        .unwrap()
        .into_iter()
        .map(|h| {
            (
                h.hour.timestamp() / 3600,
                h.flow,
                h.result,
                h.calls as i64,
                h.seconds as i64,
            )
        })
        .collect();
    (hours, catalog.storage_by_month(1000).unwrap())
}

#[test]
fn the_figures_follow_every_change_of_a_record() {
    let catalog = filled();
    assert_eq!(kept_figures(&catalog), scanned_figures(&catalog));
    assert_eq!(
        kept_figures(&catalog).0.iter().map(|h| h.3).sum::<i64>(),
        12
    );
    let calls = calls();
    let uuid = |n: usize| calls[n].record_uuid.to_string();
    for n in [0, 1, 2, 5] {
        catalog
            .mark_stored(
                &uuid(n),
                &format!("k{n}"),
                1000 + n as u64,
                &"ab".repeat(32),
            )
            .unwrap();
    }
    catalog.mark_verified(&uuid(1)).unwrap();
    catalog
        .mark_deleted(
            &uuid(1),
            crate::catalog::Draft::new("test", crate::chain::AuditAction::Purge),
        )
        .unwrap();
    catalog.mark_not_kept(&uuid(5), "gone").unwrap();
    // Listed again with another time, direction and length.
    let mut moved = calls[2].clone();
    let mut value = serde_json::to_value(&moved).unwrap();
    value["init_time_gmt"] = "2024-05-07 23:59:59".into();
    value["flow"] = "internal".into();
    value["duration"] = 7.into();
    moved = serde_json::from_value(value).unwrap();
    catalog.add_listed(&[moved]).unwrap();
    // Destroyed (erasure, expiry): the row goes.
    catalog
        .with(|c| c.execute("DELETE FROM record WHERE record_uuid = ?1", [uuid(0)]))
        .unwrap();
    let (hours, months) = kept_figures(&catalog);
    assert_eq!((hours.clone(), months.clone()), scanned_figures(&catalog));
    assert_eq!(hours.iter().map(|h| h.3).sum::<i64>(), 11);
    assert_eq!(months.iter().map(|m| m.kept).sum::<u64>(), 2);
    assert_eq!(
        months.iter().map(|m| m.kept_bytes).sum::<u64>(),
        1001 + 1002
    );
    assert_eq!(months[0].month, "2024-05");
    // A period bounds the hours read.
    let day = |d: &str| chrono::DateTime::parse_from_rfc3339(d).unwrap().to_utc();
    let jan = catalog
        .calls_by_hour(day("2024-01-01T00:00:00Z"), day("2024-02-01T00:00:00Z"))
        .unwrap();
    assert!(
        jan.iter()
            .all(|h| h.hour.format("%Y-%m").to_string() == "2024-01")
    );
    assert_eq!(jan.iter().map(|h| h.calls).sum::<u64>(), 3);
}

#[test]
fn the_access_log_keeps_one_line_per_playback_and_exports_every_line() {
    let catalog = filled();
    let calls = calls();
    let uuid = calls[3].record_uuid.to_string();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let mut play = Access::now(&uuid, "anna", "127.0.0.1", AccessAction::Play);
    play.at = at("2026-12-01T10:00:00Z");
    assert!(catalog.log_access(&play).unwrap());
    // The player's next ranged request, a seek: the same playback.
    play.at = at("2026-12-01T10:05:00Z");
    assert!(!catalog.log_access(&play).unwrap());
    // Downloaded, by someone else, later: lines of their own.
    let mut download = Access::now(&uuid, "anna", "127.0.0.1", AccessAction::Download);
    download.at = at("2026-12-01T10:06:00Z");
    assert!(catalog.log_access(&download).unwrap());
    let mut other = Access::now(&uuid, "boris", "10.0.0.7", AccessAction::Play);
    other.at = at("2026-12-01T10:07:00Z");
    assert!(catalog.log_access(&other).unwrap());
    play.at = at("2026-12-01T11:00:00Z");
    assert!(catalog.log_access(&play).unwrap());
    let lines = catalog.accesses_of(&uuid, 10).unwrap();
    assert_eq!(
        lines
            .iter()
            .map(|a| (a.user.as_str(), a.action))
            .collect::<Vec<_>>(),
        vec![
            ("anna", AccessAction::Play),
            ("boris", AccessAction::Play),
            ("anna", AccessAction::Download),
            ("anna", AccessAction::Play)
        ]
    );
    assert!(
        catalog
            .accesses_of(calls[4].record_uuid.as_ref(), 10)
            .unwrap()
            .is_empty()
    );
    for n in 0..2500 {
        let mut line = Access::now(format!("r{n}"), "bulk", "127.0.0.1", AccessAction::Play);
        line.at = at("2026-12-02T00:00:00Z") + chrono::Duration::seconds(n);
        assert!(catalog.log_access(&line).unwrap());
    }
    let mut seen = Vec::new();
    let written = catalog
        .export_access(
            at("2026-12-01T10:06:00Z"),
            at("2026-12-03T00:00:00Z"),
            |a| {
                seen.push(a);
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(written, 2503);
    assert_eq!(seen[0].action, AccessAction::Download);
    assert!(seen.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(seen.last().unwrap().user, "bulk");
}

/// A write that reads first (releasing a hold reads it, then updates it) waits for another
/// process's write to commit instead of failing with "database is locked": every write
/// transaction begins IMMEDIATE, taking the write lock (through the busy timeout) before it
/// reads a snapshot the other commit would make stale.
#[test]
fn a_writer_waits_for_another_writer_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let catalog = Catalog::open(&path).unwrap();
    let hold = catalog
        .add_hold(&HoldOn::Extension(7), "claim", None, "dpo")
        .unwrap();
    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO manifest_dirty (month) VALUES ('2024-01');")
        .unwrap();
    let (began, waiting) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        waiting.recv().unwrap();
        // Commits while the release waits (ordering only: nothing is asserted on time).
        std::thread::sleep(std::time::Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    began.send(()).unwrap();
    let released = catalog.release_hold(hold.id, "dpo");
    writer.join().unwrap();
    let released = released.unwrap();
    assert!(released.released_at.is_some());
}

/// A checkpoint goes on from the last one's frontier and gives the tree hash of the whole log;
/// a log cut below the last checkpoint gets no checkpoint over it.
#[test]
fn checkpoints_extend_the_signed_tree_and_never_sign_a_cut_log() {
    let key = crate::AuditSigningKey::from_seed([9; 32]);
    let catalog = Catalog::in_memory()
        .unwrap()
        .signing_audit_with(key.clone());
    for n in 0..3 {
        catalog
            .add_hold(&HoldOn::Extension(n), "claim", None, "dpo")
            .unwrap();
    }
    let first = catalog.sign_checkpoint().unwrap().unwrap();
    assert_eq!(first.size, 3);
    assert!(catalog.sign_checkpoint().unwrap().is_none(), "nothing new");
    for n in 3..7 {
        catalog
            .add_hold(&HoldOn::Extension(n), "claim", None, "dpo")
            .unwrap();
    }
    let second = catalog.sign_checkpoint().unwrap().unwrap();
    assert_eq!(second.size, 7);
    second.check_signature(&key.public_key()).unwrap();
    let mut whole = crate::Frontier::default();
    for seq in 1..=7 {
        whole
            .push(&catalog.audit_hash(seq).unwrap().unwrap())
            .unwrap();
    }
    assert_eq!(
        second.root,
        whole.root(),
        "the tree of every entry, not of the new ones"
    );
    let check = catalog
        .check_audit_signed(key.public_key(), catalog.checkpoints().unwrap())
        .unwrap();
    assert!(check.holds(), "{check:?}");
    assert_eq!(
        (check.entries, check.signed_entries, check.checkpoints),
        (7, 7, 2)
    );
    // Cut to 5 entries, then one more: fewer than the last checkpoint signed — none signed.
    catalog
        .with(|c| c.execute("DELETE FROM audit WHERE seq > 4", []))
        .unwrap();
    catalog
        .add_hold(&HoldOn::Extension(99), "claim", None, "dpo")
        .unwrap();
    assert!(catalog.sign_checkpoint().unwrap().is_none());
    let check = catalog
        .check_audit_signed(key.public_key(), catalog.checkpoints().unwrap())
        .unwrap();
    assert!(!check.holds());
}

/// A key replaced: the new key's first checkpoint covers the entries the old key signed, so
/// the log holds with the new public key; with the old one, the entries it never signed are
/// named.
#[test]
fn a_replaced_signing_key_vouches_for_the_old_entries_through_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let old = crate::AuditSigningKey::from_seed([1; 32]);
    let new = crate::AuditSigningKey::from_seed([2; 32]);
    let catalog = Catalog::open(&path)
        .unwrap()
        .signing_audit_with(old.clone());
    for n in 0..3 {
        catalog
            .add_hold(&HoldOn::Extension(n), "claim", None, "dpo")
            .unwrap();
    }
    catalog.sign_checkpoint().unwrap().unwrap();
    drop(catalog);
    let catalog = Catalog::open(&path)
        .unwrap()
        .signing_audit_with(new.clone());
    for n in 3..5 {
        catalog
            .add_hold(&HoldOn::Extension(n), "claim", None, "dpo")
            .unwrap();
    }
    assert_eq!(catalog.sign_checkpoint().unwrap().unwrap().size, 5);
    let checkpoints = catalog.checkpoints().unwrap();
    let with_new = catalog
        .check_audit_signed(new.public_key(), checkpoints.clone())
        .unwrap();
    assert!(with_new.holds(), "{with_new:?}");
    assert_eq!(with_new.ignored_checkpoints.len(), 1, "the old key's");
    let with_old = catalog
        .check_audit_signed(old.public_key(), checkpoints)
        .unwrap();
    assert_eq!(with_old.broken.unwrap().seq, 4);
}
