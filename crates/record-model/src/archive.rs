//! The e-mailed archive (spec §4.4): its request and the API's receipt.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{QueryWindow, ValidationError, WireTime};

/// One e-mail address to send an archive link to.
///
/// The check is deliberately simple — one `@`, a non-empty local part, a dotted domain, no
/// spaces or commas (the API joins addresses with commas) — so it never refuses a real address
/// that the service itself would take.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `text` as one e-mail address.
    pub fn new(text: impl Into<String>) -> Result<Self, ValidationError> {
        let text = text.into();
        let valid = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !text
                        .chars()
                        .any(|c| c == ',' || c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(EmailAddress(text))
        } else {
            Err(ValidationError::Email {
                value: crate::error::quote_prefix(&text),
            })
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EmailAddress {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EmailAddress::new(text)
    }
}

/// A request for an e-mailed ZIP of a window's record files.
///
/// Serialises to the body the API expects:
/// `{"start_datetime": "...", "end_datetime": "...", "email": "a@x.org,b@y.org"}`.
///
/// ```
/// use record_model::{ArchiveRequest, QueryWindow};
///
/// let window = QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59")?;
/// let request = ArchiveRequest::new(window, ["ops@example.org", "boss@example.org"])?;
/// let body = serde_json::to_value(&request).unwrap();
/// assert_eq!(body["email"], "ops@example.org,boss@example.org");
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchiveRequest {
    window: QueryWindow,
    emails: Vec<EmailAddress>,
}

impl ArchiveRequest {
    /// An archive of `window` sent to every address of `emails` (at least one).
    pub fn new<I>(window: QueryWindow, emails: I) -> Result<Self, ValidationError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let emails = emails
            .into_iter()
            .map(|e| EmailAddress::new(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if emails.is_empty() {
            return Err(ValidationError::NoEmail);
        }
        Ok(ArchiveRequest { window, emails })
    }

    /// The window whose files go into the archive.
    pub fn window(&self) -> QueryWindow {
        self.window
    }

    /// The recipients.
    pub fn emails(&self) -> &[EmailAddress] {
        &self.emails
    }
}

impl Serialize for ArchiveRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Body {
            start_datetime: String,
            end_datetime: String,
            email: String,
        }
        let email = self
            .emails
            .iter()
            .map(EmailAddress::as_str)
            .collect::<Vec<_>>()
            .join(",");
        Body {
            start_datetime: self.window.start_datetime(),
            end_datetime: self.window.end_datetime(),
            email,
        }
        .serialize(serializer)
    }
}

/// An archive id as the API returns it: a number, or text should the API ever send one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ArchiveId {
    /// A numeric id.
    Number(u64),
    /// A textual id.
    Text(String),
}

/// The API's answer to an archive request (201).
///
/// Its field names and shapes are not documented. An accepted request has already sent its
/// e-mail, so decoding never fails: each field the simulator uses is typed when it has the
/// expected shape, and everything else — other fields, the same names with another shape (an ISO
/// time, a list of addresses, an object id), or a body that is no JSON object at all — is kept
/// raw.
///
/// ```
/// use record_model::ArchiveReceipt;
///
/// let receipt = ArchiveReceipt::from_body(br#"{"id": {"oid": "a1"}, "email": ["a@x.org"], "queued": true}"#);
/// assert!(receipt.id.is_none() && receipt.email.is_none());
/// assert_eq!(receipt.extra["id"]["oid"], "a1");
/// assert_eq!(receipt.extra["queued"], true);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ArchiveReceipt {
    /// The archive's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ArchiveId>,
    /// The window start, as the API echoed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_datetime: Option<WireTime>,
    /// The window end, as the API echoed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_datetime: Option<WireTime>,
    /// The recipients, comma-separated, as the API echoed them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other field of the answer, and the typed names whose value had another shape.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The start of the body (at most 4 KiB) when it was not a JSON object.
    #[serde(skip)]
    pub unparsed_body: Option<String>,
}

/// The most bytes of a non-JSON receipt body that are kept.
const UNPARSED_LIMIT: usize = 4096;

impl ArchiveReceipt {
    /// Reads a success body of any shape: never fails.
    pub fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => ArchiveReceipt::from_object(object),
            _ if body.iter().all(u8::is_ascii_whitespace) => ArchiveReceipt::default(),
            _ => {
                let kept = &body[..body.len().min(UNPARSED_LIMIT)];
                ArchiveReceipt {
                    unparsed_body: Some(String::from_utf8_lossy(kept).into_owned()),
                    ..ArchiveReceipt::default()
                }
            }
        }
    }

    fn from_object(mut extra: Map<String, Value>) -> Self {
        fn take<T: serde::de::DeserializeOwned>(
            extra: &mut Map<String, Value>,
            name: &str,
        ) -> Option<T> {
            let value = extra.get(name)?;
            let typed = T::deserialize(value).ok()?;
            extra.remove(name);
            Some(typed)
        }
        ArchiveReceipt {
            id: take(&mut extra, "id"),
            start_datetime: take(&mut extra, "start_datetime"),
            end_datetime: take(&mut extra, "end_datetime"),
            email: take(&mut extra, "email"),
            extra,
            unparsed_body: None,
        }
    }
}

impl<'de> Deserialize<'de> for ArchiveReceipt {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Object(object) => ArchiveReceipt::from_object(object),
            other => ArchiveReceipt {
                unparsed_body: Some(other.to_string()),
                ..ArchiveReceipt::default()
            },
        })
    }
}
