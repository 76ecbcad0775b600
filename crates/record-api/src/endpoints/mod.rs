//! Every operation of the API as a value: one file per endpoint family.
//!
//! | family | file | types |
//! |---|---|---|
//! | record lists | `records.rs` | [`ListRecords`], [`DeleteRecords`] |
//! | statistics | `stats.rs` | [`RecordStats`], [`MonthlyRecordStats`] |
//! | one record | `record.rs` | [`DownloadRecord`], [`DeleteRecord`], [`StorageUrl`] |
//! | archive | `archive.rs` | [`RequestArchive`] |
//! | tokens | `token.rs` | [`TokenRequest`] |

mod archive;
mod record;
mod records;
mod stats;
mod token;

pub use archive::RequestArchive;
pub use record::{DeleteRecord, Deletion, DownloadRecord, FileInfo, StorageUrl};
pub use records::{DeleteRecords, ListRecords};
pub use stats::{MonthlyRecordStats, MonthlyStatsEnd, RecordStats};
pub use token::{Grant, Token, TokenRequest};

use record_model::QueryWindow;

use crate::{ApiRequest, Error, Scope, error_for_status};

/// One operation of the API: it describes its request and decodes its response.
///
/// Values are built from validated model types only, so an endpoint never describes a request
/// the API would refuse for its input.
pub trait Endpoint {
    /// What a successful answer decodes to.
    type Output;

    /// The request, as data.
    fn request(&self) -> ApiRequest;

    /// Decodes an answer: a non-success status becomes the matching [`Error`].
    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Self::Output, Error>;

    /// The output when a repeated request finds its work already done: a delete answered 404
    /// after an earlier attempt may have reached the server (its answer was lost) has
    /// succeeded. `None`, the default, keeps the 404 an error.
    fn already_done(&self) -> Option<Self::Output> {
        None
    }
}

/// Fails with the matching error unless the status is a success.
pub(crate) fn check_status(response: &http::Response<Vec<u8>>) -> Result<(), Error> {
    match error_for_status(response.status(), response.headers(), response.body()) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `{scope}/record`: the path every record route starts with.
fn record_path(scope: &Scope) -> Vec<String> {
    let mut path = scope.path_segments().to_vec();
    path.push("record".to_owned());
    path
}

/// The `start_datetime` and `end_datetime` query parameters of a window.
fn window_query(window: &QueryWindow) -> Vec<(String, String)> {
    vec![
        ("start_datetime".to_owned(), window.start_datetime()),
        ("end_datetime".to_owned(), window.end_datetime()),
    ]
}
