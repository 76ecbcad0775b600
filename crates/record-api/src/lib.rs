//! The Telphin call-recordings API without I/O: every endpoint as data, decoding, errors,
//! transport contracts and retry policy.
//!
//! ```
//! use record_api::{render, Authorization, BaseUrl, Endpoint, FnTransport, BlockingTransport,
//!                  ListRecords, Scope, Secret};
//! use record_model::{ClientId, QueryWindow};
//!
//! // Describe the request ...
//! let window = QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59")?;
//! let list = ListRecords::new(Scope::client(ClientId::Me), window);
//! // ... render it for a host and a token ...
//! let base = BaseUrl::parse("https://apiproxy.telphin.ru")?;
//! let request = render(&list.request(), &base, &Authorization::Bearer(Secret::new("token")), None)?;
//! // ... send it with any transport (here a closure) ...
//! let transport = FnTransport::new(|_request| {
//!     Ok(http::Response::builder().status(200).body(b"[]".to_vec()).unwrap())
//! });
//! let response = transport.send(request)?;
//! // ... and decode the answer.
//! let records = list.decode(&response)?;
//! assert!(records.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A custom transport depends on this crate alone: implement [`BlockingTransport`] or
//! [`AsyncTransport`]. The clients in `telphin-records` only carry out what this crate decides:
//! [`render`] builds requests, [`Endpoint::decode`] reads answers, [`RetryPolicy::decide`]
//! chooses between retrying and stopping, and [`Token::is_fresh`] tells when to refresh.

mod endpoints;
mod error;
mod list_stream;
mod render;
mod request;
mod response;
mod retry;
mod scope;
mod secret;
#[cfg(feature = "test-util")]
pub mod testing;

#[cfg(feature = "conformance")]
pub mod conformance;
mod gzip;
mod transport;

pub use endpoints::{
    DeleteRecord, DeleteRecords, Deletion, DownloadRecord, Endpoint, FileInfo, Grant, ListRecords,
    MonthlyRecordStats, MonthlyStatsEnd, RecordStats, RequestArchive, StorageUrl, Token,
    TokenRequest,
};
pub use error::{ApiError, Error, REDACTED, RateLimitKind, SNIPPET_LIMIT};
pub use gzip::{BUFFERED_GZIP_LIMIT, BUFFERED_GZIP_RATIO, GZIP_RATIO_FROM, gzip_growth, take_gzip};
pub use list_stream::{ListDecoder, RECORD_SIZE_LIMIT};
pub use render::{
    Authorization, BaseUrl, DEFAULT_USER_AGENT, authority_host, basic_credentials, host_address,
    is_loopback_host, render, split_host_port, storage_link_request, without_userinfo,
};
pub use request::{ApiRequest, AuthKind, Body, FormValue, Method, ResponseKind, Root};
pub use response::{error_for_status, rate_limit_of};
pub use retry::{Decision, RetryPolicy};
pub use scope::{Scope, ScopeParseError};
pub use secret::Secret;
pub use transport::{
    AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, BoxError, BufferedBody,
    FnTransport, TransportError, TransportErrorKind, outgoing,
};

pub use bytes;
pub use http;
pub use record_model;
pub use serde_json;
