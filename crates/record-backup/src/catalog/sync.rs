//! What a long-running sync asks the catalog: how far a scope's listing is known complete,
//! what is still to be kept, and a month's figures to hold against the PBX's statistics.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension as _;
use telphin_records::{ClientId, Period, Scope};

use super::conditions::{Conditions, ScopeFilter};
use super::{Catalog, state, time_text};
use crate::error::BackupError;

/// The records of a scope still to be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PendingSummary {
    /// How many.
    pub count: u64,
    /// The start of the oldest of them.
    pub oldest: Option<DateTime<Utc>>,
}

/// One month of a scope in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MonthFigures {
    /// Records listed and still on the PBX (what the PBX's statistics should count).
    pub on_pbx: u64,
    /// Records kept (on the PBX or not).
    pub kept: u64,
    /// The bytes of the kept records.
    pub kept_bytes: u64,
}

/// The key of a scope in `sync_point`.
fn scope_key(scope: Scope) -> String {
    match scope {
        Scope::Client(ClientId::Me) => "client:@me".to_owned(),
        Scope::Client(ClientId::Id(id)) => format!("client:{id}"),
        Scope::ExtensionGroup(group) => format!("group:{}", group.get()),
        Scope::Extension(extension) => format!("extension:{}", extension.get()),
        other => format!("{other:?}"),
    }
}

impl Catalog {
    /// The instant up to which every record of `scope` is known listed (set by
    /// [`set_complete_through`](Self::set_complete_through)); `None` before the first time.
    pub fn complete_through(&self, scope: Scope) -> Result<Option<DateTime<Utc>>, BackupError> {
        let micros: Option<i64> = self.with(|connection| {
            connection
                .query_row(
                    "SELECT complete_through_us FROM sync_point WHERE scope = ?1",
                    [scope_key(scope)],
                    |row| row.get(0),
                )
                .optional()
        })?;
        Ok(micros.and_then(DateTime::from_timestamp_micros))
    }

    /// Records that every record of `scope` started before `instant` is listed.
    pub fn set_complete_through(
        &self,
        scope: Scope,
        instant: DateTime<Utc>,
    ) -> Result<(), BackupError> {
        self.with(|connection| {
            connection.execute(
                "INSERT INTO sync_point (scope, complete_through_us, updated_at) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (scope) DO UPDATE SET \
                 complete_through_us = excluded.complete_through_us, \
                 updated_at = excluded.updated_at",
                rusqlite::params![
                    scope_key(scope),
                    instant.timestamp_micros(),
                    time_text(Utc::now())
                ],
            )
        })?;
        Ok(())
    }

    /// The start of the oldest record of `scope` the catalog holds (read from an index's
    /// first row).
    pub fn oldest(&self, scope: Scope) -> Result<Option<DateTime<Utc>>, BackupError> {
        let mut conditions = Conditions::default();
        conditions.scope(ScopeFilter::of(scope));
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.clause())
        };
        let sql = format!("SELECT min(init_time_us) FROM record {clause}");
        let oldest: Option<i64> = self.with(|connection| {
            connection.query_row(
                &sql,
                rusqlite::params_from_iter(&conditions.params),
                |row| row.get(0),
            )
        })?;
        Ok(oldest.and_then(DateTime::from_timestamp_micros))
    }

    /// The records of `scope` still to be kept: read through the index of pending records,
    /// so it costs what they are, not what the catalog holds.
    pub fn pending_summary(&self, scope: Scope) -> Result<PendingSummary, BackupError> {
        let mut conditions = Conditions::default();
        conditions.push(state::PENDING, []);
        conditions.scope(ScopeFilter::of(scope));
        let sql = format!(
            "SELECT count(*), min(init_time_us) FROM record INDEXED BY record_pending WHERE {}",
            conditions.clause()
        );
        let (count, oldest): (i64, Option<i64>) = self.with(|connection| {
            connection.query_row(
                &sql,
                rusqlite::params_from_iter(&conditions.params),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })?;
        Ok(PendingSummary {
            count: u64::try_from(count).unwrap_or(0),
            oldest: oldest.and_then(DateTime::from_timestamp_micros),
        })
    }

    /// The figures of `scope` in `period` (a month, say), through the time index.
    pub fn month_figures(
        &self,
        scope: Scope,
        period: &Period,
    ) -> Result<MonthFigures, BackupError> {
        let mut conditions = Conditions::default();
        conditions.scope(ScopeFilter::of(scope));
        conditions.period(period);
        let sql = format!(
            "SELECT coalesce(sum(deleted_from_pbx_at IS NULL), 0), \
                    coalesce(sum({kept}), 0), \
                    coalesce(sum(CASE WHEN {kept} THEN stored_size ELSE 0 END), 0) \
             FROM record WHERE {}",
            conditions.clause(),
            kept = state::KEPT,
        );
        let (on_pbx, kept, kept_bytes): (i64, i64, i64) = self.with(|connection| {
            connection.query_row(
                &sql,
                rusqlite::params_from_iter(&conditions.params),
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
        })?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(MonthFigures {
            on_pbx: count(on_pbx),
            kept: count(kept),
            kept_bytes: count(kept_bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use telphin_records::{ExtensionId, Record};

    fn record(uuid: &str, time: &str, extension: u64) -> Record {
        let mut value: serde_json::Value = serde_json::from_str(include_str!(
            "../../../record-model/tests/fixtures/full_record.json"
        ))
        .unwrap();
        value["record_uuid"] = uuid.into();
        value["init_time_gmt"] = time.into();
        value["extension_id"] = extension.into();
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_sync_point_and_the_pending_records_of_a_scope() {
        let catalog = Catalog::in_memory().unwrap();
        let all = Scope::client(ClientId::Me);
        assert_eq!(catalog.complete_through(all).unwrap(), None);
        let at = DateTime::parse_from_rfc3339("2026-12-06T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        catalog.set_complete_through(all, at).unwrap();
        catalog
            .set_complete_through(
                Scope::Extension(ExtensionId::new(7)),
                at - chrono::Duration::hours(1),
            )
            .unwrap();
        assert_eq!(catalog.complete_through(all).unwrap(), Some(at));
        catalog
            .add_listed(&[
                record("30-A", "2026-12-01 10:00:00", 7),
                record("30-B", "2026-11-30 09:00:00", 8),
                record("30-C", "2026-12-02 09:00:00", 7),
            ])
            .unwrap();
        catalog.mark_stored("30-B", "b.mp3", 1000, "00").unwrap();
        let pending = catalog.pending_summary(all).unwrap();
        assert_eq!(pending.count, 2);
        assert_eq!(
            pending.oldest.unwrap().to_rfc3339(),
            "2026-12-01T10:00:00+00:00"
        );
        let of_8 = catalog
            .pending_summary(Scope::Extension(ExtensionId::new(8)))
            .unwrap();
        assert_eq!((of_8.count, of_8.oldest), (0, None));
        let november = catalog
            .month_figures(all, &Period::month(2026, 11).unwrap())
            .unwrap();
        assert_eq!(
            (november.on_pbx, november.kept, november.kept_bytes),
            (1, 1, 1000)
        );
        let december = catalog
            .month_figures(all, &Period::month(2026, 12).unwrap())
            .unwrap();
        assert_eq!((december.on_pbx, december.kept), (2, 0));
        assert_eq!(
            catalog.oldest(all).unwrap().unwrap().to_rfc3339(),
            "2026-11-30T09:00:00+00:00"
        );
        assert_eq!(
            catalog
                .oldest(Scope::Extension(ExtensionId::new(7)))
                .unwrap()
                .unwrap()
                .to_rfc3339(),
            "2026-12-01T10:00:00+00:00"
        );
        assert_eq!(
            catalog
                .oldest(Scope::Extension(ExtensionId::new(9)))
                .unwrap(),
            None
        );
        let plan: String = catalog
            .with(|c| {
                c.query_row(
                    "EXPLAIN QUERY PLAN SELECT count(*) FROM record INDEXED BY record_pending \
                     WHERE (stored_at IS NULL AND deleted_from_pbx_at IS NULL)",
                    [],
                    |row| row.get(3),
                )
            })
            .unwrap();
        assert!(plan.contains("record_pending"), "{plan}");
    }
}
