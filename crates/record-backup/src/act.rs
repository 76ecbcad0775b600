//! The deletion act: what was destroyed, where, how, when, by whom, and the audit entries
//! that prove it — the document an operator signs (Russia's 152-FZ asks for one with each
//! destruction since March 2023), as JSON and CSV. It holds no personal data.

use chrono::{DateTime, Utc};
use serde::Serialize;

use telphin_records::layers::record_api::bytes::Bytes;

use crate::chain::AuditAction;
use crate::error::BackupError;
use crate::target::Target;

/// Where the target keeps the deletion acts; no object name may start with it.
pub const ACTS_PREFIX: &str = "_acts";

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

/// A deletion act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeletionAct {
    /// Its id: the time it was drawn up and what it is for.
    pub act_id: String,
    /// When it was drawn up.
    pub drawn_up_at: DateTime<Utc>,
    /// What was done: erasure or expiry.
    pub action: AuditAction,
    /// Whether nothing was destroyed (a dry run: the act says what would be).
    pub dry_run: bool,
    /// Who acted.
    pub operator: String,
    /// Why.
    pub reason: String,
    /// The keyed hash of the erased number (erasure only).
    pub number_hash: Option<String>,
    /// The records destroyed.
    pub records: Vec<ActRecord>,
    /// The records found but not destroyed: held, or refused by the PBX or the target.
    pub not_destroyed: Vec<ActRefusal>,
}

impl DeletionAct {
    /// The act as pretty JSON.
    pub fn to_json(&self) -> Result<String, BackupError> {
        serde_json::to_string_pretty(self).map_err(|error| BackupError::Corrupt {
            what: "the deletion act".to_owned(),
            reason: error.to_string(),
        })
    }

    /// Stores the act in the target beside what it describes: `_acts/<act id>.json` and
    /// `.csv`.
    pub async fn store(&self, target: &Target) -> Result<(), BackupError> {
        for (extension, bytes) in [
            ("json", self.to_json()?.into_bytes()),
            ("csv", self.to_csv()?),
        ] {
            let mut upload =
                target.upload(&format!("{ACTS_PREFIX}/{}.{extension}", self.act_id))?;
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
