//! Downloads into `AsyncWrite` sinks and files, with tokio's I/O traits.

use std::path::Path;

use tokio::io::{AsyncSeekExt as _, AsyncWrite, AsyncWriteExt as _, BufWriter};

use record_api::AsyncTransport;

use super::Client;
use crate::driver;
use crate::executor_prelude::*;
use crate::io::{Sink, cannot_reset};
use crate::part_file::PartFile;

/// How much of a file download is gathered before one write: each write of a
/// `tokio::fs::File` is a round trip through tokio's blocking pool, so writing every transport
/// chunk (16 to 64 KiB) on its own cost 1.45× the CPU of writing in large pieces.
const FILE_BUFFER: usize = 256 << 10;

/// A caller's writer: written and flushed, never emptied.
struct Writer<'a, W>(&'a mut W);

impl<W: AsyncWrite + Unpin + Send> Sink for Writer<'_, W> {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes).await
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }

    async fn reset(&mut self) -> std::io::Result<()> {
        Err(cannot_reset())
    }

    async fn sync(&mut self) -> std::io::Result<()> {
        self.0.flush().await
    }
}

/// A temporary file behind a large buffer: emptied to start over, synced before it is renamed.
struct FileSink(BufWriter<tokio::fs::File>);

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

impl<T: AsyncTransport + 'static> Client<T> {
    /// Streams a record's file into `sink` in chunks of at most
    /// [`CHUNK_SIZE`](crate::CHUNK_SIZE) bytes, verified against `Content-Length` and
    /// `options.expected_size`.
    ///
    /// A body that breaks before the first byte is retried (or, with
    /// [`DownloadSource::StorageLinkThenApi`], fetched from the API); once `sink` holds part of
    /// the file, an error is returned and `sink` may hold that part:
    /// [`download_to_path`](Self::download_to_path) retries from zero and never leaves a
    /// partial file.
    pub fn download<W>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        sink: &mut W,
        options: DownloadOptions,
    ) -> impl Future<Output = Result<DownloadReport, Error>> + Send
    where
        W: AsyncWrite + Unpin + Send,
    {
        let transfer = self.handle.transfer(scope, record_uuid, options, false);
        async move { driver::download(self, transfer, &mut Writer(sink)).await }
    }

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    pub fn download_record<W>(
        &self,
        scope: Scope,
        record: &Record,
        sink: &mut W,
        source: DownloadSource,
    ) -> impl Future<Output = Result<DownloadReport, Error>> + Send
    where
        W: AsyncWrite + Unpin + Send,
    {
        let options = DownloadOptions::for_record(record, source);
        self.download(scope, &record.record_uuid, sink, options)
    }

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete, verified and synced, so nothing partial ever stands at `path` — not
    /// even when this future is dropped midway (the temporary file is removed then). A body
    /// that breaks is downloaded again from zero under the retry policy; with
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API. Stale temporary files of `path` left by killed runs are
    /// removed first.
    pub async fn download_to_path<P: AsRef<Path>>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: P,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let (path, part) = (path.as_ref(), PartFile::create(path.as_ref())?);
        let file = part.as_file().try_clone().map_err(Error::Sink)?;
        let sink = FileSink(BufWriter::with_capacity(FILE_BUFFER, file.into()));
        let transfer = self.handle.transfer(scope, record_uuid, options, true);
        driver::download_to_path(self, transfer, sink, part, path).await
    }
}
