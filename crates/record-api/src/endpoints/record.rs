//! `/{scope}/record/{record_uuid}`: one record's file, its deletion, its storage link.

use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH};
use record_model::{RecordUuid, StorageLink};

use super::{Endpoint, check_status, record_path};
use crate::response::decode_json;
use crate::{ApiRequest, AuthKind, Error, Method, ResponseKind, Scope};

fn file_path(scope: &Scope, record_uuid: &RecordUuid) -> Vec<String> {
    let mut path = record_path(scope);
    path.push(record_uuid.as_str().to_owned());
    path
}

/// Downloads one record's file (spec §2 #4, §4.5). The answer is a byte stream: clients stream
/// it with `send_streaming` and read [`FileInfo`] from the headers before writing a byte.
///
/// Record files also accept HTTP Basic authentication with the PBX login.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DownloadRecord {
    scope: Scope,
    record_uuid: RecordUuid,
}

impl DownloadRecord {
    /// The file of `record_uuid`, seen from `scope`.
    pub fn new(scope: Scope, record_uuid: RecordUuid) -> Self {
        DownloadRecord { scope, record_uuid }
    }

    /// The record.
    pub fn record_uuid(&self) -> &RecordUuid {
        &self.record_uuid
    }

    /// Checks the status of a streamed answer from its head; on failure `error_body` (the first
    /// bytes of the body, if read) feeds the error message.
    pub fn check_head(parts: &http::response::Parts, error_body: &[u8]) -> Result<FileInfo, Error> {
        if let Some(error) = crate::error_for_status(parts.status, &parts.headers, error_body) {
            return Err(error);
        }
        Ok(FileInfo::from_headers(&parts.headers))
    }
}

/// What the headers of a file download say about the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct FileInfo {
    /// `Content-Length`, when present and readable.
    pub content_length: Option<u64>,
    /// The file name of `Content-Disposition`, when present. Server-controlled text: never use
    /// it as a path without sanitising it.
    pub file_name: Option<String>,
}

impl FileInfo {
    /// Reads `Content-Length` and `Content-Disposition: attachment; filename="..."`.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let content_length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let file_name = headers
            .get(CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(disposition_file_name);
        FileInfo {
            content_length,
            file_name,
        }
    }
}

fn disposition_file_name(value: &str) -> Option<String> {
    value.split(';').map(str::trim).find_map(|part| {
        let (key, name) = part.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("filename") {
            return None;
        }
        let name = name.trim();
        let name = name
            .strip_prefix('"')
            .and_then(|n| n.strip_suffix('"'))
            .unwrap_or(name);
        (!name.is_empty()).then(|| name.to_owned())
    })
}

impl Endpoint for DownloadRecord {
    type Output = Vec<u8>;

    fn request(&self) -> ApiRequest {
        let mut request = ApiRequest::api(
            "download_record",
            Method::Get,
            file_path(&self.scope, &self.record_uuid),
        );
        request.trailing_slash = false;
        request.auth = AuthKind::BearerOrBasic;
        request.response = ResponseKind::Bytes;
        request
    }

    /// Decodes a buffered answer: the whole file. Prefer streaming for anything large.
    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Vec<u8>, Error> {
        check_status(response)?;
        Ok(response.body().clone())
    }
}

/// Deletes one record and its file (spec §2 #5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeleteRecord {
    scope: Scope,
    record_uuid: RecordUuid,
}

impl DeleteRecord {
    /// Deletes `record_uuid`, seen from `scope`.
    pub fn new(scope: Scope, record_uuid: RecordUuid) -> Self {
        DeleteRecord { scope, record_uuid }
    }
}

/// What a record deletion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deletion {
    /// The server deleted the record in answer to this call.
    Deleted,
    /// An earlier attempt of this call may have deleted it (its answer was lost), and the
    /// repeated request found it gone (404).
    AlreadyGone,
}

impl Endpoint for DeleteRecord {
    type Output = Deletion;

    fn request(&self) -> ApiRequest {
        let mut request = ApiRequest::api(
            "delete_record",
            Method::Delete,
            file_path(&self.scope, &self.record_uuid),
        );
        request.trailing_slash = false;
        request.response = ResponseKind::Empty;
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Deletion, Error> {
        check_status(response).map(|()| Deletion::Deleted)
    }

    fn already_done(&self) -> Option<Deletion> {
        Some(Deletion::AlreadyGone)
    }
}

/// The permanent storage link of a record (spec §2 #6): a URL that needs no authentication.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageUrl {
    scope: Scope,
    record_uuid: RecordUuid,
}

impl StorageUrl {
    /// The link of `record_uuid`, seen from `scope`.
    pub fn new(scope: Scope, record_uuid: RecordUuid) -> Self {
        StorageUrl { scope, record_uuid }
    }
}

impl Endpoint for StorageUrl {
    type Output = StorageLink;

    fn request(&self) -> ApiRequest {
        let mut path = file_path(&self.scope, &self.record_uuid);
        path.push("storage_url".to_owned());
        let mut request = ApiRequest::api("storage_url", Method::Get, path);
        request.sensitive_response = true;
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<StorageLink, Error> {
        check_status(response)?;
        decode_json("storage link", response.body(), true)
    }
}
