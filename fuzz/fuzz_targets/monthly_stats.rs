#![no_main]
//! Monthly statistics.
use libfuzzer_sys::fuzz_target;
use record_api::{Endpoint, MonthlyRecordStats};
use record_model::ClientId;

fuzz_target!(|data: &[u8]| {
    let monthly = MonthlyRecordStats::new(ClientId::Me);
    if let Err(error) = monthly.decode(&telphin_records_fuzz::ok(data)) {
        telphin_records_fuzz::assert_short(&error);
    }
});
