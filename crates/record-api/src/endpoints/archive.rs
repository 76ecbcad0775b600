//! `POST /client/{client_id}/record/archive/`: an e-mailed ZIP of a window's files.

use record_model::{ArchiveReceipt, ArchiveRequest, ClientId};

use super::{Endpoint, check_status, record_path};
use crate::{ApiRequest, Body, Error, Method, Scope};

/// Requests an archive (spec §2 #7, §4.4). Not idempotent: each accepted request sends an
/// e-mail, and a second one within the hour is refused until the first is downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestArchive {
    client: ClientId,
    archive: ArchiveRequest,
}

impl RequestArchive {
    /// An archive of `client`'s records.
    pub fn new(client: ClientId, archive: ArchiveRequest) -> Self {
        RequestArchive { client, archive }
    }
}

impl Endpoint for RequestArchive {
    type Output = ArchiveReceipt;

    fn request(&self) -> ApiRequest {
        let mut path = record_path(&Scope::Client(self.client));
        path.push("archive".to_owned());
        let mut request = ApiRequest::api("request_archive", Method::Post, path);
        // Serialising a validated ArchiveRequest yields an object of three strings; a failure
        // here would be a bug in record-model, so it degrades to an empty body that the API
        // refuses rather than to a panic.
        request.body = Body::Json(serde_json::to_value(&self.archive).unwrap_or_default());
        request
    }

    /// A success is a success whatever its body: the e-mail has been sent. What decodes is
    /// typed, the rest kept raw ([`ArchiveReceipt::from_body`]).
    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<ArchiveReceipt, Error> {
        check_status(response)?;
        Ok(ArchiveReceipt::from_body(response.body()))
    }
}
