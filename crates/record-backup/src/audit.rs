//! The target's copy of the audit log: `_audit/<first seq, 12 digits>.jsonl` segments, each
//! written once with the entries the target lacked, so that the log outlives the catalog's
//! disk and can be checked without it.

use futures_util::StreamExt as _;
use telphin_records::layers::record_api::bytes::Bytes;

use crate::catalog::Catalog;
use crate::chain::{AUDIT_PREFIX, AuditCheck, AuditEntry, ChainCheck, Lines};
use crate::error::BackupError;
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

/// Writes the entries `catalog` has not exported to one segment of `target`.
pub(crate) async fn export(catalog: &Catalog, target: &Target) -> Result<(), BackupError> {
    let mut page = catalog.unexported_audit(0)?;
    let Some((first, _)) = page.first() else {
        return Ok(());
    };
    let first = *first;
    let mut upload = target.upload(&format!("{AUDIT_PREFIX}/{first:012}.jsonl"))?;
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
async fn read_lines(
    target: &Target,
    mut each: impl FnMut(&str) -> Result<bool, BackupError>,
) -> Result<(), BackupError> {
    for path in target.list(AUDIT_PREFIX).await? {
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
            .and_then(|(json, _)| serde_json::from_str(&json).ok())
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
