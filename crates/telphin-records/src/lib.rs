//! A Rust SDK for the Telphin call-recordings API (`/record/`).
//!
//! ```no_run
//! use telphin_records::{
//!     ClientBuilder, ClientId, Credentials, DownloadOptions, DownloadSource, Order, Period, Scope,
//! };
//!
//! # fn main() -> Result<(), telphin_records::Error> {
//! let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
//!     .build_blocking()?;
//! let pbx = Scope::client(ClientId::Me);
//!
//! // A quarter is longer than one request may cover: it is split without losing a record, and
//! // `[from, until)` holds the quarter's last fraction of a second and nothing of April 1st.
//! let q1 = Period::parse("2024-01-01 00:00:00", "2024-04-01 00:00:00")?;
//! let records = client.list(pbx, q1, Order::Asc)?;
//! let stats = client.stats(pbx, q1)?;
//! println!("{} recordings, {} bytes", stats.count, stats.size);
//!
//! // Stream each file to disk: verified, and renamed into place only when complete.
//! for record in &records {
//!     let path = format!("recordings/{}.mp3", record.record_uuid);
//!     // One request per file; see `DownloadOptions` for when a storage link pays off.
//!     let options = DownloadOptions::for_record(record, DownloadSource::Api);
//!     client.download_to_path(pbx, &record.record_uuid, path, options)?;
//! }
//! # Ok(()) }
//! ```
//!
//! - [`BlockingClient`] and the async [`Client`] have the same operations: list, statistics,
//!   download (to any `Write`/`AsyncWrite`, or to a path), storage link, delete one, delete a
//!   period, and for a client the e-mailed archive and monthly statistics — at client
//!   ([`ClientId::Me`] included), extension-group or extension level ([`Scope`]).
//! - Both are generic over their transport: the built-in ones (features `blocking`: HTTP/1.1 on
//!   `std::net`, logging nothing;
//!   `async`: reqwest and tokio) or your own [`BlockingTransport`] / [`AsyncTransport`].
//! - Periods say what people mean: [`Period::day`], [`Period::month`], [`Period::year`] and
//!   [`Period::parse`] / [`Period::between`] for `[from, until)`; an inclusive [`DateRange`]
//!   works too.
//! - Tokens are fetched once and shared, renewed shortly before expiry and after a 401 (the
//!   call is then replayed once); retries follow [`RetryPolicy`], per client or per handle
//!   ([`BlockingClient::with_retry_policy`]); a call's own rate-limit headers come with
//!   [`BlockingClient::execute`] ([`Answer`]), the latest with
//!   [`BlockingClient::last_rate_limit`].
//! - Every decision — retry, reauthorize, fall back, restart a download — is made once, in a
//!   sans-IO engine that both clients merely carry out.
//! - Secrets — client secret, tokens, passwords, storage links — never reach `Debug`, error
//!   messages or the `tracing` spans (operation, scope kind, attempt, status).
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "async-client")]
mod async_client;
mod blocking;
mod config;
mod core;
mod download;
mod driver;
mod engine;
mod executor_prelude;
mod handle;
mod io;
mod list;
mod opened;
mod operations;
mod part_file;
#[cfg(feature = "async-client")]
mod read_ahead;
#[cfg(feature = "async-client")]
mod record_stream;
#[cfg(feature = "async-client")]
mod sleep;

#[cfg(feature = "async-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-client")))]
pub use async_client::Client;
pub use blocking::{BlockingClient, BlockingRecords};
pub use config::ClientBuilder;
pub use credentials::Credentials;
pub use download::{CHUNK_SIZE, DownloadOptions, DownloadReport, DownloadSource};
pub use engine::Answer;
pub use list::{ListOptions, ListPosition, WindowSize};
pub use opened::{BlockingDownload, Download};
#[cfg(feature = "async-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-client")))]
pub use record_stream::RecordStream;
#[cfg(feature = "async-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-client")))]
pub use sleep::{AsyncSleep, DefaultSleep, SleepFuture};

mod credentials;

pub use record_api::{
    ApiError, AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, Deletion, Endpoint,
    Error, FileInfo, FnTransport, MonthlyStatsEnd, RateLimitKind, RetryPolicy, Scope,
    ScopeParseError, Secret, TransportError, TransportErrorKind, bytes, http, serde_json,
};
pub use record_model::{
    Application, ArchiveId, ArchiveReceipt, ArchiveRequest, CallResult, ClientId, DateRange,
    EmailAddress, ExtensionGroupId, ExtensionId, ExtensionType, Flow, HangupDisposition,
    MonthStats, Order, Period, PeriodEnd, QueryWindow, RateLimit, Record, RecordUuid, StorageLink,
    ValidationError, WindowStats, WireTime, YearMonth, chrono,
};

/// The blocking client over the built-in HTTP/1.1 transport.
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub type BlockingHttpClient = BlockingClient<transport_blocking::HttpTransport>;

/// The async client over the built-in reqwest transport.
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub type ReqwestClient = Client<transport_async::ReqwestTransport>;

/// The layers below, for custom transports and advanced use.
pub mod layers {
    pub use record_api;
    pub use record_model;
    #[cfg(feature = "async")]
    pub use transport_async;
    #[cfg(feature = "blocking")]
    pub use transport_blocking;
}

// The README's and the custom-transport guide's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../../../docs/custom-transport.md")]
struct CustomTransportGuide;
