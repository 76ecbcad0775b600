#![no_main]
//! A storage-link answer, and the request made from what it decodes to.
use libfuzzer_sys::fuzz_target;
use record_api::{Endpoint, StorageUrl, storage_link_request};

fuzz_target!(|data: &[u8]| {
    let endpoint = StorageUrl::new(telphin_records_fuzz::scope(), telphin_records_fuzz::uuid());
    match endpoint.decode(&telphin_records_fuzz::ok(data)) {
        Ok(link) => {
            if let Ok(request) = storage_link_request(&link, None, false) {
                assert!(request.headers().get("authorization").is_none());
            }
        }
        Err(error) => telphin_records_fuzz::assert_short(&error),
    }
});
