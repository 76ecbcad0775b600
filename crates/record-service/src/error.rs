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
    #[error("{}{}{message}", place(path, *line, *column), key_prefix(key))]
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
    /// A value is of the right kind but unusable, or a key is missing.
    #[error("{}{}{message}", place(path, *line, *column), key_prefix(key))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key (or of the table that lacks it); 0 when unknown.
        line: usize,
        /// 1-based column.
        column: usize,
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
    /// A secret cannot be read from the variable or the file its key names.
    #[error(
        "{}{}{source_name} cannot be read: {reason}",
        place(path, *line, *column),
        key_prefix(key)
    )]
    MissingSecret {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key that names the secret; 0 when unknown.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key (`pbx[0].client_secret_env`).
        key: String,
        /// Whose secret, and where it was looked for: "the secret of PBX main in the
        /// environment variable MAIN_SECRET".
        source_name: String,
        /// Why it cannot be read.
        reason: String,
    },
}

/// `file:line:column: `, or `file: ` when the place is unknown.
fn place(path: &std::path::Path, line: usize, column: usize) -> String {
    match (path.as_os_str().is_empty(), line) {
        (true, _) => String::new(),
        (false, 0) => format!("{}: ", path.display()),
        (false, _) => format!("{}:{line}:{column}: ", path.display()),
    }
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
