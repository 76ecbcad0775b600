//! Where a key is in the configuration file: every error, found while parsing or later (a
//! secret that cannot be read), names the file, the line and column, and the key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::error::ConfigError;

/// The file a configuration was read from, and its text, to find keys in.
#[derive(Clone, Default)]
pub(crate) struct Origin(Arc<(PathBuf, String)>);

/// The path only: the text holds password hashes.
impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Origin").field(&self.path()).finish()
    }
}

impl Origin {
    pub(crate) fn new(path: &Path, text: &str) -> Self {
        Origin(Arc::new((path.to_path_buf(), text.to_owned())))
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.0.0
    }

    /// An unusable value at `key` (`pbx[0].target_options.aws_secret_access_key`).
    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = self.locate(key);
        ConfigError::Invalid {
            path: self.path().to_path_buf(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// A secret of `whose` ("PBX main", "the audit log") that `key` names and that cannot be
    /// read.
    pub(crate) fn unreadable(&self, key: &str, whose: &str, problem: Unreadable) -> ConfigError {
        let (line, column) = self.locate(key);
        ConfigError::MissingSecret {
            path: self.path().to_path_buf(),
            line,
            column,
            key: key.to_owned(),
            source_name: format!("the secret of {whose} in {}", problem.source_name),
            reason: problem.reason,
        }
    }

    /// The 1-based line and column of `key`, else of the nearest table that holds it; `(0, 0)`
    /// when the text does not parse (an origin made in code).
    pub(crate) fn locate(&self, key: &str) -> (usize, usize) {
        let text = &self.0.1;
        let Ok(root) = DeTable::parse(text) else {
            return (0, 0);
        };
        let mut table: &DeTable<'_> = root.get_ref();
        let mut at = None;
        for segment in key.split('.') {
            let (name, index) = match segment.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            let Some((found, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == name)
            else {
                break;
            };
            at = Some(found.span().start);
            let mut value = value.get_ref();
            if let Some(index) = index {
                let DeValue::Array(items) = value else { break };
                let Some(item) = items.get(index) else { break };
                at = Some(item.span().start);
                value = item.get_ref();
            }
            match value {
                DeValue::Table(inner) => table = inner,
                _ => break,
            }
        }
        at.map_or((0, 0), |offset| line_and_column(text, offset))
    }
}

/// Why a secret cannot be read: where it was looked for, and what is wrong.
#[derive(Debug)]
pub(crate) struct Unreadable {
    pub(crate) source_name: String,
    pub(crate) reason: String,
}

/// The 1-based line and column of a byte offset.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &text[..cut];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}
