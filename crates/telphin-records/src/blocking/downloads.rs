//! Downloads with the blocking client: into any `Write`, into a file renamed into place once
//! complete, or opened for the caller to read.

use std::io::{Seek, Write};
use std::path::Path;

use record_api::BlockingTransport;

use super::BlockingClient;
use super::io::run;
use super::records::ReadBody;
use crate::driver;
use crate::executor_prelude::*;
use crate::io::{Sink, cannot_reset};
use crate::opened::BlockingDownload;
use crate::part_file::PartFile;

impl<T: BlockingTransport> BlockingClient<T> {
    /// Opens a record's file for reading: the status is checked and the sizes compared before
    /// the first byte is handed out. With [`DownloadSource::StorageLinkThenApi`], a storage
    /// link that fails to open falls back to the API.
    pub fn open_download(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
    ) -> Result<BlockingDownload, Error> {
        let transfer = self.handle.transfer(scope, record_uuid, options, false);
        let opened = run(driver::open_download(self, transfer))?;
        Ok(opened.map_body(ReadBody::into_reader))
    }

    /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`](crate::CHUNK_SIZE)
    /// bytes.
    ///
    /// The status is checked before a byte is written, and the byte count is verified against
    /// `Content-Length` and `options.expected_size`. A body that breaks before the first byte
    /// is retried (or, with [`DownloadSource::StorageLinkThenApi`], fetched from the API); once
    /// `sink` holds part of the file, an error is returned and `sink` may hold that part:
    /// [`download_to_path`](Self::download_to_path) retries from zero and never leaves a
    /// partial file.
    pub fn download<W: Write>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        sink: &mut W,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let transfer = self.handle.transfer(scope, record_uuid, options, false);
        run(driver::download(self, transfer, &mut Writer(sink)))
    }

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete, verified and synced, so nothing partial ever stands at `path`. A body
    /// that breaks is downloaded again from zero under the retry policy; with
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API. Stale temporary files of `path` left by killed runs are
    /// removed first.
    pub fn download_to_path(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let (path, part) = (path.as_ref(), PartFile::create(path.as_ref())?);
        let sink = FileSink(part.as_file().try_clone().map_err(Error::Sink)?);
        let transfer = self.handle.transfer(scope, record_uuid, options, true);
        run(driver::download_to_path(self, transfer, sink, part, path))
    }

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    pub fn download_record<W: Write>(
        &self,
        scope: Scope,
        record: &Record,
        sink: &mut W,
        source: DownloadSource,
    ) -> Result<DownloadReport, Error> {
        let options = DownloadOptions::for_record(record, source);
        self.download(scope, &record.record_uuid, sink, options)
    }
}

/// A caller's writer: written and flushed, never emptied.
pub(super) struct Writer<'a, W>(pub(super) &'a mut W);

impl<W: Write> Sink for Writer<'_, W> {
    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }

    async fn reset(&mut self) -> std::io::Result<()> {
        Err(cannot_reset())
    }

    async fn sync(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A temporary file: emptied to start over, synced before it is renamed into place.
pub(super) struct FileSink(pub(super) std::fs::File);

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
