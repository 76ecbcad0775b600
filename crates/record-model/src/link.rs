//! The permanent storage link of a record (spec §2 #6, §4.5).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A permanent link to a record's file that needs no authentication.
///
/// Anyone holding it can download the recording, so it is a secret: its `Debug` output never
/// shows the URL, and it has no `Display`. Read it with [`StorageLink::expose_url`].
///
/// ```
/// use record_model::StorageLink;
///
/// let link: StorageLink = serde_json::from_str(r#"{"record_url": "https://storage.telphin.ru/abc"}"#)?;
/// assert_eq!(link.expose_url(), "https://storage.telphin.ru/abc");
/// assert!(!format!("{link:?}").contains("abc"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StorageLink {
    record_url: String,
}

impl StorageLink {
    /// A link with this URL.
    pub fn new(url: impl Into<String>) -> Self {
        StorageLink {
            record_url: url.into(),
        }
    }

    /// The URL itself. Do not log it: it grants access to the recording.
    pub fn expose_url(&self) -> &str {
        &self.record_url
    }
}

impl fmt::Debug for StorageLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageLink")
            .field("record_url", &"[redacted]")
            .finish()
    }
}
