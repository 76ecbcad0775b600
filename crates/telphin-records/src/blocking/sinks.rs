//! Where the blocking client's downloads go: a caller's `Write`, or a temporary file renamed
//! into place once complete.

use std::io::{Seek, Write};

use record_api::Error;

use crate::io::Sink;
use crate::part_file::PartFile;

/// A caller's writer: written and flushed, never emptied.
pub(crate) struct Writer<'a, W>(pub(crate) &'a mut W);

impl<W: Write> Sink for Writer<'_, W> {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A temporary file: emptied to start over, synced before it is renamed into place.
pub(crate) struct FileSink(std::fs::File);

impl FileSink {
    /// A sink writing to `part`'s file.
    pub(crate) fn new(part: &PartFile) -> Result<Self, Error> {
        let file = part.as_file().try_clone().map_err(Error::Sink)?;
        Ok(FileSink(file))
    }
}

impl Sink for FileSink {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }

    async fn reset(&mut self) -> std::io::Result<()> {
        self.0.set_len(0)?;
        self.0.rewind()
    }

    async fn sync(&mut self) -> std::io::Result<()> {
        self.0.sync_all()
    }
}
