//! Reading a record's keys: a guess from the key before, then a table look-up.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Field;

/// Where a field's name sits in [`FIELD_SLOTS`]: a hash of three of its bytes and its length
/// (`None` for names too short to be a field's). Matching a key against 32 names one by one cost
/// a record several comparisons per key, as many as the whole struct's other work on some keys.
/// The mixing constants were chosen so that the 32 names fall in distinct slots; a new field
/// that collides stops the build (see `FIELD_SLOTS`), and the constants must be chosen again.
const fn slot(name: &[u8]) -> Option<usize> {
    let len = name.len();
    if len < 3 {
        return None;
    }
    let mixed = name[2] as usize + 28 * name[len - 2] as usize + 3 * len;
    Some(mixed % SLOTS)
}

impl Field {
    /// The field of this name: one table look-up and one comparison (see [`slot`]).
    pub(super) fn named(name: &[u8]) -> Option<Field> {
        FIELD_SLOTS[slot(name)?].filter(|field| same_name(name, field.name().as_bytes()))
    }
}

/// The number of slots: a power of two, so that `%` is a mask.
const SLOTS: usize = 64;

/// The documented fields by [`slot`], built (and checked for collisions) at compile time.
const FIELD_SLOTS: [Option<Field>; SLOTS] = {
    let mut slots = [None; SLOTS];
    let mut i = 0;
    while i < Field::ALL.len() {
        let field = Field::ALL[i];
        let Some(at) = slot(field.name().as_bytes()) else {
            panic!("a field's name is too short for `slot`");
        };
        assert!(
            slots[at].is_none(),
            "two fields share a slot: choose new constants in `slot`"
        );
        slots[at] = Some(field);
        i += 1;
    }
    slots
};

/// Reads a key of a record object: a documented field, or `None` with the key's name left in
/// `unknown` (for `extra`). A one-byte answer keeps the hot loop lean.
///
/// Answers list the fields in a stable order, alphabetical as documented: the key is first
/// compared with the field declared after the previous key, a comparison the processor predicts,
/// and looked up in the table only when that guess fails.
pub(super) struct KeySeed<'a> {
    pub(super) unknown: &'a mut String,
    pub(super) expected: Option<Field>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<Field>;

    /// Asks for the key's bytes: serde_json then hands them over without checking that they
    /// are UTF-8, a check that cost as much as the rest of the key's decoding and that a
    /// field's name, all ASCII, does not need. Only an unknown key is checked, when it is kept.
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl KeySeed<'_> {
    fn field<E: de::Error>(self, name: &[u8]) -> Result<Option<Field>, E> {
        if let Some(expected) = self.expected
            && same_name(name, expected.name().as_bytes())
        {
            return Ok(Some(expected));
        }
        let field = Field::named(name);
        if field.is_none() {
            let name = std::str::from_utf8(name).map_err(|_| {
                de::Error::invalid_value(de::Unexpected::Bytes(name), &"a UTF-8 field name")
            })?;
            name.clone_into(self.unknown);
        }
        Ok(field)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Option<Field>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Option<Field>, E> {
        self.field(name)
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<Field>, E> {
        self.field(name.as_bytes())
    }
}

/// The value of the current entry. One copy per value type rather than one per field keeps a
/// record's decoder small enough for the instruction cache.
#[inline(never)]
pub(super) fn next_value<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
) -> Result<T, A::Error> {
    map.next_value()
}

/// `a == b` for names of up to 24 bytes in two or three word comparisons, without a call.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |bytes: &[u8], at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|chunk| chunk.first_chunk::<8>())
            .map(|chunk| u64::from_ne_bytes(*chunk))
    };
    match a.len() {
        8..=16 => {
            let last = a.len() - 8;
            word(a, 0) == word(b, 0) && word(a, last) == word(b, last)
        }
        17..=24 => {
            let last = a.len() - 8;
            word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, last) == word(b, last)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_by_its_name_and_nothing_else_is() {
        for field in Field::ALL {
            assert_eq!(Field::named(field.name().as_bytes()), Some(*field));
            let name = field.name();
            for other in [
                &name[..name.len() - 1],
                &format!("{name}_"),
                &format!("x{}", &name[1..]),
                &name.to_uppercase(),
            ] {
                assert_eq!(Field::named(other.as_bytes()), None, "{other}");
            }
        }
        for short in ["", "a", "to"] {
            assert_eq!(Field::named(short.as_bytes()), None);
        }
    }

    #[test]
    fn same_name_is_byte_equality_at_every_length() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..=text.len() {
            let a = &text.as_bytes()[..len];
            assert!(same_name(a, a));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 1;
                assert!(!same_name(a, &b), "{len} {at}");
            }
            assert!(!same_name(a, &text.as_bytes()[..len.saturating_sub(1)]) || len == 0);
        }
    }
}
