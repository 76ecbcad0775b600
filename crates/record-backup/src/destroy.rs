//! Destroying a record everywhere it is — the PBX, the target, the catalog and the
//! manifests — leaving a tombstone without personal data and an audit entry that proves it:
//! what erasure of a person's data and the retention policy's expiry both do, one record at
//! a time.

use chrono::Utc;
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Deletion, Error as ApiError, RecordUuid, Scope};

use crate::act::{ActRecord, ActRefusal, DeletionAct, Place};
use crate::archive::{Archive, Outcome};
use crate::budget::Gate;
use crate::catalog::{ActHeader, Catalog, Cause, Conditions, Cursor, Doomed};
use crate::error::BackupError;

/// What destroying `doomed` would do (a dry run's line of the act).
fn planned(doomed: &Doomed) -> ActRecord {
    let mut places = Vec::new();
    if doomed.on_pbx {
        places.push(Place::Pbx);
    }
    if doomed.object_key.is_some() {
        places.push(Place::Target);
    }
    places.push(Place::Catalog);
    if doomed.kept {
        places.push(Place::Manifest);
    }
    ActRecord {
        record_uuid: doomed.record_uuid.clone(),
        call_time: doomed.call_time(),
        size: doomed.size,
        sha256: doomed.sha256.clone(),
        destroyed: places,
        destroyed_at: None,
        audit_seq: None,
        audit_hash: None,
    }
}

/// Where a sweep writes what it does.
pub(crate) enum Journal<'a> {
    /// A dry run: what would go, in memory.
    Dry(&'a mut DeletionAct),
    /// A real run: the catalog's act, opened right before the first record it lists.
    Act(&'a mut ActRun),
}

/// A real destruction run's act.
#[derive(Debug)]
pub(crate) struct ActRun {
    pub(crate) header: ActHeader,
    /// Whether the catalog holds it yet.
    pub(crate) opened: bool,
    /// Records destroyed so far (known even when the catalog can no longer be read).
    pub(crate) destroyed: u64,
    /// Records found and not destroyed so far.
    pub(crate) refused: u64,
}

impl ActRun {
    /// The act of a run by `cause` over `scope`, drawn up now; its files go to the target
    /// and, if given, to `act_dir`.
    pub(crate) fn new(
        cause: Cause,
        scope: Scope,
        policy: Option<serde_json::Value>,
        act_dir: Option<std::path::PathBuf>,
    ) -> ActRun {
        let frame = DeletionAct::new(
            cause.action,
            false,
            &cause.operator,
            &cause.reason,
            scope.to_string(),
        );
        ActRun {
            header: ActHeader {
                act_id: frame.act_id,
                drawn_up_at: frame.drawn_up_at,
                cause,
                scope: scope.to_string(),
                policy,
                act_dir,
            },
            opened: false,
            destroyed: 0,
            refused: 0,
        }
    }

    fn open(&mut self, catalog: &Catalog) -> Result<(), BackupError> {
        if !self.opened {
            catalog.open_act(&self.header)?;
            self.opened = true;
        }
        Ok(())
    }
}

impl Journal<'_> {
    fn seen(&self) -> u64 {
        match self {
            Journal::Dry(act) => (act.records.len() + act.not_destroyed.len()) as u64,
            Journal::Act(run) => run.destroyed + run.refused,
        }
    }

    fn refuse(
        &mut self,
        catalog: &Catalog,
        doomed: &Doomed,
        reason: String,
    ) -> Result<(), BackupError> {
        match self {
            Journal::Dry(act) => act.not_destroyed.push(ActRefusal {
                record_uuid: doomed.record_uuid.clone(),
                call_time: doomed.call_time(),
                reason,
            }),
            Journal::Act(run) => {
                run.open(catalog)?;
                catalog.refuse_in_act(&run.header.act_id, doomed, &reason)?;
                run.refused += 1;
            }
        }
        Ok(())
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
    /// Destroyed everywhere (and written to its act).
    Destroyed,
    /// Left as it was: the PBX or the target refused; the reason.
    Failed(String),
    /// The rate budget is spent: stop here.
    Paused(std::time::Duration),
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Destroys one record: from the PBX (where it still is), from the target, then from the
    /// catalog in one transaction with its tombstone, audit entry and line of its act. A
    /// failure on the PBX or the target leaves the record as it was, to be destroyed by a
    /// later run.
    async fn destroy(
        &self,
        doomed: &Doomed,
        scope: Scope,
        cause: &Cause,
        run: &mut ActRun,
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
            // The act is in the catalog before anything is destroyed.
            run.open(&self.catalog)?;
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
        run.open(&self.catalog)?;
        if let Some(key) = &doomed.object_key
            && let Err(error) = self.target.delete(key).await
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
        self.catalog
            .bury_record(&run.header.act_id, doomed, cause, &places)?;
        run.destroyed += 1;
        Ok(Fate::Destroyed)
    }

    /// Destroys, page by page, the records `selection` chooses (over `record`, oldest first),
    /// at most `limit` of them; each goes into `journal`, as destroyed (or, dry, as it would
    /// be) or as not destroyed with the reason — the hold that covers it, checked right
    /// before, or the failure.
    pub(crate) async fn sweep(
        &self,
        selection: &Conditions,
        scope: Scope,
        cause: &Cause,
        journal: &mut Journal<'_>,
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
            let page = self.catalog.doomed_page(selection, &after, PAGE)?;
            let Some(last) = page.last() else {
                return Ok(sweep);
            };
            after = Some((last.init_time_us, last.record_uuid.clone()));
            for doomed in page {
                let full = limit.is_some_and(|limit| journal.seen() >= limit as u64);
                if full || self.stopped() {
                    sweep.more = true;
                    return Ok(sweep);
                }
                // Checked right before: holds are placed while runs go on.
                let holds = self.catalog.holds_on(&doomed.record_uuid, Utc::now())?;
                if let Some(hold) = holds.first() {
                    let reason = format!("held by hold {}: {}", hold.id, hold.reason);
                    journal.refuse(&self.catalog, &doomed, reason)?;
                    continue;
                }
                let run = match journal {
                    Journal::Dry(act) => {
                        act.records.push(planned(&doomed));
                        continue;
                    }
                    Journal::Act(run) => &mut **run,
                };
                match self.destroy(&doomed, scope, cause, run, &gate).await? {
                    Fate::Destroyed => sweep.destroyed += 1,
                    Fate::Failed(reason) => journal.refuse(&self.catalog, &doomed, reason)?,
                    Fate::Paused(resume_after) => {
                        sweep.outcome = Outcome::Paused { resume_after };
                        return Ok(sweep);
                    }
                }
            }
        }
    }

    /// Ends a real destruction run whose work returned `result`: its act is closed with how
    /// the run ended, the manifests and the audit log (with a signed checkpoint) written,
    /// and the act's files stored — even when the run failed, so that what it destroyed
    /// has its act. A failure after records were destroyed says how many, and which act
    /// lists them.
    pub(crate) async fn conclude<R>(
        &self,
        run: &ActRun,
        result: Result<R, BackupError>,
        outcome: impl FnOnce(&R) -> &'static str,
    ) -> Result<(R, Option<DeletionAct>), BackupError> {
        let failed = |source: BackupError, stored: bool| BackupError::DestroyedThenFailed {
            destroyed: run.destroyed,
            act_id: run.header.act_id.clone(),
            stored,
            source: Box::new(source),
        };
        match result {
            Ok(value) => {
                if !run.opened {
                    self.after_destroying().await?;
                    return Ok((value, None));
                }
                match self
                    .finish_act(&run.header.act_id, outcome(&value), None)
                    .await
                {
                    Ok(act) => Ok((value, Some(act))),
                    Err(error) => Err(failed(error, false)),
                }
            }
            Err(error) if !run.opened => Err(error),
            Err(error) => {
                let outcome = format!("failed: {error}");
                let stored = match self.finish_act(&run.header.act_id, &outcome, None).await {
                    Ok(_) => true,
                    Err(finishing) => {
                        tracing::error!(
                            act = %run.header.act_id,
                            error = %finishing,
                            "the deletion act could not be stored; the next run stores it"
                        );
                        false
                    }
                };
                Err(failed(error, stored))
            }
        }
    }

    /// Closes act `act_id` (if its run did not) with `outcome`, writes the manifests and the
    /// audit log, then the act's files: in the target's `_acts/`, in the directory its run
    /// named and in the archive's [`act directory`](crate::ArchiveOptions::act_dir).
    async fn finish_act(
        &self,
        act_id: &str,
        outcome: &str,
        act_dir: Option<&std::path::Path>,
    ) -> Result<DeletionAct, BackupError> {
        self.catalog.close_act(act_id, outcome)?;
        self.after_destroying().await?;
        let act = self
            .catalog
            .act(act_id)?
            .ok_or_else(|| BackupError::Corrupt {
                what: format!("the deletion act {act_id}"),
                reason: "the catalog no longer holds it".to_owned(),
            })?;
        act.store(&self.target).await?;
        let mut dirs: Vec<&std::path::Path> = act_dir.into_iter().collect();
        if let Some(dir) = &self.options.act_dir
            && !dirs.contains(&dir.as_path())
        {
            dirs.push(dir);
        }
        for dir in dirs {
            act.write_to_dir(dir)?;
        }
        self.catalog.act_stored(act_id)?;
        Ok(act)
    }

    /// Finishes the acts that earlier runs left: opened by a run that was killed (closed
    /// now as `interrupted`), or closed but not stored (the target or the disk failed).
    /// Every run that opens the catalog for writing calls it first; it returns those acts,
    /// for the run to report.
    pub async fn finish_unfinished_acts(&self) -> Result<Vec<DeletionAct>, BackupError> {
        let mut finished = Vec::new();
        for (act_id, open, act_dir) in self.catalog.unfinished_acts()? {
            let act = self
                .finish_act(&act_id, "interrupted", act_dir.as_deref())
                .await?;
            tracing::warn!(
                act = %act_id,
                destroyed = act.records.len(),
                "finished the deletion act of an earlier run that {}",
                if open { "was interrupted" } else { "could not store it" }
            );
            finished.push(act);
        }
        Ok(finished)
    }

    /// After destroying: the manifests that held the records are written again, and the
    /// audit entries are copied to the target.
    pub(crate) async fn after_destroying(&self) -> Result<(), BackupError> {
        self.write_manifests().await?;
        crate::audit::export(&self.catalog, &self.target).await
    }
}
