//! Object names: a template of placeholders, filled from a record in the operator's time zone,
//! every value sanitised so that server-controlled text never becomes a path.

use chrono::{Datelike as _, Timelike as _};
use chrono_tz::Tz;
use hmac::{KeyInit as _, Mac as _};
use sha2::Digest as _;
use telphin_records::Record;

use crate::error::BackupError;
use crate::layout::RESERVED;

/// The default object-name template.
pub const DEFAULT_TEMPLATE: &str = "{yyyy}/{mm}/{dd}/{HHMMSS}_{flow}_{from}_{to}_{record_uuid}.mp3";

/// The longest a placeholder's value may be, in bytes, once sanitised.
const VALUE_LIMIT: usize = 80;

/// A placeholder of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Time,
    Flow,
    From,
    To,
    RecordUuid,
    CallUuid,
    ExtensionId,
    ExtensionName,
    Result,
    Duration,
    ClientId,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 17] = [
        ("yyyy", Placeholder::Year),
        ("mm", Placeholder::Month),
        ("dd", Placeholder::Day),
        ("HH", Placeholder::Hour),
        ("MM", Placeholder::Minute),
        ("SS", Placeholder::Second),
        ("HHMMSS", Placeholder::Time),
        ("flow", Placeholder::Flow),
        ("from", Placeholder::From),
        ("to", Placeholder::To),
        ("record_uuid", Placeholder::RecordUuid),
        ("call_uuid", Placeholder::CallUuid),
        ("extension_id", Placeholder::ExtensionId),
        ("extension", Placeholder::ExtensionName),
        ("result", Placeholder::Result),
        ("duration", Placeholder::Duration),
        ("client_id", Placeholder::ClientId),
    ];

    fn named(name: &str) -> Option<Placeholder> {
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, placeholder)| *placeholder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Value(Placeholder),
}

/// A parsed object-name template, e.g. [`DEFAULT_TEMPLATE`].
///
/// Placeholders: `{yyyy}` `{mm}` `{dd}` `{HH}` `{MM}` (minutes) `{SS}` `{HHMMSS}` (the call's
/// start in the naming time zone), `{flow}`, `{from}` and `{to}` (phone numbers or user names),
/// `{record_uuid}` (required: it keeps names unique), `{call_uuid}`, `{extension_id}`,
/// `{extension}` (the extension's name), `{result}`, `{duration}` (seconds), `{client_id}`.
/// `/` in the template separates folders; a placeholder's value never contains one.
///
/// ```
/// use record_backup::NameTemplate;
///
/// assert!(NameTemplate::parse("{yyyy}-{mm}/{record_uuid}.mp3").is_ok());
/// // Without the record's uuid, two records could get one name: refused.
/// assert!(NameTemplate::parse("{yyyy}/{mm}/{dd}.mp3").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameTemplate {
    parts: Vec<Part>,
}

impl std::str::FromStr for NameTemplate {
    type Err = BackupError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        NameTemplate::parse(text)
    }
}

impl Default for NameTemplate {
    fn default() -> Self {
        // The default template is valid; parsing it cannot fail.
        NameTemplate::parse(DEFAULT_TEMPLATE).unwrap_or(NameTemplate { parts: Vec::new() })
    }
}

impl NameTemplate {
    /// Parses `template`, refusing unknown placeholders, unsafe literal text (`..`, empty or
    /// absolute folders, control characters, `\`, `#`) and a template without
    /// `{record_uuid}`.
    pub fn parse(template: &str) -> Result<NameTemplate, BackupError> {
        let invalid = |why: &str| BackupError::Template {
            template: template.to_owned(),
            reason: why.to_owned(),
        };
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let close = rest
                        .find('}')
                        .ok_or_else(|| invalid("a `{` is never closed"))?;
                    let name = &rest[1..close];
                    let placeholder = Placeholder::named(name)
                        .ok_or_else(|| invalid(&format!("unknown placeholder {{{name}}}")))?;
                    parts.push(Part::Value(placeholder));
                    rest = &rest[close + 1..];
                }
                found => {
                    let end = found.unwrap_or(rest.len());
                    let literal = &rest[..end];
                    if literal.contains('}') {
                        return Err(invalid("a `}` without its `{`"));
                    }
                    parts.push(Part::Literal(literal.to_owned()));
                    rest = &rest[end..];
                }
            }
        }
        if !parts.contains(&Part::Value(Placeholder::RecordUuid)) {
            return Err(invalid(
                "it must contain {record_uuid}, or two records could get the same name",
            ));
        }
        for part in &parts {
            if let Part::Literal(text) = part
                && text
                    .chars()
                    .any(|c| c.is_control() || c == '\\' || c == '#')
            {
                return Err(invalid("control characters, `\\` and `#` are not allowed"));
            }
        }
        // Folders as the template writes them, with each placeholder standing for "x".
        let shape: String = parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.as_str(),
                Part::Value(_) => "x",
            })
            .collect();
        if shape.starts_with('/') || shape.ends_with('/') {
            return Err(invalid("a name cannot start or end with `/`"));
        }
        if shape
            .split('/')
            .any(|folder| folder.is_empty() || folder == "." || folder == "..")
        {
            return Err(invalid("empty, `.` and `..` folders are not allowed"));
        }
        let first = shape.split('/').next();
        if let Some((place, holds)) = RESERVED.iter().find(|(place, _)| first == Some(place)) {
            return Err(invalid(&format!("`{place}/` holds {holds}")));
        }
        Ok(NameTemplate { parts })
    }
}

/// How records are named in the target: a template, a time zone, and optionally a key that
/// replaces phone numbers by a keyed hash.
#[derive(Clone)]
pub struct Naming {
    template: NameTemplate,
    time_zone: Tz,
    number_key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Naming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Naming")
            .field("template", &self.template)
            .field("time_zone", &self.time_zone)
            .field("hashed_numbers", &self.number_key.is_some())
            .finish()
    }
}

impl Default for Naming {
    fn default() -> Self {
        Naming::new(NameTemplate::default(), Tz::UTC)
    }
}

impl Naming {
    /// Names from `template`, with times in `time_zone` (e.g. `chrono_tz::Europe::Moscow`).
    pub fn new(template: NameTemplate, time_zone: Tz) -> Self {
        Naming {
            template,
            time_zone,
            number_key: None,
        }
    }

    /// Replaces `{from}` and `{to}` by the first 12 hex digits of HMAC-SHA-256 of the number
    /// under `key`: the same number always gets the same name part, and it cannot be read
    /// back without the key.
    pub fn hash_numbers(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.number_key = Some(key.into());
        self
    }

    /// The object name of `record`.
    pub fn object_key(&self, record: &Record) -> String {
        let local = record
            .init_time_gmt
            .instant()
            .with_timezone(&self.time_zone);
        let mut name = String::with_capacity(96);
        for part in &self.template.parts {
            match part {
                Part::Literal(text) => name.push_str(text),
                Part::Value(placeholder) => {
                    let value = match placeholder {
                        Placeholder::Year => format!("{:04}", local.year()),
                        Placeholder::Month => format!("{:02}", local.month()),
                        Placeholder::Day => format!("{:02}", local.day()),
                        Placeholder::Hour => format!("{:02}", local.hour()),
                        Placeholder::Minute => format!("{:02}", local.minute()),
                        Placeholder::Second => format!("{:02}", local.second()),
                        Placeholder::Time => format!(
                            "{:02}{:02}{:02}",
                            local.hour(),
                            local.minute(),
                            local.second()
                        ),
                        Placeholder::Flow => record.flow.to_string(),
                        Placeholder::From => self.number(record.caller()),
                        Placeholder::To => self.number(record.callee()),
                        Placeholder::RecordUuid => record.record_uuid.to_string(),
                        Placeholder::CallUuid => record.call_uuid.clone(),
                        Placeholder::ExtensionId => record.extension_id.to_string(),
                        Placeholder::ExtensionName => record.extension_name.clone(),
                        Placeholder::Result => record.result.to_string(),
                        Placeholder::Duration => record.duration.to_string(),
                        Placeholder::ClientId => record.client_owner_id.to_string(),
                    };
                    push_sanitised(&mut name, &value);
                }
            }
        }
        name
    }

    fn number(&self, number: Option<&str>) -> String {
        let Some(number) = number.filter(|n| !n.is_empty()) else {
            return "unknown".to_owned();
        };
        let Some(key) = &self.number_key else {
            return number.to_owned();
        };
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
            // HMAC takes keys of any length; this branch is never taken.
            return "hidden".to_owned();
        };
        mac.update(number.as_bytes());
        let digest = mac.finalize().into_bytes();
        crate::digest::hex(&digest[..6])
    }
}

/// Appends `value` made safe for one part of one folder name: letters, digits and `+-_.@`
/// stay, anything else becomes `_`; no leading dot (so never `.` or `..`), never empty, at
/// most [`VALUE_LIMIT`] bytes. A value cut to fit keeps, after `-`, 16 hex digits of the
/// SHA-256 of the whole value: two values that share their first bytes (two long record ids)
/// never give one name.
fn push_sanitised(name: &mut String, value: &str) {
    /// `-` and 16 hex digits.
    const HASHED: usize = 17;
    let start = name.len();
    let mut cut = false;
    for c in value.chars() {
        if name.len() - start >= VALUE_LIMIT {
            cut = true;
            break;
        }
        let safe = c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.' | '@');
        let leading_dot = c == '.' && name.len() == start;
        name.push(if safe && !leading_dot { c } else { '_' });
    }
    if cut {
        name.truncate(start + VALUE_LIMIT - HASHED);
        let digest = sha2::Sha256::digest(value.as_bytes());
        name.push('-');
        name.push_str(&crate::digest::hex(&digest[..8]));
    }
    if name.len() == start {
        name.push('_');
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hostile_values_never_become_paths() {
        for (value, want) in [
            ("../../etc/passwd", "_._.._etc_passwd"),
            ("..", "_."),
            ("", "_"),
            ("a/b\\c", "a_b_c"),
            ("line\nbreak\u{0}", "line_break_"),
            ("+74951234567", "+74951234567"),
            ("sip:101@pbx", "sip_101@pbx"),
            ("x#1", "x_1"),
            ("Иван", "____"),
        ] {
            let mut name = String::new();
            push_sanitised(&mut name, value);
            assert_eq!(name, want, "{value:?}");
        }
        let mut long = String::new();
        push_sanitised(&mut long, &"9".repeat(500));
        assert_eq!(long.len(), VALUE_LIMIT);
        // Two values cut at the limit keep apart: the hash of the whole value ends each.
        let mut other = String::new();
        push_sanitised(&mut other, &format!("{}8", "9".repeat(499)));
        assert_eq!(other.len(), VALUE_LIMIT);
        assert_ne!(long, other);
        assert_eq!(long[..63], other[..63]);
        // A value that fits is never hashed.
        let mut fits = String::new();
        push_sanitised(&mut fits, &"9".repeat(VALUE_LIMIT));
        assert_eq!(fits, "9".repeat(VALUE_LIMIT));
    }

    fn record() -> Record {
        let text = include_str!("../../record-model/tests/fixtures/full_record.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_default_name_is_in_the_operators_time_zone() {
        let record = record();
        // 23:59:59 UTC on January 31st is 02:59:59 on February 1st in Moscow.
        let moscow = Naming::new(NameTemplate::default(), chrono_tz::Europe::Moscow);
        assert_eq!(
            moscow.object_key(&record),
            "2024/02/01/025959_in_74957654321_74951234567_30-624835FEEE0E11E6A19D331E4D6A0606.mp3"
        );
        assert!(
            Naming::default()
                .object_key(&record)
                .starts_with("2024/01/31/235959_in_")
        );
    }

    #[test]
    fn hashed_numbers_are_stable_and_unreadable() {
        let record = record();
        let naming = Naming::default().hash_numbers(b"operator key".to_vec());
        let key = naming.object_key(&record);
        assert!(
            !key.contains("74957654321") && !key.contains("74951234567"),
            "{key}"
        );
        assert_eq!(key, naming.object_key(&record));
        let other = Naming::default().hash_numbers(b"another key".to_vec());
        assert_ne!(key, other.object_key(&record));
        let parts: Vec<&str> = key.rsplit('/').next().unwrap().split('_').collect();
        assert_eq!(parts[2].len(), 12);
        assert!(format!("{naming:?}").contains("hashed_numbers: true"));
        assert!(!format!("{naming:?}").contains("operator key"));
    }

    proptest::proptest! {
        /// Whatever the server sends, a value is one safe piece of one folder name.
        #[test]
        fn any_value_is_one_safe_name_piece(value in "\\PC{0,200}") {
            let mut name = String::new();
            push_sanitised(&mut name, &value);
            proptest::prop_assert!(!name.is_empty() && name.len() <= VALUE_LIMIT);
            proptest::prop_assert!(!name.starts_with('.'));
            proptest::prop_assert!(name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-_.@".contains(c)));
        }

        /// Every name a valid template gives is a relative path without `.` or `..` folders,
        /// whatever the record holds.
        #[test]
        fn names_stay_inside_the_target(flow in "\\PC{0,40}", from in "\\PC{0,40}") {
            let mut record = record();
            record.from_username = Some(from);
            record.flow = serde_json::from_value(serde_json::Value::String(flow)).unwrap();
            let naming = Naming::new(
                NameTemplate::parse("{flow}/{from}/{to}/{record_uuid}.mp3").unwrap(),
                chrono_tz::Tz::UTC,
            );
            let key = naming.object_key(&record);
            proptest::prop_assert!(!key.starts_with('/'));
            proptest::prop_assert_eq!(key.split('/').count(), 4);
            proptest::prop_assert!(key.split('/').all(|part| !part.is_empty() && part != "." && part != ".."));
            proptest::prop_assert!(object_store::path::Path::parse(&key).is_ok());
        }
    }

    #[test]
    fn unsafe_templates_are_refused() {
        for template in [
            "{record_uuid}/../x",
            "/{record_uuid}",
            "{yyyy}//{record_uuid}",
            "{record_uuid}/",
            "{yyyy}/{mm}",
            "{unknown}{record_uuid}",
            "{record_uuid",
            "a}{record_uuid}",
            "a\\b{record_uuid}",
            "_manifest/{record_uuid}",
            "./{record_uuid}",
        ] {
            assert!(NameTemplate::parse(template).is_err(), "{template}");
        }
        assert!(NameTemplate::parse(DEFAULT_TEMPLATE).is_ok());
        let error = NameTemplate::parse("{yyyy}").unwrap_err().to_string();
        assert!(error.contains("{record_uuid}"), "{error}");
    }
}
