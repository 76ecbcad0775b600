//! Downloads into `AsyncWrite` sinks and files, with tokio's I/O traits.

use tokio::io::{AsyncSeekExt as _, AsyncWrite, AsyncWriteExt as _, BufWriter};

use record_api::Error;

use crate::io::Sink;
use crate::part_file::PartFile;

/// How much of a file download is gathered before one write: each write of a
/// `tokio::fs::File` is a round trip through tokio's blocking pool, so writing every transport
/// chunk (16 to 64 KiB) on its own cost 1.45× the CPU of writing in large pieces.
const FILE_BUFFER: usize = 256 << 10;

/// A caller's writer: written and flushed, never emptied.
pub(crate) struct Writer<'a, W>(pub(crate) &'a mut W);

impl<W: AsyncWrite + Unpin + Send> Sink for Writer<'_, W> {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }
}

/// A temporary file behind a large buffer: emptied to start over, synced before it is renamed.
pub(crate) struct FileSink(BufWriter<tokio::fs::File>);

impl FileSink {
    /// A sink writing to `part`'s file through a buffer of [`FILE_BUFFER`] bytes.
    pub(crate) fn new(part: &PartFile) -> Result<Self, Error> {
        let file = part.as_file().try_clone().map_err(Error::Sink)?;
        Ok(FileSink(BufWriter::with_capacity(FILE_BUFFER, file.into())))
    }
}

impl Sink for FileSink {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }

    async fn reset(&mut self) -> std::io::Result<()> {
        // Whatever is still buffered goes out first, then the file is emptied.
        self.0.flush().await?;
        let file = self.0.get_mut();
        file.set_len(0).await?;
        file.rewind().await.map(drop)
    }

    async fn sync(&mut self) -> std::io::Result<()> {
        self.0.flush().await?;
        self.0.get_mut().sync_all().await
    }
}
