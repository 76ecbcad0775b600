//! The target's manifests: one JSON Lines object per month (UTC) of the kept records, so that
//! the target alone describes itself and the catalog can be rebuilt from it. The format and
//! its reading live here; [`write`] keeps them up to date from the catalog, [`rebuild`] brings
//! a lost catalog back from them.

mod rebuild;
mod write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use telphin_records::Record;

use crate::catalog::CatalogEntry;

pub use rebuild::rebuild_catalog;

/// Where the target's manifests live; no object name may start with it.
pub(crate) use crate::layout::{MANIFEST_PREFIX, manifest_key};

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
    /// The line of a kept entry; `None` if it is not kept (or its row lacks what storing
    /// writes).
    pub(crate) fn of(entry: &CatalogEntry) -> Option<ManifestLine> {
        let state = &entry.state;
        if !state.is_kept() {
            return None;
        }
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

/// Appends `lines` to a manifest's text: one JSON object per line.
pub(crate) fn encode(lines: &[ManifestLine], text: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    for line in lines {
        serde_json::to_writer(&mut *text, line)?;
        text.push(b'\n');
    }
    Ok(())
}

/// Reads a manifest back as its chunks arrive, so that a month of any size takes little
/// memory: whole lines are decoded, the last partial one waits for the next chunk.
#[derive(Default)]
pub(crate) struct ManifestReader {
    pending: Vec<u8>,
    line: usize,
}

impl ManifestReader {
    /// Decodes the whole lines that `chunk` completes into `out`; `Err` names the first
    /// line that is not a manifest line.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<ManifestLine>,
    ) -> Result<(), (usize, serde_json::Error)> {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(end) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let line = &self.pending[start..start + end];
            self.line += 1;
            if !line.iter().all(u8::is_ascii_whitespace) {
                out.push(serde_json::from_slice(line).map_err(|error| (self.line, error))?);
            }
            start += end + 1;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Decodes a last line without its line break.
    pub(crate) fn finish(
        mut self,
        out: &mut Vec<ManifestLine>,
    ) -> Result<(), (usize, serde_json::Error)> {
        if !self.pending.is_empty() {
            self.pending.push(b'\n');
            let rest = std::mem::take(&mut self.pending);
            self.push(&rest, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn line(uuid_tail: char) -> ManifestLine {
        let text = include_str!("../../../record-model/tests/fixtures/full_record.json")
            .replace("0606\"", &format!("060{uuid_tail}\""));
        let record: Record = serde_json::from_str(&text).unwrap();
        ManifestLine {
            record_uuid: record.record_uuid.to_string(),
            object_key: format!("2024/01/31/{}.mp3", record.record_uuid),
            size: record.record_file_size,
            sha256: "ab".repeat(32),
            stored_at: DateTime::parse_from_rfc3339("2024-02-01T10:00:00Z")
                .unwrap()
                .into(),
            verified_at: None,
            deleted_from_pbx_at: None,
            record,
        }
    }

    #[test]
    fn manifests_read_back_whatever_the_chunks() {
        let lines = vec![line('1'), line('2'), line('3')];
        let mut text = Vec::new();
        encode(&lines, &mut text).unwrap();
        text.extend_from_slice(b"\n  \n");
        // Without its last line break, cut into chunks of every size.
        let trimmed = &text[..text.len() - 5];
        for size in [1, 7, 100, 4096, trimmed.len()] {
            let mut reader = ManifestReader::default();
            let mut out = Vec::new();
            for chunk in trimmed.chunks(size) {
                reader.push(chunk, &mut out).unwrap();
            }
            reader.finish(&mut out).unwrap();
            assert_eq!(out, lines, "chunks of {size}");
        }
        let mut reader = ManifestReader::default();
        let mut out = Vec::new();
        let error = reader
            .push(&[&text[..], b"{\"not\": \"a line\"}\n"].concat(), &mut out)
            .unwrap_err();
        assert_eq!(error.0, 6, "blank lines count too");
    }
}
