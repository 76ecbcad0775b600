#![no_main]
//! Error answers of any status and body: a typed error, short, never a panic.
use libfuzzer_sys::fuzz_target;
use record_api::{error_for_status, http};

fuzz_target!(|data: &[u8]| {
    let Some((&code, body)) = data.split_first() else {
        return;
    };
    let status = http::StatusCode::from_u16(400 + u16::from(code) % 200)
        .unwrap_or(http::StatusCode::BAD_REQUEST);
    let error = error_for_status(status, &http::HeaderMap::new(), body)
        .expect("an error status is an error");
    telphin_records_fuzz::assert_short(&error);
    telphin_records_fuzz::assert_short(&format!("{error:?}"));
});
