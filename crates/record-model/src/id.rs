//! Validated identifiers: a value of these types is always one the API can take.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;
use crate::error::quote_prefix;

/// A record id, `<digits>-<hex digits>`, e.g. `30-624835FEEE0E11E6A19D331E4D6A0606`.
///
/// ```
/// use record_model::RecordUuid;
///
/// let id: RecordUuid = "30-624835FEEE0E11E6A19D331E4D6A0606".parse()?;
/// assert_eq!(id.as_str(), "30-624835FEEE0E11E6A19D331E4D6A0606");
/// assert!("624835FEEE0E11E6".parse::<RecordUuid>().is_err());
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordUuid(String);

impl RecordUuid {
    /// Validates `text` as a record id.
    pub fn new(text: impl Into<String>) -> Result<Self, ValidationError> {
        let text = text.into();
        if is_record_uuid(text.as_bytes()) {
            Ok(RecordUuid(text))
        } else {
            Err(ValidationError::RecordUuid {
                value: quote_prefix(&text),
            })
        }
    }

    /// The id as the API writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `<digits>-<hex digits>`, with a table look-up per byte and no branch on the byte's class:
/// hex digits mix numbers and letters at random, so a branch per byte is mispredicted half the
/// time, and ids are decoded by the million. (The compiler's vectorised form of a branch-free
/// comparison was 1 KB of code, which crowded the rest of a record's decoder out of the
/// instruction cache.)
fn is_record_uuid(bytes: &[u8]) -> bool {
    let Some(dash) = bytes.iter().position(|b| *b == b'-') else {
        return false;
    };
    let (digits, hex) = bytes.split_at(dash);
    let hex = hex.get(1..).unwrap_or_default();
    let class = |all: u8, text: &[u8]| {
        text.iter()
            .fold(all, |all, b| all & BYTE_CLASS[usize::from(*b)])
    };
    !digits.is_empty()
        && !hex.is_empty()
        && class(DIGIT, digits) == DIGIT
        && class(HEX_DIGIT, hex) == HEX_DIGIT
}

/// [`BYTE_CLASS`] bit of the decimal digits.
const DIGIT: u8 = 1;
/// [`BYTE_CLASS`] bit of the hexadecimal digits, in either case.
const HEX_DIGIT: u8 = 2;

/// The classes of each byte value.
const BYTE_CLASS: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_digit() {
            classes[b] |= DIGIT;
        }
        if byte.is_ascii_hexdigit() {
            classes[b] |= HEX_DIGIT;
        }
        b += 1;
    }
    classes
};

impl fmt::Display for RecordUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RecordUuid {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RecordUuid::new(text)
    }
}

impl AsRef<str> for RecordUuid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for RecordUuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RecordUuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = crate::text::text(deserializer)?;
        if is_record_uuid(text.as_bytes()) {
            Ok(RecordUuid(text.into_owned()))
        } else {
            Err(serde::de::Error::custom(ValidationError::RecordUuid {
                value: quote_prefix(&text),
            }))
        }
    }
}

/// A client (the whole PBX): its number, or `@me` for the client of the authenticated user.
///
/// ```
/// use record_model::ClientId;
///
/// assert_eq!("@me".parse::<ClientId>()?, ClientId::Me);
/// assert_eq!("12345".parse::<ClientId>()?, ClientId::Id(12345));
/// assert_eq!(ClientId::Me.to_string(), "@me");
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ClientId {
    /// The client of the authenticated user (`@me`).
    Me,
    /// A client by number.
    Id(u64),
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientId::Me => f.write_str("@me"),
            ClientId::Id(id) => write!(f, "{id}"),
        }
    }
}

impl FromStr for ClientId {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "@me" {
            return Ok(ClientId::Me);
        }
        parse_decimal(text)
            .map(ClientId::Id)
            .ok_or_else(|| ValidationError::ClientId {
                value: crate::error::quote_prefix(text),
            })
    }
}

impl From<u64> for ClientId {
    fn from(id: u64) -> Self {
        ClientId::Id(id)
    }
}

impl Serialize for ClientId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ClientId::Me => serializer.serialize_str("@me"),
            ClientId::Id(id) => serializer.serialize_u64(*id),
        }
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Number(u64),
            Text(String),
        }
        match Wire::deserialize(deserializer)? {
            Wire::Number(id) => Ok(ClientId::Id(id)),
            Wire::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Accepts only ASCII decimal digits (no sign, no spaces), as ids appear in paths.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// The id with this number.
            pub const fn new(id: u64) -> Self {
                $name(id)
            }

            /// The number.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_decimal(text).map($name).ok_or_else(|| ValidationError::NumericId {
                    kind: $kind,
                    value: crate::error::quote_prefix(text),
                })
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                $name(id)
            }
        }
    };
}

numeric_id!(
    /// An extension (one line of the PBX), by number. `@me` is not accepted at this level.
    ///
    /// ```
    /// use record_model::ExtensionId;
    /// assert_eq!("204".parse::<ExtensionId>()?.get(), 204);
    /// assert!("@me".parse::<ExtensionId>().is_err());
    /// # Ok::<(), record_model::ValidationError>(())
    /// ```
    ExtensionId,
    "extension"
);

numeric_id!(
    /// An extension group (all extensions of a group), by number.
    ///
    /// ```
    /// use record_model::ExtensionGroupId;
    /// assert_eq!("77".parse::<ExtensionGroupId>()?.get(), 77);
    /// # Ok::<(), record_model::ValidationError>(())
    /// ```
    ExtensionGroupId,
    "extension group"
);
