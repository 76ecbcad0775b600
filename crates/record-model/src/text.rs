//! Reading a string value for the types that parse one (times, ids, open enums): as text, or
//! as bytes where the type checks them itself.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{Error, Visitor};

/// The text of a string value, borrowed from the input whenever it has no escapes (so an id
/// that fails its check costs no allocation). Not inlined, like [`bytes`]: one shared copy of
/// the string reading code keeps a record's decoder small for the instruction cache (measured
/// with `cargo xtask bench`, decode).
#[inline(never)]
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cow<'de, str>, D::Error> {
    deserializer.deserialize_str(TextVisitor)
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_owned()))
    }

    fn visit_string<E: Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text))
    }
}

/// The bytes of a string value, for the types that compare or parse ASCII themselves (times,
/// open enums). serde_json hands a string over as bytes without checking that it is UTF-8
/// (with escapes decoded, and control characters let through): that check cost as much as
/// reading a short value, and the caller's own parsing rejects whatever is not the ASCII it
/// expects. Text kept as such goes through [`utf8`]. Any other deserializer may hand over a
/// string instead, which is taken as well.
#[inline(never)]
pub(crate) fn bytes<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'de, [u8]>, D::Error> {
    deserializer.deserialize_bytes(BytesVisitor)
}

/// Bytes from [`bytes`] as text, checked to be UTF-8 now.
pub(crate) fn utf8<E: Error>(raw: Cow<'_, [u8]>) -> Result<String, E> {
    String::from_utf8(raw.into_owned()).map_err(|wrong| {
        E::invalid_value(
            serde::de::Unexpected::Bytes(wrong.as_bytes()),
            &"a UTF-8 string",
        )
    })
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Cow<'de, [u8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_bytes<E: Error>(self, raw: &'de [u8]) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(raw))
    }

    fn visit_bytes<E: Error>(self, raw: &[u8]) -> Result<Self::Value, E> {
        Ok(Cow::Owned(raw.to_owned()))
    }

    fn visit_byte_buf<E: Error>(self, raw: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Cow::Owned(raw))
    }

    fn visit_borrowed_str<E: Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text.as_bytes()))
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.as_bytes().to_owned()))
    }

    fn visit_string<E: Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.into_bytes()))
    }
}
