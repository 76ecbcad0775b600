//! The record object (spec §3).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

mod key;
mod seen;

use key::{KeySeed, next_value};
use seen::Seen;

use crate::{
    Application, CallResult, ExtensionGroupId, ExtensionId, ExtensionType, Flow, HangupDisposition,
    RecordUuid, WireTime,
};

/// One call recording, as the `/record/` list returns it.
///
/// Every documented field is typed; fields the API adds later are kept in [`extra`](Self::extra)
/// and written back, so decoding then encoding gives the same JSON value: a field that was
/// absent stays absent, one that was `null` is written `null`.
///
/// ```
/// use record_model::{CallResult, Record};
///
/// let json = r#"{
///   "record_uuid": "30-624835FEEE0E11E6A19D331E4D6A0606", "record_file_size": 925040,
///   "call_uuid": "624835feee0e11e6a19d331e4d6a0606", "client_owner_id": 30,
///   "extension_id": 204, "extension_name": "00030*204@sipproxy.telphin.ru",
///   "extension_type": "phone", "flow": "in", "result": "not answered", "duration": 0,
///   "init_time_gmt": "2024-01-31 23:59:59.40", "application": null,
///   "dest_domain": null, "dest_number": null, "did_domain": null, "did_number": null,
///   "ext_number_reg": null, "extension_group_owner_id": null, "from_domain": null,
///   "from_screen_name": null, "from_username": null, "hangup_cause": null,
///   "hangup_disposition": "", "hangup_time_gmt": null, "source_domain": null,
///   "source_number": null, "start_time_gmt": null, "to_domain": null, "to_username": null,
///   "file_name": "call.mp3"
/// }"#;
/// let record: Record = serde_json::from_str(json)?;
/// assert_eq!(record.result, CallResult::NotAnswered);
/// assert_eq!(record.disposition(), None);
/// assert_eq!(record.file_name(), Some("call.mp3"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// Caller id chosen from the client's numbers. The outer `Option` tells whether the field was
    /// present at all (the API sometimes omits it); the inner one whether it was `null`.
    pub ani_number: Option<Option<String>>,
    /// The application that handled the call.
    pub application: Option<Application>,
    /// Call id, 32 hex digits.
    pub call_uuid: String,
    /// The owning client.
    pub client_owner_id: u64,
    /// Destination domain.
    pub dest_domain: Option<String>,
    /// Destination number.
    pub dest_number: Option<String>,
    /// Domain of the external number called.
    pub did_domain: Option<String>,
    /// External number called.
    pub did_number: Option<String>,
    /// Call duration in seconds.
    pub duration: u64,
    /// Registered external number of the extension.
    pub ext_number_reg: Option<String>,
    /// The owning extension group.
    pub extension_group_owner_id: Option<ExtensionGroupId>,
    /// The extension.
    pub extension_id: ExtensionId,
    /// The extension's name, e.g. `00000*101@sipproxy.telphin.ru`.
    pub extension_name: String,
    /// The kind of extension.
    pub extension_type: ExtensionType,
    /// The direction of the call.
    pub flow: Flow,
    /// The caller's original domain.
    pub from_domain: Option<String>,
    /// The caller's original display name.
    pub from_screen_name: Option<String>,
    /// The caller's original user name or number.
    pub from_username: Option<String>,
    /// Why the call ended, e.g. `NORMAL_CLEARING`.
    pub hangup_cause: Option<String>,
    /// Which side ended the call as sent; [`Record::disposition`] treats `""` like `null`.
    pub hangup_disposition: Option<HangupDisposition>,
    /// End of the call.
    pub hangup_time_gmt: Option<WireTime>,
    /// Start of call set-up, with a fraction of a second: the order key.
    pub init_time_gmt: WireTime,
    /// Size of the record's file in bytes.
    pub record_file_size: u64,
    /// The record id.
    pub record_uuid: RecordUuid,
    /// How the call ended up.
    pub result: CallResult,
    /// Call source domain.
    pub source_domain: Option<String>,
    /// Call source number.
    pub source_number: Option<String>,
    /// Answer time.
    pub start_time_gmt: Option<WireTime>,
    /// Original destination domain.
    pub to_domain: Option<String>,
    /// Original destination user or number.
    pub to_username: Option<String>,
    /// The file's name, e.g. `2024-01-31_23-59-59_74957654321.mp3` (seen, not documented).
    /// Server-controlled text: never use it as a path without sanitising it. A value that is
    /// not a string is kept in [`extra`](Self::extra) instead.
    pub file_name: Option<String>,
    /// Whether the call was transferred (seen, not documented). A value that is not a boolean
    /// is kept in [`extra`](Self::extra) instead.
    pub record_transfer: Option<bool>,
    /// Fields this version does not know, kept as sent.
    pub extra: Map<String, Value>,
    /// The optional fields the API left out, written back absent while they stay `None`.
    absent: Absent,
}

impl Record {
    /// Which side ended the call, or `None` when the API sent `null` or `""`.
    pub fn disposition(&self) -> Option<&HangupDisposition> {
        self.hangup_disposition
            .as_ref()
            .filter(|d| **d != HangupDisposition::Empty)
    }

    /// The caller id, or `None` when it was absent or `null`.
    pub fn ani(&self) -> Option<&str> {
        self.ani_number.as_ref().and_then(|n| n.as_deref())
    }

    /// Who called: the caller's user name, else the source number, else the caller id (ANI);
    /// blank values are passed over. The one rule for every place that shows a call's "from":
    /// object names, the web page, the command's table and its CSV.
    ///
    /// ```
    /// # let mut record: record_model::Record = serde_json::from_str(r#"{"record_uuid": "30-0A",
    /// #   "call_uuid": "c", "client_owner_id": 30, "duration": 5, "extension_id": 1,
    /// #   "extension_name": "n", "extension_type": "phone", "flow": "in",
    /// #   "init_time_gmt": "2024-01-05 10:00:00", "record_file_size": 1, "result": "answered"}"#).unwrap();
    /// record.from_username = Some(String::new());
    /// record.source_number = Some("+74950000001".to_owned());
    /// assert_eq!(record.caller(), Some("+74950000001"));
    /// ```
    pub fn caller(&self) -> Option<&str> {
        first_named([
            self.from_username.as_deref(),
            self.source_number.as_deref(),
            self.ani(),
        ])
    }

    /// Who was called: the original destination (user name or number), else the destination
    /// number, else the external number called (DID); blank values are passed over. The one
    /// rule for every place that shows a call's "to".
    ///
    /// ```
    /// # let mut record: record_model::Record = serde_json::from_str(r#"{"record_uuid": "30-0A",
    /// #   "call_uuid": "c", "client_owner_id": 30, "duration": 5, "extension_id": 1,
    /// #   "extension_name": "n", "extension_type": "phone", "flow": "in",
    /// #   "init_time_gmt": "2024-01-05 10:00:00", "record_file_size": 1, "result": "answered"}"#).unwrap();
    /// record.did_number = Some("+74951234567".to_owned());
    /// assert_eq!(record.callee(), Some("+74951234567"));
    /// record.dest_number = Some("201".to_owned());
    /// assert_eq!(record.callee(), Some("201"));
    /// ```
    pub fn callee(&self) -> Option<&str> {
        first_named([
            self.to_username.as_deref(),
            self.dest_number.as_deref(),
            self.did_number.as_deref(),
        ])
    }

    /// The undocumented `file_name` field (e.g. `2024-01-31_call.mp3`), when the API sent one.
    ///
    /// It is server-controlled text: never use it as a path without sanitising it.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }
}

// Decoding and encoding are written out rather than derived: `#[serde(flatten)]` (for `extra`)
// buffers every record into an intermediate tree first, which made a list 1.24× slower to decode
// than a plain struct of the same fields. This visitor reads each value straight into its field.

macro_rules! record_fields {
    ($( $field:ident : $slot:ty => $kind:ident, )+) => {
        /// The documented fields; the discriminant is the field's bit in [`Absent`].
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Field { $( $field, )+ }

        impl Field {
            const ALL: &'static [Field] = &[$( Field::$field, )+];

            /// The field declared after this one.
            fn next(self) -> Option<Field> {
                Field::ALL.get(self as usize + 1).copied()
            }

            const fn name(self) -> &'static str {
                match self {
                    $( Field::$field => stringify!($field), )+
                }
            }

            fn bit(self) -> u32 {
                1 << (self as u32)
            }
        }

        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a record object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
                let mut slots = Slots::default();
                let mut unknown = String::new();
                let mut expected = Field::ALL.first().copied();
                while let Some(key) = map.next_key_seed(KeySeed { unknown: &mut unknown, expected })? {
                    expected = key.and_then(Field::next);
                    slots.fill(key, &mut map, &mut unknown)?;
                }
                slots.finish()
            }
        }

        /// The values read so far. Reading into a struct the caller owns, in a function of
        /// its own, keeps the per-key loop free of the code that drops 32 half-read fields at
        /// every early return (it had made the decoder 35 KB, more than the instruction cache).
        #[derive(Default)]
        struct Slots {
            $( $field: Option<$slot>, )+
            extra: Map<String, Value>,
        }

        impl Slots {
            /// Reads the value of `key`: a documented field, or an unknown one named `unknown`.
            fn fill<'de, A: MapAccess<'de>>(
                &mut self,
                key: Option<Field>,
                map: &mut A,
                unknown: &mut String,
            ) -> Result<(), A::Error> {
                match key {
                    $( Some(Field::$field) => {
                        if self.$field.is_some() {
                            return Err(de::Error::duplicate_field(stringify!($field)));
                        }
                        self.$field = Some(next_value(map)?);
                    } )+
                    None => {
                        let value = map.next_value()?;
                        self.extra.insert(std::mem::take(unknown), value);
                    }
                }
                Ok(())
            }

            /// The record, once every key has been read.
            #[inline(never)]
            fn finish<E: de::Error>(self) -> Result<Record, E> {
                // Checked before anything is moved out: an early return then drops the slots
                // with one call, instead of code that drops each value moved so far.
                $( record_fields!(@check $kind, self, $field); )+
                let Slots { $( $field, )+ mut extra } = self;
                let mut absent = 0u32;
                Ok(Record {
                    $( $field: record_fields!(@take $kind, $field, absent, extra), )+
                    extra,
                    absent: Absent(absent),
                })
            }
        }

        impl Serialize for Record {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(None)?;
                $( record_fields!(@put $kind, map, self, $field); )+
                for (name, value) in &self.extra {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    };
    (@check required, $slots:ident, $field:ident) => {
        if $slots.$field.is_none() {
            return Err(de::Error::missing_field(stringify!($field)));
        }
    };
    (@check $kind:ident, $slots:ident, $field:ident) => {};
    (@take required, $field:ident, $absent:ident, $extra:ident) => {
        $field.ok_or_else(|| de::Error::missing_field(stringify!($field)))?
    };
    (@take optional, $field:ident, $absent:ident, $extra:ident) => {
        match $field {
            Some(value) => value,
            None => {
                $absent |= Field::$field.bit();
                None
            }
        }
    };
    (@take presence, $field:ident, $absent:ident, $extra:ident) => {
        $field
    };
    (@take seen, $field:ident, $absent:ident, $extra:ident) => {
        match $field {
            Some(Seen::Typed(value)) => value,
            Some(Seen::Other(other)) => {
                $extra.insert(stringify!($field).to_owned(), other);
                $absent |= Field::$field.bit();
                None
            }
            None => {
                $absent |= Field::$field.bit();
                None
            }
        }
    };
    (@put required, $map:ident, $record:ident, $field:ident) => {
        $map.serialize_entry(stringify!($field), &$record.$field)?
    };
    (@put optional, $map:ident, $record:ident, $field:ident) => {
        if $record.$field.is_some() || !$record.absent.has(Field::$field) {
            $map.serialize_entry(stringify!($field), &$record.$field)?
        }
    };
    (@put seen, $map:ident, $record:ident, $field:ident) => {
        record_fields!(@put optional, $map, $record, $field)
    };
    (@put presence, $map:ident, $record:ident, $field:ident) => {
        if let Some(value) = &$record.$field {
            $map.serialize_entry(stringify!($field), value)?
        }
    };
}

record_fields! {
    ani_number: Option<String> => presence,
    application: Option<Application> => optional,
    call_uuid: String => required,
    client_owner_id: u64 => required,
    dest_domain: Option<String> => optional,
    dest_number: Option<String> => optional,
    did_domain: Option<String> => optional,
    did_number: Option<String> => optional,
    duration: u64 => required,
    ext_number_reg: Option<String> => optional,
    extension_group_owner_id: Option<ExtensionGroupId> => optional,
    extension_id: ExtensionId => required,
    extension_name: String => required,
    extension_type: ExtensionType => required,
    file_name: Seen<String> => seen,
    flow: Flow => required,
    from_domain: Option<String> => optional,
    from_screen_name: Option<String> => optional,
    from_username: Option<String> => optional,
    hangup_cause: Option<String> => optional,
    hangup_disposition: Option<HangupDisposition> => optional,
    hangup_time_gmt: Option<WireTime> => optional,
    init_time_gmt: WireTime => required,
    record_file_size: u64 => required,
    record_transfer: Seen<bool> => seen,
    record_uuid: RecordUuid => required,
    result: CallResult => required,
    source_domain: Option<String> => optional,
    source_number: Option<String> => optional,
    start_time_gmt: Option<WireTime> => optional,
    to_domain: Option<String> => optional,
    to_username: Option<String> => optional,
}

/// The optional fields a record arrived without, one bit per [`Field`].
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Absent(u32);

/// The first value that is not blank.
fn first_named<const N: usize>(values: [Option<&str>; N]) -> Option<&str> {
    values
        .into_iter()
        .flatten()
        .find(|value| !value.trim().is_empty())
}

impl Absent {
    fn has(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }
}

impl fmt::Debug for Absent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(
                Field::ALL
                    .iter()
                    .filter(|field| self.has(**field))
                    .map(|field| field.name()),
            )
            .finish()
    }
}

struct RecordVisitor;

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}
