//! The record object (spec §3).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::{
    Application, CallResult, ExtensionGroupId, ExtensionId, ExtensionType, Flow, HangupDisposition,
    RecordUuid, WireTime,
};

/// One call recording, as the `/record/` list returns it.
///
/// Every documented field is typed; fields the API adds later are kept in [`extra`](Self::extra)
/// and written back, so decoding then encoding gives the same JSON value.
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
/// assert_eq!(record.extra["file_name"], "call.mp3");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// Caller id chosen from the client's numbers. The outer `Option` tells whether the field was
    /// present at all (the API sometimes omits it); the inner one whether it was `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
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
    /// Fields this version does not know (e.g. `file_name`, `record_transfer`), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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

    /// The undocumented `file_name` field (e.g. `2024-01-31_call.mp3`), when the API sent one.
    ///
    /// It is server-controlled text: never use it as a path without sanitising it.
    pub fn file_name(&self) -> Option<&str> {
        self.extra.get("file_name").and_then(Value::as_str)
    }
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`, by `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
