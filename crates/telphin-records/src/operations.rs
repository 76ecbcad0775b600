//! The operations that both clients offer alike, each declared once with its documentation:
//! a driver future built from the arguments. The blocking client completes it at once, the
//! async client returns it. (The macro only writes the two delegating methods; every step of
//! the operation is the driver's.)

use record_api::{
    DeleteRecord, Deletion, Error, ListRecords, MonthlyRecordStats, MonthlyStatsEnd,
    RequestArchive, Scope, StorageUrl,
};
use record_model::{
    ArchiveReceipt, ArchiveRequest, ClientId, MonthStats, Order, Period, QueryWindow, Record,
    RecordUuid, StorageLink, WindowStats,
};

use crate::driver;

/// Writes each operation as a method of `BlockingClient` and of `Client`.
macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $output:ty = |$io:ident| $future:expr;
    )*) => {
        impl<T: record_api::BlockingTransport> crate::BlockingClient<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$output, Error> {
                    let $io = self;
                    crate::blocking::run($future)
                }
            )*
        }

        #[cfg(feature = "async-client")]
        impl<T: record_api::AsyncTransport + 'static> crate::Client<T> {
            $(
                $(#[$doc])*
                pub fn $name(
                    &self,
                    $($arg: $ty),*
                ) -> impl std::future::Future<Output = Result<$output, Error>> + Send {
                    let $io = self;
                    $future
                }
            )*
        }
    };
}

operations! {
    /// The records of `scope` in one window, as the API returns them.
    fn list_window(scope: Scope, window: QueryWindow, order: Order) -> Vec<Record> =
        |io| driver::call_owned(io, ListRecords::new(scope, window).order(order));

    /// The count and total size of the record files of `scope` in `period` (any length),
    /// exact: no record at a window overlap or at an excluded end is counted. Requests run one
    /// at a time, as the API allows one statistics request per client.
    fn stats(scope: Scope, period: impl Into<Period>) -> WindowStats =
        |io| driver::stats(io, scope, period.into());

    /// Deletes every record of `scope` in `period` (any length), window by window, and nothing
    /// outside it: the last second of a half-open period is listed and its records deleted one
    /// by one, so the records at the excluded end stay.
    fn delete_range(scope: Scope, period: impl Into<Period>) -> () =
        |io| driver::delete_range(io, scope, period.into());

    /// Deletes one record and its file. [`Deletion::AlreadyGone`] tells that an earlier
    /// attempt's answer was lost and the retry found the record gone.
    fn delete_record(scope: Scope, record_uuid: &RecordUuid) -> Deletion =
        |io| driver::call_owned(io, DeleteRecord::new(scope, record_uuid.clone()));

    /// The permanent storage link of a record.
    fn storage_link(scope: Scope, record_uuid: &RecordUuid) -> StorageLink =
        |io| driver::call_owned(io, StorageUrl::new(scope, record_uuid.clone()));

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail). Any success answer is a receipt.
    fn request_archive(client: ClientId, archive: &ArchiveRequest) -> ArchiveReceipt =
        |io| driver::call_owned(io, RequestArchive::new(client, archive.clone()));

    /// Storage statistics per month, optionally only up to `end`.
    fn monthly_stats(client: ClientId, end: Option<MonthlyStatsEnd>) -> Vec<MonthStats> =
        |io| driver::call_owned(io, MonthlyRecordStats::new(client).until_optional(end));
}
