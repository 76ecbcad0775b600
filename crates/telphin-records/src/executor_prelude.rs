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
    Answer, AuthNeed, Authorized, ERROR_BODY_LIMIT, Fetch, Step, TokenState, TokenStep, Transfer,
    not_opened, plan,
};
pub(crate) use crate::handle::Handle;
pub(crate) use crate::opened::Download;
