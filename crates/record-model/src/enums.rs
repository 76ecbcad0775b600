//! Open string enums: the known values, plus any value the API adds later.
//!
//! New enum values appear without notice, so decoding never fails on them: an unknown value is
//! kept as [`Other`](Flow::Other) with its raw text and written back unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$doc:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $wire:literal, )+ }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
            /// A value this version does not know, kept as the API wrote it.
            Other(String),
        }

        impl $name {
            /// The value as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(raw) => raw,
                }
            }

            /// Whether this is one of the values this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                $name::known(raw.as_bytes()).unwrap_or_else(|| $name::Other(raw.to_owned()))
            }
        }

        impl $name {
            /// The known value written `raw`, if any.
            fn known(raw: &[u8]) -> Option<Self> {
                $( if raw == $wire.as_bytes() {
                    return Some($name::$variant);
                } )+
                None
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                match $name::from(raw.as_str()) {
                    $name::Other(_) => $name::Other(raw),
                    known => known,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // Known values are matched on the bytes as read, without allocating; only an
                // unknown value, kept as text, is checked to be UTF-8.
                let raw = crate::text::bytes(deserializer)?;
                match $name::known(&raw) {
                    Some(known) => Ok(known),
                    None => crate::text::utf8(raw).map($name::Other),
                }
            }
        }
    };
}

open_enum! {
    /// The direction of a call.
    Flow {
        /// An incoming call.
        In = "in",
        /// An outgoing call.
        Out = "out",
        /// A transferred call (seen on CDRs).
        Transfer = "transfer",
    }
}

open_enum! {
    /// The kind of extension a record belongs to.
    ExtensionType {
        /// A phone line.
        Phone = "phone",
        /// A call queue.
        Queue = "queue",
        /// A voice menu.
        Ivr = "ivr",
        /// A fax line.
        Fax = "fax",
    }
}

open_enum! {
    /// How a call ended up. Note that the API writes some values with spaces.
    CallResult {
        /// Answered.
        Answered = "answered",
        /// The callee was busy.
        Busy = "busy",
        /// Nobody answered (`not answered`).
        NotAnswered = "not answered",
        /// Another extension answered (`answered elsewhere`).
        AnsweredElsewhere = "answered elsewhere",
        /// The call failed.
        Failed = "failed",
        /// The call was rejected.
        Rejected = "rejected",
        /// The call went to voicemail.
        Voicemail = "voicemail",
    }
}

open_enum! {
    /// Which side ended the call.
    ///
    /// The API sends either `null` or `""` when it does not know; `""` decodes to
    /// [`HangupDisposition::Empty`] so that it is written back as it came.
    HangupDisposition {
        /// The callee hung up.
        CalleeBye = "callee_bye",
        /// The caller hung up.
        CallerBye = "caller_bye",
        /// The caller cancelled before an answer.
        CallerCancel = "caller_cancel",
        /// The callee refused the call.
        CalleeRefuse = "callee_refuse",
        /// The PBX cancelled the call.
        InternalCancel = "internal_cancel",
        /// The API sent an empty string: no disposition is known, as with `null`.
        Empty = "",
    }
}

open_enum! {
    /// The application that handled the call.
    Application {
        /// A call-centre queue.
        Callcenter = "callcenter",
        /// A callback.
        Callback = "callback",
        /// A call interception.
        Intercept = "intercept",
    }
}
