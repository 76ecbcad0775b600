//! The catalog's side of the audit log and of destroyed records: entries appended in the
//! transaction of the change they prove, tombstones, and the log read back page by page.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::Catalog;
use super::entry::{corrupt, time_text};
use crate::chain::{AuditAction, AuditCheck, AuditEntry, ChainCheck, GENESIS, hash_of, line_of};
use crate::checkpoint::AuditSigningKey;
use crate::error::BackupError;

/// Entries are read from the catalog in pages of this many.
const AUDIT_PAGE: usize = 1000;

/// An entry to append: the log gives it its place, time and link.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) operator: String,
    pub(crate) action: AuditAction,
    pub(crate) record_uuid: Option<String>,
    pub(crate) call_time: Option<DateTime<Utc>>,
    pub(crate) size: Option<u64>,
    pub(crate) sha256: Option<String>,
    pub(crate) number_hash: Option<String>,
    pub(crate) destroyed: Vec<String>,
    pub(crate) hold_id: Option<i64>,
    pub(crate) reason: Option<String>,
    pub(crate) act_id: Option<String>,
}

impl Draft {
    pub(crate) fn new(operator: &str, action: AuditAction) -> Draft {
        Draft {
            operator: operator.to_owned(),
            action,
            record_uuid: None,
            call_time: None,
            size: None,
            sha256: None,
            number_hash: None,
            destroyed: Vec::new(),
            hold_id: None,
            reason: None,
            act_id: None,
        }
    }
}

/// The entry that proves a change: its place in the log, its hash and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proof {
    pub(crate) seq: u64,
    pub(crate) hash: String,
    pub(crate) at: DateTime<Utc>,
}

/// What is left of a destroyed record: no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tombstone {
    /// The record's id.
    pub record_uuid: String,
    /// When its call started.
    pub call_time: DateTime<Utc>,
    /// The size of its file, if it was kept.
    pub size: Option<u64>,
    /// The SHA-256 of its file, if it was kept.
    pub sha256: Option<String>,
    /// The keyed hash of the erased number (erasure only).
    pub number_hash: Option<String>,
    /// Why it was destroyed: erasure or expiry.
    pub action: AuditAction,
    /// The reason given.
    pub reason: String,
    /// Who destroyed it.
    pub operator: String,
    /// When.
    pub destroyed_at: DateTime<Utc>,
    /// The audit entry that proves it.
    pub audit_seq: u64,
}

/// Appends `draft` to the log in `transaction`, signed with `signer` when the catalog has the
/// audit signing key.
pub(crate) fn append(
    transaction: &Transaction<'_>,
    draft: Draft,
    signer: Option<&AuditSigningKey>,
) -> rusqlite::Result<Proof> {
    let last: Option<(i64, String)> = transaction
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (u64::try_from(seq).unwrap_or(0) + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = Utc::now();
    let entry = AuditEntry {
        seq,
        at,
        operator: draft.operator,
        action: draft.action,
        record_uuid: draft.record_uuid,
        call_time: draft.call_time,
        size: draft.size,
        sha256: draft.sha256,
        number_hash: draft.number_hash,
        destroyed: draft.destroyed,
        hold_id: draft.hold_id,
        reason: draft.reason,
        act_id: draft.act_id,
        prev,
    };
    let json = serde_json::to_string(&entry).map_err(|error| corrupt("an audit entry", error))?;
    let hash = hash_of(&json);
    let signature = signer.map(|key| key.sign_entry(&hash));
    transaction
        .prepare_cached("INSERT INTO audit (seq, at, line, hash) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            i64::try_from(seq).unwrap_or(i64::MAX),
            time_text(at),
            line_of(&json, &hash, signature.as_deref()),
            hash
        ])?;
    Ok(Proof { seq, hash, at })
}

/// A tombstone's row, with the entry that proves it.
pub(crate) fn bury(transaction: &Transaction<'_>, tombstone: &Tombstone) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO tombstone (record_uuid, init_time_us, size, sha256, \
             number_hash, action, reason, operator, destroyed_at, audit_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            tombstone.record_uuid,
            tombstone.call_time.timestamp_micros(),
            tombstone.size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            tombstone.sha256,
            tombstone.number_hash,
            tombstone.action.as_str(),
            tombstone.reason,
            tombstone.operator,
            time_text(tombstone.destroyed_at),
            i64::try_from(tombstone.audit_seq).unwrap_or(i64::MAX),
        ])
        .map(drop)
}

impl Catalog {
    /// Checks the catalog's audit log from its first entry: every entry in its place, its
    /// content matching its hash, its link matching the entry before. Names the first entry
    /// that does not.
    pub fn check_audit(&self) -> Result<AuditCheck, BackupError> {
        let mut check = ChainCheck::new();
        self.each_audit_line(|line| check.push(line))?;
        Ok(check.finish())
    }

    /// Every line of the log to `each`, oldest first, page by page, until it says stop.
    fn each_audit_line(&self, mut each: impl FnMut(&str) -> bool) -> Result<(), BackupError> {
        let mut after = 0_i64;
        loop {
            let page = self.audit_page(after, None, None)?;
            let Some((last, _)) = page.last() else {
                return Ok(());
            };
            after = *last;
            for (_, line) in &page {
                if !each(line) {
                    return Ok(());
                }
            }
        }
    }

    /// Checks the catalog's audit log with the public key alone, against `checkpoints` (from
    /// the catalog, the target, the acts, a second location): names the first entry that is
    /// not the one signed, that was removed or that was added.
    pub fn check_audit_signed(
        &self,
        key: crate::checkpoint::AuditPublicKey,
        checkpoints: Vec<crate::checkpoint::Checkpoint>,
    ) -> Result<crate::signed::SignedAuditCheck, BackupError> {
        let mut check = crate::signed::ProofCheck::new(key, checkpoints);
        self.each_audit_line(|line| check.push(line))?;
        Ok(check.finish())
    }

    /// The log's lines written in `[from, until)` (either end open), oldest first, page by
    /// page: `each` gets every line as the log holds it (its hash included), so that an
    /// inspector can check the export.
    pub fn export_audit(
        &self,
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        mut each: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, BackupError> {
        let mut after = 0_i64;
        let mut count = 0;
        loop {
            let page = self.audit_page(after, from, until)?;
            let Some((last, _)) = page.last() else {
                return Ok(count);
            };
            after = *last;
            for (_, line) in &page {
                each(line).map_err(|error| BackupError::Corrupt {
                    what: "the audit export".to_owned(),
                    reason: error.to_string(),
                })?;
                count += 1;
            }
        }
    }

    /// Up to a page of `(seq, line)` after `after`, written in `[from, until)`.
    fn audit_page(
        &self,
        after: i64,
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(i64, String)>, BackupError> {
        let from = from.map(time_text).unwrap_or_default();
        let until = until.map_or_else(|| "~".to_owned(), time_text);
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT seq, line FROM audit WHERE seq > ?1 AND at >= ?2 AND at < ?3 \
                 ORDER BY seq LIMIT {AUDIT_PAGE}"
            ))?;
            let rows = statement.query_map(params![after, from, until], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect()
        })
    }

    /// Up to a page of the entries the target's copy lacks, oldest first.
    pub(crate) fn unexported_audit(&self, after: i64) -> Result<Vec<(i64, String)>, BackupError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT seq, line FROM audit WHERE exported = 0 AND seq > ?1 ORDER BY seq \
                 LIMIT {AUDIT_PAGE}"
            ))?;
            let rows = statement.query_map([after], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })
    }

    /// Records that the target holds the entries `[first, last]`.
    pub(crate) fn audit_exported(&self, first: i64, last: i64) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("UPDATE audit SET exported = 1 WHERE seq >= ?1 AND seq <= ?2")?
                .execute([first, last])
                .map(drop)
        })
    }

    /// Restores entries read from the target's log (in order, checked), with the tombstones
    /// of the records they destroyed; a record a manifest still held is removed again.
    pub(crate) fn restore_audit(
        &self,
        entries: &[(AuditEntry, String)],
    ) -> Result<(), BackupError> {
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for (entry, line) in entries {
                let hash = crate::chain::split_line(line)
                    .map(|split| split.hash.to_owned())
                    .unwrap_or_default();
                transaction
                    .prepare_cached(
                        "INSERT OR REPLACE INTO audit (seq, at, line, hash, exported) \
                         VALUES (?1, ?2, ?3, ?4, 1)",
                    )?
                    .execute(params![
                        i64::try_from(entry.seq).unwrap_or(i64::MAX),
                        time_text(entry.at),
                        line,
                        hash
                    ])?;
                let destroys = matches!(entry.action, AuditAction::Erase | AuditAction::Expire);
                if let (true, Some(uuid), Some(call_time)) =
                    (destroys, &entry.record_uuid, entry.call_time)
                {
                    super::numbers::forget(&transaction, uuid)?;
                    transaction
                        .prepare_cached("DELETE FROM record WHERE record_uuid = ?1")?
                        .execute([uuid])?;
                    bury(
                        &transaction,
                        &Tombstone {
                            record_uuid: uuid.clone(),
                            call_time,
                            size: entry.size,
                            sha256: entry.sha256.clone(),
                            number_hash: entry.number_hash.clone(),
                            action: entry.action,
                            reason: entry.reason.clone().unwrap_or_default(),
                            operator: entry.operator.clone(),
                            destroyed_at: entry.at,
                            audit_seq: entry.seq,
                        },
                    )?;
                }
            }
            transaction.commit()
        })
    }

    /// The hash of entry `seq`, if the log holds it: to hold a copy of the log (the
    /// target's, an inspector's export) against the catalog's.
    pub fn audit_hash(&self, seq: u64) -> Result<Option<String>, BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("SELECT hash FROM audit WHERE seq = ?1")?
                .query_row([i64::try_from(seq).unwrap_or(i64::MAX)], |row| row.get(0))
                .optional()
        })
    }

    /// How many entries the log holds.
    pub fn audit_len(&self) -> Result<u64, BackupError> {
        self.with(|connection| {
            connection.query_row("SELECT count(*) FROM audit", [], |row| row.get::<_, i64>(0))
        })
        .map(|count| u64::try_from(count).unwrap_or(0))
    }

    /// The tombstone of `record_uuid`, if the record was destroyed.
    pub fn tombstone(&self, record_uuid: &str) -> Result<Option<Tombstone>, BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "SELECT record_uuid, init_time_us, size, sha256, number_hash, action, reason, \
                     operator, destroyed_at, audit_seq FROM tombstone WHERE record_uuid = ?1",
                )?
                .query_row([record_uuid], tombstone_of)
                .optional()
        })
    }

    /// How many tombstones the catalog holds.
    pub fn tombstone_count(&self) -> Result<u64, BackupError> {
        self.with(|connection| {
            connection.query_row("SELECT count(*) FROM tombstone", [], |row| {
                row.get::<_, i64>(0)
            })
        })
        .map(|count| u64::try_from(count).unwrap_or(0))
    }
}

fn tombstone_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Tombstone> {
    let action: String = row.get(5)?;
    let action = serde_json::from_value(serde_json::Value::String(action))
        .map_err(|error| corrupt("a tombstone's action", error))?;
    let destroyed_at: String = row.get(8)?;
    Ok(Tombstone {
        record_uuid: row.get(0)?,
        call_time: DateTime::from_timestamp_micros(row.get(1)?)
            .ok_or_else(|| corrupt("a tombstone's call time", "out of range"))?,
        size: row
            .get::<_, Option<i64>>(2)?
            .and_then(|s| u64::try_from(s).ok()),
        sha256: row.get(3)?,
        number_hash: row.get(4)?,
        action,
        reason: row.get(6)?,
        operator: row.get(7)?,
        destroyed_at: DateTime::parse_from_rfc3339(&destroyed_at)
            .map_err(|error| corrupt("a tombstone's time", error))?
            .with_timezone(&Utc),
        audit_seq: u64::try_from(row.get::<_, i64>(9)?).unwrap_or(0),
    })
}
