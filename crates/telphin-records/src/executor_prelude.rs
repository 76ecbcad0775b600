//! What both executors name: the engine's steps, the operations' endpoints, the model's types.

pub(crate) use std::time::Instant;

pub(crate) use record_api::{
    DeleteRecord, DeleteRecords, Deletion, Endpoint, Error, ListRecords, MonthlyRecordStats,
    MonthlyStatsEnd, RecordStats, RequestArchive, RetryPolicy, Scope, StorageUrl,
};
pub(crate) use record_model::{
    ArchiveReceipt, ArchiveRequest, ClientId, MonthStats, Order, Period, QueryWindow, RateLimit,
    Record, RecordUuid, StorageLink, WindowStats,
};

pub(crate) use crate::core::Core;
pub(crate) use crate::download::{DownloadOptions, DownloadReport, DownloadSource};
pub(crate) use crate::engine::{
    Answer, AuthNeed, Authorized, ERROR_BODY_LIMIT, Fetch, ListStep, Listing, Opened, Step,
    TokenState, TokenStep, Transfer, not_opened, plan,
};
pub(crate) use crate::handle::Handle;
pub(crate) use crate::list::{ListOptions, ListPosition};
pub(crate) use crate::opened::Download;

/// The head of a streamed answer, keeping its body in `body` for the steps that read it.
pub(crate) fn keep_body<B>(
    answer: Result<record_api::http::Response<B>, record_api::TransportError>,
    body: &mut Option<B>,
) -> Result<record_api::http::response::Parts, record_api::TransportError> {
    answer.map(|answer| {
        let (head, stream) = answer.into_parts();
        *body = Some(stream);
        head
    })
}
