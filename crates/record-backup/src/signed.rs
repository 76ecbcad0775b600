//! The audit log checked with the public key alone: every entry's signature, and every
//! signed checkpoint's tree hash recomputed from the entries — so that an edit, a removed
//! entry or an added one shows even when whoever made it recomputed every hash of the chain.

use crate::chain::{AuditBreak, ChainCheck, split_line};
use crate::checkpoint::{AuditPublicKey, Checkpoint, Frontier};

/// What a check of the audit log against the public key found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedAuditCheck {
    /// Entries read before the first break (all of them without one).
    pub entries: u64,
    /// Entries whose own signature was checked.
    pub signed_entries: u64,
    /// Checkpoints signed by the key whose tree hash the entries gave.
    pub checkpoints: u64,
    /// The largest of them.
    pub last_checkpoint: Option<Checkpoint>,
    /// Checkpoints found that the key did not sign (forged, or another key's): ignored.
    pub ignored_checkpoints: Vec<String>,
    /// The first entry that is not what was signed, if any.
    pub broken: Option<AuditBreak>,
}

impl SignedAuditCheck {
    /// Whether every entry is the one that was signed, and none signed is missing.
    pub fn holds(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks a log line by line against the key and the checkpoints it signed.
pub(crate) struct ProofCheck {
    key: AuditPublicKey,
    checkpoints: Vec<Checkpoint>,
    next: usize,
    chain: ChainCheck,
    frontier: Frontier,
    /// The first entry, since the last checkpoint that held, whose signature is not the
    /// key's: another key's (the key was replaced) if the checkpoint that covers it holds,
    /// the first entry changed if it does not.
    suspect: Option<u64>,
    check: SignedAuditCheck,
}

impl ProofCheck {
    /// A check with `key`, over `checkpoints` from wherever they were kept (the catalog, the
    /// target, acts, a second location): those the key did not sign are set aside.
    pub(crate) fn new(key: AuditPublicKey, checkpoints: Vec<Checkpoint>) -> ProofCheck {
        let mut check = SignedAuditCheck {
            entries: 0,
            signed_entries: 0,
            checkpoints: 0,
            last_checkpoint: None,
            ignored_checkpoints: Vec::new(),
            broken: None,
        };
        let mut signed: Vec<Checkpoint> = Vec::new();
        for checkpoint in checkpoints {
            if checkpoint.check_signature(&key).is_err() {
                check.ignored_checkpoints.push(format!(
                    "the checkpoint of size {} (key {}) is not signed by the key {}",
                    checkpoint.size,
                    checkpoint.key_id,
                    key.id()
                ));
                continue;
            }
            match signed.iter().find(|c| c.size == checkpoint.size) {
                Some(same) if same.root == checkpoint.root && same.head == checkpoint.head => {}
                Some(_) => {
                    check.broken.get_or_insert(AuditBreak {
                        seq: checkpoint.size,
                        reason: format!(
                            "two checkpoints signed by the key disagree about entries 1 to {}: \
                             the signing key was used to sign another history",
                            checkpoint.size
                        ),
                    });
                }
                None => signed.push(checkpoint),
            }
        }
        signed.sort_by_key(|c| c.size);
        ProofCheck {
            key,
            checkpoints: signed,
            next: 0,
            chain: ChainCheck::new(),
            frontier: Frontier::default(),
            suspect: None,
            check,
        }
    }

    fn covered_up_to(&self) -> u64 {
        self.checkpoints.last().map_or(0, |c| c.size)
    }

    fn fail(&mut self, seq: u64, reason: String) -> bool {
        self.check.broken = Some(AuditBreak { seq, reason });
        false
    }

    /// Checks the next line; `false` once something does not hold.
    pub(crate) fn push(&mut self, line: &str) -> bool {
        if self.check.broken.is_some() {
            return false;
        }
        if !self.chain.push(line) {
            self.check.broken = self.chain.broken().cloned();
            return false;
        }
        let seq = self.frontier.size() + 1;
        let Some(split) = split_line(line.trim_end()) else {
            return self.fail(seq, "it is not an audit entry".to_owned());
        };
        if self.frontier.push(split.hash).is_err() {
            return self.fail(seq, "its hash is not a SHA-256".to_owned());
        }
        match split.signature {
            Some(signature) if self.key.verify_entry(split.hash, signature) => {
                self.check.signed_entries += 1;
            }
            // Covered by a checkpoint of this key: that checkpoint decides (an entry signed
            // with a key replaced since is vouched for by it).
            Some(_) if seq <= self.covered_up_to() => {
                self.suspect.get_or_insert(seq);
            }
            Some(_) => {
                return self.fail(seq, not_signed(None));
            }
            None if seq > self.covered_up_to() => {
                return self.fail(
                    seq,
                    format!(
                        "it is not signed and no checkpoint covers it: it was added after the \
                         last checkpoint (of size {}), or written without the signing key",
                        self.covered_up_to()
                    ),
                );
            }
            None => {}
        }
        self.check.entries += 1;
        while let Some(checkpoint) = self.checkpoints.get(self.next) {
            if checkpoint.size != self.frontier.size() {
                break;
            }
            if checkpoint.root != self.frontier.root() || checkpoint.head != split.hash {
                if let Some(suspect) = self.suspect {
                    return self.fail(suspect, not_signed(Some(checkpoint.size)));
                }
                let from = self
                    .check
                    .last_checkpoint
                    .as_ref()
                    .map_or(1, |c| c.size + 1);
                let reason = format!(
                    "the entries {from} to {} are not those the checkpoint of size {} \
                     (signed at {}) covers: one of them was changed, removed or added",
                    checkpoint.size, checkpoint.size, checkpoint.at
                );
                return self.fail(from, reason);
            }
            self.check.checkpoints += 1;
            self.check.last_checkpoint = Some(checkpoint.clone());
            self.suspect = None;
            self.next += 1;
        }
        true
    }

    pub(crate) fn finish(mut self) -> SignedAuditCheck {
        if self.check.broken.is_none()
            && let Some(checkpoint) = self.checkpoints.get(self.next).cloned()
        {
            let entries = self.frontier.size();
            self.fail(
                entries + 1,
                format!(
                    "it was removed: the checkpoint of size {} signed at {} covers the entries \
                     up to {}, and the log ends at entry {entries}",
                    checkpoint.size, checkpoint.at, checkpoint.size
                ),
            );
        }
        self.check
    }
}

/// Why an entry is not the one signed; `checkpoint`: the size of the checkpoint that covers it
/// and does not hold (then the entry is the first one since the last checkpoint that held
/// whose signature is not this key's: it, or one after it, differs).
fn not_signed(checkpoint: Option<u64>) -> String {
    match checkpoint {
        None => "it is not the entry that was signed: its content was changed, or an entry \
                 before it was removed or added (its signature does not match)"
            .to_owned(),
        Some(size) => format!(
            "it is not the entry that was signed, or one after it up to entry {size} is not: its \
             signature is not this key's, and the checkpoint of size {size} that covers it does \
             not hold (changed, removed or added)"
        ),
    }
}
