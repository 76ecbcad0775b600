//! Keeping files: the records still to be kept, read page by page from the catalog up to the
//! listing's frontier, each downloaded and stored with bounded concurrency.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{StreamExt as _, stream};
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{
    DownloadOptions, DownloadSource, Error as ApiError, Period, Record, Scope, StorageLink,
};
use tokio::sync::watch;

use crate::archive::Archive;
use crate::budget::Gate;
use crate::catalog::{Pending, ScopeFilter};
use crate::error::BackupError;
use crate::progress::Progress;

/// Records still to be kept are read from the catalog in pages of this many.
const PAGE: usize = 256;

/// How far the listing has written the catalog: every record before `through` (microseconds)
/// is there; once `done`, every record is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frontier {
    pub(crate) through: i64,
    pub(crate) done: bool,
}

/// What the files of a run came to.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) stored: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) failed: AtomicU64,
    /// Set when the budget stopped the run: when the limit resets.
    pub(crate) paused: Mutex<Option<Duration>>,
    /// Files in a row the target refused (reset by each file stored), and its last error.
    pub(crate) target_failures: AtomicU64,
    pub(crate) target_error: Mutex<Option<String>>,
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
    /// The target refused it (after its own retries): downloading again cannot help.
    target: bool,
}

impl From<ApiError> for AttemptFailed {
    fn from(error: ApiError) -> Self {
        AttemptFailed {
            gone: matches!(error, ApiError::NotFound(_)),
            message: error.to_string(),
            target: false,
        }
    }
}

impl From<BackupError> for AttemptFailed {
    fn from(error: BackupError) -> Self {
        AttemptFailed {
            gone: false,
            target: matches!(error, BackupError::Target(_)),
            message: error.to_string(),
        }
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Keeps every record of the period not kept yet, as the listing writes them to the
    /// catalog, [`ArchiveOptions::concurrency`](crate::ArchiveOptions::concurrency) at a time.
    pub(crate) async fn keep_all(
        &self,
        scope: Scope,
        period: Period,
        frontier: watch::Receiver<Frontier>,
        gate: &Gate,
        totals: &Totals,
    ) -> Result<(), BackupError> {
        let work = self
            .pending(ScopeFilter::of(scope), period, frontier)
            .map(|pending| async {
                let kept = self.keep(scope, pending?, gate, totals).await?;
                match kept {
                    Kept::Stored(size) => {
                        totals.stored.fetch_add(1, Ordering::Relaxed);
                        totals.bytes.fetch_add(size, Ordering::Relaxed);
                    }
                    Kept::Failed => {
                        totals.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Kept::Skipped => {}
                }
                Ok::<(), BackupError>(())
            })
            .buffer_unordered(self.options.concurrency);
        let mut work = std::pin::pin!(work);
        while let Some(done) = work.next().await {
            // A catalog failure ends the run; the files under way are dropped unfinished,
            // which leaves no object under their names.
            done?;
            if let Some(error) = self.target_down(totals) {
                return Err(error);
            }
        }
        Ok(())
    }

    /// The error that stops a run whose target refused
    /// [`ArchiveOptions::target_failures_to_stop`](crate::ArchiveOptions::target_failures_to_stop)
    /// files in a row: downloading more would only fetch files in vain.
    fn target_down(&self, totals: &Totals) -> Option<BackupError> {
        let files = totals.target_failures.load(Ordering::Relaxed);
        if files < u64::from(self.options.target_failures_to_stop) {
            return None;
        }
        let last = totals
            .target_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default();
        Some(BackupError::TargetFailing {
            files,
            stored: totals.stored.load(Ordering::Relaxed),
            last,
        })
    }

    /// The records of the period still to be kept, page by page from the catalog (so memory
    /// does not grow with the period), up to the listing's frontier: a record listed later
    /// cannot fall behind the cursor, as the listing runs in time order.
    fn pending(
        &self,
        filter: ScopeFilter,
        period: Period,
        frontier: watch::Receiver<Frontier>,
    ) -> impl futures_util::Stream<Item = Result<Pending, BackupError>> + '_ {
        let start = (None::<(i64, String)>, frontier, false);
        stream::unfold(start, move |(after, mut frontier, over)| async move {
            if over {
                return None;
            }
            loop {
                let now = *frontier.borrow_and_update();
                let before = (!now.done).then_some(now.through);
                let page = match self
                    .catalog
                    .pending_page(filter, &period, &after, before, PAGE)
                {
                    Ok(page) => page,
                    Err(error) => {
                        return Some((stream::iter(vec![Err(error)]), (after, frontier, true)));
                    }
                };
                if let Some(last) = page.last() {
                    let next = Some((last.init_time_us, last.record.record_uuid.to_string()));
                    let items: Vec<Result<Pending, BackupError>> =
                        page.into_iter().map(Ok).collect();
                    return Some((stream::iter(items), (next, frontier, false)));
                }
                if now.done || frontier.changed().await.is_err() {
                    // Everything is kept, or the listing failed (its error ends the run).
                    return None;
                }
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
        totals: &Totals,
    ) -> Result<Kept, BackupError> {
        let record = &pending.record;
        let uuid = record.record_uuid.to_string();
        let key = self.options.naming.object_key(record);
        let mut link = pending.storage_link.map(StorageLink::new);
        let mut failure = AttemptFailed {
            message: String::new(),
            gone: false,
            target: false,
        };
        if self.target_down(totals).is_some() {
            return Ok(Kept::Skipped);
        }
        for _ in 0..self.options.attempts {
            // Every request to the API passes the budget; a known storage link costs none.
            let uses_link = self.options.source != DownloadSource::Api;
            let permit = if link.is_none() || !uses_link {
                match self.admit(gate).await {
                    Ok(permit) => Some(permit),
                    Err(resume_after) => {
                        let mut paused = totals.paused.lock().unwrap_or_else(|p| p.into_inner());
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
            // The permit stays while the file is read: with the API as source it is a request.
            let _permit = permit;
            let mut options = DownloadOptions::for_record(record, self.options.source);
            if let Some(link) = &link {
                options = options.with_storage_link(link.clone());
            }
            match self.transfer(scope, record, &key, options).await {
                Ok((size, sha256)) => {
                    self.catalog.mark_stored(&uuid, &key, size, &sha256)?;
                    if self.options.verify_stored {
                        let kept = crate::catalog::Kept {
                            record_uuid: uuid.clone(),
                            init_time_us: pending.init_time_us,
                            object_key: key.clone(),
                            size,
                            sha256,
                        };
                        if !self.check(&kept).await?.is_whole() {
                            // Marked not kept: the next run stores it again.
                            return Ok(Kept::Failed);
                        }
                    }
                    totals.target_failures.store(0, Ordering::Relaxed);
                    self.report(Progress::Stored {
                        record_uuid: uuid,
                        bytes: size,
                    });
                    return Ok(Kept::Stored(size));
                }
                Err(failed) => {
                    failure = failed;
                    if failure.gone || failure.target {
                        break;
                    }
                }
            }
        }
        if failure.target {
            totals.target_failures.fetch_add(1, Ordering::Relaxed);
            let mut last = totals
                .target_error
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *last = Some(failure.message.clone());
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
