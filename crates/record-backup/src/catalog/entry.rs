//! What the catalog knows of one record.

use chrono::{DateTime, SecondsFormat, Utc};
use telphin_records::Record;

/// The backup state of one record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BackupState {
    /// The object's name in the target, once stored.
    pub object_key: Option<String>,
    /// The stored object's size in bytes.
    pub size: Option<u64>,
    /// The stored object's SHA-256, lower-case hex.
    pub sha256: Option<String>,
    /// When the object was stored; `None` while the record is not kept (never stored, or
    /// found missing or altered by `verify`).
    pub stored_at: Option<DateTime<Utc>>,
    /// When `verify` last read the object back and found it whole.
    pub verified_at: Option<DateTime<Utc>>,
    /// When `purge` deleted the record from the PBX.
    pub deleted_from_pbx_at: Option<DateTime<Utc>>,
    /// The last failure of this record (download, upload, verification, deletion).
    pub last_error: Option<String>,
    /// How many runs failed to keep it since it was last kept.
    pub failed_attempts: u32,
}

impl BackupState {
    /// Whether the record's file is kept in the target (stored, and not found missing since).
    pub fn is_kept(&self) -> bool {
        self.stored_at.is_some()
    }

    /// Whether it is kept and `verify` has read it back since it was stored: only such records
    /// may be purged.
    pub fn is_verified(&self) -> bool {
        matches!((self.stored_at, self.verified_at), (Some(stored), Some(verified)) if verified >= stored)
    }
}

/// A record of the catalog with its backup state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CatalogEntry {
    /// The record, as last listed.
    pub record: Record,
    /// Its backup state.
    pub state: BackupState,
}

/// The catalog's text form of an instant: RFC 3339, UTC, microseconds.
pub(crate) fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads [`time_text`] back.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}
