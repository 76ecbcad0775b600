//! Writes of the catalog: listed records and what became of their files. A change to what the
//! manifests say marks the record's month out of date in the same transaction.

use chrono::Utc;
use rusqlite::params;
use telphin_records::Record;

use super::audit::{Draft, append};
use super::entry::{json_of, time_text};
use super::{Catalog, numbers};
use crate::error::BackupError;

/// Marks the month of `record_uuid` as needing a new manifest.
pub(super) const DIRTY: &str = "INSERT OR IGNORE INTO manifest_dirty (month) \
     SELECT strftime('%Y-%m', init_time_us / 1000000, 'unixepoch') FROM record WHERE record_uuid = ?1";

impl Catalog {
    /// Adds listed records, or refreshes those it has (their metadata as listed now; their
    /// backup state is kept), in one transaction, with their numbers indexed for search.
    pub fn add_listed(&self, records: &[Record]) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut upsert = transaction.prepare_cached(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at) VALUES (?1, ?2, ?3, ?4, ?4) \
                     ON CONFLICT (record_uuid) DO UPDATE SET init_time_us = excluded.init_time_us, \
                     record_json = excluded.record_json, last_listed_at = excluded.last_listed_at",
                )?;
                let mut buried =
                    transaction.prepare_cached("SELECT 1 FROM tombstone WHERE record_uuid = ?1")?;
                for record in records {
                    // A destroyed record is never catalogued again, whatever a listing says.
                    if buried.exists([record.record_uuid.as_ref()])? {
                        continue;
                    }
                    numbers::forget(&transaction, record.record_uuid.as_ref())?;
                    upsert.execute(params![
                        record.record_uuid.to_string(),
                        record.init_time_gmt.instant().timestamp_micros(),
                        json_of(record)?,
                        now,
                    ])?;
                    numbers::index_record(&transaction, record)?;
                }
            }
            transaction.commit()
        })
    }

    /// Changes what the manifests say of `uuid` (`sql` with `params`), and marks its month's
    /// manifest out of date in the same transaction.
    fn change_kept(
        &self,
        uuid: &str,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(), BackupError> {
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            transaction.prepare_cached(sql)?.execute(params)?;
            transaction.prepare_cached(DIRTY)?.execute([uuid])?;
            transaction.commit()
        })
    }

    /// Keeps a record's storage link (a bearer secret) for later downloads.
    pub(crate) fn set_storage_link(&self, uuid: &str, link: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("UPDATE record SET storage_link = ?2 WHERE record_uuid = ?1")?
                .execute(params![uuid, link])
                .map(drop)
        })
    }

    /// Records that `uuid` is kept as `key`.
    pub(crate) fn mark_stored(
        &self,
        uuid: &str,
        key: &str,
        size: u64,
        sha256: &str,
    ) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        self.change_kept(
            uuid,
            "UPDATE record SET object_key = ?2, stored_size = ?3, sha256 = ?4, stored_at = ?5, \
             verified_at = NULL, last_error = NULL, failed_attempts = 0 WHERE record_uuid = ?1",
            params![uuid, key, size, sha256, now],
        )
    }

    /// Records a failure to keep `uuid`.
    pub(crate) fn mark_failed(&self, uuid: &str, error: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "UPDATE record SET last_error = ?2, failed_attempts = failed_attempts + 1 \
                     WHERE record_uuid = ?1",
                )?
                .execute(params![uuid, error])
                .map(drop)
        })
    }

    /// Records that `verify` read `uuid`'s object back whole.
    pub(crate) fn mark_verified(&self, uuid: &str) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.change_kept(
            uuid,
            "UPDATE record SET verified_at = ?2, last_error = NULL WHERE record_uuid = ?1",
            params![uuid, now],
        )
    }

    /// Records that `uuid`'s object is missing or altered: the record is not kept any more, so
    /// it is downloaded again (while still on the PBX) and never purged.
    pub(crate) fn mark_not_kept(&self, uuid: &str, reason: &str) -> Result<(), BackupError> {
        self.change_kept(
            uuid,
            "UPDATE record SET stored_at = NULL, verified_at = NULL, last_error = ?2 \
             WHERE record_uuid = ?1",
            params![uuid, reason],
        )
    }

    /// Records that `uuid` is deleted from the PBX (written before the next deletion starts),
    /// with the audit entry `draft` in the same transaction.
    pub(crate) fn mark_deleted(&self, uuid: &str, draft: Draft) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            transaction
                .prepare_cached(
                    "UPDATE record SET deleted_from_pbx_at = ?2, last_error = NULL \
                     WHERE record_uuid = ?1",
                )?
                .execute(params![uuid, now])?;
            transaction.prepare_cached(DIRTY)?.execute([uuid])?;
            append(&transaction, draft, self.signer.as_ref())?;
            transaction.commit()
        })
    }
}
