#![no_main]
//! A token answer: decodes or fails without quoting it (it may hold a token).
use libfuzzer_sys::fuzz_target;
use record_api::{Endpoint, Grant, Secret, TokenRequest};

fuzz_target!(|data: &[u8]| {
    let request = TokenRequest::new("app", Secret::new("s3cret"), Grant::ClientCredentials);
    match request.decode(&telphin_records_fuzz::ok(data)) {
        Ok(_) => {}
        Err(error) => {
            telphin_records_fuzz::assert_short(&error);
            if data.len() >= 12 {
                // A sensitive body is never quoted: no 12-byte run of it shows.
                let shown = format!("{error} {error:?}");
                let run = &data[..12];
                if run.iter().all(|b| b.is_ascii_alphanumeric()) {
                    assert!(!shown.contains(std::str::from_utf8(run).unwrap_or("\u{0}")));
                }
            }
        }
    }
});
