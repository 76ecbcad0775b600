//! A small deterministic generator (SplitMix64): the same seed gives the same data everywhere.

/// SplitMix64: fast, stateless to jump around in, good enough for test data.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `[low, high)`; `low` when the range is empty.
    pub(crate) fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low)
    }

    /// `true` with probability `percent / 100`.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }

    /// `digits` hexadecimal digits.
    pub(crate) fn hex(&mut self, digits: usize, upper: bool) -> String {
        let mut out = String::with_capacity(digits);
        while out.len() < digits {
            let word = self.next_u64();
            let text = if upper {
                format!("{word:016X}")
            } else {
                format!("{word:016x}")
            };
            out.push_str(&text);
        }
        out.truncate(digits);
        out
    }
}

/// The SplitMix64 output function: a good 64-bit mix of `z`.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
