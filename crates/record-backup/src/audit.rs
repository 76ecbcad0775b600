//! The target's copy of the audit log: `_audit/<first seq, 12 digits>.jsonl` segments, each
//! written once with the entries the target lacked, so that the log outlives the catalog's
//! disk and can be checked without it.

use futures_util::StreamExt as _;
use telphin_records::layers::record_api::bytes::Bytes;

use crate::catalog::Catalog;
use crate::chain::{AUDIT_PREFIX, AuditCheck, AuditEntry, ChainCheck, Lines};
use crate::checkpoint::{AuditPublicKey, Checkpoint};
use crate::error::BackupError;
use crate::signed::{ProofCheck, SignedAuditCheck};
use crate::target::Target;

/// Writes to `target` the audit entries of `catalog` it lacks, as one new segment of
/// `_audit/`. Every destructive run of an [`Archive`](crate::Archive) calls it at its end;
/// a command that changes holds calls it itself.
pub async fn write_audit(catalog: &Catalog, target: &Target) -> Result<(), BackupError> {
    export(catalog, target).await
}

/// Checks the target's copy of the audit log, segment by segment, from its first entry.
pub async fn check_target_audit(target: &Target) -> Result<AuditCheck, BackupError> {
    check_target(target).await
}

/// Checks the target's copy of the audit log with the public key alone, against
/// `checkpoints` (gather them with [`target_checkpoints`], [`Catalog::checkpoints`] and the
/// acts).
pub async fn check_target_audit_signed(
    target: &Target,
    key: AuditPublicKey,
    checkpoints: Vec<Checkpoint>,
) -> Result<SignedAuditCheck, BackupError> {
    let mut check = ProofCheck::new(key, checkpoints);
    read_lines(target, |line| Ok(check.push(line))).await?;
    Ok(check.finish())
}

/// Writes the entries `catalog` has not exported to one segment of `target`, then — when
/// the catalog signs the log — a signed checkpoint of the whole log, kept in the catalog and
/// written beside the segments as `_audit/checkpoint-<size>.json`.
pub(crate) async fn export(catalog: &Catalog, target: &Target) -> Result<(), BackupError> {
    export_entries(catalog, target).await?;
    catalog.sign_checkpoint()?;
    for checkpoint in catalog.unexported_checkpoints()? {
        let mut upload = target.upload(&checkpoint_name(checkpoint.size))?;
        upload
            .push(Bytes::from(checkpoint.to_json().into_bytes()))
            .await?;
        upload.finish().await?;
        catalog.checkpoint_exported(checkpoint.size)?;
    }
    Ok(())
}

use crate::layout::{CHECKPOINT_PREFIX, checkpoint_key as checkpoint_name};

/// The checkpoints the target holds, smallest first; one that cannot be read is skipped
/// with a warning (a check names what it lacks).
pub async fn target_checkpoints(target: &Target) -> Result<Vec<Checkpoint>, BackupError> {
    let mut checkpoints = Vec::new();
    for path in target.list(AUDIT_PREFIX).await? {
        let is_checkpoint = path
            .filename()
            .is_some_and(|name| name.starts_with(CHECKPOINT_PREFIX) && name.ends_with(".json"));
        if !is_checkpoint {
            continue;
        }
        let mut chunks = target.read(&path).await?;
        let mut text = Vec::new();
        while let Some(chunk) = chunks.next().await {
            text.extend_from_slice(&chunk?);
            if text.len() > 64 * 1024 {
                break;
            }
        }
        match serde_json::from_slice::<Checkpoint>(&text) {
            Ok(checkpoint) => checkpoints.push(checkpoint),
            Err(error) => tracing::warn!(%path, %error, "not a checkpoint; skipped"),
        }
    }
    checkpoints.sort_by_key(|c| c.size);
    Ok(checkpoints)
}

/// Writes the entries `catalog` has not exported to one segment of `target`.
async fn export_entries(catalog: &Catalog, target: &Target) -> Result<(), BackupError> {
    let mut page = catalog.unexported_audit(0)?;
    let Some((first, _)) = page.first() else {
        return Ok(());
    };
    let first = *first;
    let mut upload = target.upload(&crate::layout::audit_segment_key(first))?;
    let mut last = first;
    while let Some((seq, _)) = page.last() {
        last = *seq;
        let mut text = Vec::new();
        for (_, line) in &page {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        upload.push(Bytes::from(text)).await?;
        page = catalog.unexported_audit(last)?;
    }
    upload.finish().await?;
    catalog.audit_exported(first, last)
}

/// The target's log, segment by segment, line by line, to `each`; stops early when `each`
/// says so.
pub(crate) async fn read_lines(
    target: &Target,
    mut each: impl FnMut(&str) -> Result<bool, BackupError>,
) -> Result<(), BackupError> {
    for path in target.list(AUDIT_PREFIX).await? {
        if path.extension() != Some("jsonl") {
            continue;
        }
        let mut chunks = target.read(&path).await?;
        let mut lines = Lines::default();
        while let Some(chunk) = chunks.next().await {
            for line in lines.push(&chunk?) {
                if !each(&line)? {
                    return Ok(());
                }
            }
        }
        for line in lines.finish() {
            if !each(&line)? {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Checks the target's copy of the log.
pub(crate) async fn check_target(target: &Target) -> Result<AuditCheck, BackupError> {
    let mut check = ChainCheck::new();
    read_lines(target, |line| Ok(check.push(line))).await?;
    Ok(check.finish())
}

/// Brings the target's log back into a catalog rebuilt from the manifests, with the
/// tombstones its entries prove, so that no destroyed record comes back and the log goes
/// on from where it was. The chain is checked as it is read; a broken chain stops the
/// rebuild.
pub(crate) async fn restore(target: &Target, catalog: &Catalog) -> Result<u64, BackupError> {
    let mut check = ChainCheck::new();
    let mut batch = Vec::new();
    let mut restored = 0;
    read_lines(target, |line| {
        if !check.push(line) {
            return Ok(false);
        }
        let entry: AuditEntry = match crate::chain::split_line(line)
            .and_then(|split| serde_json::from_str(&split.json).ok())
        {
            Some(entry) => entry,
            None => return Ok(false),
        };
        batch.push((entry, line.to_owned()));
        if batch.len() >= 256 {
            restored += batch.len() as u64;
            catalog.restore_audit(&std::mem::take(&mut batch))?;
        }
        Ok(true)
    })
    .await?;
    let check = check.finish();
    if let Some(broken) = check.broken {
        return Err(BackupError::Corrupt {
            what: format!("the target's audit log ({AUDIT_PREFIX}/)"),
            reason: broken.to_string(),
        });
    }
    restored += batch.len() as u64;
    catalog.restore_audit(&batch)?;
    Ok(restored)
}
