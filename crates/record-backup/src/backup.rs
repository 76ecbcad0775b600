//! `backup`: list with the completeness guard, upsert the metadata, keep every file not kept
//! yet — verified, atomic, with bounded concurrency — and record every outcome.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{StreamExt as _, stream};
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{
    DownloadOptions, DownloadSource, Error as ApiError, ListOptions, Order, Period, Record, Scope,
    StorageLink,
};

use crate::archive::{Archive, Outcome};
use crate::budget::Gate;
use crate::catalog::{Pending, ScopeFilter};
use crate::error::BackupError;
use crate::progress::Progress;

/// Listed records are written to the catalog in transactions of this many.
const LIST_BATCH: usize = 256;

/// Records still to be kept are read from the catalog in pages of this many.
const PAGE: usize = 256;

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

/// What happened to one file.
enum Kept {
    Stored(u64),
    Failed,
    /// Not tried: the budget stopped the run.
    Skipped,
}

/// Why one attempt at a file failed.
struct AttemptFailed {
    message: String,
    /// The record is gone from the PBX: trying again cannot help.
    gone: bool,
}

impl From<ApiError> for AttemptFailed {
    fn from(error: ApiError) -> Self {
        AttemptFailed {
            gone: matches!(error, ApiError::NotFound(_)),
            message: error.to_string(),
        }
    }
}

impl From<BackupError> for AttemptFailed {
    fn from(error: BackupError) -> Self {
        AttemptFailed {
            gone: false,
            message: error.to_string(),
        }
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Backs up the recordings of `scope` in `period` (any length).
    ///
    /// 1. Lists the period with the completeness guard (a window whose answer disagrees with
    ///    its statistics is listed again in halves) and writes every record's metadata to the
    ///    catalog.
    /// 2. Downloads every record of the period not kept yet — [`ArchiveOptions::concurrency`]
    ///    at a time, from the storage link first (kept in the catalog, so later downloads of
    ///    it cost no request) — streaming it into the target while its SHA-256 is computed; the
    ///    object appears under its name only once complete, and its size, SHA-256 and time
    ///    are written to the catalog before the record counts as kept.
    /// 3. A file that fails is tried again up to [`ArchiveOptions::attempts`] times; then its
    ///    error is recorded and the run goes on.
    /// 4. Updates the target's manifests.
    ///
    /// A rerun transfers nothing already kept. A run killed at any point leaves no partial
    /// object under a record's name and no duplicate: the next run stores what is missing.
    ///
    /// [`ArchiveOptions::concurrency`]: crate::ArchiveOptions::concurrency
    /// [`ArchiveOptions::attempts`]: crate::ArchiveOptions::attempts
    pub async fn backup(
        &self,
        scope: Scope,
        period: impl Into<Period>,
    ) -> Result<BackupReport, BackupError> {
        let period = period.into();
        let gate = Gate::new(self.options.budget);
        let mut report = BackupReport::default();
        if let Err(resume_after) = self.list(scope, period, &gate, &mut report).await? {
            self.write_manifests().await?;
            report.outcome = Outcome::Paused { resume_after };
            return Ok(report);
        }
        let filter = ScopeFilter::of(scope);
        (report.already_kept, _) = self.catalog.kept_count(filter, &period)?;
        self.plan(filter, &period, report.already_kept)?;

        let stored = AtomicU64::new(0);
        let bytes = AtomicU64::new(0);
        let failed = AtomicU64::new(0);
        let resume_after = std::sync::Mutex::new(None::<Duration>);
        let pages = self.pending(filter, period);
        let work = pages
            .map(|pending| async {
                let pending = pending?;
                let kept = self.keep(scope, pending, &gate, &resume_after).await?;
                match kept {
                    Kept::Stored(size) => {
                        stored.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(size, Ordering::Relaxed);
                    }
                    Kept::Failed => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Kept::Skipped => {}
                }
                Ok::<(), BackupError>(())
            })
            .buffer_unordered(self.options.concurrency);
        let mut work = std::pin::pin!(work);
        let mut first_error = None;
        while let Some(done) = work.next().await {
            if let Err(error) = done {
                // A catalog failure: stop starting files, let those under way finish.
                first_error.get_or_insert(error);
                break;
            }
        }
        self.write_manifests().await?;
        if let Some(error) = first_error {
            return Err(error);
        }
        report.stored = stored.load(Ordering::Relaxed);
        report.bytes = bytes.load(Ordering::Relaxed);
        report.failed = failed.load(Ordering::Relaxed);
        let paused = *resume_after
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(resume_after) = paused {
            report.outcome = Outcome::Paused { resume_after };
        }
        Ok(report)
    }

    /// Lists the period into the catalog; the inner `Err` is the budget's stop.
    async fn list(
        &self,
        scope: Scope,
        period: Period,
        gate: &Gate,
        report: &mut BackupReport,
    ) -> Result<Result<(), Duration>, BackupError> {
        // The listing's own requests are made by the client; the budget is checked before it
        // starts and between batches, with one window read ahead at most.
        let options = ListOptions::new(Order::Asc)
            .completeness_guard(true)
            .read_ahead(1);
        if let Err(resume_after) = self.admit(gate).await {
            return Ok(Err(resume_after));
        }
        let mut records = self.client.records(scope, period, options);
        let mut batch: Vec<Record> = Vec::with_capacity(LIST_BATCH);
        while let Some(item) = records.next().await {
            match item {
                Ok(record) => batch.push(record),
                Err(ApiError::UndecodableRecord { record_uuid, source }) => {
                    report.undecodable += 1;
                    tracing::warn!(?record_uuid, error = %source, "an undecodable record is not backed up");
                }
                Err(error) => return Err(error.into()),
            }
            if batch.len() == LIST_BATCH {
                self.listed(&mut batch, report)?;
                if let Err(resume_after) = self.admit(gate).await {
                    return Ok(Err(resume_after));
                }
            }
        }
        self.listed(&mut batch, report)?;
        Ok(Ok(()))
    }

    fn listed(&self, batch: &mut Vec<Record>, report: &mut BackupReport) -> Result<(), BackupError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.catalog.upsert_listed(batch)?;
        report.listed += batch.len() as u64;
        batch.clear();
        self.report(Progress::Listed {
            records: report.listed,
        });
        Ok(())
    }

    /// Reports the work ahead: how many files and bytes are not kept yet.
    fn plan(&self, filter: ScopeFilter, period: &Period, already_kept: u64) -> Result<(), BackupError> {
        if self.options.progress.is_none() {
            return Ok(());
        }
        let (mut files, mut bytes, mut after) = (0, 0, None);
        loop {
            let page = self.catalog.pending_page(filter, period, &after, 4 * PAGE)?;
            let Some(last) = page.last() else { break };
            after = Some((last.init_time_us, last.record.record_uuid.to_string()));
            files += page.len() as u64;
            bytes += page.iter().map(|p| p.record.record_file_size).sum::<u64>();
        }
        self.report(Progress::Planned {
            files,
            bytes,
            already_kept,
        });
        Ok(())
    }

    /// The records of the period still to be kept, page by page from the catalog, so memory
    /// does not grow with the period.
    fn pending(
        &self,
        filter: ScopeFilter,
        period: Period,
    ) -> impl futures_util::Stream<Item = Result<Pending, BackupError>> + '_ {
        stream::unfold(Some(None), move |cursor: Option<Option<(i64, String)>>| async move {
            let after = cursor?;
            match self.catalog.pending_page(filter, &period, &after, PAGE) {
                Ok(page) => {
                    let next = page
                        .last()
                        .map(|last| (last.init_time_us, last.record.record_uuid.to_string()));
                    let cursor = next.map(Some);
                    let items: Vec<Result<Pending, BackupError>> =
                        page.into_iter().map(Ok).collect();
                    Some((stream::iter(items), cursor))
                }
                Err(error) => Some((stream::iter(vec![Err(error)]), None)),
            }
        })
        .flatten()
    }

    /// Keeps one record's file: up to `attempts` tries, then its failure is recorded.
    async fn keep(
        &self,
        scope: Scope,
        pending: Pending,
        gate: &Gate,
        paused: &std::sync::Mutex<Option<Duration>>,
    ) -> Result<Kept, BackupError> {
        let record = pending.record;
        let uuid = record.record_uuid.to_string();
        let key = self.options.naming.object_key(&record);
        let mut link = pending.storage_link.map(StorageLink::new);
        let mut failure = AttemptFailed {
            message: String::new(),
            gone: false,
        };
        for _ in 0..self.options.attempts {
            // Every request to the API passes the budget; a known storage link costs none.
            let uses_link = self.options.source != DownloadSource::Api;
            let permit = if link.is_none() || !uses_link {
                match self.admit(gate).await {
                    Ok(permit) => Some(permit),
                    Err(resume_after) => {
                        let mut paused = paused.lock().unwrap_or_else(|p| p.into_inner());
                        paused.get_or_insert(resume_after);
                        return Ok(Kept::Skipped);
                    }
                }
            } else {
                None
            };
            if uses_link && link.is_none() {
                match self.client.storage_link(scope, &record.record_uuid).await {
                    Ok(found) => {
                        self.catalog.set_storage_link(&uuid, found.expose_url())?;
                        link = Some(found);
                    }
                    Err(error) => {
                        failure = error.into();
                        if failure.gone {
                            break;
                        }
                        continue;
                    }
                }
            }
            drop(permit);
            let mut options = DownloadOptions::for_record(&record, self.options.source);
            if let Some(link) = &link {
                options = options.with_storage_link(link.clone());
            }
            match self.transfer(scope, &record, &key, options).await {
                Ok((size, sha256)) => {
                    self.catalog.mark_stored(&uuid, &key, size, &sha256)?;
                    self.report(Progress::Stored {
                        record_uuid: uuid,
                        bytes: size,
                    });
                    return Ok(Kept::Stored(size));
                }
                Err(failed) => {
                    failure = failed;
                    if failure.gone {
                        break;
                    }
                }
            }
        }
        if failure.gone {
            failure.message = format!("gone from the PBX: {}", failure.message);
        }
        tracing::warn!(record_uuid = %uuid, error = %failure.message, "a file could not be kept");
        self.catalog.mark_failed(&uuid, &failure.message)?;
        self.report(Progress::Failed {
            record_uuid: uuid,
            error: failure.message,
        });
        Ok(Kept::Failed)
    }

    /// One attempt: streams the file from the API into the target, hashing it on the way.
    async fn transfer(
        &self,
        scope: Scope,
        record: &Record,
        key: &str,
        options: DownloadOptions,
    ) -> Result<(u64, String), AttemptFailed> {
        let mut download = self
            .client
            .open_download(scope, &record.record_uuid, options)
            .await?;
        let mut upload = self.target.upload(key)?;
        loop {
            match download.next_chunk().await {
                Ok(Some(chunk)) => {
                    let size = chunk.len() as u64;
                    if let Err(error) = upload.push(chunk).await {
                        self.restarted(record, upload.size());
                        upload.abort().await;
                        return Err(error.into());
                    }
                    self.report(Progress::Transferred { bytes: size });
                }
                Ok(None) => break,
                Err(error) => {
                    self.restarted(record, upload.size());
                    upload.abort().await;
                    return Err(error.into());
                }
            }
        }
        Ok(upload.finish().await?)
    }

    fn restarted(&self, record: &Record, discarded_bytes: u64) {
        if discarded_bytes > 0 {
            self.report(Progress::Restarted {
                record_uuid: record.record_uuid.to_string(),
                discarded_bytes,
            });
        }
    }
}
