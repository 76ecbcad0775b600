//! The listing fuzz target's check (`fuzz/fuzz_targets/listing.rs`) on a fixed spread of
//! inputs, so that every CI run holds what the fuzzer looks for: against a server that repeats,
//! shuffles and misplaces records, every record of the period is handed out, each once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fuzz/src/listing.rs"]
mod listing;

/// `length` bytes from `seed` (xorshift): inputs the fuzzer might have found.
fn input(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

#[test]
fn every_record_of_the_period_once_whatever_the_server_repeats() {
    for seed in 0..256 {
        listing::check(&input(seed, 24 + (seed as usize % 200)));
    }
}

#[test]
fn an_empty_input_lists_one_record() {
    listing::check(&[]);
}
