//! What the types alone do not check: one PBX per name, catalog and target, secrets never
//! written in the file, the page's accounts.

use std::time::Duration;

use super::{ServiceConfig, WebSettings};
use crate::error::ConfigError;

/// Whether a target option carries a secret: a word of its name is `secret`, `password`,
/// `token`, `sas` or `credentials`, or it names a key other than an id or a switch
/// (`aws_secret_access_key`, `aws_sse_customer_key_base64`, `google_service_account_key` —
/// not `aws_access_key_id` nor `aws_bucket_key_enabled`).
pub(crate) fn is_secret_option(option: &str) -> bool {
    let option = option.to_ascii_lowercase();
    let words: Vec<&str> = option.split(['_', '-', '.']).collect();
    let secret_word = words.iter().any(|word| {
        matches!(
            *word,
            "secret" | "password" | "token" | "sas" | "credential" | "credentials"
        )
    });
    let key = words.contains(&"key")
        && !matches!(words.last(), Some(&"id") | Some(&"enabled") | Some(&"arn"));
    secret_word || key
}

/// Whether two targets share objects: the same place, or one inside the other.
pub(crate) fn targets_overlap(a: &str, b: &str) -> bool {
    let place = |url: &str| {
        let url = url.strip_prefix("file://").unwrap_or(url);
        let mut place = url.trim_end_matches('/').to_owned();
        if !place.contains("://") {
            // A directory: the same one however it is written.
            let path = std::path::Path::new(url);
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(path)
            };
            let mut clean = std::path::PathBuf::new();
            for part in absolute.components() {
                match part {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    other => clean.push(other),
                }
            }
            place = clean.to_string_lossy().trim_end_matches('/').to_owned();
        }
        place
    };
    let (a, b) = (place(a), place(b));
    a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

impl ServiceConfig {
    /// Checks what the types alone do not.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| self.origin.invalid(&key, message);
        if self.pbxs.is_empty() {
            return Err(invalid(
                "pbx".to_owned(),
                "no [[pbx]] table: the service needs at least one PBX to keep".to_owned(),
            ));
        }
        let service = &self.service;
        if service.interval < Duration::from_secs(1) {
            return Err(invalid(
                "service.interval".to_owned(),
                "at least 1s".to_owned(),
            ));
        }
        if service.header_timeout < Duration::from_millis(100) || service.max_connections == 0 {
            return Err(invalid(
                "service.header_timeout".to_owned(),
                "header_timeout is at least 100ms and max_connections at least 1".to_owned(),
            ));
        }
        if let Some(web) = &self.web {
            web.check()
                .map_err(|(key, message)| invalid(key, message))?;
        }
        if self.audit.signing_key_env.is_some() && self.audit.signing_key_file.is_some() {
            return Err(invalid(
                "audit.signing_key_env".to_owned(),
                "give signing_key_env or signing_key_file, not both".to_owned(),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut catalogs = std::collections::BTreeSet::new();
        for (index, pbx) in self.pbxs.iter().enumerate() {
            for (other, earlier) in self.pbxs.iter().enumerate().take(index) {
                if targets_overlap(&pbx.target, &earlier.target) {
                    return Err(invalid(
                        format!("pbx[{index}].target"),
                        format!(
                            "{} overlaps the target {} of [[pbx]] {:?} (pbx[{other}]): two PBXs in \
                             one place overwrite each other's manifests and audit log; give \
                             each a target of its own",
                            pbx.target, earlier.target, earlier.name
                        ),
                    ));
                }
            }
        }
        for (index, pbx) in self.pbxs.iter().enumerate() {
            let key = |field: &str| format!("pbx[{index}].{field}");
            let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if pbx.name.is_empty() || !pbx.name.chars().all(fine) {
                return Err(invalid(
                    key("name"),
                    format!("{:?}: use letters, digits, - and _", pbx.name),
                ));
            }
            if !names.insert(pbx.name.clone()) {
                return Err(invalid(
                    key("name"),
                    format!("{:?} is used twice", pbx.name),
                ));
            }
            if let Some(policy) = &pbx.retention
                && let Err(error) = policy.check()
            {
                return Err(invalid(key("retention"), error.to_string()));
            }
            if !catalogs.insert(pbx.catalog.clone()) {
                return Err(invalid(
                    key("catalog"),
                    format!(
                        "{} is the catalog of another PBX: give each its own",
                        pbx.catalog.display()
                    ),
                ));
            }
            if pbx.client_id.is_some() == pbx.client_id_env.is_some() {
                return Err(invalid(
                    key("client_id"),
                    "give client_id or client_id_env (one of them)".to_owned(),
                ));
            }
            if pbx.client_secret_env.is_some() == pbx.client_secret_file.is_some() {
                return Err(invalid(
                    key("client_secret_env"),
                    "give client_secret_env or client_secret_file (one of them); secrets are \
                     never written in this file"
                        .to_owned(),
                ));
            }
            if pbx.username.is_some() && pbx.password_env.is_some() == pbx.password_file.is_some() {
                return Err(invalid(
                    key("password_env"),
                    "with username, give password_env or password_file (one of them)".to_owned(),
                ));
            }
            if pbx.event_secret_env.is_some() && pbx.event_secret_file.is_some() {
                return Err(invalid(
                    key("event_secret_env"),
                    "give event_secret_env or event_secret_file, not both".to_owned(),
                ));
            }
            for option in pbx.target_options.keys() {
                let plain = !option.ends_with("_env") && !option.ends_with("_file");
                if plain && is_secret_option(option) {
                    return Err(invalid(
                        format!("pbx[{index}].target_options.{option}"),
                        format!(
                            "a secret is never written in this file: give {option}_env or \
                             {option}_file"
                        ),
                    ));
                }
            }
            if pbx.hash_numbers && pbx.name_key_env.is_none() && pbx.name_key_file.is_none() {
                return Err(invalid(
                    key("hash_numbers"),
                    "needs the key in name_key_env or name_key_file".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

impl WebSettings {
    /// Checks the accounts and the address: the key at fault and why.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        if self.users.is_empty() && !self.listen.ip().is_loopback() {
            return Err((
                "web.listen".to_owned(),
                format!(
                    "the page would serve recordings on {} to anyone: add accounts \
                     ([[web.user]] with a hash from `telphin-records hash-password`) or listen \
                     on 127.0.0.1",
                    self.listen
                ),
            ));
        }
        parse_tz(&self.tz).map_err(|message| ("web.tz".to_owned(), message))?;
        if self.session < Duration::from_secs(60) {
            return Err(("web.session".to_owned(), "at least 1m".to_owned()));
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, user) in self.users.iter().enumerate() {
            let key = |field: &str| format!("web.user[{index}].{field}");
            if user.name.trim().is_empty() || user.name.chars().any(char::is_control) {
                return Err((key("name"), "a name of visible characters".to_owned()));
            }
            if !names.insert(user.name.as_str()) {
                return Err((key("name"), format!("{:?} is used twice", user.name)));
            }
            check_password_hash(&user.password_hash).map_err(|m| (key("password_hash"), m))?;
            if let Some(tz) = &user.tz {
                parse_tz(tz).map_err(|message| (key("tz"), message))?;
            }
        }
        Ok(())
    }
}

/// An IANA time zone.
pub(crate) fn parse_tz(name: &str) -> Result<record_backup::chrono_tz::Tz, String> {
    record_backup::time_zone(name)
}

/// A password hash the page can check: argon2id in PHC form.
fn check_password_hash(hash: &str) -> Result<(), String> {
    let parsed = argon2::PasswordHash::new(hash).map_err(|_| {
        "not a password hash in PHC form ($argon2id$v=19$…): make one with `telphin-records \
         hash-password`"
            .to_owned()
    })?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "a hash of {}, not argon2id: make one with `telphin-records hash-password`",
            parsed.algorithm
        ));
    }
    Ok(())
}
