#![no_main]
//! `X-RateLimit-*` headers of any text.
use libfuzzer_sys::fuzz_target;
use record_api::{http, rate_limit_of};

fuzz_target!(|data: &[u8]| {
    let mut headers = http::HeaderMap::new();
    let names = [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ];
    for (name, value) in names.iter().zip(data.split(|b| *b == 0xff)) {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            headers.insert(*name, value);
        }
    }
    let _ = rate_limit_of(&headers);
});
