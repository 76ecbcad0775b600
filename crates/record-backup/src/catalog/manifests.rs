//! The manifests' side of the catalog: the months whose manifest is out of date, their kept
//! records page by page, and records restored from manifests.

use chrono::Utc;
use rusqlite::params;
use rusqlite::types::Value as Sql;
use telphin_records::Order;

use super::{
    Catalog, Conditions, Cursor, ENTRY_COLUMNS, KEPT, corrupt, entry_of, forget_numbers,
    index_record, json_of, time_text,
};
use crate::error::BackupError;
use crate::manifest::ManifestLine;

/// `[start, end)` of a `YYYY-MM` month, in microseconds since 1970 (UTC).
fn month_range(month: &str) -> Option<(i64, i64)> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let micros = |day: chrono::NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros())
    };
    Some((micros(first)?, micros(next)?))
}

impl Catalog {
    /// The months whose manifest is out of date.
    pub(crate) fn dirty_months(&self) -> Result<Vec<String>, BackupError> {
        self.with(|connection| {
            let mut statement =
                connection.prepare_cached("SELECT month FROM manifest_dirty ORDER BY month")?;
            let months = statement.query_map([], |row| row.get(0))?;
            months.collect()
        })
    }

    /// Up to `limit` manifest lines of `month` (`YYYY-MM`, UTC) after `after`: its kept
    /// records, oldest first.
    pub(crate) fn manifest_page(
        &self,
        month: &str,
        after: &Cursor,
        limit: usize,
    ) -> Result<Vec<(i64, ManifestLine)>, BackupError> {
        let (start, end) = month_range(month).ok_or_else(|| BackupError::Corrupt {
            what: "the catalog's list of manifests to write".to_owned(),
            reason: format!("{month:?} is not a month"),
        })?;
        let mut conditions = Conditions::default();
        conditions.push(KEPT, []);
        conditions.push(
            "init_time_us >= ? AND init_time_us < ?",
            [Sql::Integer(start), Sql::Integer(end)],
        );
        conditions.after(after, Order::Asc);
        let sql = format!(
            "SELECT init_time_us, {ENTRY_COLUMNS} FROM record WHERE {} \
             ORDER BY init_time_us, record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.rows(&sql, &conditions, |row| {
            let entry = entry_of(row)?;
            let line = ManifestLine::of(&entry)
                .ok_or_else(|| corrupt("a kept row", "no object key, size or SHA-256"))?;
            Ok((row.get(0)?, line))
        })
    }

    /// Forgets that `month`'s manifest was out of date (called once it is written).
    pub(crate) fn manifest_written(&self, month: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("DELETE FROM manifest_dirty WHERE month = ?1")?
                .execute([month])
                .map(drop)
        })
    }
}

impl Catalog {
    /// How many records the catalog holds.
    pub(crate) fn record_count(&self) -> Result<u64, BackupError> {
        self.count_of("SELECT count(*) FROM record", &Conditions::default())
    }

    /// Restores records and their states from manifest lines, in one transaction, with their
    /// numbers indexed for search.
    pub(crate) fn restore(&self, lines: &[ManifestLine]) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at, object_key, stored_size, sha256, stored_at, verified_at, \
                     deleted_from_pbx_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (record_uuid) DO UPDATE SET init_time_us = excluded.init_time_us, \
                     record_json = excluded.record_json, object_key = excluded.object_key, \
                     stored_size = excluded.stored_size, sha256 = excluded.sha256, \
                     stored_at = excluded.stored_at, verified_at = excluded.verified_at, \
                     deleted_from_pbx_at = excluded.deleted_from_pbx_at",
                )?;
                for line in lines {
                    forget_numbers(&transaction, &line.record_uuid)?;
                    insert.execute(params![
                        line.record_uuid,
                        line.record.init_time_gmt.instant().timestamp_micros(),
                        json_of(&line.record)?,
                        now,
                        line.object_key,
                        i64::try_from(line.size).unwrap_or(i64::MAX),
                        line.sha256,
                        time_text(line.stored_at),
                        line.verified_at.map(time_text),
                        line.deleted_from_pbx_at.map(time_text),
                    ])?;
                    index_record(&transaction, &line.record)?;
                }
            }
            transaction.commit()
        })
    }
}
