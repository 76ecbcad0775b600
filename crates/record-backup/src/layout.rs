//! Where objects live in a target — the one module that names every place besides the
//! recordings themselves (which are where their [`NameTemplate`](crate::NameTemplate) puts
//! them, and may begin with none of these):
//!
//! | place | holds |
//! |---|---|
//! | `_manifest/YYYY-MM.jsonl` | each month's kept records, to rebuild a catalog from |
//! | `_audit/<first>.jsonl`, `_audit/checkpoint-<size>.json` | the audit log's segments and its signed checkpoints |
//! | `_acts/<act>.json`, `_acts/<act>.csv` | the deletion acts |
//! | `.telphin-records/probe-…` | the objects a probe stores and removes at once |

/// The manifests' folder.
pub const MANIFEST_PREFIX: &str = "_manifest";
/// The audit log's folder.
pub const AUDIT_PREFIX: &str = "_audit";
/// The deletion acts' folder.
pub const ACTS_PREFIX: &str = "_acts";
/// The start of the names of the objects [`Target::probe`](crate::Target::probe) stores and
/// removes (never a record's name: those hold no dot folder).
pub const PROBE_KEY: &str = ".telphin-records/probe";

/// The first folders a record's name may not have, and what each holds.
pub(crate) const RESERVED: [(&str, &str); 3] = [
    (MANIFEST_PREFIX, "the manifests"),
    (AUDIT_PREFIX, "the audit log"),
    (ACTS_PREFIX, "the deletion acts"),
];

/// The manifest of `month` (`YYYY-MM`).
pub(crate) fn manifest_key(month: &str) -> String {
    format!("{MANIFEST_PREFIX}/{month}.jsonl")
}

/// The audit log's segment that starts at entry `first`.
pub(crate) fn audit_segment_key(first: i64) -> String {
    format!("{AUDIT_PREFIX}/{first:012}.jsonl")
}

/// The start of a checkpoint's name under `_audit/`.
pub(crate) const CHECKPOINT_PREFIX: &str = "checkpoint-";

/// The checkpoint of the audit log's first `size` entries.
pub(crate) fn checkpoint_key(size: u64) -> String {
    format!("{AUDIT_PREFIX}/{CHECKPOINT_PREFIX}{size:012}.json")
}

/// A deletion act's file, `extension` `json` or `csv`.
pub(crate) fn act_key(act_id: &str, extension: &str) -> String {
    format!("{ACTS_PREFIX}/{act_id}.{extension}")
}
