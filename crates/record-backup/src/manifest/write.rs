//! Keeping the manifests up to date: every month whose kept records changed (the catalog
//! marks it in `manifest_dirty`, in the transaction of the change) is written again, streamed
//! from the catalog page by page.

use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::layers::record_api::bytes::Bytes;

use super::{ManifestLine, encode, manifest_key};
use crate::archive::Archive;
use crate::error::BackupError;

/// Manifest lines are read from the catalog in pages of this many.
const MANIFEST_PAGE: usize = 256;

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Writes the manifest of every month whose kept records changed, streamed from the
    /// catalog page by page (a month of a large call centre is hundreds of MiB of JSON).
    /// Backup, verify and purge runs call it at their end (see
    /// [`ArchiveOptions::manifests_after_each_run`](crate::ArchiveOptions::manifests_after_each_run)).
    pub async fn write_manifests(&self) -> Result<(), BackupError> {
        for month in self.catalog.dirty_months()? {
            let key = manifest_key(&month);
            let mut upload = self.target.upload(&key)?;
            let mut after = None;
            let mut text = Vec::new();
            loop {
                let page = self.catalog.manifest_page(&month, &after, MANIFEST_PAGE)?;
                let Some((time, last)) = page.last() else {
                    break;
                };
                after = Some((*time, last.record_uuid.clone()));
                let lines: Vec<ManifestLine> = page.into_iter().map(|(_, line)| line).collect();
                text.clear();
                encode(&lines, &mut text).map_err(|error| BackupError::Corrupt {
                    what: format!("the manifest of {month}"),
                    reason: error.to_string(),
                })?;
                upload.push(Bytes::copy_from_slice(&text)).await?;
            }
            if upload.size() == 0 {
                // No kept record in the month any more: no manifest.
                upload.abort().await;
                self.target.delete(&key).await?;
            } else {
                upload.finish().await?;
            }
            self.catalog.manifest_written(&month)?;
        }
        Ok(())
    }
}
