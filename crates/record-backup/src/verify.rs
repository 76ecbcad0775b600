//! `verify`: read kept objects back and compare them with the catalog.

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{StreamExt as _, stream};
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Period, Scope};

use crate::archive::Archive;
use crate::catalog::{Kept, KeptWhich, ScopeFilter};
use crate::error::BackupError;
use crate::progress::Progress;

/// Kept records are read from the catalog in pages of this many.
const PAGE: usize = 256;

/// What a verify run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Objects read back.
    pub checked: u64,
    /// Objects of the size and SHA-256 the catalog has.
    pub whole: u64,
    /// Objects missing from the target: their records are not kept any more.
    pub missing: u64,
    /// Objects of another size or SHA-256: their records are not kept any more.
    pub altered: u64,
    /// Bytes read back.
    pub bytes: u64,
}

impl VerifyReport {
    /// Whether every object was whole.
    pub fn all_whole(&self) -> bool {
        self.missing == 0 && self.altered == 0
    }
}

pub(crate) enum Found {
    Whole(u64),
    Missing,
    Altered,
}

impl Found {
    pub(crate) fn is_whole(&self) -> bool {
        matches!(self, Found::Whole(_))
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Reads back every kept object of `scope` (in `period`, or all) and compares its size
    /// and SHA-256 with the catalog. A whole object gets a new `verified_at` (purge deletes
    /// only verified records); a missing or altered one marks its record as not kept, so the
    /// next backup downloads it again (while the PBX still has it) and purge never deletes it.
    /// No request is made to the API.
    pub async fn verify(
        &self,
        scope: Scope,
        period: Option<Period>,
    ) -> Result<VerifyReport, BackupError> {
        let filter = ScopeFilter::of(scope);
        let (whole, missing, altered, bytes) = (
            AtomicU64::new(0),
            AtomicU64::new(0),
            AtomicU64::new(0),
            AtomicU64::new(0),
        );
        let pages = stream::unfold(Some(None), |cursor: Option<Option<(i64, String)>>| async {
            let after = cursor?;
            match self
                .catalog
                .kept_page(filter, period.as_ref(), KeptWhich::All, &after, PAGE)
            {
                Ok(page) => {
                    let next = page
                        .last()
                        .map(|k| Some((k.init_time_us, k.record_uuid.clone())));
                    let items: Vec<Result<Kept, BackupError>> = page.into_iter().map(Ok).collect();
                    Some((stream::iter(items), next))
                }
                Err(error) => Some((stream::iter(vec![Err(error)]), None)),
            }
        })
        .flatten();
        let work = pages
            .map(|kept| async {
                let kept = kept?;
                let found = self.check(&kept).await?;
                match found {
                    Found::Whole(size) => {
                        whole.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(size, Ordering::Relaxed);
                    }
                    Found::Missing => {
                        missing.fetch_add(1, Ordering::Relaxed);
                    }
                    Found::Altered => {
                        altered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok::<(), BackupError>(())
            })
            .buffer_unordered(self.options.concurrency);
        let mut work = std::pin::pin!(work);
        let mut first_error = None;
        while let Some(done) = work.next().await {
            if let Err(error) = done {
                first_error = Some(error);
                break;
            }
        }
        self.write_manifests().await?;
        if let Some(error) = first_error {
            return Err(error);
        }
        let (whole, missing, altered) = (
            whole.load(Ordering::Relaxed),
            missing.load(Ordering::Relaxed),
            altered.load(Ordering::Relaxed),
        );
        Ok(VerifyReport {
            checked: whole + missing + altered,
            whole,
            missing,
            altered,
            bytes: bytes.load(Ordering::Relaxed),
        })
    }

    /// Reads one kept object back and records what it found.
    pub(crate) async fn check(&self, kept: &Kept) -> Result<Found, BackupError> {
        let found = match self.target.fingerprint(&kept.object_key).await? {
            None => {
                let reason = format!("{} is missing from the target", kept.object_key);
                self.catalog.mark_not_kept(&kept.record_uuid, &reason)?;
                tracing::warn!(record_uuid = %kept.record_uuid, "{reason}");
                Found::Missing
            }
            Some((size, sha256)) if size != kept.size || sha256 != kept.sha256 => {
                let reason = format!(
                    "{} was altered in the target: {size} bytes with SHA-256 {sha256}, \
                     the catalog has {} bytes with SHA-256 {}",
                    kept.object_key, kept.size, kept.sha256
                );
                self.catalog.mark_not_kept(&kept.record_uuid, &reason)?;
                tracing::warn!(record_uuid = %kept.record_uuid, "{reason}");
                Found::Altered
            }
            Some((size, _)) => {
                self.catalog.mark_verified(&kept.record_uuid)?;
                Found::Whole(size)
            }
        };
        self.report(Progress::Verified {
            record_uuid: kept.record_uuid.clone(),
            whole: matches!(found, Found::Whole(_)),
        });
        Ok(found)
    }
}
