//! The keys of the proof: the audit log's signing key and the tombstones' number key. Both
//! come from the settings (a file's path, or the key itself in the environment) and never
//! live beside the catalog by default: whoever holds the catalog's directory or its backups
//! must not be able to sign a rewritten log, nor to recover an erased number by trying
//! candidates against its tombstone.

use std::path::{Path, PathBuf};

use record_backup::AuditSigningKey;

use crate::exit::Failure;
use record_service::warn_if_readable_by_others;

use crate::settings::Settings;

/// The variable naming the signing key's file.
pub const SIGNING_KEY_FILE: &str = "TELPHIN_AUDIT_SIGNING_KEY_FILE";
/// The variable holding the signing key itself (a systemd credential, a secret store).
pub const SIGNING_KEY: &str = "TELPHIN_AUDIT_SIGNING_KEY";
/// The variable naming the tombstones' number key's file.
pub const ERASURE_KEY_FILE: &str = "TELPHIN_ERASURE_KEY_FILE";
/// The variable holding the tombstones' number key itself.
pub const ERASURE_KEY: &str = "TELPHIN_ERASURE_KEY";

/// The audit signing key the settings give, if any.
pub fn signing_key(settings: &Settings) -> Result<Option<AuditSigningKey>, Failure> {
    if let Some(text) = settings.get(SIGNING_KEY) {
        return AuditSigningKey::from_file_text(text)
            .map(Some)
            .map_err(|_| {
                Failure::usage(format!(
                    "{SIGNING_KEY}: not a key of `telphin-records audit keygen`"
                ))
            });
    }
    match settings.get(SIGNING_KEY_FILE) {
        Some(path) => {
            let path = Path::new(path);
            warn_if_readable_by_others(path, "a key's file");
            Ok(Some(AuditSigningKey::read(path)?))
        }
        // The operator's configuration's `[audit]`, as the service reads it.
        None => match settings.configuration() {
            Some(config) => config
                .audit_signing_key()
                .map_err(|error| Failure::usage(error.to_string())),
            None => Ok(None),
        },
    }
}

/// Says, once per run that appends to the audit log, that the log is not signed.
pub fn warn_unsigned(signed: bool) {
    if !signed {
        tracing::warn!(
            "the audit log is not signed: whoever can write the catalog and the target could \
             rewrite it undetected. Make a key with `telphin-records audit keygen` and set \
             {SIGNING_KEY_FILE}"
        );
    }
}

/// The key of the tombstones' number hash: TELPHIN_ERASURE_KEY, else the file of
/// TELPHIN_ERASURE_KEY_FILE, else — read for catalogs of earlier versions, with a warning —
/// `<catalog>.erasure-key`. None is made here: a key beside the catalog protects nothing.
pub fn erasure_key(settings: &Settings, catalog: &Path) -> Result<Vec<u8>, Failure> {
    if let Some(key) = settings.get(ERASURE_KEY) {
        return long_enough(key.trim().as_bytes().to_vec(), ERASURE_KEY);
    }
    if let Some(path) = settings.get(ERASURE_KEY_FILE) {
        return read_key_file(Path::new(path));
    }
    let beside = beside_catalog(catalog);
    if beside.exists() {
        tracing::warn!(
            "the erasure key is read from {}, beside the catalog: whoever has the catalog's \
             directory or its backups can match an erased number against its tombstone. Move \
             it where the catalog's backups do not go (e.g. /etc/telphin-records/erasure-key, \
             owner-only) and set {ERASURE_KEY_FILE}",
            beside.display()
        );
        return read_key_file(&beside);
    }
    Err(Failure::usage(format!(
        "a real erasure needs the key of the tombstones' number hash: make one with \
         `telphin-records audit keygen --erasure-key FILE` (kept apart from the catalog and its \
         backups) and set {ERASURE_KEY_FILE}=FILE (or {ERASURE_KEY})"
    )))
}

/// Where earlier versions made the erasure key.
fn beside_catalog(catalog: &Path) -> PathBuf {
    let mut name = catalog.as_os_str().to_owned();
    name.push(".erasure-key");
    PathBuf::from(name)
}

fn read_key_file(path: &Path) -> Result<Vec<u8>, Failure> {
    let key = std::fs::read(path)
        .map_err(|error| Failure::failed(format!("the erasure key {}: {error}", path.display())))?;
    warn_if_readable_by_others(path, "a key's file");
    let text = String::from_utf8_lossy(&key).trim().as_bytes().to_vec();
    long_enough(text, &path.display().to_string())
}

fn long_enough(key: Vec<u8>, name: &str) -> Result<Vec<u8>, Failure> {
    if key.len() < 16 {
        return Err(Failure::usage(format!(
            "the erasure key {name} is shorter than 16 bytes"
        )));
    }
    Ok(key)
}

/// Writes `text` to a new file at `path`, owner-only; an existing file is never replaced.
pub fn write_new_key(path: &Path, text: &str) -> Result<(), Failure> {
    let failed = |error: std::io::Error| {
        Failure::failed(format!("cannot write the key {}: {error}", path.display()))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::usage(format!(
                "{} exists: a key is never replaced (move it away first)",
                path.display()
            ))
        } else {
            failed(error)
        }
    })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// A new random erasure key's text (64 hex digits).
pub fn new_erasure_key() -> Result<String, Failure> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|error| Failure::failed(format!("no randomness for the key: {error}")))?;
    Ok(key.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
}
