//! Destroying a record everywhere it is — the PBX, the target, the catalog and the
//! manifests — leaving a tombstone without personal data and an audit entry that proves it:
//! what erasure of a person's data and the retention policy's expiry both do, one record at
//! a time.

use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt as _;
use rusqlite::params;
use rusqlite::types::Value as Sql;
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Deletion, Error as ApiError, RecordUuid, Scope};

use crate::act::{ActRecord, ActRefusal, DeletionAct, Place};
use crate::archive::{Archive, Outcome};
use crate::budget::Gate;
use crate::catalog::{Catalog, Conditions, Cursor, forget_numbers};
use crate::catalog::{Draft, Proof, Tombstone, append, bury};
use crate::chain::AuditAction;
use crate::error::BackupError;
use crate::target::Target;

/// A record to destroy, as the catalog has it.
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

/// The columns [`doomed_of`] reads, over `record`.
pub(crate) const DOOMED_COLUMNS: &str = "record.record_uuid, record.init_time_us, \
     record.object_key, record.stored_size, record.sha256, record.stored_at IS NOT NULL, \
     record.deleted_from_pbx_at IS NULL";

pub(crate) fn doomed_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Doomed> {
    Ok(Doomed {
        record_uuid: row.get(0)?,
        init_time_us: row.get(1)?,
        object_key: row.get(2)?,
        size: row
            .get::<_, Option<i64>>(3)?
            .and_then(|s| u64::try_from(s).ok()),
        sha256: row.get(4)?,
        kept: row.get(5)?,
        on_pbx: row.get(6)?,
    })
}

impl Doomed {
    pub(crate) fn call_time(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.init_time_us).unwrap_or_default()
    }

    /// What destroying it would do (a dry run's line of the act).
    pub(crate) fn planned(&self) -> ActRecord {
        let mut places = Vec::new();
        if self.on_pbx {
            places.push(Place::Pbx);
        }
        if self.object_key.is_some() {
            places.push(Place::Target);
        }
        places.push(Place::Catalog);
        if self.kept {
            places.push(Place::Manifest);
        }
        ActRecord {
            record_uuid: self.record_uuid.clone(),
            call_time: self.call_time(),
            size: self.size,
            sha256: self.sha256.clone(),
            destroyed: places,
            destroyed_at: None,
            audit_seq: None,
            audit_hash: None,
        }
    }
}

/// Why and by whom records are destroyed.
#[derive(Debug, Clone)]
pub(crate) struct Cause {
    pub(crate) action: AuditAction,
    pub(crate) reason: String,
    pub(crate) operator: String,
    pub(crate) number_hash: Option<String>,
}

impl Catalog {
    /// Up to `limit` rows of `sql`'s `FROM … WHERE` with `conditions`, after `after`, oldest
    /// first.
    pub(crate) fn doomed_page(
        &self,
        from_where: &str,
        conditions: &Conditions,
        limit: usize,
    ) -> Result<Vec<Doomed>, BackupError> {
        let sql = format!(
            "SELECT {DOOMED_COLUMNS} {from_where} AND {} \
             ORDER BY record.init_time_us, record.record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.rows(&sql, conditions, doomed_of)
    }

    /// Removes the record from the catalog — its row, its numbers — marks its month's
    /// manifest out of date, leaves its tombstone, and appends the entry that proves it, in
    /// one transaction.
    fn bury_record(
        &self,
        doomed: &Doomed,
        cause: &Cause,
        places: &[Place],
    ) -> Result<Proof, BackupError> {
        self.with(|connection| {
            let transaction = connection.transaction()?;
            if doomed.kept {
                let month = doomed.call_time().format("%Y-%m").to_string();
                transaction
                    .prepare_cached("INSERT OR IGNORE INTO manifest_dirty (month) VALUES (?1)")?
                    .execute([month])?;
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
            let proof = append(&transaction, draft)?;
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
            transaction.commit()?;
            Ok(proof)
        })
    }
}

/// Keyset condition over `record` after `after`, for pages of doomed records.
pub(crate) fn after_record(conditions: &mut Conditions, after: &Cursor) {
    if let Some((time, uuid)) = after {
        conditions.push(
            "(record.init_time_us, record.record_uuid) > (?, ?)",
            [Sql::Integer(*time), Sql::Text(uuid.clone())],
        );
    }
}

/// Deletes `key` from the target; an object already gone counts as deleted.
async fn delete_object(target: &Target, key: &str) -> Result<(), BackupError> {
    match target.store().delete(&Target::path(key)?).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Records are read from the catalog in pages of this many.
const PAGE: usize = 256;

/// What a sweep did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sweep {
    /// Whether all its work was done, or the rate budget stopped it.
    pub(crate) outcome: Outcome,
    /// Records destroyed.
    pub(crate) destroyed: u64,
    /// Whether it stopped (at its limit, or asked to) with records left.
    pub(crate) more: bool,
}

/// How destroying one record ended.
enum Fate {
    /// Destroyed everywhere; the act's line.
    Destroyed(ActRecord),
    /// Left as it was: the PBX or the target refused; the reason.
    Failed(String),
    /// The rate budget is spent: stop here.
    Paused(std::time::Duration),
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Destroys one record: from the PBX (where it still is), from the target, then from the
    /// catalog in one transaction with its tombstone and audit entry. A failure on the PBX or
    /// the target leaves the record as it was, to be destroyed by a later run.
    async fn destroy(
        &self,
        doomed: &Doomed,
        scope: Scope,
        cause: &Cause,
        gate: &Gate,
    ) -> Result<Fate, BackupError> {
        let mut places = Vec::new();
        if doomed.on_pbx {
            let uuid = RecordUuid::new(doomed.record_uuid.as_str()).map_err(|error| {
                BackupError::Corrupt {
                    what: format!("the catalog's record {}", doomed.record_uuid),
                    reason: error.to_string(),
                }
            })?;
            let permit = match self.admit(gate).await {
                Ok(permit) => permit,
                Err(resume_after) => return Ok(Fate::Paused(resume_after)),
            };
            let deleted = self.client.delete_record(scope, &uuid).await;
            drop(permit);
            match deleted {
                Ok(Deletion::AlreadyGone) | Err(ApiError::NotFound(_)) => {
                    places.push(Place::PbxAlreadyGone);
                }
                Ok(_) => places.push(Place::Pbx),
                Err(error) => {
                    return Ok(Fate::Failed(format!(
                        "the PBX refused the deletion: {error}"
                    )));
                }
            }
        }
        if let Some(key) = &doomed.object_key
            && let Err(error) = delete_object(&self.target, key).await
        {
            return Ok(Fate::Failed(format!(
                "the target refused the deletion: {error}"
            )));
        }
        if doomed.object_key.is_some() {
            places.push(Place::Target);
        }
        places.push(Place::Catalog);
        if doomed.kept {
            places.push(Place::Manifest);
        }
        let proof = self.catalog.bury_record(doomed, cause, &places)?;
        Ok(Fate::Destroyed(ActRecord {
            record_uuid: doomed.record_uuid.clone(),
            call_time: doomed.call_time(),
            size: doomed.size,
            sha256: doomed.sha256.clone(),
            destroyed: places,
            destroyed_at: Some(proof.at),
            audit_seq: Some(proof.seq),
            audit_hash: Some(proof.hash),
        }))
    }

    /// Destroys, page by page, the records `selection` chooses (over `record`, oldest first),
    /// at most `limit` of them; each goes into `act`, as destroyed (or, dry, as it would be)
    /// or as not destroyed with the reason — the hold that covers it, checked right before,
    /// or the failure.
    pub(crate) async fn sweep(
        &self,
        selection: &Conditions,
        scope: Scope,
        cause: &Cause,
        act: &mut DeletionAct,
        limit: Option<usize>,
    ) -> Result<Sweep, BackupError> {
        let gate = Gate::new(self.options.budget);
        let mut sweep = Sweep {
            outcome: Outcome::Complete,
            destroyed: 0,
            more: false,
        };
        let mut after: Cursor = None;
        loop {
            let mut conditions = selection.clone();
            after_record(&mut conditions, &after);
            let page = self
                .catalog
                .doomed_page("FROM record WHERE 1", &conditions, PAGE)?;
            let Some(last) = page.last() else {
                return Ok(sweep);
            };
            after = Some((last.init_time_us, last.record_uuid.clone()));
            for doomed in page {
                let full =
                    limit.is_some_and(|limit| act.records.len() + act.not_destroyed.len() >= limit);
                if full || self.stopped() {
                    sweep.more = true;
                    return Ok(sweep);
                }
                let refuse = |reason: String| ActRefusal {
                    record_uuid: doomed.record_uuid.clone(),
                    call_time: doomed.call_time(),
                    reason,
                };
                // Checked right before: holds are placed while runs go on.
                let holds = self.catalog.holds_on(&doomed.record_uuid, Utc::now())?;
                if let Some(hold) = holds.first() {
                    act.not_destroyed
                        .push(refuse(format!("held by hold {}: {}", hold.id, hold.reason)));
                    continue;
                }
                if act.dry_run {
                    act.records.push(doomed.planned());
                    continue;
                }
                match self.destroy(&doomed, scope, cause, &gate).await? {
                    Fate::Destroyed(record) => {
                        sweep.destroyed += 1;
                        act.records.push(record);
                    }
                    Fate::Failed(reason) => act.not_destroyed.push(refuse(reason)),
                    Fate::Paused(resume_after) => {
                        sweep.outcome = Outcome::Paused { resume_after };
                        return Ok(sweep);
                    }
                }
            }
        }
    }

    /// After destroying: the manifests that held the records are written again, and the
    /// audit entries are copied to the target.
    pub(crate) async fn after_destroying(&self) -> Result<(), BackupError> {
        self.write_manifests().await?;
        crate::audit::export(&self.catalog, &self.target).await
    }
}
