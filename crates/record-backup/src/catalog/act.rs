//! The catalog's side of deletion acts: an act is opened before its first record is
//! destroyed, each record is written to it in the transaction of its tombstone, and it is
//! closed at the end of its run; its files are written from here.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::audit::{Draft, Proof, Tombstone, append, bury};
use super::entry::{corrupt, parse_time, time_text};
use super::{Catalog, forget_numbers};
use crate::act::{ActRecord, ActRefusal, DeletionAct, Place};
use crate::chain::AuditAction;
use crate::checkpoint::Checkpoint;
use crate::error::BackupError;

/// What a destroyed record was, as the catalog had it.
#[derive(Debug, Clone)]
pub(crate) struct Doomed {
    pub(crate) record_uuid: String,
    pub(crate) init_time_us: i64,
    pub(crate) object_key: Option<String>,
    pub(crate) size: Option<u64>,
    pub(crate) sha256: Option<String>,
    pub(crate) kept: bool,
    pub(crate) on_pbx: bool,
}

impl Doomed {
    pub(crate) fn call_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.init_time_us).unwrap_or_default()
    }
}

/// Why and by whom records are destroyed, and the act they go into.
#[derive(Debug, Clone)]
pub(crate) struct Cause {
    pub(crate) action: AuditAction,
    pub(crate) reason: String,
    pub(crate) operator: String,
    pub(crate) number_hash: Option<String>,
}

/// What an act holds before its first record: written when it is opened.
#[derive(Debug, Clone)]
pub(crate) struct ActHeader {
    pub(crate) act_id: String,
    pub(crate) drawn_up_at: DateTime<Utc>,
    pub(crate) cause: Cause,
    pub(crate) scope: String,
    pub(crate) policy: Option<serde_json::Value>,
    /// Where the run that opened it writes its files, besides the target.
    pub(crate) act_dir: Option<std::path::PathBuf>,
}

fn next_line(transaction: &Transaction<'_>, act_id: &str) -> rusqlite::Result<i64> {
    transaction
        .prepare_cached("SELECT coalesce(max(line), 0) + 1 FROM act_record WHERE act_id = ?1")?
        .query_row([act_id], |row| row.get(0))
}

fn size_sql(size: Option<u64>) -> Option<i64> {
    size.map(|s| i64::try_from(s).unwrap_or(i64::MAX))
}

impl Catalog {
    /// Opens an act: committed before its run destroys anything.
    pub(crate) fn open_act(&self, header: &ActHeader) -> Result<(), BackupError> {
        let policy = header.policy.as_ref().map(ToString::to_string);
        // Absolute: the run that finishes it may start elsewhere.
        let act_dir = header.act_dir.as_ref().map(|dir| {
            std::fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.clone())
                .to_string_lossy()
                .into_owned()
        });
        self.with(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO act (act_id, action, operator, reason, scope, policy, \
                     subject_hash, opened_at, act_dir) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    header.act_id,
                    header.cause.action.as_str(),
                    header.cause.operator,
                    header.cause.reason,
                    header.scope,
                    policy,
                    header.cause.number_hash,
                    time_text(header.drawn_up_at),
                    act_dir,
                ])
                .map(drop)
        })
    }

    /// Removes a destroyed record from the catalog — its row, its numbers — marks its
    /// month's manifest out of date, leaves its tombstone, appends the audit entry that
    /// proves it and writes it to its act, in one transaction.
    pub(crate) fn bury_record(
        &self,
        act_id: &str,
        doomed: &Doomed,
        cause: &Cause,
        places: &[Place],
    ) -> Result<Proof, BackupError> {
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if doomed.kept {
                // Its month's manifest lists it: written again without it.
                transaction
                    .prepare_cached(super::write::DIRTY)?
                    .execute([&doomed.record_uuid])?;
            }
            forget_numbers(&transaction, &doomed.record_uuid)?;
            transaction
                .prepare_cached("DELETE FROM record WHERE record_uuid = ?1")?
                .execute(params![doomed.record_uuid])?;
            let mut draft = Draft::new(&cause.operator, cause.action);
            draft.record_uuid = Some(doomed.record_uuid.clone());
            draft.call_time = Some(doomed.call_time());
            draft.size = doomed.size;
            draft.sha256.clone_from(&doomed.sha256);
            draft.number_hash.clone_from(&cause.number_hash);
            draft.destroyed = places.iter().map(|p| p.as_str().to_owned()).collect();
            draft.reason = Some(cause.reason.clone());
            draft.act_id = Some(act_id.to_owned());
            let proof = append(&transaction, draft, self.signer.as_ref())?;
            bury(
                &transaction,
                &Tombstone {
                    record_uuid: doomed.record_uuid.clone(),
                    call_time: doomed.call_time(),
                    size: doomed.size,
                    sha256: doomed.sha256.clone(),
                    number_hash: cause.number_hash.clone(),
                    action: cause.action,
                    reason: cause.reason.clone(),
                    operator: cause.operator.clone(),
                    destroyed_at: proof.at,
                    audit_seq: proof.seq,
                },
            )?;
            let places: Vec<&str> = places.iter().map(|p| p.as_str()).collect();
            let line = next_line(&transaction, act_id)?;
            transaction
                .prepare_cached(
                    "INSERT INTO act_record (act_id, line, record_uuid, call_time_us, size, \
                     sha256, destroyed, destroyed_at, audit_seq, audit_hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    act_id,
                    line,
                    doomed.record_uuid,
                    doomed.init_time_us,
                    size_sql(doomed.size),
                    doomed.sha256,
                    places.join(","),
                    time_text(proof.at),
                    i64::try_from(proof.seq).unwrap_or(i64::MAX),
                    proof.hash,
                ])?;
            transaction.commit()?;
            Ok(proof)
        })
    }

    /// Writes to act `act_id` a record found and not destroyed, and why.
    pub(crate) fn refuse_in_act(
        &self,
        act_id: &str,
        doomed: &Doomed,
        reason: &str,
    ) -> Result<(), BackupError> {
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let line = next_line(&transaction, act_id)?;
            transaction
                .prepare_cached(
                    "INSERT INTO act_record (act_id, line, record_uuid, call_time_us, refused) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    act_id,
                    line,
                    doomed.record_uuid,
                    doomed.init_time_us,
                    reason
                ])?;
            transaction.commit()
        })
    }

    /// Closes act `act_id` with how its run ended (an act already closed keeps its end).
    pub(crate) fn close_act(&self, act_id: &str, outcome: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "UPDATE act SET closed_at = ?2, outcome = ?3 \
                     WHERE act_id = ?1 AND closed_at IS NULL",
                )?
                .execute(params![act_id, time_text(Utc::now()), outcome])
                .map(drop)
        })
    }

    /// Records that act `act_id`'s files are written.
    pub(crate) fn act_stored(&self, act_id: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("UPDATE act SET stored_at = ?2 WHERE act_id = ?1")?
                .execute(params![act_id, time_text(Utc::now())])
                .map(drop)
        })
    }

    /// The acts whose files are not written yet (left open by a killed run, or not stored
    /// when their run failed), oldest first, with the directory their run wrote acts to.
    pub(crate) fn unfinished_acts(
        &self,
    ) -> Result<Vec<(String, bool, Option<std::path::PathBuf>)>, BackupError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT act_id, closed_at IS NULL, act_dir FROM act WHERE stored_at IS NULL \
                 ORDER BY opened_at",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get::<_, Option<String>>(2)?.map(Into::into),
                ))
            })?;
            rows.collect()
        })
    }

    /// The ids of the acts whose files are not written yet, oldest first: left open by a run
    /// that was killed, or not stored when their run failed. The next run that opens the
    /// archive for writing finishes them ([`Archive::finish_unfinished_acts`](crate::Archive::finish_unfinished_acts)).
    pub fn unstored_acts(&self) -> Result<Vec<String>, BackupError> {
        Ok(self
            .unfinished_acts()?
            .into_iter()
            .map(|(act_id, _, _)| act_id)
            .collect())
    }

    /// Act `act_id` as the catalog holds it: its records, the audit entries that prove them
    /// and the first signed checkpoint that covers them.
    pub fn act(&self, act_id: &str) -> Result<Option<DeletionAct>, BackupError> {
        self.with(|connection| {
            let Some(mut act) = connection
                .prepare_cached(
                    "SELECT act_id, action, operator, reason, scope, policy, subject_hash, \
                     opened_at, closed_at, outcome FROM act WHERE act_id = ?1",
                )?
                .query_row([act_id], act_of)
                .optional()?
            else {
                return Ok(None);
            };
            let mut statement = connection.prepare_cached(
                "SELECT record_uuid, call_time_us, size, sha256, destroyed, destroyed_at, \
                 audit_seq, audit_hash, refused FROM act_record WHERE act_id = ?1 ORDER BY line",
            )?;
            let mut rows = statement.query([act_id])?;
            let mut last_seq = 0;
            while let Some(row) = rows.next()? {
                let call_time = DateTime::from_timestamp_micros(row.get(1)?)
                    .ok_or_else(|| corrupt("an act's call time", "out of range"))?;
                let record_uuid: String = row.get(0)?;
                if let Some(reason) = row.get::<_, Option<String>>(8)? {
                    act.not_destroyed.push(ActRefusal {
                        record_uuid,
                        call_time,
                        reason,
                    });
                    continue;
                }
                let places: String = row.get(4)?;
                let seq = row
                    .get::<_, Option<i64>>(6)?
                    .and_then(|s| u64::try_from(s).ok());
                last_seq = last_seq.max(seq.unwrap_or(0));
                act.records.push(ActRecord {
                    record_uuid,
                    call_time,
                    size: row
                        .get::<_, Option<i64>>(2)?
                        .and_then(|s| u64::try_from(s).ok()),
                    sha256: row.get(3)?,
                    destroyed: places.split(',').filter_map(Place::parse).collect(),
                    destroyed_at: row
                        .get::<_, Option<String>>(5)?
                        .as_deref()
                        .and_then(parse_time),
                    audit_seq: seq,
                    audit_hash: row.get(7)?,
                });
            }
            let mut statement = connection.prepare_cached(
                "SELECT audit.line FROM act_record JOIN audit ON audit.seq = act_record.audit_seq \
                 WHERE act_record.act_id = ?1 ORDER BY audit.seq",
            )?;
            act.audit_entries = statement
                .query_map([act_id], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            // The first checkpoint that covers its entries: the one signed as its run ended,
            // the same however often the act is read.
            if last_seq == 0 {
                return Ok(Some(act));
            }
            act.checkpoint = connection
                .prepare_cached(
                    "SELECT json FROM checkpoint WHERE size >= ?1 ORDER BY size LIMIT 1",
                )?
                .query_row([i64::try_from(last_seq).unwrap_or(i64::MAX)], |row| {
                    row.get::<_, String>(0)
                })
                .optional()?
                .and_then(|json| serde_json::from_str::<Checkpoint>(&json).ok());
            Ok(Some(act))
        })
    }
}

fn act_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeletionAct> {
    let action: String = row.get(1)?;
    let action: AuditAction = serde_json::from_value(serde_json::Value::String(action))
        .map_err(|error| corrupt("an act's action", error))?;
    let operator: String = row.get(2)?;
    let reason: String = row.get(3)?;
    let mut act = DeletionAct::new(action, false, &operator, &reason, row.get(4)?);
    act.act_id = row.get(0)?;
    act.policy = row
        .get::<_, Option<String>>(5)?
        .and_then(|p| serde_json::from_str(&p).ok());
    act.number_hash = row.get(6)?;
    let opened: String = row.get(7)?;
    act.drawn_up_at = parse_time(&opened).ok_or_else(|| corrupt("an act's time", &opened))?;
    act.closed_at = row
        .get::<_, Option<String>>(8)?
        .as_deref()
        .and_then(parse_time);
    act.outcome = row.get(9)?;
    Ok(act)
}
