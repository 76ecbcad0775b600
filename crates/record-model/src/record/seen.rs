//! The fields seen in answers but not documented.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A field seen in answers but not documented, as read: typed when it has the expected type
/// (`null` as `None`), any other value kept as sent, for `extra`.
///
/// Read with a visitor of its own rather than through [`Value`]: the expected types cost no
/// detour, and `Value`'s decoder (large) stays out of every record's path.
pub(super) enum Seen<T> {
    /// The expected type, or `null`.
    Typed(Option<T>),
    /// Any other value.
    Other(Value),
}

/// The type a [`Seen`] field is expected to have.
pub(super) trait SeenType: Sized {
    const EXPECTING: &'static str;
    fn text(text: String) -> Seen<Self>;
    fn flag(flag: bool) -> Seen<Self>;
}

impl SeenType for String {
    const EXPECTING: &'static str = "a string, or any JSON value";
    fn text(text: String) -> Seen<Self> {
        Seen::Typed(Some(text))
    }
    fn flag(flag: bool) -> Seen<Self> {
        Seen::Other(Value::Bool(flag))
    }
}

impl SeenType for bool {
    const EXPECTING: &'static str = "a boolean, or any JSON value";
    fn text(text: String) -> Seen<Self> {
        Seen::Other(Value::String(text))
    }
    fn flag(flag: bool) -> Seen<Self> {
        Seen::Typed(Some(flag))
    }
}

impl<'de, T: SeenType> Deserialize<'de> for Seen<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SeenVisitor(std::marker::PhantomData))
    }
}

struct SeenVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: SeenType> Visitor<'de> for SeenVisitor<T> {
    type Value = Seen<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Seen<T>, E> {
        Ok(T::text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Seen<T>, E> {
        Ok(T::text(text))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Seen<T>, E> {
        Ok(T::flag(flag))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Seen<T>, E> {
        Ok(Seen::Typed(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Seen<T>, E> {
        Ok(Seen::Typed(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Seen<T>, D::Error> {
        Seen::deserialize(deserializer)
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Seen<T>, E> {
        Ok(Seen::Other(Value::from(number)))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Seen<T>, E> {
        Ok(Seen::Other(Value::from(number)))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Seen<T>, E> {
        Ok(Seen::Other(Value::from(number)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Seen<T>, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Seen::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Seen<T>, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Seen::Other)
    }
}
