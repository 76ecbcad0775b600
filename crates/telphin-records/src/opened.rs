//! An opened download handed to the caller: its headers were a success, its body is read
//! through the size check. One type for both clients; the body decides how it is read.

use record_api::{AsyncBody, BlockingBody, Error, FileInfo, bytes::Bytes};

use crate::download::{CHUNK_SIZE, DownloadCheck, DownloadReport, DownloadSource};

/// A download in progress, from [`Client::open_download`](crate::Client::open_download)
/// (read it with [`next_chunk`](Self::next_chunk)) or
/// [`BlockingClient::open_download`](crate::BlockingClient::open_download) (read it with
/// [`std::io::Read`]). A body shorter or longer than announced is an error of the last read.
pub struct Download<B = Box<dyn AsyncBody>> {
    info: FileInfo,
    body: B,
    check: DownloadCheck,
    source: DownloadSource,
    pending: Option<Bytes>,
    ended: bool,
}

/// An opened download for blocking code: read it with [`std::io::Read`].
pub type BlockingDownload = Download<BlockingBody>;

impl<B> std::fmt::Debug for Download<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("info", &self.info)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl<B> Download<B> {
    pub(crate) fn new(
        (info, check, source): (FileInfo, DownloadCheck, DownloadSource),
        body: B,
    ) -> Self {
        Download {
            info,
            body,
            check,
            source,
            pending: None,
            ended: false,
        }
    }

    /// The same download over another form of its body.
    pub(crate) fn map_body<C>(self, into: impl FnOnce(B) -> C) -> Download<C> {
        Download {
            info: self.info,
            body: into(self.body),
            check: self.check,
            source: self.source,
            pending: self.pending,
            ended: self.ended,
        }
    }

    /// What the headers said: `Content-Length` and the server's file name.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Where the bytes come from.
    pub fn source(&self) -> DownloadSource {
        self.source
    }

    /// What was received, once the body was read to its end; an error before that.
    pub fn report(&self) -> Result<DownloadReport, Error> {
        if !self.ended {
            return Err(Error::Config(
                "the download has not been read to its end".to_owned(),
            ));
        }
        Ok(DownloadReport {
            bytes: self.check.finish()?,
            source: self.source,
            file_name: self.info.file_name.clone(),
        })
    }

    /// Counts `n` more bytes (0: the end), failing on a body longer or shorter than announced.
    fn count(&mut self, n: usize) -> Result<(), Error> {
        if n == 0 {
            self.ended = true;
            self.check.finish().map(drop)
        } else {
            self.check.add(n, std::time::Instant::now())
        }
    }
}

impl Download<Box<dyn AsyncBody>> {
    /// The next chunk (at most [`CHUNK_SIZE`] bytes), or `None` once the whole file, of the
    /// announced size, has arrived.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if let Some(mut pending) = self.pending.take() {
                if pending.len() > CHUNK_SIZE {
                    let chunk = pending.split_to(CHUNK_SIZE);
                    self.pending = Some(pending);
                    return Ok(Some(chunk));
                }
                if !pending.is_empty() {
                    return Ok(Some(pending));
                }
            }
            match self.body.next_chunk().await? {
                Some(chunk) => {
                    self.count(chunk.len())?;
                    self.pending = Some(chunk);
                }
                None => {
                    self.count(0)?;
                    return Ok(None);
                }
            }
        }
    }
}

impl std::io::Read for Download<BlockingBody> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.body.read(buf)?;
        self.count(n).map_err(std::io::Error::other)?;
        Ok(n)
    }
}
