//! `rebuild_catalog`: a catalog from the target's manifests alone.

use std::path::Path;

use futures_util::StreamExt as _;

use super::{MANIFEST_PREFIX, ManifestReader};
use crate::catalog::Catalog;
use crate::error::BackupError;
use crate::target::Target;

/// Manifest lines are written to the catalog in transactions of this many.
const RESTORE_BATCH: usize = 256;

/// Rebuilds the catalog at `catalog` from the manifests in `target` (after the catalog's disk
/// was lost, say): every kept record comes back with its metadata, object key, size, SHA-256,
/// stored, verified and deleted-from-PBX times. Records that were listed but never kept are
/// not in the manifests; the next backup lists them again. The audit log comes back from the
/// target's `_audit/` (its chain checked as it is read), with the tombstones of the records
/// it destroyed: an erased or expired record never comes back, even from a manifest that
/// still held it. Gives the catalog and how many records it restored.
pub async fn rebuild_catalog(
    target: &Target,
    catalog: impl AsRef<Path>,
) -> Result<(Catalog, u64), BackupError> {
    let catalog = Catalog::open(catalog)?;
    let mut restored = 0;
    for path in target.list(MANIFEST_PREFIX).await? {
        let corrupt = |(line, error): (usize, serde_json::Error)| BackupError::Corrupt {
            what: format!("line {line} of the manifest {path}"),
            reason: error.to_string(),
        };
        let mut chunks = target.read(&path).await?;
        let mut reader = ManifestReader::default();
        let mut lines = Vec::new();
        while let Some(chunk) = chunks.next().await {
            reader.push(&chunk?, &mut lines).map_err(corrupt)?;
            if lines.len() >= RESTORE_BATCH {
                catalog.restore(&lines)?;
                restored += lines.len() as u64;
                lines.clear();
            }
        }
        reader.finish(&mut lines).map_err(corrupt)?;
        catalog.restore(&lines)?;
        restored += lines.len() as u64;
    }
    let entries = crate::audit::restore(target, &catalog).await?;
    let buried = catalog.tombstone_count()?;
    tracing::info!(
        records = restored,
        audit_entries = entries,
        tombstones = buried,
        "catalog rebuilt from the target"
    );
    // What the manifests held, less what the log proves destroyed since.
    let restored = catalog.record_count()?;
    Ok((catalog, restored))
}
