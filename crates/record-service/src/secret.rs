//! Secrets come from the environment or from files (systemd credentials, Docker and
//! Kubernetes secrets), never from the configuration file itself.

use std::path::Path;

pub use telphin_records::Secret;

use crate::config::Unreadable;

/// The value of `variable`.
pub(crate) fn from_env(variable: &str) -> Result<Secret, Unreadable> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim().to_owned())),
        _ => Err(Unreadable {
            source_name: format!("the environment variable {variable}"),
            reason: "not set, or empty".to_owned(),
        }),
    }
}

/// A secret from the variable `env` or the file `file` (its content, without the final line
/// break); `key` names the pair (`client_secret` for `client_secret_env|_file`).
pub(crate) fn from_env_or_file(
    env: Option<&str>,
    file: Option<&Path>,
    key: &str,
) -> Result<Secret, Unreadable> {
    if let Some(variable) = env {
        return from_env(variable);
    }
    let Some(path) = file else {
        return Err(Unreadable {
            source_name: key.to_owned(),
            reason: format!("give {key}_env or {key}_file"),
        });
    };
    let missing = |reason: String| Unreadable {
        source_name: format!("the file {}", path.display()),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| missing(error.to_string()))?;
    let value = text.trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(missing("it is empty".to_owned()));
    }
    warn_if_readable_by_others(path, "a secret's file");
    Ok(Secret::new(value.to_owned()))
}

/// Warns when `path` (`what`: "the config file", "a secret's file") can be read by others than
/// its owner: the one check of the commands and the service.
#[cfg(unix)]
pub fn warn_if_readable_by_others(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "{what} is readable by others (chmod 600 it)");
    }
}

/// Warns when `path` can be read by others (nothing to check off Unix).
#[cfg(not(unix))]
pub fn warn_if_readable_by_others(_: &Path, _: &str) {}

/// Whether `given` is `expected`, in a time that does not depend on where they differ.
pub(crate) fn same(given: &str, expected: &Secret) -> bool {
    use subtle::ConstantTimeEq as _;
    given.as_bytes().ct_eq(expected.expose().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_secret_loses_its_line_break_and_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "hunter2-hunter2-hunter2\n").unwrap();
        let secret = from_env_or_file(None, Some(&path), "client_secret").unwrap();
        assert_eq!(secret.expose(), "hunter2-hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let missing = from_env_or_file(None, Some(&dir.path().join("none")), "x").unwrap_err();
        assert!(missing.source_name.contains("none"), "{missing:?}");
    }

    #[test]
    fn comparison_needs_every_byte() {
        let expected = Secret::new("0123456789abcdef");
        assert!(same("0123456789abcdef", &expected));
        assert!(!same("0123456789abcdeF", &expected));
        assert!(!same("0123456789abcde", &expected));
        assert!(!same("", &expected));
    }
}
