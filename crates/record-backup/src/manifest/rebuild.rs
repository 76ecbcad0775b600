//! `rebuild_catalog`: a catalog from the target's manifests alone.

use std::path::Path;

use chrono::Utc;
use futures_util::StreamExt as _;
use rusqlite::params;

use super::{MANIFEST_PREFIX, ManifestLine, ManifestReader};
use crate::catalog::{Catalog, forget_numbers, index_record, json_of, time_text};
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
    let restored = catalog.count_of(
        "SELECT count(*) FROM record",
        &crate::catalog::Conditions::default(),
    )?;
    Ok((catalog, restored))
}

impl Catalog {
    /// Restores records and their states from manifest lines, in one transaction, with their
    /// numbers indexed for search.
    fn restore(&self, lines: &[ManifestLine]) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at, object_key, stored_size, sha256, stored_at, verified_at, \
                     deleted_from_pbx_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (record_uuid) DO UPDATE SET init_time_us = excluded.init_time_us, \
                     record_json = excluded.record_json, object_key = excluded.object_key, \
                     stored_size = excluded.stored_size, sha256 = excluded.sha256, \
                     stored_at = excluded.stored_at, verified_at = excluded.verified_at, \
                     deleted_from_pbx_at = excluded.deleted_from_pbx_at",
                )?;
                for line in lines {
                    forget_numbers(&transaction, &line.record_uuid)?;
                    insert.execute(params![
                        line.record_uuid,
                        line.record.init_time_gmt.instant().timestamp_micros(),
                        json_of(&line.record)?,
                        now,
                        line.object_key,
                        i64::try_from(line.size).unwrap_or(i64::MAX),
                        line.sha256,
                        time_text(line.stored_at),
                        line.verified_at.map(time_text),
                        line.deleted_from_pbx_at.map(time_text),
                    ])?;
                    index_record(&transaction, &line.record)?;
                }
            }
            transaction.commit()
        })
    }
}
