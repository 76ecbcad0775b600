//! The windows a record stream opens ahead of the one it reads: each is polled whenever the
//! stream is, and handed to the listing when its turn comes.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use record_api::{AsyncTransport, Error};
use record_model::QueryWindow;

use crate::Client;
use crate::async_client::Chunks;
use crate::driver;
use crate::engine::Listing;
use crate::io::{Opening, ReadAhead};

/// A window opened ahead of its turn: still opening, or opened.
enum Opened {
    Opening(Opening<Chunks>),
    Done(Result<Chunks, Error>),
}

/// The windows opened ahead of the one being read.
pub(crate) struct Ahead<T> {
    client: Client<T>,
    windows: usize,
    openings: Mutex<VecDeque<(QueryWindow, Opened)>>,
}

impl<T> Ahead<T> {
    pub(crate) fn new(client: Client<T>, windows: usize) -> Self {
        Ahead {
            client,
            windows,
            openings: Mutex::new(VecDeque::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(QueryWindow, Opened)>> {
        self.openings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Polls every opening still under way.
    pub(crate) fn drive(&self, cx: &mut Context<'_>) {
        for (_, opened) in self.lock().iter_mut() {
            if let Opened::Opening(opening) = opened
                && let Poll::Ready(result) = opening.as_mut().poll(cx)
            {
                *opened = Opened::Done(result);
            }
        }
    }

    pub(crate) fn clear(&self) {
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
