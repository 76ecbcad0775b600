//! Environment variables that override any key: `TELPHIN_SERVE_INTERVAL=1m`,
//! `TELPHIN_PBX_MAIN_CONCURRENCY=4`.

use super::{PBX_ENV_PREFIX, SERVICE_ENV_PREFIX, ServiceConfig};
use crate::error::ConfigError;

/// An override a variable gives: `(variable, the PBX's index or none for [service], key,
/// value)`.
pub(super) type Override = (String, Option<usize>, String, String);

impl ServiceConfig {
    /// The variables among `vars` that override a key: `(variable, table path, key, value)`.
    /// A variable that could name two PBXs (`head-office` and `head_office` are both
    /// `HEAD_OFFICE`; `main` and `main_b` both prefix `TELPHIN_PBX_MAIN_B_…`) is refused.
    pub(super) fn overrides(
        &self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<Override>, ConfigError> {
        let mut found = Vec::new();
        for (variable, value) in vars {
            if let Some(key) = variable.strip_prefix(SERVICE_ENV_PREFIX) {
                found.push((variable.clone(), None, key.to_ascii_lowercase(), value));
                continue;
            }
            let Some(rest) = variable.strip_prefix(PBX_ENV_PREFIX) else {
                continue;
            };
            let matches: Vec<(usize, &str)> = self
                .pbxs
                .iter()
                .enumerate()
                .filter_map(|(index, pbx)| {
                    let name = pbx.name.to_ascii_uppercase().replace('-', "_");
                    let key = rest.strip_prefix(&name)?.strip_prefix('_')?;
                    Some((index, key))
                })
                .collect();
            match matches.as_slice() {
                [] => {}
                [(index, key)] => {
                    found.push((
                        variable.clone(),
                        Some(*index),
                        key.to_ascii_lowercase(),
                        value,
                    ));
                }
                several => {
                    let names: Vec<String> = several
                        .iter()
                        .map(|(index, _)| format!("{:?}", self.pbxs[*index].name))
                        .collect();
                    return Err(ConfigError::Override {
                        variables: variable.clone(),
                        key: String::new(),
                        message: format!(
                            "the variable could override [[pbx]] {}: rename one of them so \
                             that no PBX's name in capitals (- as _) starts another's",
                            names.join(" and ")
                        ),
                    });
                }
            }
        }
        Ok(found)
    }
}

/// Re-reads the file as a table, sets each override (its value read as TOML, else as a
/// string) and deserializes again; errors name the variable.
pub(super) fn apply(text: &str, overrides: Vec<Override>) -> Result<ServiceConfig, ConfigError> {
    // The text parsed as a whole a moment ago.
    let mut table: toml::Table =
        toml::from_str(text).map_err(|error: toml::de::Error| ConfigError::Override {
            variables: String::new(),
            key: String::new(),
            message: error.message().to_owned(),
        })?;
    let mut variables = Vec::new();
    for (variable, pbx, key, value) in overrides {
        let value = value
            .parse::<toml::Value>()
            .ok()
            .filter(|v| !v.is_table())
            .or_else(|| {
                format!("v = {value}")
                    .parse::<toml::Table>()
                    .ok()?
                    .remove("v")
            })
            .unwrap_or(toml::Value::String(value));
        let section = match pbx {
            None => table
                .entry("service")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut(),
            Some(index) => table
                .get_mut("pbx")
                .and_then(toml::Value::as_array_mut)
                .and_then(|pbxs| pbxs.get_mut(index))
                .and_then(toml::Value::as_table_mut),
        };
        if let Some(section) = section {
            section.insert(key, value);
        }
        variables.push(variable);
    }
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
        ConfigError::Override {
            variables: variables.join(", "),
            key: error.path().to_string(),
            message: error.into_inner().message().trim().to_owned(),
        }
    })
}
