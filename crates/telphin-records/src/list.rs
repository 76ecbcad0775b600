//! How a listing runs: order, window size, completeness guard, resumption.

use chrono::{DateTime, Utc};
use record_api::Error;
use record_model::{Order, QueryWindow, Record, RecordUuid};

/// How long the window of each list request is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WindowSize {
    /// The longest window the API allows (up to the end of the next month): the fewest
    /// requests. The default.
    #[default]
    Longest,
    /// One week per request.
    Week,
    /// One day per request: more, smaller answers.
    Day,
}

/// How to list a period: see [`BlockingClient::records`](crate::BlockingClient::records) and
/// [`Client::records`](crate::Client::records).
///
/// ```
/// use telphin_records::{ListOptions, Order, WindowSize};
///
/// let careful = ListOptions::new(Order::Asc)
///     .window_size(WindowSize::Day)
///     .completeness_guard(true);
/// assert!(careful.guarded());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    pub(crate) order: Order,
    pub(crate) window_size: WindowSize,
    pub(crate) guard: bool,
    pub(crate) skip_undecodable: bool,
    pub(crate) read_ahead: Option<usize>,
    pub(crate) resume: Option<ListPosition>,
}

impl ListOptions {
    /// Records in `order`, longest windows, no completeness guard, undecodable records are
    /// errors; the async stream reads ahead as many windows as the client's
    /// [`concurrency`](crate::ClientBuilder::concurrency).
    pub fn new(order: Order) -> Self {
        ListOptions {
            order,
            window_size: WindowSize::Longest,
            guard: false,
            skip_undecodable: false,
            read_ahead: None,
            resume: None,
        }
    }

    /// The window of each request.
    pub fn window_size(mut self, size: WindowSize) -> Self {
        self.window_size = size;
        self
    }

    /// Checks each window's count against the statistics of the same window. On a mismatch
    /// (a server that cut its answer short, say) the window is split in halves and listed
    /// again, down to one second; a one-second window that still disagrees after one more try
    /// ends the listing with [`Error::IncompleteListing`](crate::Error::IncompleteListing).
    ///
    /// It costs one statistics request per window (made one at a time, as the API requires),
    /// and 16 bytes of memory per record of the window being read. Backup and purge turn it on.
    pub fn completeness_guard(mut self, on: bool) -> Self {
        self.guard = on;
        self
    }

    /// Whether the completeness guard is on.
    pub fn guarded(&self) -> bool {
        self.guard
    }

    /// For the collecting calls (`list_with`): leave out records that cannot be decoded
    /// instead of failing. A stream always yields them as
    /// [`Error::UndecodableRecord`](crate::Error::UndecodableRecord) items and goes on.
    pub fn skip_undecodable(mut self, skip: bool) -> Self {
        self.skip_undecodable = skip;
        self
    }

    /// How many windows the async stream opens ahead of the one it reads (at least 1). Their
    /// bodies wait in the connection, so memory does not grow with it.
    pub fn read_ahead(mut self, windows: usize) -> Self {
        self.read_ahead = Some(windows.max(1));
        self
    }

    /// Goes on from where a listing that failed stopped (see
    /// [`RecordStream::position`](crate::RecordStream::position)): the windows before are not
    /// asked again, and the records already handed out are not handed out again (provided the
    /// server's records of that window did not change since).
    pub fn resume(mut self, position: ListPosition) -> Self {
        self.resume = Some(position);
        self
    }
}

impl Default for ListOptions {
    /// The API's default order, newest first.
    fn default() -> Self {
        ListOptions::new(Order::Desc)
    }
}

/// Where a listing is: the window being read and how many of its records were handed out.
/// Give it to [`ListOptions::resume`] to go on after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    pub(crate) window: QueryWindow,
    pub(crate) handed_out: u64,
    pub(crate) boundary: Option<(DateTime<Utc>, Vec<RecordUuid>)>,
}

impl ListPosition {
    /// The window being read.
    pub fn window(&self) -> QueryWindow {
        self.window
    }

    /// How many records of that window were handed out already.
    pub fn handed_out(&self) -> u64 {
        self.handed_out
    }
}

/// One item of a record stream as a collecting call keeps it: the record, nothing for an
/// undecodable record when those are skipped, or the error.
pub(crate) fn kept(
    item: Result<Record, Error>,
    skip_undecodable: bool,
) -> Result<Option<Record>, Error> {
    match item {
        Ok(record) => Ok(Some(record)),
        Err(Error::UndecodableRecord {
            record_uuid,
            source,
        }) if skip_undecodable => {
            tracing::warn!(?record_uuid, %source, "skipping a record that cannot be decoded");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}
