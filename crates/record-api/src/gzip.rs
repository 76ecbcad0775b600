//! What every transport does alike with a gzip-compressed answer: read the headers that say
//! so, and bound how far a buffered answer may grow by decoding.

use crate::{TransportError, TransportErrorKind};

/// The most a gzip-compressed answer that a transport buffers whole (`send`) may decode to:
/// the API's JSON answers are far smaller, and a compressed "bomb" stops here.
pub const BUFFERED_GZIP_LIMIT: u64 = 64 * 1024 * 1024;

/// The most a buffered gzip-compressed answer may grow by decoding, once it is over
/// [`GZIP_RATIO_FROM`] decoded: JSON compresses tens of times, a bomb a thousand.
pub const BUFFERED_GZIP_RATIO: u64 = 200;

/// The decoded size from which [`BUFFERED_GZIP_RATIO`] applies.
pub const GZIP_RATIO_FROM: u64 = 1024 * 1024;

/// Whether `headers` say the body is gzip-compressed; if so, removes the headers that describe
/// the compressed body (`Content-Encoding`, `Content-Length`), as a transport that decodes it
/// must.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::CONTENT_ENCODING, "GZIP".parse()?);
/// headers.insert(http::header::CONTENT_LENGTH, "10".parse()?);
/// assert!(record_api::take_gzip(&mut headers));
/// assert!(headers.is_empty());
/// # Ok::<(), http::header::InvalidHeaderValue>(())
/// ```
pub fn take_gzip(headers: &mut http::HeaderMap) -> bool {
    let gzip = headers
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if gzip {
        headers.remove(http::header::CONTENT_ENCODING);
        headers.remove(http::header::CONTENT_LENGTH);
    }
    gzip
}

/// Whether a buffered gzip answer may go on growing: `decoded` bytes so far, out of
/// `compressed` bytes read. An error of kind `BodyTooLarge` past [`BUFFERED_GZIP_LIMIT`], or
/// past [`BUFFERED_GZIP_RATIO`] once over [`GZIP_RATIO_FROM`].
///
/// ```
/// use record_api::gzip_growth;
/// assert!(gzip_growth(900 * 1024, 1024).is_ok());
/// assert!(gzip_growth(2 * 1024 * 1024, 1024).is_err());
/// assert!(gzip_growth(2 * 1024 * 1024, 200 * 1024).is_ok());
/// ```
pub fn gzip_growth(decoded: u64, compressed: u64) -> Result<(), TransportError> {
    let refused = |why: &'static str| {
        TransportError::new(TransportErrorKind::BodyTooLarge, true).with_source(why)
    };
    if decoded > BUFFERED_GZIP_LIMIT {
        return Err(refused(
            "the gzip-compressed response body decodes to more than 64 MiB",
        ));
    }
    if decoded > GZIP_RATIO_FROM && decoded / compressed.max(1) > BUFFERED_GZIP_RATIO {
        return Err(refused(
            "the gzip-compressed response body decodes to over 200 times its size",
        ));
    }
    Ok(())
}
