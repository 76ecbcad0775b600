//! The async client's record stream: the driver's listing loop, with the next windows opened
//! ahead. Every window opened ahead is polled each time the stream is, and once its turn comes
//! it is awaited by the listing itself: nothing is left suspended while the stream goes on.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::Stream;
use record_api::{AsyncTransport, Error};
use record_model::{QueryWindow, Record};

use crate::Client;
use crate::async_client::Chunks;
use crate::driver::{self, ListReader};
use crate::engine::Listing;
use crate::io::{Opening, ReadAhead};
use crate::list::ListPosition;

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
        let ahead = Arc::new(Ahead {
            client: client.clone(),
            windows: read_ahead,
            openings: Mutex::new(VecDeque::new()),
        });
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

/// A window opened ahead of its turn: still opening, or opened.
enum Opened {
    Opening(Opening<Chunks>),
    Done(Result<Chunks, Error>),
}

/// The windows opened ahead of the one being read.
struct Ahead<T> {
    client: Client<T>,
    windows: usize,
    openings: Mutex<VecDeque<(QueryWindow, Opened)>>,
}

impl<T> Ahead<T> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<(QueryWindow, Opened)>> {
        self.openings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Polls every opening still under way.
    fn drive(&self, cx: &mut Context<'_>) {
        for (_, opened) in self.lock().iter_mut() {
            if let Opened::Opening(opening) = opened
                && let Poll::Ready(result) = opening.as_mut().poll(cx)
            {
                *opened = Opened::Done(result);
            }
        }
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

impl<T: AsyncTransport + 'static> ReadAhead<Chunks> for Ahead<T> {
    fn take(&self, window: QueryWindow) -> Option<Opening<Chunks>> {
        let mut openings = self.lock();
        let index = openings.iter().position(|(opened, _)| *opened == window)?;
        openings.drain(..index);
        match openings.pop_front()?.1 {
            Opened::Opening(opening) => Some(opening),
            Opened::Done(result) => Some(Box::pin(std::future::ready(result))),
        }
    }

    fn refill(&self, listing: &Listing) {
        let upcoming: Vec<QueryWindow> = listing.upcoming().skip(1).take(self.windows).collect();
        let mut openings = self.lock();
        openings.retain(|(window, _)| upcoming.contains(window));
        for window in upcoming {
            if openings.iter().any(|(opened, _)| *opened == window) {
                continue;
            }
            let client = self.client.clone();
            let endpoint = listing.request(window);
            let opening: Opening<Chunks> =
                Box::pin(async move { driver::open(&client, &endpoint).await });
            openings.push_back((window, Opened::Opening(opening)));
        }
    }
}
