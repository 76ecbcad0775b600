//! A record list decoded as its bytes arrive: one record at a time, whatever the list's size.

use record_model::Record;
use serde::Deserialize;

use crate::Error;
use crate::response::{bounded, snippet};

/// The largest single record the decoder accepts, in bytes. Real records are under 2 KiB; the
/// bound keeps a broken or hostile answer from growing the buffer without end.
pub const RECORD_SIZE_LIMIT: usize = 1 << 20;

/// Decodes the body of a record list (a JSON array of records) as it arrives, chunk by chunk
/// (decompressed already), so memory holds one record and one chunk, not the list.
///
/// Feed it with [`push`](Self::push), take what is complete with
/// [`next_record`](Self::next_record), and call [`finish`](Self::finish) at the end of the
/// body. One record that cannot be decoded gives [`Error::UndecodableRecord`] and the next
/// records still come; a body that is not a JSON array, or that breaks off, is an error of
/// the whole list.
///
/// ```
/// use record_api::ListDecoder;
///
/// let body = br#"[{"record_uuid": "30-AB"}, {"record_uuid": 7}]"#;
/// let mut decoder = ListDecoder::new();
/// for chunk in body.chunks(5) {
///     decoder.push(chunk);
/// }
/// let first = decoder.next_record().unwrap().unwrap_err();
/// assert!(first.to_string().contains("\"30-AB\""), "{first}");
/// assert!(decoder.next_record().unwrap().is_err());
/// assert!(decoder.next_record().is_none());
/// decoder.finish()?;
/// assert_eq!(decoder.elements(), 2);
/// # Ok::<(), record_api::Error>(())
/// ```
#[derive(Debug)]
pub struct ListDecoder {
    /// Bytes received and not consumed yet.
    buf: Vec<u8>,
    /// How far `buf` has been scanned.
    scanned: usize,
    /// Where the element being scanned starts in `buf`.
    element_start: usize,
    state: State,
    depth: u32,
    in_string: bool,
    escaped: bool,
    elements: u64,
    /// A whole-list error, reported once.
    failed: Option<Error>,
    /// The element being read is scanned for its end, not decoded in place.
    scanning: bool,
    /// How many bytes of an element must be at hand before it is decoded in place.
    in_place_min: usize,
}

/// An element decoded in place needs this many bytes at hand; with fewer, it is scanned for its
/// end first (as when decoding in place finds it incomplete). A record is under 2 KiB.
const IN_PLACE_MIN: usize = 4096;

/// The next element of the list. Returned at once and taken apart by the caller: boxing the
/// record to even out the variants would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
enum Element {
    /// Decoded where it lies in the buffer.
    Record(Record),
    /// Found by scanning: its byte range, to decode.
    Span(usize, usize),
}

impl Default for ListDecoder {
    fn default() -> Self {
        ListDecoder {
            buf: Vec::new(),
            scanned: 0,
            element_start: 0,
            state: State::default(),
            depth: 0,
            in_string: false,
            escaped: false,
            elements: 0,
            failed: None,
            scanning: false,
            in_place_min: IN_PLACE_MIN,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    BeforeArray,
    BeforeElement,
    /// After `[`: an element or `]`.
    FirstElement,
    InElement,
    AfterElement,
    Ended,
}

impl ListDecoder {
    /// A decoder waiting for the list's `[`.
    pub fn new() -> Self {
        ListDecoder::default()
    }

    /// Appends the next bytes of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.element_start > 0 && self.element_start >= self.buf.len() / 2 {
            self.buf.drain(..self.element_start);
            self.scanned -= self.element_start;
            self.element_start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// How many elements of the list have been taken so far, decodable or not.
    pub fn elements(&self) -> u64 {
        self.elements
    }

    /// The next complete record, `Some(Err)` for a record that cannot be decoded (or for a
    /// body that is not a record list: then nothing more comes), or `None` until more bytes
    /// are pushed.
    pub fn next_record(&mut self) -> Option<Result<Record, Error>> {
        if self.failed.is_some() {
            return None;
        }
        match self.next_element() {
            Ok(Some(Element::Record(record))) => {
                self.elements += 1;
                Some(Ok(record))
            }
            Ok(Some(Element::Span(start, end))) => {
                self.elements += 1;
                Some(decode_record(&self.buf[start..end]))
            }
            Ok(None) => None,
            Err(error) => {
                let again = match &error {
                    Error::Decode { source, .. } => shape_error(&source.to_string()),
                    other => shape_error(&other.to_string()),
                };
                self.failed = Some(again);
                Some(Err(error))
            }
        }
    }

    /// The body has ended: an error unless the list was complete (its `]` arrived and every
    /// record was taken).
    pub fn finish(&mut self) -> Result<(), Error> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        match self.state {
            State::Ended => Ok(()),
            _ if self.buf[self.element_start..]
                .iter()
                .all(u8::is_ascii_whitespace)
                && self.state == State::BeforeArray =>
            {
                Err(shape_error("the body is empty"))
            }
            _ => Err(shape_error("the body ended in the middle of the list")),
        }
    }

    /// The next element, or `None` until more bytes come.
    ///
    /// An element is first decoded where it lies: serde_json finds its end as it reads it, so
    /// its bytes are read once. Scanning each byte for the element's end before decoding it
    /// cost more than half the decoding. Only an element that is not complete yet or cannot be
    /// decoded (which then must be skipped whole) is scanned.
    fn next_element(&mut self) -> Result<Option<Element>, Error> {
        while self.scanned < self.buf.len() {
            if self.state == State::InElement && !self.scanning {
                self.scanning = true;
                if let Some((record, end)) = self.decode_in_place() {
                    self.state = State::AfterElement;
                    self.scanned = end;
                    self.element_start = end;
                    return Ok(Some(Element::Record(record)));
                }
            }
            if self.state == State::InElement && self.in_string && !self.escaped {
                // Most of a record is string bytes: skip to the next quote or backslash at once.
                let rest = &self.buf[self.scanned..];
                match memchr::memchr2(b'"', b'\\', rest) {
                    Some(offset) => self.scanned += offset,
                    None => self.scanned = self.buf.len(),
                }
                if self.scanned - self.element_start > RECORD_SIZE_LIMIT {
                    return Err(shape_error(&format!(
                        "a record is larger than {RECORD_SIZE_LIMIT} bytes"
                    )));
                }
                if self.scanned == self.buf.len() {
                    break;
                }
            }
            let byte = self.buf[self.scanned];
            let at = self.scanned;
            self.scanned += 1;
            match self.state {
                State::BeforeArray => match byte {
                    b'[' => self.state = State::FirstElement,
                    b if b.is_ascii_whitespace() => {}
                    _ => {
                        return Err(shape_error(&format!(
                            "expected a list, found {}",
                            self.near(at)
                        )));
                    }
                },
                State::FirstElement | State::BeforeElement => match byte {
                    b if b.is_ascii_whitespace() => {}
                    b']' if self.state == State::FirstElement => self.state = State::Ended,
                    _ => {
                        self.element_start = at;
                        self.state = State::InElement;
                        self.depth = 0;
                        self.in_string = false;
                        self.escaped = false;
                        self.scanning = false;
                        self.scanned = at;
                    }
                },
                State::InElement => {
                    if let Some(end) = self.scan_element(at, byte) {
                        self.state = State::AfterElement;
                        let start = self.element_start;
                        self.element_start = end;
                        return Ok(Some(Element::Span(start, end)));
                    }
                    if at + 1 - self.element_start > RECORD_SIZE_LIMIT {
                        return Err(shape_error(&format!(
                            "a record is larger than {RECORD_SIZE_LIMIT} bytes"
                        )));
                    }
                }
                State::AfterElement => match byte {
                    b if b.is_ascii_whitespace() => {}
                    b',' => self.state = State::BeforeElement,
                    b']' => self.state = State::Ended,
                    _ => {
                        return Err(shape_error(&format!(
                            "expected `,` or `]`, found {}",
                            self.near(at)
                        )));
                    }
                },
                State::Ended => {
                    if !byte.is_ascii_whitespace() {
                        return Err(shape_error("bytes after the end of the list"));
                    }
                }
            }
            // Between elements nothing scanned is needed again: let `push` drop it, so that
            // endless whitespace cannot grow the buffer.
            if self.state != State::InElement {
                self.element_start = self.scanned;
            }
        }
        Ok(None)
    }

    /// The record starting at `element_start` and where it ends, when the buffer holds all of
    /// it and it decodes; `None` sends the element to the scanner.
    fn decode_in_place(&self) -> Option<(Record, usize)> {
        let rest = self.buf.get(self.element_start..)?;
        if rest.len() < self.in_place_min {
            return None;
        }
        let mut reader = serde_json::Deserializer::from_slice(rest).into_iter::<Record>();
        let record = reader.next()?.ok()?;
        Some((record, self.element_start + reader.byte_offset()))
    }

    /// One byte of an element: the element's end (exclusive) once it is complete.
    fn scan_element(&mut self, at: usize, byte: u8) -> Option<usize> {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => {
                    self.in_string = false;
                    return (self.depth == 0).then_some(at + 1);
                }
                _ => {}
            }
            return None;
        }
        match byte {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' if self.depth > 0 => {
                self.depth -= 1;
                return (self.depth == 0).then_some(at + 1);
            }
            // A scalar element (not a record) ends at the next separator.
            b',' | b']' | b'}' if self.depth == 0 => {
                self.scanned = at;
                return Some(at);
            }
            b if b.is_ascii_whitespace() && self.depth == 0 => return Some(at),
            _ => {}
        }
        None
    }

    fn near(&self, at: usize) -> String {
        format!("{:?}", snippet(&self.buf[at..]))
    }
}

/// The part of a record that is read when the rest cannot be.
#[derive(Deserialize)]
struct UuidOnly {
    record_uuid: Option<serde_json::Value>,
}

fn decode_record(bytes: &[u8]) -> Result<Record, Error> {
    serde_json::from_slice(bytes).map_err(|source| {
        let record_uuid = serde_json::from_slice::<UuidOnly>(bytes)
            .ok()
            .and_then(|only| only.record_uuid)
            .map(|uuid| match uuid {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            });
        Error::UndecodableRecord {
            record_uuid,
            source: bounded(source),
        }
    })
}

fn shape_error(message: &str) -> Error {
    Error::Decode {
        what: "record list",
        source: <serde_json::Error as serde::de::Error>::custom(message),
        snippet: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(uuid: &str, extra: &str) -> String {
        format!(
            r#"{{"record_uuid": "{uuid}", "call_uuid": "c", "client_owner_id": 30,
            "duration": 0, "extension_id": 1, "extension_name": "n", "extension_type": "phone",
            "flow": "in", "init_time_gmt": "2024-01-01 00:00:00.5", "record_file_size": 1,
            "result": "answered", "note": "a \"quoted\" ] }} [ {{ text"{extra}}}"#
        )
    }

    fn decode_in_chunks(
        body: &[u8],
        size: usize,
    ) -> (Vec<Result<Record, String>>, Result<(), String>) {
        let scanned = decode_in_chunks_with(body, size, usize::MAX);
        let in_place = decode_in_chunks_with(body, size, 0);
        assert_eq!(scanned, in_place, "decoding in place changed the list");
        in_place
    }

    /// Decodes `body` pushed `size` bytes at a time; elements are decoded in place once
    /// `in_place_min` bytes of them are at hand (`usize::MAX`: always scanned first).
    fn decode_in_chunks_with(
        body: &[u8],
        size: usize,
        in_place_min: usize,
    ) -> (Vec<Result<Record, String>>, Result<(), String>) {
        let mut decoder = ListDecoder::new();
        decoder.in_place_min = in_place_min;
        let mut items = Vec::new();
        for chunk in body.chunks(size) {
            decoder.push(chunk);
            while let Some(item) = decoder.next_record() {
                items.push(item.map_err(|e| e.to_string()));
            }
        }
        (items, decoder.finish().map_err(|e| e.to_string()))
    }

    #[test]
    fn any_chunking_gives_the_same_records() {
        let body = format!(
            " [ {} ,\n{}, {} ] \n",
            record("30-A1", ""),
            record("30-B2", r#", "nested": {"a": [1, {"b": "}"}]}"#),
            record("30-C3", "")
        );
        let whole: Vec<Record> = serde_json::from_str(&body).unwrap();
        for size in [1, 2, 3, 7, 64, 4096] {
            let (items, end) = decode_in_chunks(body.as_bytes(), size);
            assert_eq!(end, Ok(()));
            let records: Vec<Record> = items.into_iter().map(Result::unwrap).collect();
            assert_eq!(records, whole, "chunks of {size}");
        }
    }

    #[test]
    fn one_bad_record_does_not_lose_the_others() {
        let bad = record("30-B2", "").replace("\"duration\": 0", "\"duration\": \"long\"");
        let body = format!("[{},{bad},7,{}]", record("30-A1", ""), record("30-C3", ""));
        let (items, end) = decode_in_chunks(body.as_bytes(), 5);
        assert_eq!(end, Ok(()));
        assert_eq!(items.len(), 4);
        assert!(items[0].is_ok() && items[3].is_ok());
        let error = items[1].as_ref().unwrap_err();
        assert!(
            error.contains("\"30-B2\"") && error.contains("\"long\""),
            "{error}"
        );
        assert!(
            items[2]
                .as_ref()
                .unwrap_err()
                .contains("without a readable record_uuid")
        );
    }

    #[test]
    fn broken_bodies_are_errors_of_the_list() {
        for (body, message) in [
            ("", "empty"),
            ("  ", "empty"),
            ("[", "middle"),
            (&format!("[{}", record("30-A1", "")) as &str, "middle"),
            (r#"{"message": "oops"}"#, "expected a list"),
            ("[1 2]", "expected `,` or `]`"),
            ("[] x", "after the end"),
        ] {
            let (items, end) = decode_in_chunks(body.as_bytes(), 3);
            let errors = items.iter().filter(|item| item.is_err()).count();
            let whole = end.unwrap_err();
            assert!(whole.contains(message), "{body:?}: {whole}");
            // At most the element before the break, then the break itself.
            assert!(errors <= 2, "{body:?}");
        }
        assert_eq!(decode_in_chunks(b"[ ]", 1), (vec![], Ok(())));
    }

    #[test]
    fn whitespace_between_elements_is_not_kept() {
        let mut decoder = ListDecoder::new();
        let blank = vec![b' '; 64 * 1024];
        for _ in 0..64 {
            decoder.push(&blank);
            assert!(decoder.next_record().is_none());
        }
        decoder.push(b"[");
        for _ in 0..64 {
            decoder.push(&blank);
            assert!(decoder.next_record().is_none());
        }
        assert!(
            decoder.buf.len() <= 2 * blank.len() + 1,
            "{}",
            decoder.buf.len()
        );
        decoder.push(b"]");
        assert!(decoder.next_record().is_none());
        assert!(decoder.finish().is_ok());
    }

    #[test]
    fn a_huge_element_stops_the_list() {
        let mut decoder = ListDecoder::new();
        decoder.push(b"[\"");
        decoder.push(&vec![b'x'; RECORD_SIZE_LIMIT + 1]);
        let error = decoder.next_record().unwrap().unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
        assert!(decoder.next_record().is_none());
        assert!(decoder.finish().is_err());
    }
}
