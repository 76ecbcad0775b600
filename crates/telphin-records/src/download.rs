//! Downloads: where the bytes come from, how they are checked, and where they go.

use record_api::{Error, FileInfo};

/// The size of the chunks written to a sink.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Where a record's file is fetched from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DownloadSource {
    /// The API's file route, authenticated (bearer token or PBX login).
    #[default]
    Api,
    /// The record's permanent storage link, fetched without credentials (the provider's
    /// preference for bulk downloads).
    StorageLink,
    /// The storage link; if it fails before a byte is written (or at any point, when the
    /// download goes to a path), the API.
    StorageLinkThenApi,
}

/// How to download a file.
///
/// Which source to choose: the API's file route costs one request per file; a storage link
/// costs a request to learn the link, then the link's own request — twice the requests, unless
/// the link is already known. Links are permanent, so keep them (a backup catalog does) and pass
/// them in with [`with_storage_link`](Self::with_storage_link): a repeated download then costs
/// one request, and none of the API's rate limit. For a first bulk download, prefer
/// [`DownloadSource::Api`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Where the bytes come from.
    pub source: DownloadSource,
    /// The size the file must have, e.g. the record's `record_file_size`.
    pub expected_size: Option<u64>,
    /// The record's storage link, when the caller has it already: no request is spent on
    /// learning it. Its `Debug` output never shows the URL.
    pub storage_link: Option<record_model::StorageLink>,
}

impl DownloadOptions {
    /// Downloads from `source`.
    pub fn from_source(source: DownloadSource) -> Self {
        DownloadOptions {
            source,
            expected_size: None,
            storage_link: None,
        }
    }

    /// Uses `link` as the record's storage link (kept from an earlier
    /// [`storage_link`](crate::BlockingClient::storage_link) call) instead of asking for it.
    /// It is used with [`DownloadSource::StorageLink`] and
    /// [`DownloadSource::StorageLinkThenApi`]; with [`DownloadSource::Api`] it is ignored.
    ///
    /// ```
    /// use telphin_records::{DownloadOptions, DownloadSource, StorageLink};
    ///
    /// let kept = StorageLink::new("https://storage.example/k3y");
    /// let options = DownloadOptions::from_source(DownloadSource::StorageLinkThenApi)
    ///     .with_storage_link(kept)
    ///     .expect_size(925_040);
    /// assert!(!format!("{options:?}").contains("k3y"));
    /// ```
    pub fn with_storage_link(mut self, link: record_model::StorageLink) -> Self {
        self.storage_link = Some(link);
        self
    }

    /// Downloads `record`'s file from `source`, verified against its `record_file_size`.
    pub fn for_record(record: &record_model::Record, source: DownloadSource) -> Self {
        DownloadOptions::from_source(source).expect_size(record.record_file_size)
    }

    /// Requires the file to have `size` bytes.
    pub fn expect_size(mut self, size: u64) -> Self {
        self.expected_size = Some(size);
        self
    }
}

/// What a finished download wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DownloadReport {
    /// Bytes written, verified against every announced size.
    pub bytes: u64,
    /// Where they came from (for [`DownloadSource::StorageLinkThenApi`], the one that worked).
    pub source: DownloadSource,
    /// The server's file name (`Content-Disposition`), if any. Server-controlled: never use it
    /// as a path without sanitising it.
    pub file_name: Option<String>,
}

/// Counts a download's bytes against every size announced for it.
#[derive(Debug)]
pub(crate) struct DownloadCheck {
    expected: Option<(u64, &'static str)>,
    received: u64,
    pace: Option<Pace>,
}

/// The slowest a body may arrive: at least `bytes` in every `window` (see
/// [`ClientBuilder::min_transfer_rate`](crate::ClientBuilder::min_transfer_rate)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinRate {
    pub(crate) bytes_per_second: u64,
    pub(crate) window: std::time::Duration,
}

/// A body's pace: the bytes since the current window began.
#[derive(Debug, Clone, Copy)]
struct Pace {
    floor: MinRate,
    since: Option<std::time::Instant>,
    bytes: u64,
}

impl Pace {
    /// Counts `n` bytes arrived at `now`; the error of a body slower than the floor over a
    /// whole window — a server that drips bytes to keep the connection alive.
    fn add(&mut self, n: usize, now: std::time::Instant) -> Result<(), Error> {
        self.bytes += n as u64;
        let Some(since) = self.since else {
            self.since = Some(now);
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(since);
        if elapsed < self.floor.window {
            return Ok(());
        }
        let needed = (self.floor.bytes_per_second as f64 * elapsed.as_secs_f64()) as u64;
        if self.bytes < needed {
            let rate = self.bytes as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
            return Err(Error::Transport(
                record_api::TransportError::new(record_api::TransportErrorKind::Timeout, true)
                    .with_source(format!(
                        "the body arrived at {rate:.0} B/s over {:.0} s, under the floor of {} \
                         B/s (ClientBuilder::min_transfer_rate)",
                        elapsed.as_secs_f64(),
                        self.floor.bytes_per_second
                    )),
            ));
        }
        self.since = Some(now);
        self.bytes = 0;
        Ok(())
    }
}

impl DownloadCheck {
    /// Checks the announced sizes before a byte is written: `Content-Length` and the expected
    /// size must agree when both are known.
    pub(crate) fn begin(
        info: &FileInfo,
        expected_size: Option<u64>,
        floor: Option<MinRate>,
    ) -> Result<Self, Error> {
        let expected = match (info.content_length, expected_size) {
            (Some(length), Some(size)) if length != size => {
                return Err(Error::SizeMismatch {
                    expected: size,
                    source_of_size: "record_file_size",
                    received: length,
                });
            }
            (_, Some(size)) => Some((size, "record_file_size")),
            (Some(length), None) => Some((length, "Content-Length")),
            (None, None) => None,
        };
        Ok(DownloadCheck {
            expected,
            received: 0,
            pace: floor.map(|floor| Pace {
                floor,
                since: None,
                bytes: 0,
            }),
        })
    }

    /// A check of a download whose size nobody announced.
    pub(crate) fn unchecked() -> Self {
        DownloadCheck {
            expected: None,
            received: 0,
            pace: None,
        }
    }

    /// Counts `n` more bytes arrived at `now`, failing as soon as more arrive than were
    /// announced, or when the body has arrived slower than the floor over a whole window.
    pub(crate) fn add(&mut self, n: usize, now: std::time::Instant) -> Result<(), Error> {
        if let Some(pace) = &mut self.pace {
            pace.add(n, now)?;
        }
        self.received += n as u64;
        match self.expected {
            Some((expected, source_of_size)) if self.received > expected => {
                Err(Error::SizeMismatch {
                    expected,
                    source_of_size,
                    received: self.received,
                })
            }
            _ => Ok(()),
        }
    }

    /// The byte count once the body ended, if it is the announced one.
    pub(crate) fn finish(&self) -> Result<u64, Error> {
        match self.expected {
            Some((expected, source_of_size)) if self.received != expected => {
                Err(Error::SizeMismatch {
                    expected,
                    source_of_size,
                    received: self.received,
                })
            }
            _ => Ok(self.received),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(length: Option<u64>) -> FileInfo {
        let mut info = FileInfo::default();
        info.content_length = length;
        info
    }

    #[test]
    fn sizes_must_agree_before_writing() {
        assert!(DownloadCheck::begin(&info(Some(10)), Some(11), None).is_err());
        assert!(DownloadCheck::begin(&info(Some(10)), Some(10), None).is_ok());
        assert!(DownloadCheck::begin(&info(None), None, None).is_ok());
    }

    #[test]
    fn a_body_slower_than_the_floor_over_a_window_fails_as_a_timeout() {
        let floor = MinRate {
            bytes_per_second: 1024,
            window: std::time::Duration::from_secs(30),
        };
        let start = std::time::Instant::now();
        let at = |s: u64| start + std::time::Duration::from_secs(s);
        // A steady 2 KiB/s passes window after window.
        let mut check = DownloadCheck::begin(&info(None), None, Some(floor)).unwrap();
        for s in 0..100 {
            check.add(2048, at(s)).unwrap();
        }
        // A server that drips a byte a second fails once a window has passed.
        let mut check = DownloadCheck::begin(&info(None), None, Some(floor)).unwrap();
        let failed = (0..40).find_map(|s| check.add(1, at(s)).err()).unwrap();
        assert!(
            matches!(&failed, Error::Transport(e) if e.kind() == record_api::TransportErrorKind::Timeout),
            "{failed}"
        );
        // No floor: never.
        let mut check = DownloadCheck::begin(&info(None), None, None).unwrap();
        for s in 0..100 {
            check.add(1, at(s)).unwrap();
        }
    }

    #[test]
    fn short_and_long_bodies_are_caught() {
        let mut check = DownloadCheck::begin(&info(Some(10)), None, None).unwrap();
        let now = std::time::Instant::now();
        check.add(6, now).unwrap();
        assert!(matches!(
            check.finish(),
            Err(Error::SizeMismatch { received: 6, .. })
        ));
        check.add(4, now).unwrap();
        assert_eq!(check.finish().unwrap(), 10);
        assert!(
            check.add(1, now).is_err(),
            "more than announced fails at once"
        );
    }
}
