//! The service's errors.

use std::path::PathBuf;

/// The configuration cannot be used. Messages name the file, the line and column, and the
/// key; they never hold a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A value is not of its key's kind, or the TOML is malformed.
    #[error("{}:{line}:{column}: {}{message}", path.display(), key_prefix(key))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key (`pbx[0].concurrency`), when known.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value is of the right kind but unusable.
    #[error("{}: {}{message}", path.display(), key_prefix(key))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable's override is unusable.
    #[error(
        "the environment's override ({variables}): {}{message}",
        key_prefix(key)
    )]
    Override {
        /// The variables that override keys.
        variables: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A secret is missing.
    #[error("PBX {pbx}: the secret in {source_name} cannot be read: {reason}")]
    MissingSecret {
        /// The PBX's name.
        pbx: String,
        /// Where it was looked for.
        source_name: String,
        /// Why it cannot be read.
        reason: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() || key == "." {
        String::new()
    } else {
        format!("{key}: ")
    }
}

/// The service cannot start or stopped on an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A PBX's archive cannot be opened (its catalog, lock or target).
    #[error("PBX {pbx}: {source}")]
    Archive {
        /// The PBX's name.
        pbx: String,
        /// Why.
        #[source]
        source: record_backup::BackupError,
    },
    /// A PBX's client cannot be built.
    #[error("PBX {pbx}: {source}")]
    Client {
        /// The PBX's name.
        pbx: String,
        /// Why.
        #[source]
        source: telphin_records::Error,
    },
    /// The HTTP endpoint cannot listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
