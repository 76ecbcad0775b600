//! `purge`: delete from the PBX, one record at a time, only what is verified as kept.

use chrono::{DateTime, Utc};
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Deletion, Error as ApiError, RecordUuid, Scope};

use crate::act::Place;
use crate::archive::{Archive, Outcome};
use crate::budget::Gate;
use crate::catalog::Draft;
use crate::catalog::{Conditions, KeptWhich, ScopeFilter};
use crate::chain::AuditAction;
use crate::error::BackupError;
use crate::progress::Progress;

/// Candidates are read from the catalog in pages of this many.
const PAGE: usize = 256;

/// How a purge runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeOptions {
    /// Count what would be deleted, delete nothing (the records themselves:
    /// [`SearchQuery::purgeable`](crate::SearchQuery::purgeable)).
    pub dry_run: bool,
    /// Delete at most this many records in this run.
    pub max_deletions: Option<u64>,
}

impl PurgeOptions {
    /// Deletes nothing; the report counts what would go.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Deletes at most `max` records.
    pub fn max_deletions(mut self, max: u64) -> Self {
        self.max_deletions = Some(max);
        self
    }
}

/// What a purge did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Records deleted from the PBX by this run.
    pub deleted: u64,
    /// Records the PBX no longer had (deleted by someone else, or an earlier answer was lost).
    pub already_gone: u64,
    /// Verified records whose object was missing or of another size right before deletion:
    /// kept on the PBX, and marked as not kept.
    pub not_kept: u64,
    /// In a dry run, how many records would be deleted (each deleted one is reported as
    /// [`Progress::Deleted`] when it goes).
    pub would_delete: u64,
    /// Whether the run did all its work.
    pub outcome: Outcome,
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Deletes from the PBX the records of `scope` that started before `older_than` and are
    /// verified as kept (stored, then read back whole by [`verify`](Self::verify)) — one at
    /// a time with `delete_record`, never a range delete. Right before each deletion the
    /// object's size in the target is checked once more; a record whose object is gone or
    /// different stays on the PBX. Each deletion is written to the catalog before the next
    /// one starts; a record the PBX no longer has counts as already gone.
    ///
    /// An API error other than "not found" stops the purge (and is returned): the records
    /// deleted before it are in the catalog.
    /// A record covered by an active legal hold is never purged. Each deletion is written
    /// to the audit log with the record's deletion from the catalog's view of the PBX.
    pub async fn purge(
        &self,
        older_than: DateTime<Utc>,
        scope: Scope,
        options: PurgeOptions,
    ) -> Result<PurgeReport, BackupError> {
        let reason = format!("started before {}", older_than.to_rfc3339());
        self.purge_selected(
            ScopeFilter::of(scope),
            &Conditions::default(),
            older_than,
            scope,
            options,
            &reason,
        )
        .await
    }

    /// [`purge`](Self::purge) of the records of `filter` where `selection` holds too (a
    /// retention pass), each deletion audited with `reason`.
    pub(crate) async fn purge_selected(
        &self,
        filter: ScopeFilter,
        selection: &Conditions,
        older_than: DateTime<Utc>,
        scope: Scope,
        options: PurgeOptions,
        reason: &str,
    ) -> Result<PurgeReport, BackupError> {
        let cutoff = older_than.timestamp_micros();
        let gate = Gate::new(self.options.budget);
        let mut report = PurgeReport {
            deleted: 0,
            already_gone: 0,
            not_kept: 0,
            would_delete: 0,
            outcome: Outcome::Complete,
        };
        let mut after = None;
        let result = 'pages: loop {
            let page = self.catalog.kept_page(
                filter,
                None,
                KeptWhich::PurgeableBefore(cutoff, selection),
                &after,
                PAGE,
            )?;
            let Some(last) = page.last() else {
                break Ok(());
            };
            after = Some((last.init_time_us, last.record_uuid.clone()));
            for kept in page {
                let done = report.deleted + report.already_gone + report.would_delete;
                if self.stopped() || options.max_deletions.is_some_and(|max| done >= max) {
                    break 'pages Ok(());
                }
                let uuid = RecordUuid::new(kept.record_uuid.as_str()).map_err(|error| {
                    BackupError::Corrupt {
                        what: format!("the catalog's record {}", kept.record_uuid),
                        reason: error.to_string(),
                    }
                })?;
                if options.dry_run {
                    report.would_delete += 1;
                    continue;
                }
                // A hold placed since the page was read (holds are placed while runs go on).
                if !self
                    .catalog
                    .holds_on(&kept.record_uuid, chrono::Utc::now())?
                    .is_empty()
                {
                    continue;
                }
                if self.target.size(&kept.object_key).await? != Some(kept.size) {
                    let reason = format!(
                        "{} was missing or of another size right before deletion; \
                         the record stays on the PBX",
                        kept.object_key
                    );
                    self.catalog.mark_not_kept(&kept.record_uuid, &reason)?;
                    report.not_kept += 1;
                    continue;
                }
                let permit = match self.admit(&gate).await {
                    Ok(permit) => permit,
                    Err(resume_after) => {
                        report.outcome = Outcome::Paused { resume_after };
                        break 'pages Ok(());
                    }
                };
                let deleted = self.client.delete_record(scope, &uuid).await;
                drop(permit);
                match deleted {
                    Ok(Deletion::Deleted) => report.deleted += 1,
                    Ok(Deletion::AlreadyGone) | Err(ApiError::NotFound(_)) => {
                        report.already_gone += 1;
                    }
                    Ok(_) => report.deleted += 1,
                    Err(error) => {
                        self.catalog
                            .mark_failed(&kept.record_uuid, &error.to_string())?;
                        break 'pages Err(error);
                    }
                }
                let mut draft = Draft::new(&self.options.operator, AuditAction::Purge);
                draft.record_uuid = Some(kept.record_uuid.clone());
                draft.call_time = DateTime::from_timestamp_micros(kept.init_time_us);
                draft.size = Some(kept.size);
                draft.sha256 = Some(kept.sha256.clone());
                draft.destroyed = vec![Place::Pbx.as_str().to_owned()];
                draft.reason = Some(reason.to_owned());
                self.catalog.mark_deleted(&kept.record_uuid, draft)?;
                self.report(Progress::Deleted {
                    record_uuid: kept.record_uuid.clone(),
                });
            }
        };
        self.write_manifests().await?;
        crate::audit::export(&self.catalog, &self.target).await?;
        result?;
        Ok(report)
    }
}
