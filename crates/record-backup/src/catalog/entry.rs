//! What the catalog knows of one record.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Row;
use telphin_records::Record;

use super::BackupState;

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

/// The columns [`entry_of`] reads.
pub(crate) const ENTRY_COLUMNS: &str = "record_json, object_key, stored_size, sha256, stored_at, \
     verified_at, deleted_from_pbx_at, last_error, failed_attempts";

/// A row's content is not what the catalog writes (a hand-edited or damaged file).
pub(crate) fn corrupt(what: &str, reason: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(format!(
        "{what}: {reason}"
    ))))
}

/// A record from its `record_json`.
pub(crate) fn record_of(json: &str) -> rusqlite::Result<Record> {
    serde_json::from_str(json).map_err(|error| corrupt("a catalog row's record_json", error))
}

/// The JSON of a record, as `record_json` holds it.
pub(crate) fn json_of(record: &Record) -> rusqlite::Result<String> {
    serde_json::to_string(record).map_err(|error| corrupt("a record", error))
}

fn time_of(row: &Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(column)?;
    Ok(text.as_deref().and_then(parse_time))
}

/// A size column as bytes.
pub(crate) fn size_of(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

/// The entry of a row holding [`ENTRY_COLUMNS`].
pub(crate) fn entry_of(row: &Row<'_>) -> rusqlite::Result<CatalogEntry> {
    let json: String = row.get("record_json")?;
    Ok(CatalogEntry {
        record: record_of(&json)?,
        state: BackupState {
            object_key: row.get("object_key")?,
            size: size_of(row.get("stored_size")?),
            sha256: row.get("sha256")?,
            stored_at: time_of(row, "stored_at")?,
            verified_at: time_of(row, "verified_at")?,
            deleted_from_pbx_at: time_of(row, "deleted_from_pbx_at")?,
            last_error: row.get("last_error")?,
            failed_attempts: row.get("failed_attempts")?,
        },
    })
}
