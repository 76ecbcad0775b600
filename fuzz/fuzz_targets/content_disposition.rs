#![no_main]
//! `Content-Disposition` and `Content-Length` of any text.
use libfuzzer_sys::fuzz_target;
use record_api::{FileInfo, http};

fuzz_target!(|data: &[u8]| {
    let mut headers = http::HeaderMap::new();
    let (disposition, length) = data.split_at(data.len() / 2);
    if let Ok(value) = http::HeaderValue::from_bytes(disposition) {
        headers.insert(http::header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = http::HeaderValue::from_bytes(length) {
        headers.insert(http::header::CONTENT_LENGTH, value);
    }
    let info = FileInfo::from_headers(&headers);
    if let Some(name) = info.file_name {
        assert!(!name.is_empty());
    }
});
