//! The generated call centre's customers, shared by the catalog's generator and the web page's
//! measure (which searches their numbers).

/// A small, fast, deterministic mix (SplitMix64).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The number of customer `c`.
pub fn customer(c: u64) -> String {
    format!("7916{:07}", mix(c) % 10_000_000)
}
