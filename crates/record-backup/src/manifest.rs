//! The target's manifests: one JSON Lines object per month (UTC) of the kept records, so that
//! the target alone describes itself and the catalog can be rebuilt from it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use telphin_records::Record;

use crate::catalog::CatalogEntry;
use crate::naming::MANIFEST_PREFIX;

/// One kept record in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ManifestLine {
    pub(crate) record_uuid: String,
    pub(crate) object_key: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
    pub(crate) stored_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verified_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deleted_from_pbx_at: Option<DateTime<Utc>>,
    /// The record's metadata as listed, unknown fields included.
    pub(crate) record: Record,
}

impl ManifestLine {
    /// The line of a kept entry; `None` if it is not kept.
    pub(crate) fn of(entry: &CatalogEntry) -> Option<ManifestLine> {
        let state = &entry.state;
        Some(ManifestLine {
            record_uuid: entry.record.record_uuid.to_string(),
            object_key: state.object_key.clone()?,
            size: state.size?,
            sha256: state.sha256.clone()?,
            stored_at: state.stored_at?,
            verified_at: state.verified_at,
            deleted_from_pbx_at: state.deleted_from_pbx_at,
            record: entry.record.clone(),
        })
    }
}

/// The object name of `month`'s manifest (`YYYY-MM`).
pub(crate) fn manifest_key(month: &str) -> String {
    format!("{MANIFEST_PREFIX}/{month}.jsonl")
}

/// The manifest's text: one JSON object per line.
pub(crate) fn encode(lines: &[ManifestLine]) -> Result<Vec<u8>, serde_json::Error> {
    let mut text = Vec::with_capacity(lines.len() * 1200);
    for line in lines {
        serde_json::to_writer(&mut text, line)?;
        text.push(b'\n');
    }
    Ok(text)
}

/// Reads a manifest back; `Err` names the first line that is not a manifest line.
pub(crate) fn decode(text: &[u8]) -> Result<Vec<ManifestLine>, (usize, serde_json::Error)> {
    text.split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| serde_json::from_slice(line).map_err(|error| (index + 1, error)))
        .collect()
}
