//! The errors of backup, verify, purge, search and rebuild.

use std::path::PathBuf;

/// What went wrong. Messages never contain a secret: not the API's credentials, not a storage
/// link, not a target's keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The object-name template is unusable.
    #[error("the object-name template {template:?} is refused: {reason}")]
    Template {
        /// The template as given.
        template: String,
        /// Why it is refused.
        reason: String,
    },
    /// The target's URL or options are unusable.
    #[error("the backup target is unusable: {0}")]
    TargetConfig(String),
    /// The target (a directory, a bucket) failed.
    #[error("the backup target failed: {0}")]
    Target(#[from] object_store::Error),
    /// The catalog's database failed.
    #[error("the catalog {path} failed: {source}")]
    Catalog {
        /// The catalog's file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The catalog file could not be created or protected.
    #[error("the catalog file {path} could not be prepared: {source}")]
    CatalogFile {
        /// The catalog's file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the catalog's lock.
    #[error(
        "another run holds {catalog} (its lock is {lock}); try again when it has finished \
         (a running `telphin-records serve` holds it until it stops)"
    )]
    CatalogBusy {
        /// The catalog's file.
        catalog: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The catalog was written by a newer version of this crate.
    #[error("the catalog {path} has schema version {found}; this version knows up to {known}")]
    CatalogTooNew {
        /// The catalog's file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this crate knows.
        known: i64,
    },
    /// A row of the catalog or a line of a manifest does not hold what it should.
    #[error("{what} is corrupt: {reason}")]
    Corrupt {
        /// Which row, object or line.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The API failed in a way that stops the whole run (listing, authorization).
    #[error(transparent)]
    Api(#[from] telphin_records::Error),
    /// A period, id or other input is invalid (caught before any request).
    #[error(transparent)]
    InvalidInput(#[from] telphin_records::ValidationError),
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The target refused file after file: the run stopped downloading.
    #[error(
        "the backup target failed {files} files in a row, so the run stopped downloading (no \
         file is fetched from the PBX in vain; {stored} were kept before). Fix the target and \
         run again. Its last error: {last}"
    )]
    TargetFailing {
        /// Files in a row the target refused.
        files: u64,
        /// Files kept by the run before.
        stored: u64,
        /// The target's last error.
        last: String,
    },
    /// A directory for deletion acts could not be written.
    #[error("the deletion act could not be written to {dir}: {source}")]
    ActDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A destruction run failed after it had destroyed records: they are in its act, kept
    /// in the catalog (and stored when it could be; otherwise by the next run).
    #[error(
        "{source} — {destroyed} records had been destroyed before it; they are listed in the \
         deletion act {act_id}{}",
        if *stored { "" } else { " (kept in the catalog; stored by the next run)" }
    )]
    DestroyedThenFailed {
        /// Records destroyed before the failure.
        destroyed: u64,
        /// The act that lists them.
        act_id: String,
        /// Whether the act's files were written.
        stored: bool,
        /// What failed.
        #[source]
        source: Box<BackupError>,
    },
}
