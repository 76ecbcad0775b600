//! Listing with the blocking client: the records of a period as an iterator over the
//! driver's listing loop (the operations are declared in [`operations`](crate::operations)).

use std::io::Read;

use record_api::{BlockingBody, BlockingTransport, TransportError};

use super::BlockingClient;
use super::io::complete;
use crate::driver::{self, ListReader};
use crate::executor_prelude::*;

/// A streamed body and the buffer its chunks are read into.
pub(crate) struct ReadBody {
    reader: BlockingBody,
    buf: Vec<u8>,
}

impl ReadBody {
    pub(super) fn new(reader: BlockingBody) -> Self {
        ReadBody {
            reader,
            buf: vec![0; CHUNK_SIZE],
        }
    }

    pub(crate) fn into_reader(self) -> BlockingBody {
        self.reader
    }

    pub(super) fn next_chunk(&mut self) -> Result<Option<&[u8]>, TransportError> {
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => return Ok(None),
                Ok(n) => return Ok(Some(&self.buf[..n])),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(TransportError::body_read(error)),
            }
        }
    }
}

/// The records of a period as they arrive; see [`BlockingClient::records`].
pub struct BlockingRecords<T> {
    pub(super) client: BlockingClient<T>,
    pub(super) reader: ListReader<ReadBody>,
}

impl<T> BlockingRecords<T> {
    pub(crate) fn new(client: BlockingClient<T>, listing: Listing) -> Self {
        let reader = ListReader::new(listing);
        BlockingRecords { client, reader }
    }

    /// Where the listing is: after an error, give it to [`ListOptions::resume`] to go on.
    /// `None` once every record was handed out.
    pub fn position(&self) -> Option<ListPosition> {
        self.reader.listing.position()
    }
}

impl<T> std::fmt::Debug for BlockingRecords<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingRecords")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl<T: BlockingTransport> Iterator for BlockingRecords<T> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = driver::next_record(&self.client, &mut self.reader, &());
        complete(next, |error| Some(Err(error)))
    }
}
