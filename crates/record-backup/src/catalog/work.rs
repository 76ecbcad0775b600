//! Pages of work for backup, verify and purge, and the counts of their plans.

use rusqlite::types::Value as Sql;
use telphin_records::{Order, Period};

use super::conditions::{Conditions, Cursor, ScopeFilter, order_by};
use super::entry::{record_of, size_of};
use super::hold::not_held;
use super::{Catalog, state};
use crate::error::BackupError;
use chrono::Utc;

/// A record still to be kept. No `Debug`: it holds a storage link, a bearer secret.
pub(crate) struct Pending {
    pub(crate) record: telphin_records::Record,
    pub(crate) storage_link: Option<String>,
    pub(crate) init_time_us: i64,
}

/// A kept record, for verify and purge.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub(crate) record_uuid: String,
    pub(crate) init_time_us: i64,
    pub(crate) object_key: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

/// Which kept records a page holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeptWhich<'a> {
    /// Every kept record (verify).
    All,
    /// Those purge may delete: verified, still on the PBX, held by no legal hold, started
    /// before this instant (microseconds), where the conditions hold too.
    PurgeableBefore(i64, &'a Conditions),
}

impl Catalog {
    /// Up to `limit` records of `scope` in `period` still to be kept, after `after` (and
    /// before `before`, microseconds), oldest first.
    pub(crate) fn pending_page(
        &self,
        scope: ScopeFilter,
        period: &Period,
        after: &Cursor,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Pending>, BackupError> {
        let mut conditions = Conditions::default();
        conditions.push(state::PENDING, []);
        conditions.scope(scope);
        conditions.period(period);
        conditions.after(after, Order::Asc);
        if let Some(before) = before {
            conditions.push("init_time_us < ?", [Sql::Integer(before)]);
        }
        let sql = format!(
            // The index of pending records (few at any time), not that of the records still on
            // the PBX (every call of the last N days), which SQLite would otherwise pick.
            "SELECT record_json, storage_link, init_time_us FROM record INDEXED BY record_pending \
             WHERE {} {} LIMIT {limit}",
            conditions.clause(),
            order_by(Order::Asc),
        );
        self.rows(&sql, &conditions, |row| {
            let json: String = row.get(0)?;
            Ok(Pending {
                record: record_of(&json)?,
                storage_link: row.get(1)?,
                init_time_us: row.get(2)?,
            })
        })
    }

    /// How many records of `scope` in `period` are kept, and their total size.
    pub(crate) fn kept_count(
        &self,
        scope: ScopeFilter,
        period: &Period,
    ) -> Result<(u64, u64), BackupError> {
        self.count(scope, period, state::KEPT, "stored_size")
    }

    /// How many records of `scope` in `period` are still to be kept, and their size.
    pub(crate) fn pending_count(
        &self,
        scope: ScopeFilter,
        period: &Period,
    ) -> Result<(u64, u64), BackupError> {
        self.count(scope, period, state::PENDING, "record_file_size")
    }

    /// The count of the records of `scope` in `period` where `which` holds, and the sum of
    /// their `size` column.
    fn count(
        &self,
        scope: ScopeFilter,
        period: &Period,
        which: &str,
        size: &str,
    ) -> Result<(u64, u64), BackupError> {
        let mut conditions = Conditions::default();
        conditions.push(which, []);
        conditions.scope(scope);
        conditions.period(period);
        let sql = format!(
            "SELECT count(*), coalesce(sum({size}), 0) FROM record WHERE {}",
            conditions.clause()
        );
        self.with(|connection| {
            connection.query_row(
                &sql,
                rusqlite::params_from_iter(&conditions.params),
                |row| {
                    let count: i64 = row.get(0)?;
                    let bytes: i64 = row.get(1)?;
                    Ok((
                        u64::try_from(count).unwrap_or(0),
                        u64::try_from(bytes).unwrap_or(0),
                    ))
                },
            )
        })
    }

    /// Up to `limit` kept records of `scope` (in `period`, if given) after `after`, oldest
    /// first.
    pub(crate) fn kept_page(
        &self,
        scope: ScopeFilter,
        period: Option<&Period>,
        which: KeptWhich<'_>,
        after: &Cursor,
        limit: usize,
    ) -> Result<Vec<Kept>, BackupError> {
        let mut conditions = Conditions::default();
        match which {
            KeptWhich::All => conditions.push(state::KEPT, []),
            KeptWhich::PurgeableBefore(cutoff, selection) => {
                conditions.push(
                    &format!("{} AND init_time_us < ?", state::PURGEABLE),
                    [Sql::Integer(cutoff)],
                );
                not_held(&mut conditions, Utc::now());
                conditions.extend(selection.clone());
            }
        }
        conditions.scope(scope);
        if let Some(period) = period {
            conditions.period(period);
        }
        conditions.after(after, Order::Asc);
        let sql = format!(
            "SELECT record_uuid, init_time_us, object_key, stored_size, sha256 FROM record \
             WHERE {} {} LIMIT {limit}",
            conditions.clause(),
            order_by(Order::Asc),
        );
        self.rows(&sql, &conditions, |row| {
            Ok(Kept {
                record_uuid: row.get(0)?,
                init_time_us: row.get(1)?,
                object_key: row.get(2)?,
                size: size_of(row.get(3)?).unwrap_or(0),
                sha256: row.get(4)?,
            })
        })
    }
}
