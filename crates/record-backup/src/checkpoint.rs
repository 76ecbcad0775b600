//! Signed checkpoints of the audit log: at the end of every run that appends to the log, its
//! size, the Merkle tree hash of its entries (RFC 6962, §2.1) and the hash of its last entry,
//! signed with an ed25519 key that does not live beside the catalog. Whoever holds the public
//! key alone can then prove that every entry up to a checkpoint is the one that was signed —
//! the hash chain alone cannot, since whoever can write the catalog and the target can
//! recompute every hash of it.
//!
//! The tree's leaves are the entries' hashes: leaf `i` is `SHA-256(0x00 ‖ hash of entry i+1)`,
//! an inner node `SHA-256(0x01 ‖ left ‖ right)`. The tree is built as entries come, in
//! O(log n) memory ([`Frontier`]), and a checkpoint keeps its frontier so that the next one
//! reads only the entries appended since.
//!
//! ```
//! use record_backup::{AuditSigningKey, Checkpoint};
//!
//! let key = AuditSigningKey::from_seed([7; 32]);
//! let checkpoint = Checkpoint::sign(&key, &record_backup::Frontier::default(), None);
//! assert!(checkpoint.check_signature(&key.public_key()).is_ok());
//! ```

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signer as _, Verifier as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::hex;
use crate::error::BackupError;

/// A 32-byte hash.
type Hash = [u8; 32];

fn leaf_hash(entry_hash: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry_hash);
    hasher.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of the empty tree: SHA-256 of nothing.
fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

fn unhex(text: &str) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The Merkle tree of a log's first entries, as the roots of its complete subtrees (one per
/// bit of the size, largest first): enough to add the next entries and to give the tree's
/// hash, in O(log n) memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(height, root)` of each complete subtree, left to right.
    peaks: Vec<(u32, Hash)>,
}

impl Frontier {
    /// How many entries it holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the entry whose hash (lower-case hex, as the log holds it) is `entry_hash`.
    pub fn push(&mut self, entry_hash: &str) -> Result<(), BackupError> {
        let hash = unhex(entry_hash).ok_or_else(|| BackupError::Corrupt {
            what: "an audit entry's hash".to_owned(),
            reason: format!("{entry_hash:?} is not 64 hexadecimal digits"),
        })?;
        let mut node = (0, leaf_hash(&hash));
        while let Some(&(height, left)) = self.peaks.last() {
            if height != node.0 {
                break;
            }
            self.peaks.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.peaks.push(node);
        self.size += 1;
        Ok(())
    }

    /// The tree hash of RFC 6962 over the entries it holds, lower-case hex.
    pub fn root(&self) -> String {
        let mut peaks = self.peaks.iter().rev();
        let root = match peaks.next() {
            None => empty_root(),
            Some(&(_, last)) => peaks.fold(last, |right, (_, left)| node_hash(left, &right)),
        };
        hex(&root)
    }

    /// The frontier as text, kept with a checkpoint: `height:hash` per subtree.
    pub(crate) fn to_text(&self) -> String {
        self.peaks
            .iter()
            .map(|(height, hash)| format!("{height}:{}", hex(hash)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The frontier of `size` entries kept as [`to_text`](Self::to_text).
    pub(crate) fn from_text(size: u64, text: &str) -> Option<Frontier> {
        let mut peaks = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (height, hash) = part.split_once(':')?;
            peaks.push((height.parse().ok()?, unhex(hash)?));
        }
        let held: u64 = peaks
            .iter()
            .map(|(height, _)| 1u64.checked_shl(*height).unwrap_or(0))
            .sum();
        (held == size).then_some(Frontier { size, peaks })
    }
}

/// The key that signs the audit log's entries and checkpoints (ed25519). Its seed is kept in
/// a file of its own (`telphin-records audit keygen`), away from the catalog and the target:
/// whoever holds it can sign a rewritten history. Never printed.
#[derive(Clone)]
pub struct AuditSigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSigningKey({})", self.public_key().id())
    }
}

/// The public half of an [`AuditSigningKey`]: what an inspector needs to check the log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AuditPublicKey(ed25519_dalek::VerifyingKey);

impl std::fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditPublicKey({})", self.id())
    }
}

/// The first line of a signing key's file.
const SECRET_HEADER: &str = "telphin-records audit signing key (ed25519 seed, hex)";
/// The first line of a public key's file.
const PUBLIC_HEADER: &str = "telphin-records audit public key (ed25519, hex)";

fn key_text(text: &str, header: &str, what: &str) -> Result<Hash, BackupError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let hex_line = if first == header {
        lines.next().unwrap_or_default()
    } else {
        first
    };
    unhex(hex_line).ok_or_else(|| {
        BackupError::InvalidOption(format!(
            "{what}: not a key of telphin-records audit keygen (64 hexadecimal digits)"
        ))
    })
}

impl AuditSigningKey {
    /// The key of a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> AuditSigningKey {
        AuditSigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A new random key.
    pub fn generate() -> Result<AuditSigningKey, BackupError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| {
            BackupError::InvalidOption(format!("no randomness for a signing key: {error}"))
        })?;
        Ok(AuditSigningKey::from_seed(seed))
    }

    /// The key in the text of its file (as [`to_file_text`](Self::to_file_text) writes it).
    pub fn from_file_text(text: &str) -> Result<AuditSigningKey, BackupError> {
        key_text(text, SECRET_HEADER, "the audit signing key").map(AuditSigningKey::from_seed)
    }

    /// Reads the key's file.
    pub fn read(path: &Path) -> Result<AuditSigningKey, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BackupError::InvalidOption(format!("the audit signing key {}: {error}", path.display()))
        })?;
        AuditSigningKey::from_file_text(&text).map_err(|_| {
            BackupError::InvalidOption(format!(
                "the audit signing key {}: not a key of telphin-records audit keygen",
                path.display()
            ))
        })
    }

    /// The text of its file.
    pub fn to_file_text(&self) -> String {
        format!("{SECRET_HEADER}\n{}\n", hex(self.0.as_bytes()))
    }

    /// Its public half.
    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey(self.0.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> String {
        hex(&self.0.sign(message).to_bytes())
    }

    /// The signature of an entry whose hash is `entry_hash`.
    pub(crate) fn sign_entry(&self, entry_hash: &str) -> String {
        self.sign(entry_message(entry_hash).as_bytes())
    }
}

impl AuditPublicKey {
    /// The key in the text of its file.
    pub fn from_file_text(text: &str) -> Result<AuditPublicKey, BackupError> {
        let bytes = key_text(text, PUBLIC_HEADER, "the audit public key")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(AuditPublicKey)
            .map_err(|_| {
                BackupError::InvalidOption("the audit public key is not an ed25519 key".to_owned())
            })
    }

    /// Reads the key's file.
    pub fn read(path: &Path) -> Result<AuditPublicKey, BackupError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BackupError::InvalidOption(format!("the audit public key {}: {error}", path.display()))
        })?;
        AuditPublicKey::from_file_text(&text)
    }

    /// The text of its file.
    pub fn to_file_text(&self) -> String {
        format!("{PUBLIC_HEADER}\n{}\n", hex(self.0.as_bytes()))
    }

    /// A short name of the key: the first 16 hex digits of the SHA-256 of its bytes.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))[..16].to_owned()
    }

    fn verify(&self, message: &[u8], signature: &str) -> bool {
        let Some(bytes) = unhex_signature(signature) else {
            return false;
        };
        self.0
            .verify(message, &ed25519_dalek::Signature::from_bytes(&bytes))
            .is_ok()
    }

    /// Whether `signature` is this key's signature of the entry whose hash is `entry_hash`.
    pub(crate) fn verify_entry(&self, entry_hash: &str, signature: &str) -> bool {
        self.verify(entry_message(entry_hash).as_bytes(), signature)
    }
}

fn unhex_signature(text: &str) -> Option<[u8; 64]> {
    if text.len() != 128 {
        return None;
    }
    let mut out = [0u8; 64];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn entry_message(entry_hash: &str) -> String {
    format!("telphin-records audit entry\n{entry_hash}\n")
}

/// A signed statement of the audit log at one size: every entry up to `size` is the one whose
/// hashes give `root`, and the last of them has the hash `head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// How many entries it covers (entries `1..=size`).
    pub size: u64,
    /// The Merkle tree hash of their hashes (RFC 6962), lower-case hex.
    pub root: String,
    /// The hash of entry `size` (64 zeros for an empty log).
    pub head: String,
    /// When it was signed.
    pub at: DateTime<Utc>,
    /// The signing key's [`id`](AuditPublicKey::id).
    pub key_id: String,
    /// The ed25519 signature of the statement, hex.
    pub signature: String,
}

impl Checkpoint {
    /// The checkpoint of the log that `frontier` holds, whose last entry's hash is `head`,
    /// signed with `key` now.
    pub fn sign(key: &AuditSigningKey, frontier: &Frontier, head: Option<&str>) -> Checkpoint {
        let mut checkpoint = Checkpoint {
            size: frontier.size(),
            root: frontier.root(),
            head: head.unwrap_or(crate::chain::GENESIS).to_owned(),
            at: Utc::now(),
            key_id: key.public_key().id(),
            signature: String::new(),
        };
        checkpoint.signature = key.sign(checkpoint.statement().as_bytes());
        checkpoint
    }

    /// The text that is signed.
    fn statement(&self) -> String {
        format!(
            "telphin-records audit checkpoint\nsize {}\nroot {}\nhead {}\nat {}\n",
            self.size,
            self.root,
            self.head,
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }

    /// Whether `key` signed it, as it is.
    pub fn check_signature(&self, key: &AuditPublicKey) -> Result<(), BackupError> {
        if key.verify(self.statement().as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(BackupError::Corrupt {
                what: format!("the audit checkpoint of size {}", self.size),
                reason: format!(
                    "its signature is not that of the key {} over what it says",
                    key.id()
                ),
            })
        }
    }

    /// Its JSON, one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(i: u64) -> String {
        hex(&Sha256::digest(i.to_le_bytes()))
    }

    /// RFC 6962's MTH by its definition (recursive, the largest power of two below n left).
    fn reference(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference(&leaves[..k]), &reference(&leaves[k..]))
            }
        }
    }

    #[test]
    fn the_frontier_gives_rfc_6962_tree_hashes_at_every_size() {
        let mut frontier = Frontier::default();
        let mut leaves = Vec::new();
        assert_eq!(frontier.root(), hex(&empty_root()));
        for i in 0..70 {
            frontier.push(&entry(i)).unwrap();
            leaves.push(unhex(&entry(i)).unwrap());
            assert_eq!(frontier.root(), hex(&reference(&leaves)), "size {}", i + 1);
            let kept = Frontier::from_text(frontier.size(), &frontier.to_text()).unwrap();
            assert_eq!(kept, frontier);
        }
        // A frontier that does not add up to its size is refused.
        assert!(Frontier::from_text(71, &frontier.to_text()).is_none());
    }

    #[test]
    fn a_checkpoint_verifies_with_its_key_only_and_as_signed() {
        let key = AuditSigningKey::from_seed([1; 32]);
        let other = AuditSigningKey::from_seed([2; 32]);
        let mut frontier = Frontier::default();
        frontier.push(&entry(1)).unwrap();
        let checkpoint = Checkpoint::sign(&key, &frontier, Some(&entry(1)));
        checkpoint.check_signature(&key.public_key()).unwrap();
        assert!(checkpoint.check_signature(&other.public_key()).is_err());
        let mut forged = checkpoint.clone();
        forged.size = 2;
        assert!(forged.check_signature(&key.public_key()).is_err());
        let json: Checkpoint = serde_json::from_str(&checkpoint.to_json()).unwrap();
        json.check_signature(&key.public_key()).unwrap();
    }

    #[test]
    fn keys_round_trip_through_their_files_and_never_print_the_secret() {
        let key = AuditSigningKey::generate().unwrap();
        let text = key.to_file_text();
        let back = AuditSigningKey::from_file_text(&text).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let public = AuditPublicKey::from_file_text(&key.public_key().to_file_text()).unwrap();
        assert_eq!(public, key.public_key());
        let seed_hex = text.lines().nth(1).unwrap();
        assert!(!format!("{key:?}").contains(seed_hex));
        let signature = key.sign_entry(&entry(3));
        assert!(public.verify_entry(&entry(3), &signature));
        assert!(!public.verify_entry(&entry(4), &signature));
        assert!(AuditSigningKey::from_file_text("nonsense").is_err());
    }
}
