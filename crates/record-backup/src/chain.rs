//! The audit log's format: every destructive action (a purge from the PBX, an expiry, an
//! erasure, a hold placed or released) as one JSON line that carries the SHA-256 of the line
//! before it — a hash chain, so that editing, removing or reordering an entry shows — and its
//! check. The catalog holds the log (`catalog/audit.rs`); the target holds a copy under
//! `_audit/` (`audit.rs`).
//!
//! A line is the entry's JSON with its own hash appended, and — when the run that wrote it had
//! the audit signing key — the ed25519 signature of that hash after it:
//! `{"seq":7,…,"prev":"<hash of entry 6>","hash":"<SHA-256 of the JSON before>","sig":"…"}`.
//! The chain shows clumsy edits; the signatures and the signed checkpoints
//! ([`crate::checkpoint`]) show the edits of whoever could recompute every hash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::hex;

pub use crate::layout::AUDIT_PREFIX;

/// The `prev` of the first entry.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A verified record deleted from the PBX (it stays in the archive).
    Purge,
    /// A record destroyed because the retention policy's period ended.
    Expire,
    /// A record destroyed because a person's data was to be erased.
    Erase,
    /// A legal hold placed.
    HoldAdd,
    /// A legal hold released.
    HoldRelease,
}

impl AuditAction {
    /// Its word in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Purge => "purge",
            AuditAction::Expire => "expire",
            AuditAction::Erase => "erase",
            AuditAction::HoldAdd => "hold-add",
            AuditAction::HoldRelease => "hold-release",
        }
    }
}

/// One entry of the audit log. It holds no personal data: a number appears only as a keyed
/// hash, a record by its id, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// Its place in the log, from 1, without gaps.
    pub seq: u64,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub operator: String,
    /// What was done.
    pub action: AuditAction,
    /// The record acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_uuid: Option<String>,
    /// When its call started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_time: Option<DateTime<Utc>>,
    /// The size of its file, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The SHA-256 of its file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The keyed hash of the erased number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_hash: Option<String>,
    /// Where the record was destroyed: `pbx`, `target`, `catalog`, `manifest`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destroyed: Vec<String>,
    /// The hold placed or released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<i64>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deletion act the destruction belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act_id: Option<String>,
    /// The hash of the entry before it (64 zeros for the first).
    pub prev: String,
}

/// The SHA-256 of an entry's JSON, lower-case hex.
pub(crate) fn hash_of(json: &str) -> String {
    hex(&Sha256::digest(json.as_bytes()))
}

/// The log's line of an entry's JSON, its hash and, when signed, its signature.
pub(crate) fn line_of(json: &str, hash: &str, signature: Option<&str>) -> String {
    let body = json.strip_suffix('}').unwrap_or(json);
    match signature {
        Some(signature) => format!("{body},\"hash\":\"{hash}\",\"sig\":\"{signature}\"}}"),
        None => format!("{body},\"hash\":\"{hash}\"}}"),
    }
}

/// A log line taken apart.
pub(crate) struct SplitLine<'a> {
    /// The entry's JSON, as hashed.
    pub(crate) json: String,
    /// The hash it says it has.
    pub(crate) hash: &'a str,
    /// Its signature, if it was signed.
    pub(crate) signature: Option<&'a str>,
}

/// Splits a log line into the entry's JSON (as hashed), the hash it says it has and its
/// signature.
pub(crate) fn split_line(line: &str) -> Option<SplitLine<'_>> {
    let at = line.rfind(",\"hash\":\"")?;
    let rest = line[at + 9..].strip_suffix("\"}")?;
    let (hash, signature) = match rest.split_once("\",\"sig\":\"") {
        Some((hash, signature)) => (hash, Some(signature)),
        None => (rest, None),
    };
    Some(SplitLine {
        json: format!("{}}}", &line[..at]),
        hash,
        signature,
    })
}

/// Where the chain first does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditBreak {
    /// The entry that does not match (its place in the log).
    pub seq: u64,
    /// How.
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}: {}", self.seq, self.reason)
    }
}

/// What a check of the audit log found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditCheck {
    /// Entries that matched, in order, before the first break (all of them without one).
    pub entries: u64,
    /// The hash of the last entry that matched.
    pub last_hash: String,
    /// The first entry that does not match, if any.
    pub broken: Option<AuditBreak>,
}

impl AuditCheck {
    /// Whether the whole log holds.
    pub fn holds(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks a log line by line, from its first entry.
pub(crate) struct ChainCheck {
    expected: u64,
    prev: String,
    check: AuditCheck,
}

impl ChainCheck {
    pub(crate) fn new() -> ChainCheck {
        ChainCheck {
            expected: 1,
            prev: GENESIS.to_owned(),
            check: AuditCheck {
                entries: 0,
                last_hash: GENESIS.to_owned(),
                broken: None,
            },
        }
    }

    /// Checks the next line; `false` once the chain is broken (later lines are not read).
    pub(crate) fn push(&mut self, line: &str) -> bool {
        if self.check.broken.is_some() {
            return false;
        }
        match self.verify(line) {
            Ok(hash) => {
                self.expected += 1;
                self.check.entries += 1;
                self.check.last_hash.clone_from(&hash);
                self.prev = hash;
                true
            }
            Err(broken) => {
                self.check.broken = Some(broken);
                false
            }
        }
    }

    fn verify(&self, line: &str) -> Result<String, AuditBreak> {
        let expected = self.expected;
        let broken = |seq: u64, reason: String| AuditBreak { seq, reason };
        let Some(SplitLine { json, hash, .. }) = split_line(line.trim_end()) else {
            return Err(broken(
                expected,
                "the line where it should be is not an audit entry (no hash)".to_owned(),
            ));
        };
        let entry: AuditEntry = serde_json::from_str(&json).map_err(|error| {
            broken(
                expected,
                format!("the line where it should be is not an audit entry: {error}"),
            )
        })?;
        if entry.seq > expected {
            return Err(broken(
                expected,
                format!(
                    "it is missing: entry {} stands where it belongs, after entry {} \
                     (entry {expected} was removed, or entry {} was moved)",
                    entry.seq,
                    expected - 1,
                    entry.seq
                ),
            ));
        }
        if entry.seq < expected {
            return Err(broken(
                entry.seq,
                format!(
                    "it is out of place: found after entry {}, where entry {expected} belongs",
                    expected - 1
                ),
            ));
        }
        if hash_of(&json) != hash {
            return Err(broken(
                entry.seq,
                "it was changed: its content does not match its hash".to_owned(),
            ));
        }
        if entry.prev != self.prev {
            return Err(broken(
                entry.seq,
                format!(
                    "it does not follow entry {}: the hash it holds of that entry differs \
                     (one of the two was changed or replaced)",
                    expected - 1
                ),
            ));
        }
        Ok(hash.to_owned())
    }

    /// Where the chain broke, if it did.
    pub(crate) fn broken(&self) -> Option<&AuditBreak> {
        self.check.broken.as_ref()
    }

    pub(crate) fn finish(self) -> AuditCheck {
        self.check
    }
}

/// Splits bytes arriving in chunks into lines.
#[derive(Default)]
pub(crate) struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// The whole lines `chunk` completes (invalid UTF-8 is kept as replacement characters,
    /// which then fail the check).
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = &self.pending[start..start + end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push(String::from_utf8_lossy(line).into_owned());
            }
            start += end + 1;
        }
        self.pending.drain(..start);
        lines
    }

    /// A last line without its line break.
    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.pending.push(b'\n');
        let rest = std::mem::take(&mut self.pending);
        self.push(&rest)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn chain(count: u64) -> Vec<String> {
        let mut prev = GENESIS.to_owned();
        (1..=count)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at: DateTime::from_timestamp(1_700_000_000 + seq as i64, 0).unwrap(),
                    operator: "dpo".to_owned(),
                    action: AuditAction::Erase,
                    record_uuid: Some(format!("uuid-{seq}")),
                    call_time: None,
                    size: Some(seq * 10),
                    sha256: None,
                    number_hash: None,
                    destroyed: vec!["target".to_owned()],
                    hold_id: None,
                    reason: Some("request".to_owned()),
                    act_id: None,
                    prev: prev.clone(),
                };
                let json = serde_json::to_string(&entry).unwrap();
                let hash = hash_of(&json);
                prev.clone_from(&hash);
                line_of(&json, &hash, None)
            })
            .collect()
    }

    fn check(lines: &[String]) -> AuditCheck {
        let mut check = ChainCheck::new();
        for line in lines {
            check.push(line);
        }
        check.finish()
    }

    #[test]
    fn an_untouched_chain_holds() {
        let lines = chain(5);
        let check = check(&lines);
        assert!(check.holds(), "{check:?}");
        assert_eq!(check.entries, 5);
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut lines = chain(5);
        lines[2] = lines[2].replace("\"size\":30", "\"size\":31");
        let broken = check(&lines).broken.unwrap();
        assert_eq!(broken.seq, 3, "{broken}");
        assert!(broken.reason.contains("changed"), "{broken}");
    }

    #[test]
    fn an_entry_edited_with_a_new_hash_breaks_the_link_after_it() {
        let mut lines = chain(5);
        let json = split_line(&lines[2]).unwrap().json;
        let json = json.replace("\"size\":30", "\"size\":31");
        lines[2] = line_of(&json, &hash_of(&json), None);
        let broken = check(&lines).broken.unwrap();
        assert_eq!(broken.seq, 4, "{broken}");
        assert!(broken.reason.contains("entry 3"), "{broken}");
    }

    #[test]
    fn a_removed_entry_is_named() {
        let mut lines = chain(5);
        lines.remove(1);
        let broken = check(&lines).broken.unwrap();
        assert_eq!(broken.seq, 2, "{broken}");
        assert!(broken.reason.contains("missing"), "{broken}");
    }

    #[test]
    fn a_moved_entry_is_named() {
        let mut lines = chain(5);
        let moved = lines.remove(3);
        lines.insert(1, moved);
        let broken = check(&lines).broken.unwrap();
        assert_eq!(broken.seq, 2, "{broken}");
        assert!(broken.reason.contains("entry 4 was moved"), "{broken}");
        // Swapping two neighbours names the first of them.
        let mut lines = chain(5);
        lines.swap(2, 3);
        let broken = check(&lines).broken.unwrap();
        assert_eq!(broken.seq, 3, "{broken}");
    }

    #[test]
    fn lines_are_split_whatever_the_chunks() {
        let text = chain(3).join("\n");
        for size in [1, 5, 64, text.len()] {
            let mut lines = Lines::default();
            let mut out = Vec::new();
            for chunk in text.as_bytes().chunks(size) {
                out.extend(lines.push(chunk));
            }
            out.extend(lines.finish());
            assert_eq!(out, chain(3), "chunks of {size}");
        }
    }
}
