//! `backup`: list with the completeness guard, upsert the metadata, keep every file not kept
//! yet — verified, atomic, with bounded concurrency — and record every outcome.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt as _;
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Error as ApiError, ListOptions, Order, Period, Record, Scope};
use tokio::sync::watch;

use crate::archive::{Archive, Outcome};
use crate::budget::Gate;
use crate::catalog::ScopeFilter;
use crate::error::BackupError;
use crate::keep::{Frontier, Totals};
use crate::progress::Progress;

/// Listed records are written to the catalog in transactions of this many.
const LIST_BATCH: usize = 256;

/// What a backup run did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupReport {
    /// Records listed by the API in the period (each once).
    pub listed: u64,
    /// Records the API listed that could not be decoded (their uuids are in the log).
    pub undecodable: u64,
    /// Files stored by this run.
    pub stored: u64,
    /// Records of the period kept by earlier runs (nothing transferred for them).
    pub already_kept: u64,
    /// Files this run could not keep (see each record's `last_error` in the catalog); the
    /// next run tries them again.
    pub failed: u64,
    /// Bytes of the files stored by this run.
    pub bytes: u64,
    /// Whether the run did all its work.
    pub outcome: Outcome,
}

impl Default for BackupReport {
    fn default() -> Self {
        BackupReport {
            listed: 0,
            undecodable: 0,
            stored: 0,
            already_kept: 0,
            failed: 0,
            bytes: 0,
            outcome: Outcome::Complete,
        }
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Backs up the recordings of `scope` in `period` (any length).
    ///
    /// 1. Lists the period with the completeness guard (a window whose answer disagrees with
    ///    its statistics is listed again in halves) and writes every record's metadata to the
    ///    catalog.
    /// 2. Meanwhile, downloads every record of the period not kept yet — [`ArchiveOptions::concurrency`]
    ///    at a time, from the storage link first (kept in the catalog, so later downloads of
    ///    it cost no request) — streaming it into the target while its SHA-256 is computed; the
    ///    object appears under its name only once complete, and its size, SHA-256 and time
    ///    are written to the catalog before the record counts as kept.
    /// 3. A file that fails is tried again up to [`ArchiveOptions::attempts`] times; then its
    ///    error is recorded and the run goes on.
    /// 4. Updates the target's manifests.
    ///
    /// A rerun transfers nothing already kept. A run killed at any point leaves no partial
    /// object under a record's name and no duplicate: the next run stores what is missing (and,
    /// in a local directory, first removes the unfinished files a killed run left). Run one
    /// backup per target at a time.
    ///
    /// [`ArchiveOptions::concurrency`]: crate::ArchiveOptions::concurrency
    /// [`ArchiveOptions::attempts`]: crate::ArchiveOptions::attempts
    pub async fn backup(
        &self,
        scope: Scope,
        period: impl Into<Period>,
    ) -> Result<BackupReport, BackupError> {
        self.run_backup(scope, period.into(), true).await
    }

    /// [`backup`](Self::backup) without the completeness guard: each window is listed with
    /// one request instead of two (its statistics are not asked). For a quick run whose
    /// listing a guarded run checks later — a service woken by an event callback, say — never
    /// for a run after which the period counts as complete: a server that silently cut its
    /// answer would go unnoticed.
    pub async fn backup_unguarded(
        &self,
        scope: Scope,
        period: impl Into<Period>,
    ) -> Result<BackupReport, BackupError> {
        self.run_backup(scope, period.into(), false).await
    }

    async fn run_backup(
        &self,
        scope: Scope,
        period: Period,
        guarded: bool,
    ) -> Result<BackupReport, BackupError> {
        self.tidy_once()?;
        let gate = Gate::new(self.options.budget);
        let mut report = BackupReport::default();
        (report.already_kept, _) = self.catalog.kept_count(ScopeFilter::of(scope), &period)?;
        let totals = Totals::default();
        let (frontier, follower) = watch::channel(Frontier {
            through: i64::MIN,
            done: false,
        });
        // The files listed so far are downloaded while the listing goes on.
        let listing = self.list(scope, period, guarded, &gate, &frontier, &totals);
        let keeping = self.keep_all(scope, period, follower, &gate, &totals);
        let result = futures_util::future::try_join(listing, keeping).await;
        if self.options.manifests_each_run {
            self.write_manifests().await?;
        }
        let (listed, ()) = result?;
        report.listed = listed.records;
        report.undecodable = listed.undecodable;
        report.stored = totals.stored.load(Ordering::Relaxed);
        report.bytes = totals.bytes.load(Ordering::Relaxed);
        report.failed = totals.failed.load(Ordering::Relaxed);
        let paused = *totals
            .paused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(resume_after) = listed.paused.or(paused) {
            report.outcome = Outcome::Paused { resume_after };
        }
        Ok(report)
    }

    /// Keeps the records of `scope` (in `period`, or of any time) that the catalog holds as
    /// still to be kept — those whose files failed before, say — without listing. The files
    /// are kept as [`backup`](Self::backup) keeps them; `listed` is 0 in the report.
    pub async fn keep_pending(
        &self,
        scope: Scope,
        period: Option<Period>,
    ) -> Result<BackupReport, BackupError> {
        let period = match period {
            Some(period) => period,
            // Every record the catalog can hold: the API has none before 2000.
            None => Period::between(
                chrono::DateTime::<chrono::Utc>::from_timestamp(946_684_800, 0).unwrap_or_default(),
                chrono::DateTime::<chrono::Utc>::from_timestamp(
                    chrono::Utc::now().timestamp() + 86_400,
                    0,
                )
                .unwrap_or_default(),
            )?,
        };
        let gate = Gate::new(self.options.budget);
        let totals = Totals::default();
        let (_frontier, follower) = watch::channel(Frontier {
            through: i64::MAX,
            done: true,
        });
        let kept = self.keep_all(scope, period, follower, &gate, &totals).await;
        if self.options.manifests_each_run {
            self.write_manifests().await?;
        }
        kept?;
        let mut report = BackupReport {
            stored: totals.stored.load(Ordering::Relaxed),
            bytes: totals.bytes.load(Ordering::Relaxed),
            failed: totals.failed.load(Ordering::Relaxed),
            ..BackupReport::default()
        };
        let paused = *totals
            .paused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(resume_after) = paused {
            report.outcome = Outcome::Paused { resume_after };
        }
        Ok(report)
    }

    /// Lists the period into the catalog, moving the frontier on after each batch.
    async fn list(
        &self,
        scope: Scope,
        period: Period,
        guarded: bool,
        gate: &Gate,
        frontier: &watch::Sender<Frontier>,
        totals: &Totals,
    ) -> Result<Listed, BackupError> {
        let mut listed = Listed::default();
        // The listing's own requests are made by the client; the budget is checked before it
        // starts and between batches, with one window read ahead at most.
        let options = ListOptions::new(Order::Asc)
            .completeness_guard(guarded)
            .read_ahead(1);
        let mut records = self.client.records(scope, period, options);
        let mut batch: Vec<Record> = Vec::with_capacity(LIST_BATCH);
        let mut admitted = self.admit(gate).await.map(drop);
        while admitted.is_ok() {
            let Some(item) = records.next().await else {
                break;
            };
            match item {
                Ok(record) => batch.push(record),
                Err(ApiError::UndecodableRecord {
                    record_uuid,
                    source,
                }) => {
                    listed.undecodable += 1;
                    tracing::warn!(?record_uuid, error = %source, "an undecodable record is not backed up");
                }
                Err(error) => return Err(error.into()),
            }
            if batch.len() == LIST_BATCH {
                self.listed(&mut batch, &mut listed, frontier)?;
                admitted = self.admit(gate).await.map(drop);
            }
        }
        self.listed(&mut batch, &mut listed, frontier)?;
        listed.paused = admitted.err();
        frontier.send_replace(Frontier {
            through: i64::MAX,
            done: true,
        });
        if listed.paused.is_none() {
            self.plan(scope, &period, totals)?;
        }
        Ok(listed)
    }

    fn listed(
        &self,
        batch: &mut Vec<Record>,
        listed: &mut Listed,
        frontier: &watch::Sender<Frontier>,
    ) -> Result<(), BackupError> {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        let through = last.init_time_gmt.instant().timestamp_micros();
        self.catalog.add_listed(batch)?;
        listed.records += batch.len() as u64;
        batch.clear();
        // Records at the batch's last instant may continue in the next batch: only those
        // before it are complete.
        frontier.send_replace(Frontier {
            through,
            done: false,
        });
        self.report(Progress::Listed {
            records: listed.records,
        });
        Ok(())
    }

    /// Once the listing is over, reports the whole run's work: the files stored so far and
    /// those still to be kept.
    fn plan(&self, scope: Scope, period: &Period, totals: &Totals) -> Result<(), BackupError> {
        if self.options.progress.is_none() {
            return Ok(());
        }
        let filter = ScopeFilter::of(scope);
        let (pending, pending_bytes) = self.catalog.pending_count(filter, period)?;
        let files = totals.stored.load(Ordering::Relaxed) + pending;
        let bytes = totals.bytes.load(Ordering::Relaxed) + pending_bytes;
        let (already_kept, _) = self.catalog.kept_count(filter, period)?;
        self.report(Progress::Planned {
            files,
            bytes,
            already_kept: already_kept.saturating_sub(totals.stored.load(Ordering::Relaxed)),
        });
        Ok(())
    }
}

/// What the listing came to.
#[derive(Default)]
struct Listed {
    records: u64,
    undecodable: u64,
    /// The budget stopped the listing: when the limit resets.
    paused: Option<Duration>,
}
