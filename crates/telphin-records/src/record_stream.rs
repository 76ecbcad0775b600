//! The async client's record stream: carries out a [`Listing`]'s steps with `.await`, opening
//! the next windows ahead while one is read.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::{Either, select};
use futures_util::{Stream, pin_mut};
use record_api::{AsyncBody, AsyncTransport, Error};
use record_model::{QueryWindow, Record};

use crate::Client;
use crate::engine::{ListStep, Listing};
use crate::list::ListPosition;

type Body = Box<dyn AsyncBody>;
type Opening = Pin<Box<dyn Future<Output = Result<Body, Error>> + Send>>;
type Item = Result<Record, Error>;
type Turn<T> = Pin<Box<dyn Future<Output = (Reader<T>, Option<Item>)> + Send>>;

/// The records of a period as they arrive; see [`Client::records`]. A
/// [`Stream`](futures_util::Stream) of `Result<Record, Error>`.
pub struct RecordStream<T> {
    reader: Option<Reader<T>>,
    turn: Option<Turn<T>>,
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
        let position = listing.position();
        RecordStream {
            reader: Some(Reader {
                client,
                listing,
                body: None,
                ahead: VecDeque::new(),
                read_ahead,
            }),
            turn: None,
            position,
        }
    }
}

impl<T: AsyncTransport + 'static> Stream for RecordStream<T> {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let this = &mut *self;
        if this.turn.is_none() {
            let Some(reader) = this.reader.take() else {
                return Poll::Ready(None);
            };
            this.turn = Some(Box::pin(reader.next()));
        }
        let Some(turn) = this.turn.as_mut() else {
            return Poll::Ready(None);
        };
        match turn.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((reader, item)) => {
                this.turn = None;
                this.position = reader.listing.position();
                if item.is_some() {
                    this.reader = Some(reader);
                }
                Poll::Ready(item)
            }
        }
    }
}

/// A window opened ahead of its turn.
struct Ahead {
    window: QueryWindow,
    opening: Option<Opening>,
    opened: Option<Result<Body, Error>>,
}

/// The stream's state between items.
struct Reader<T> {
    client: Client<T>,
    listing: Listing,
    body: Option<Body>,
    ahead: VecDeque<Ahead>,
    read_ahead: usize,
}

impl<T: AsyncTransport + 'static> Reader<T> {
    /// Carries the listing out up to its next item.
    async fn next(mut self) -> (Self, Option<Item>) {
        loop {
            match self.listing.next() {
                ListStep::Open(endpoint) => {
                    let opened = match self.take_ahead(endpoint.window()) {
                        Some(ahead) => ahead.await,
                        None => self.client.open(&endpoint).await,
                    };
                    self.listing
                        .opened(opened.map(|body| self.body = Some(body)));
                    self.open_ahead();
                }
                ListStep::Read => self.read().await,
                ListStep::Stats(endpoint) => {
                    let counted = self.client.call(endpoint).await;
                    self.listing.counted(counted);
                }
                ListStep::Yield(item) => return (self, Some(item)),
                ListStep::Done => {
                    self.body = None;
                    self.ahead.clear();
                    return (self, None);
                }
            }
        }
    }

    /// The opening of `window` started ahead, if any; those before it are dropped.
    fn take_ahead(
        &mut self,
        window: QueryWindow,
    ) -> Option<impl Future<Output = Result<Body, Error>> + use<T>> {
        let index = self.ahead.iter().position(|ahead| ahead.window == window)?;
        self.ahead.drain(..index);
        let ahead = self.ahead.pop_front()?;
        Some(async move {
            match (ahead.opened, ahead.opening) {
                (Some(opened), _) => opened,
                (None, Some(opening)) => opening.await,
                (None, None) => Err(crate::engine::not_opened()),
            }
        })
    }

    /// Starts opening the windows after the current one, up to the read-ahead.
    fn open_ahead(&mut self) {
        let upcoming: Vec<QueryWindow> = self
            .listing
            .upcoming()
            .skip(1)
            .take(self.read_ahead)
            .collect();
        self.ahead.retain(|ahead| upcoming.contains(&ahead.window));
        for window in upcoming {
            if self.ahead.iter().any(|ahead| ahead.window == window) {
                continue;
            }
            let client = self.client.clone();
            let endpoint = self.listing.request(window);
            let opening: Opening = Box::pin(async move { client.open(&endpoint).await });
            self.ahead.push_back(Ahead {
                window,
                opening: Some(opening),
                opened: None,
            });
        }
    }

    /// Reads the next chunk of the open body into the listing, driving the openings ahead
    /// meanwhile.
    async fn read(&mut self) {
        let Some(body) = self.body.as_mut() else {
            return self.listing.failed(crate::engine::not_opened());
        };
        let chunk = {
            let next = body.next_chunk();
            pin_mut!(next);
            if self.ahead.iter().any(|ahead| ahead.opening.is_some()) {
                match select(next, DriveAhead(&mut self.ahead)).await {
                    Either::Left((chunk, _)) => chunk,
                    Either::Right(((), next)) => next.await,
                }
            } else {
                next.await
            }
        };
        match chunk {
            Ok(Some(bytes)) => self.listing.chunk(&bytes),
            Ok(None) => {
                self.body = None;
                self.listing.ended();
            }
            Err(error) => {
                self.body = None;
                self.listing.failed(Error::Transport(error));
            }
        }
    }
}

/// Polls every opening ahead; ready once all have opened (or failed).
struct DriveAhead<'a>(&'a mut VecDeque<Ahead>);

impl Future for DriveAhead<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut pending = false;
        for ahead in self.0.iter_mut() {
            if let Some(opening) = ahead.opening.as_mut() {
                match opening.as_mut().poll(cx) {
                    Poll::Ready(opened) => {
                        ahead.opening = None;
                        ahead.opened = Some(opened);
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}
