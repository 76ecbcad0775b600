//! SHA-256 of a stream of chunks, with its length.

use sha2::{Digest as _, Sha256};

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

/// The SHA-256 and size of the bytes seen so far.
#[derive(Default)]
pub(crate) struct Fingerprint {
    hasher: Sha256,
    size: u64,
}

impl Fingerprint {
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// `(size, hex SHA-256)`.
    pub(crate) fn finish(self) -> (u64, String) {
        (self.size, hex(&self.hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut empty = Fingerprint::default();
        empty.update(b"");
        assert_eq!(
            empty.finish(),
            (
                0,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned()
            )
        );
        let mut abc = Fingerprint::default();
        abc.update(b"a");
        abc.update(b"bc");
        assert_eq!(
            abc.finish(),
            (
                3,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned()
            )
        );
    }
}
