//! The async client's record stream: the driver's listing loop, with the next windows opened
//! ahead. Every window opened ahead is polled each time the stream is, and once its turn comes
//! it is awaited by the listing itself: nothing is left suspended while the stream goes on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt as _};
use record_api::{AsyncTransport, Error, Scope};
use record_model::{Order, Period, Record};

use crate::Client;
use crate::async_client::Chunks;
use crate::driver::{self, ListReader};
use crate::engine::Listing;
use crate::io::Io as _;
use crate::list::{ListOptions, ListPosition};
use crate::read_ahead::Ahead;

type Item = Result<Record, Error>;
type Turn = Pin<Box<dyn Future<Output = (ListReader<Chunks>, Option<Item>)> + Send>>;

/// The records of a period as they arrive; see [`Client::records`]. A
/// [`Stream`](futures_util::Stream) of `Result<Record, Error>`.
pub struct RecordStream<T> {
    client: Client<T>,
    reader: Option<ListReader<Chunks>>,
    turn: Option<Turn>,
    ahead: Arc<Ahead<T>>,
    position: Option<ListPosition>,
}

impl<T> RecordStream<T> {
    /// Where the listing is: after an error, give it to
    /// [`ListOptions::resume`](crate::ListOptions::resume) to go on. `None` once every record
    /// was handed out.
    pub fn position(&self) -> Option<ListPosition> {
        self.position.clone()
    }
}

impl<T> std::fmt::Debug for RecordStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport + 'static> Client<T> {
    /// The records of `scope` in `period` (any length), in `order`, each once: the
    /// [`records`](Self::records) stream collected.
    ///
    /// A period longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`, and
    /// records at the excluded end of a half-open period are dropped.
    pub fn list(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        order: Order,
    ) -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static {
        self.list_with(scope, period, ListOptions::new(order))
    }

    /// [`records`](Self::records) collected: the first error fails the call, except an
    /// undecodable record when `options` skip those.
    pub fn list_with(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static {
        let skip = options.skip_undecodable;
        let stream = self.records(scope, period, options);
        let kept = stream
            .filter_map(move |item| std::future::ready(crate::list::kept(item, skip).transpose()));
        futures_util::TryStreamExt::try_collect(kept)
    }

    /// The records of `scope` in `period` (any length) as a [`Stream`](futures_util::Stream)
    /// that decodes each window's answer record by record while it arrives, so memory does not
    /// grow with the period or the window. Records come in `options`' order, each once, only
    /// those inside the period; the next windows are opened ahead (see
    /// [`ListOptions::read_ahead`]) while one is read, and driven whenever the stream is.
    ///
    /// An undecodable record is yielded as [`Error::UndecodableRecord`] and the stream goes
    /// on; any other error ends it, and [`RecordStream::position`] tells where to resume.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use telphin_records::{ClientBuilder, ClientId, Credentials, ListOptions, Order, Period, Scope};
    ///
    /// # async fn demo() -> Result<(), telphin_records::Error> {
    /// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
    ///     .build_async()?;
    /// let mut records = client.records(Scope::client(ClientId::Me), Period::year(2024)?, ListOptions::new(Order::Asc));
    /// while let Some(record) = records.try_next().await? {
    ///     println!("{} {}", record.init_time_gmt, record.record_uuid);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn records(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> RecordStream<T> {
        let read_ahead = options.read_ahead.unwrap_or(self.setup().core.concurrency);
        let listing = Listing::new(scope, period.into(), &options);
        RecordStream::new(self.clone(), listing, read_ahead)
    }
}

impl<T: AsyncTransport + 'static> RecordStream<T> {
    pub(crate) fn new(client: Client<T>, listing: Listing, read_ahead: usize) -> Self {
        let ahead = Arc::new(Ahead::new(client.clone(), read_ahead));
        RecordStream {
            client,
            position: listing.position(),
            reader: Some(ListReader::new(listing)),
            turn: None,
            ahead,
        }
    }
}

impl<T: AsyncTransport + 'static> Stream for RecordStream<T> {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        if this.turn.is_none() {
            let Some(mut reader) = this.reader.take() else {
                return Poll::Ready(None);
            };
            let (client, ahead) = (this.client.clone(), Arc::clone(&this.ahead));
            this.turn = Some(Box::pin(async move {
                let item = driver::next_record(&client, &mut reader, &*ahead).await;
                (reader, item)
            }));
        }
        let Some(turn) = this.turn.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = turn.as_mut().poll(cx);
        // After the turn, which may have started new openings: each is polled once now, and
        // again whenever it wakes the stream.
        this.ahead.drive(cx);
        let Poll::Ready((reader, item)) = polled else {
            return Poll::Pending;
        };
        this.turn = None;
        this.position = reader.listing.position();
        if item.is_some() {
            this.reader = Some(reader);
        } else {
            this.ahead.clear();
        }
        Poll::Ready(item)
    }
}
