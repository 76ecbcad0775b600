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
}

impl DownloadCheck {
    /// Checks the announced sizes before a byte is written: `Content-Length` and the expected
    /// size must agree when both are known.
    pub(crate) fn begin(info: &FileInfo, expected_size: Option<u64>) -> Result<Self, Error> {
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
        })
    }

    /// A check of a download whose size nobody announced.
    pub(crate) fn unchecked() -> Self {
        DownloadCheck {
            expected: None,
            received: 0,
        }
    }

    /// Counts `n` more bytes, failing as soon as more arrive than were announced.
    pub(crate) fn add(&mut self, n: usize) -> Result<(), Error> {
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
        assert!(DownloadCheck::begin(&info(Some(10)), Some(11)).is_err());
        assert!(DownloadCheck::begin(&info(Some(10)), Some(10)).is_ok());
        assert!(DownloadCheck::begin(&info(None), None).is_ok());
    }

    #[test]
    fn short_and_long_bodies_are_caught() {
        let mut check = DownloadCheck::begin(&info(Some(10)), None).unwrap();
        check.add(6).unwrap();
        assert!(matches!(
            check.finish(),
            Err(Error::SizeMismatch { received: 6, .. })
        ));
        check.add(4).unwrap();
        assert_eq!(check.finish().unwrap(), 10);
        assert!(check.add(1).is_err(), "more than announced fails at once");
    }
}
