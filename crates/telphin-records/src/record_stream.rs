//! The async client's record stream: the driver's listing loop, with the next windows opened
//! ahead. Every window opened ahead is polled each time the stream is, and once its turn comes
//! it is awaited by the listing itself: nothing is left suspended while the stream goes on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use record_api::{AsyncTransport, Error};
use record_model::Record;

use crate::Client;
use crate::async_client::Chunks;
use crate::driver::{self, ListReader};
use crate::engine::Listing;
use crate::list::ListPosition;
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
