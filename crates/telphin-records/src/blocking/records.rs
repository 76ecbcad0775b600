//! Listing with the blocking client: the records of a period as an iterator over the
//! driver's listing loop.

use std::io::Read;

use record_api::{BlockingBody, BlockingTransport, TransportError};

use super::BlockingClient;
use super::io::complete;
use crate::driver::{self, ListReader};
use crate::executor_prelude::*;

impl<T: BlockingTransport> BlockingClient<T> {
    /// The records of `scope` in `period` (any length) as they arrive: each window's answer is
    /// decoded record by record while it is read, so memory does not grow with the period or
    /// the window. Records come in `options`' order, each once, only those inside the period.
    ///
    /// An undecodable record is yielded as [`Error::UndecodableRecord`] and the iteration goes
    /// on; any other error ends it, and [`BlockingRecords::position`] tells where to resume.
    ///
    /// ```no_run
    /// use telphin_records::{ClientBuilder, ClientId, Credentials, ListOptions, Order, Period, Scope};
    ///
    /// # fn demo() -> Result<(), telphin_records::Error> {
    /// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
    ///     .build_blocking()?;
    /// let mut bytes = 0;
    /// for record in client.records(Scope::client(ClientId::Me), Period::year(2024)?, ListOptions::new(Order::Asc)) {
    ///     bytes += record?.record_file_size;
    /// }
    /// println!("{bytes} bytes recorded in 2024");
    /// # Ok(()) }
    /// ```
    pub fn records(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> BlockingRecords<T> {
        let listing = Listing::new(scope, period.into(), &options);
        BlockingRecords {
            client: self.clone(),
            reader: ListReader::new(listing),
        }
    }

    /// [`records`](Self::records) collected: the first error fails the call, except an
    /// undecodable record when `options` skip those.
    pub fn list_with(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> Result<Vec<Record>, Error> {
        let skip = options.skip_undecodable;
        let records = self.records(scope, period, options);
        records
            .filter_map(|item| crate::list::kept(item, skip).transpose())
            .collect()
    }

    /// The records of `scope` in `period` (any length), in `order`, each once.
    ///
    /// A period longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`, and
    /// records at the excluded end of a half-open period are dropped.
    pub fn list(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        self.list_with(scope, period, ListOptions::new(order))
    }
}

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

    pub(super) fn into_reader(self) -> BlockingBody {
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
