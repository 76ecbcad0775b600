#![no_main]
//! The blocking transport's HTTP/1.1 response parser: heads, chunked, lengths, close.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let head = data.first().is_some_and(|b| b & 1 == 1);
    transport_blocking::fuzzing::read_response(data, head, 1 << 20);
});
