//! The catalog's side of the audit log's signed checkpoints.

use rusqlite::{OptionalExtension as _, params};

use super::Catalog;
use crate::checkpoint::{Checkpoint, Frontier};
use crate::error::BackupError;

/// Entry hashes are read in pages of this many to extend the tree.
const HASH_PAGE: i64 = 10_000;

impl Catalog {
    /// Signs a checkpoint of the log as it is now, if the catalog has the signing key and
    /// entries were appended since the last checkpoint. The tree goes on from the last
    /// checkpoint's frontier — checked against that checkpoint's signed root first — so
    /// only the new entries are read.
    pub(crate) fn sign_checkpoint(&self) -> Result<Option<Checkpoint>, BackupError> {
        let Some(key) = &self.signer else {
            return Ok(None);
        };
        let size = self.audit_len()?;
        let last: Option<(i64, String, String)> = self.with(|connection| {
            connection
                .prepare_cached(
                    "SELECT size, json, frontier FROM checkpoint ORDER BY size DESC LIMIT 1",
                )?
                .query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
        })?;
        let public = key.public_key();
        let mut frontier = Frontier::default();
        if let Some((last_size, json, text)) = last {
            let last_size = u64::try_from(last_size).unwrap_or(0);
            if last_size == size {
                return Ok(None);
            }
            let kept = serde_json::from_str::<Checkpoint>(&json)
                .ok()
                .filter(|cp| cp.check_signature(&public).is_ok())
                .and_then(|cp| {
                    Frontier::from_text(last_size, &text).filter(|f| f.root() == cp.root)
                });
            match kept {
                Some(kept) if last_size < size => frontier = kept,
                Some(_) => {
                    // Fewer entries than the last checkpoint signed: the log was cut. Signing
                    // it would put a second history beside the first; `audit verify
                    // --public-key` names what is missing.
                    tracing::error!(
                        entries = size,
                        signed = last_size,
                        "the audit log holds fewer entries than its last checkpoint signed: no \
                         checkpoint is signed over it (run audit verify --public-key)"
                    );
                    return Ok(None);
                }
                None => tracing::warn!(
                    "the last audit checkpoint is not this key's, or its tree does not match \
                     it: the tree is built again from the first entry"
                ),
            }
        }
        let mut head = None;
        loop {
            let after = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
            let page: Vec<(i64, String)> = self.with(|connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT seq, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                let rows = statement.query_map(params![after, HASH_PAGE], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
                rows.collect()
            })?;
            if page.is_empty() {
                break;
            }
            for (seq, hash) in page {
                if u64::try_from(seq).ok() != Some(frontier.size() + 1) {
                    return Err(BackupError::Corrupt {
                        what: "the catalog's audit log".to_owned(),
                        reason: format!(
                            "entry {} is missing (entry {seq} follows entry {after})",
                            frontier.size() + 1
                        ),
                    });
                }
                frontier.push(&hash)?;
                head = Some(hash);
            }
        }
        if frontier.size() == 0 {
            return Ok(None);
        }
        let head = match head {
            Some(head) => head,
            None => self
                .audit_hash(frontier.size())?
                .unwrap_or_else(|| crate::chain::GENESIS.to_owned()),
        };
        let checkpoint = Checkpoint::sign(key, &frontier, Some(&head));
        self.with(|connection| {
            connection
                .prepare_cached(
                    // Never over another checkpoint of the same size (another key's, or a
                    // history cut and grown back): the first stays.
                    "INSERT OR IGNORE INTO checkpoint (size, json, frontier) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    i64::try_from(checkpoint.size).unwrap_or(i64::MAX),
                    checkpoint.to_json(),
                    frontier.to_text()
                ])
                .map(drop)
        })?;
        Ok(Some(checkpoint))
    }

    /// Every checkpoint the catalog holds, smallest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, BackupError> {
        self.checkpoint_rows("SELECT json FROM checkpoint ORDER BY size")
    }

    /// The checkpoints not yet written to the target.
    pub(crate) fn unexported_checkpoints(&self) -> Result<Vec<Checkpoint>, BackupError> {
        self.checkpoint_rows("SELECT json FROM checkpoint WHERE exported = 0 ORDER BY size")
    }

    fn checkpoint_rows(&self, sql: &str) -> Result<Vec<Checkpoint>, BackupError> {
        let rows: Vec<String> = self.with(|connection| {
            let mut statement = connection.prepare_cached(sql)?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect()
        })?;
        rows.iter()
            .map(|json| {
                serde_json::from_str(json).map_err(|error| BackupError::Corrupt {
                    what: "a checkpoint of the catalog".to_owned(),
                    reason: error.to_string(),
                })
            })
            .collect()
    }

    /// Records that the target holds the checkpoint of `size`.
    pub(crate) fn checkpoint_exported(&self, size: u64) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("UPDATE checkpoint SET exported = 1 WHERE size = ?1")?
                .execute([i64::try_from(size).unwrap_or(i64::MAX)])
                .map(drop)
        })
    }
}
