//! Reading a string value for the types that parse one (times, ids, open enums).

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{Error, Visitor};

/// The text of a string value, borrowed from the input whenever it has no escapes (so a time,
/// an id check or a known enum value costs no allocation). Not inlined: one shared copy of the
/// string reading code keeps a record's decoder small for the instruction cache (measured with
/// `cargo xtask bench`, decode).
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
