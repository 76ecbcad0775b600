//! The deletion act: what was destroyed, where, how, when, by whom, and the audit entries
//! that prove it — the document an operator signs (Russia's 152-FZ asks for one with each
//! destruction; Roskomnadzor's order No. 179 of 28 October 2022 says what it holds, and asks
//! for the export of the system's event log with it), as JSON and CSV. It holds no personal
//! data: the data subject appears as the keyed hash of their number.
//!
//! A real run's act lives in the catalog from before its first record is destroyed
//! (`catalog/act.rs`): each record is written to it in the transaction of its tombstone, so
//! that no kill, crash or full disk destroys a record without its act. The files are written
//! from the catalog's act at the end of the run — or, when the run did not get there, by the
//! next run that opens the catalog for writing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use telphin_records::layers::record_api::bytes::Bytes;

use crate::chain::AuditAction;
use crate::checkpoint::Checkpoint;
use crate::error::BackupError;
use crate::target::Target;

pub use crate::layout::ACTS_PREFIX;

/// Where a record was destroyed, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Place {
    /// Deleted from the PBX with the API's `DELETE`.
    Pbx,
    /// The PBX no longer had it (purged earlier, or deleted elsewhere).
    PbxAlreadyGone,
    /// Its object deleted from the target.
    Target,
    /// Its row and number index removed from the catalog; a tombstone left.
    Catalog,
    /// Its line removed from its month's manifest (the manifest written again).
    Manifest,
}

impl Place {
    /// Its word in the act and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Pbx => "pbx",
            Place::PbxAlreadyGone => "pbx-already-gone",
            Place::Target => "target",
            Place::Catalog => "catalog",
            Place::Manifest => "manifest",
        }
    }

    /// The place of [`as_str`](Self::as_str)'s word.
    pub fn parse(word: &str) -> Option<Place> {
        [
            Place::Pbx,
            Place::PbxAlreadyGone,
            Place::Target,
            Place::Catalog,
            Place::Manifest,
        ]
        .into_iter()
        .find(|place| place.as_str() == word)
    }

    /// How it was destroyed there, in words.
    pub fn how(self) -> &'static str {
        match self {
            Place::Pbx => "deleted from the PBX through the API (DELETE /record/)",
            Place::PbxAlreadyGone => "no longer on the PBX (the API answered it was gone)",
            Place::Target => "object deleted from the backup target",
            Place::Catalog => "record and its number index removed from the catalog",
            Place::Manifest => "line removed; the month's manifest written again",
        }
    }
}

/// One record of an act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ActRecord {
    /// The record's id.
    pub record_uuid: String,
    /// When its call started.
    pub call_time: DateTime<Utc>,
    /// The size of its file, if it was kept.
    pub size: Option<u64>,
    /// The SHA-256 of its file, if it was kept.
    pub sha256: Option<String>,
    /// Where it was (or, in a dry run, would be) destroyed.
    pub destroyed: Vec<Place>,
    /// When it was destroyed (`None` in a dry run).
    pub destroyed_at: Option<DateTime<Utc>>,
    /// The audit entry that proves it.
    pub audit_seq: Option<u64>,
    /// That entry's hash.
    pub audit_hash: Option<String>,
}

/// A record that was not destroyed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ActRefusal {
    /// The record's id.
    pub record_uuid: String,
    /// When its call started.
    pub call_time: DateTime<Utc>,
    /// Why: the legal hold that covers it, or the failure.
    pub reason: String,
}

/// The categories of personal data a recording holds, as the act names them.
pub const CATEGORIES: [&str; 3] = [
    "recordings of telephone calls (voice)",
    "telephone numbers of the parties",
    "call details: time, duration, direction, result, extension",
];

/// How the records are destroyed, as the act says it.
pub const METHOD: &str = "deletion of the recording from the PBX through its API, deletion \
     of its object from the backup target, removal of its catalog row and number index \
     (SQLite secure_delete, the write-ahead log emptied) and of its manifest line; a \
     tombstone without personal data is kept";

/// A deletion act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletionAct {
    /// Its id: the time it was drawn up and what it is for.
    pub act_id: String,
    /// When it was drawn up: opened, before the first record was destroyed.
    pub drawn_up_at: DateTime<Utc>,
    /// When its run ended (`None` in a dry run, or while it runs).
    pub closed_at: Option<DateTime<Utc>>,
    /// How its run ended: `complete`, `partial` (records refused), `paused` (the rate
    /// budget), `failed: …` (with the error), or `interrupted` (killed; finished by a later
    /// run).
    pub outcome: Option<String>,
    /// What was done: erasure or expiry.
    pub action: AuditAction,
    /// Whether nothing was destroyed (a dry run: the act says what would be).
    pub dry_run: bool,
    /// Who acted: the person responsible for the destruction.
    pub operator: String,
    /// Why: the request it answers, or the retention period that ended.
    pub reason: String,
    /// The PBX, group or extension it covers.
    pub scope: String,
    /// The retention policy applied (expiry only).
    pub policy: Option<serde_json::Value>,
    /// The data subject's identifier: the keyed hash of the erased number (erasure only).
    pub number_hash: Option<String>,
    /// The categories of personal data destroyed.
    pub categories: Vec<String>,
    /// How they were destroyed.
    pub method: String,
    /// The records destroyed.
    pub records: Vec<ActRecord>,
    /// The records found but not destroyed: held, or refused by the PBX or the target.
    pub not_destroyed: Vec<ActRefusal>,
    /// The audit log's entries of the records destroyed, as the log holds them (hash and
    /// signature included): the export of the event log the act goes with.
    pub audit_entries: Vec<String>,
    /// The first signed checkpoint of the audit log that covers those entries (signed as
    /// its run ended), if the log is signed.
    pub checkpoint: Option<Checkpoint>,
}

impl DeletionAct {
    /// A dry run's act, or the frame of a real one, drawn up now.
    pub(crate) fn new(
        action: AuditAction,
        dry_run: bool,
        operator: &str,
        reason: &str,
        scope: String,
    ) -> DeletionAct {
        let now = Utc::now();
        DeletionAct {
            act_id: format!("{}-{}", action.as_str(), now.format("%Y%m%dT%H%M%S%.6fZ")),
            drawn_up_at: now,
            closed_at: None,
            outcome: None,
            action,
            dry_run,
            operator: operator.to_owned(),
            reason: reason.to_owned(),
            scope,
            policy: None,
            number_hash: None,
            categories: CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
            method: METHOD.to_owned(),
            records: Vec::new(),
            not_destroyed: Vec::new(),
            audit_entries: Vec::new(),
            checkpoint: None,
        }
    }
}

impl DeletionAct {
    /// The act as pretty JSON.
    pub fn to_json(&self) -> Result<String, BackupError> {
        serde_json::to_string_pretty(self).map_err(|error| BackupError::Corrupt {
            what: "the deletion act".to_owned(),
            reason: error.to_string(),
        })
    }

    /// Writes the act as `<act id>.json` and `.csv` in `dir`, each complete or not at all
    /// (written aside, synced, then renamed).
    pub fn write_to_dir(&self, dir: &std::path::Path) -> Result<(), BackupError> {
        let write = |extension: &str, bytes: &[u8]| -> std::io::Result<()> {
            let path = dir.join(format!("{}.{extension}", self.act_id));
            let mut file = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut file, bytes)?;
            file.as_file().sync_all()?;
            file.persist(&path).map_err(|error| error.error)?;
            Ok(())
        };
        let failed = |error: std::io::Error| BackupError::ActDir {
            dir: dir.to_path_buf(),
            source: error,
        };
        write("json", self.to_json()?.as_bytes()).map_err(failed)?;
        write("csv", &self.to_csv()?).map_err(failed)?;
        sync_dir(dir).map_err(failed)
    }

    /// Stores the act in the target beside what it describes: `_acts/<act id>.json` and
    /// `.csv`.
    pub async fn store(&self, target: &Target) -> Result<(), BackupError> {
        for (extension, bytes) in [
            ("json", self.to_json()?.into_bytes()),
            ("csv", self.to_csv()?),
        ] {
            let mut upload = target.upload(&crate::layout::act_key(&self.act_id, extension))?;
            upload.push(Bytes::from(bytes)).await?;
            upload.finish().await?;
        }
        Ok(())
    }

    /// The act as CSV: one row per record and place (what, where, how, when, by whom, the
    /// audit entry), then one row per record not destroyed.
    pub fn to_csv(&self) -> Result<Vec<u8>, BackupError> {
        let failed = |error: csv::Error| BackupError::Corrupt {
            what: "the deletion act".to_owned(),
            reason: error.to_string(),
        };
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record([
                "act_id",
                "action",
                "record_uuid",
                "call_time",
                "size",
                "sha256",
                "where",
                "how",
                "destroyed_at",
                "operator",
                "reason",
                "audit_seq",
                "audit_hash",
            ])
            .map_err(failed)?;
        let text = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        for record in &self.records {
            for place in &record.destroyed {
                writer
                    .write_record([
                        self.act_id.as_str(),
                        self.action.as_str(),
                        &record.record_uuid,
                        &record.call_time.to_rfc3339(),
                        &record.size.map(|s| s.to_string()).unwrap_or_default(),
                        record.sha256.as_deref().unwrap_or(""),
                        place.as_str(),
                        &format!(
                            "{}{}",
                            if self.dry_run { "would be: " } else { "" },
                            place.how()
                        ),
                        &text(record.destroyed_at),
                        &self.operator,
                        &self.reason,
                        &record.audit_seq.map(|s| s.to_string()).unwrap_or_default(),
                        record.audit_hash.as_deref().unwrap_or(""),
                    ])
                    .map_err(failed)?;
            }
        }
        for refused in &self.not_destroyed {
            writer
                .write_record([
                    self.act_id.as_str(),
                    self.action.as_str(),
                    &refused.record_uuid,
                    &refused.call_time.to_rfc3339(),
                    "",
                    "",
                    "not destroyed",
                    &refused.reason,
                    "",
                    &self.operator,
                    &self.reason,
                    "",
                    "",
                ])
                .map_err(failed)?;
        }
        writer
            .into_inner()
            .map_err(|error| failed(error.into_error().into()))
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
