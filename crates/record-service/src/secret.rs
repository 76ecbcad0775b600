//! Secrets come from the environment or from files (systemd credentials, Docker and
//! Kubernetes secrets), never from the configuration file itself.

use std::path::Path;

pub use telphin_records::Secret;

use crate::error::ConfigError;

/// The value of `variable`, for the PBX named `pbx`.
pub(crate) fn from_env(variable: &str, pbx: &str) -> Result<Secret, ConfigError> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(Secret::new(value.trim().to_owned())),
        _ => Err(ConfigError::MissingSecret {
            pbx: pbx.to_owned(),
            source_name: format!("the environment variable {variable}"),
            reason: "not set, or empty".to_owned(),
        }),
    }
}

/// The secret `key` of the PBX `pbx`, from the variable `env` or the file `file` (its
/// content, without the final line break).
pub(crate) fn from_env_or_file(
    env: Option<&str>,
    file: Option<&Path>,
    pbx: &str,
    key: &str,
) -> Result<Secret, ConfigError> {
    if let Some(variable) = env {
        return from_env(variable, pbx);
    }
    let Some(path) = file else {
        return Err(ConfigError::MissingSecret {
            pbx: pbx.to_owned(),
            source_name: key.to_owned(),
            reason: format!("give {key}_env or {key}_file"),
        });
    };
    let missing = |reason: String| ConfigError::MissingSecret {
        pbx: pbx.to_owned(),
        source_name: format!("the file {}", path.display()),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| missing(error.to_string()))?;
    let value = text.trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(missing("it is empty".to_owned()));
    }
    warn_if_readable_by_others(path);
    Ok(Secret::new(value.to_owned()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "a secret's file is readable by others (chmod 600 it)");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

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
        let secret = from_env_or_file(None, Some(&path), "main", "client_secret").unwrap();
        assert_eq!(secret.expose(), "hunter2-hunter2-hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let missing = from_env_or_file(None, Some(&dir.path().join("none")), "main", "x")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("main") && missing.contains("none"),
            "{missing}"
        );
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
