//! Record files: MP3 bytes derived from a seed (frames of silence that players decode and seek,
//! each carrying the seed's bytes as ancillary data), generated on the fly at any offset, and
//! ZIP archives of them written as a stream.

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::rng::mix;

/// The size of the chunks files are streamed in.
pub(crate) const CHUNK: usize = 256 * 1024;

const ID3: [u8; 10] = [b'I', b'D', b'3', 4, 0, 0, 0, 0, 0, 0];
const FRAME: usize = 417;
const FRAME_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0x64];

/// The side information of a stereo MPEG-1 Layer III frame.
const SIDE_INFO: usize = 32;
/// Frames per block: a file is its seed's block repeated, each copy stamped with its number.
const BLOCK_FRAMES: usize = 157;
/// The length of a block (about 64 KiB, a whole number of frames).
const BLOCK: usize = FRAME * BLOCK_FRAMES;
/// The bytes at the end of each block that carry the block's number.
const STAMP: usize = 8;

/// The block of `seed`: computed once (one hash per 8 bytes), then copied at memory speed, so
/// that downloads measure the client, not the simulator.
fn block(seed: u64) -> std::sync::Arc<[u8]> {
    static BLOCKS: std::sync::Mutex<Vec<(u64, std::sync::Arc<[u8]>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut blocks = BLOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, block)) = blocks.iter().find(|(s, _)| *s == seed) {
        return std::sync::Arc::clone(block);
    }
    let mut bytes = vec![0u8; BLOCK];
    for (i, byte) in bytes.iter_mut().enumerate() {
        let in_frame = i % FRAME;
        *byte = if in_frame < FRAME_HEADER.len() {
            FRAME_HEADER[in_frame]
        } else if in_frame < FRAME_HEADER.len() + SIDE_INFO {
            // Side information of zeros: no main data, so a player decodes each frame as
            // silence, and the seed's bytes that follow are ancillary data it skips.
            0
        } else {
            let p = i as u64;
            (mix(seed ^ (p / 8).wrapping_mul(0x2545_F491_4F6C_DD1D)) >> ((p % 8) * 8)) as u8
        };
    }
    let block: std::sync::Arc<[u8]> = bytes.into();
    if blocks.len() >= 64 {
        blocks.remove(0);
    }
    blocks.push((seed, std::sync::Arc::clone(&block)));
    block
}

/// Fills `buf` with the bytes of the file of `seed` starting at `offset`: an ID3 tag, then the
/// seed's block again and again, the last 8 bytes of each copy mixed with the copy's number (so
/// no two parts of a file are alike).
pub fn fill(seed: u64, offset: u64, buf: &mut [u8]) {
    let block = block(seed);
    let mut done = 0usize;
    while done < buf.len() {
        let p = offset + done as u64;
        if p < ID3.len() as u64 {
            buf[done] = ID3[p as usize];
            done += 1;
            continue;
        }
        let at = p - ID3.len() as u64;
        let number = at / BLOCK as u64;
        let start = (at % BLOCK as u64) as usize;
        let len = (BLOCK - start).min(buf.len() - done);
        let out = &mut buf[done..done + len];
        out.copy_from_slice(&block[start..start + len]);
        let stamp = mix(seed ^ number).to_le_bytes();
        for at in start.max(BLOCK - STAMP)..start + len {
            out[at - start] ^= stamp[at - (BLOCK - STAMP)];
        }
        done += len;
    }
}

/// The whole file of `seed` and `size` bytes; for small files and tests.
pub fn bytes(seed: u64, size: u64) -> Vec<u8> {
    let mut buf = vec![0; size as usize];
    fill(seed, 0, &mut buf);
    buf
}

/// How a streamed body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// All bytes are sent.
    Complete,
    /// The connection breaks after this many bytes.
    Drop(u64),
    /// The body ends cleanly after this many bytes, short of its `Content-Length`.
    Truncate(u64),
    /// The request is carried out, but its answer is lost: the connection breaks before the
    /// body's first byte.
    LoseAnswer,
    /// The request is carried out, and then no byte of its answer is ever sent.
    StallAnswer,
}

/// The body of a file as a stream of chunks.
pub(crate) fn stream(
    seed: u64,
    size: u64,
    ending: Ending,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let stop = match ending {
        Ending::Complete | Ending::StallAnswer => size,
        Ending::Drop(at) | Ending::Truncate(at) => at.min(size),
        Ending::LoseAnswer => 0,
    };
    futures_util::stream::unfold(Some(0u64), move |state| async move {
        let offset = state?;
        if offset >= stop {
            if ending != Ending::Complete {
                // Let the server flush what it has written before the body fails, as a real
                // connection breaking mid-body would have delivered it.
                tokio::task::yield_now().await;
            }
            return match ending {
                Ending::Drop(_) | Ending::LoseAnswer => Some((
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "simulated connection drop",
                    )),
                    None,
                )),
                _ => None,
            };
        }
        let len = (stop - offset).min(CHUNK as u64) as usize;
        let mut buf = vec![0; len];
        fill(seed, offset, &mut buf);
        Some((Ok(Bytes::from(buf)), Some(offset + len as u64)))
    })
}

/// One file of an archive.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveEntry {
    pub(crate) name: String,
    pub(crate) seed: u64,
    pub(crate) size: u64,
}

/// Writes a ZIP (stored, with data descriptors) of `entries` into a channel, chunk by chunk, on
/// a blocking thread: memory stays flat whatever the archive's size.
pub(crate) fn zip_stream(
    entries: Vec<ArchiveEntry>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            sender,
            buf: Vec::with_capacity(CHUNK),
        };
        write_zip(&entries, &mut out);
        out.flush();
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok(chunk), receiver))
    })
}

struct ChannelWriter {
    sender: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            // A closed channel means the client went away: the rest is simply not sent.
            let _ = self.sender.blocking_send(chunk);
        }
    }
}

fn write_zip(entries: &[ArchiveEntry], out: &mut ChannelWriter) {
    let mut offset: u64 = 0;
    let mut central = Vec::new();
    let mut buf = vec![0; CHUNK];
    for entry in entries {
        let name = entry.name.as_bytes();
        let mut local = Vec::with_capacity(30 + name.len());
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&20u16.to_le_bytes()); // version needed
        local.extend_from_slice(&0x0808u16.to_le_bytes()); // data descriptor + UTF-8 names
        local.extend_from_slice(&0u16.to_le_bytes()); // stored
        local.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
        local.extend_from_slice(&[0; 12]); // crc and sizes follow in the descriptor
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name);
        out.write(&local);
        let mut crc = crc32fast::Hasher::new();
        let mut done = 0;
        while done < entry.size {
            let len = (entry.size - done).min(CHUNK as u64) as usize;
            fill(entry.seed, done, &mut buf[..len]);
            crc.update(&buf[..len]);
            out.write(&buf[..len]);
            done += len as u64;
        }
        let crc = crc.finalize();
        let size = entry.size as u32;
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        descriptor.extend_from_slice(&size.to_le_bytes());
        descriptor.extend_from_slice(&size.to_le_bytes());
        out.write(&descriptor);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        central.extend_from_slice(&20u16.to_le_bytes()); // version needed
        central.extend_from_slice(&0x0808u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        central.extend_from_slice(&(offset as u32).to_le_bytes());
        central.extend_from_slice(name);
        offset += local.len() as u64 + entry.size + descriptor.len() as u64;
    }
    let count = entries.len() as u16;
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&[0; 4]); // disk numbers
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&(offset as u32).to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write(&central);
    out.write(&end);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_gives_the_same_bytes_and_no_two_blocks_are_alike() {
        let whole = bytes(7, 3 * BLOCK as u64 + 100);
        assert_eq!(&whole[..3], b"ID3");
        for (offset, len) in [
            (0, 5),
            (3, 20_000),
            (BLOCK as u64 - 3, 40),
            (2 * BLOCK as u64 + 9, 91),
        ] {
            let mut part = vec![0; len];
            fill(7, offset, &mut part);
            assert_eq!(
                part,
                whole[offset as usize..offset as usize + len],
                "{offset}"
            );
        }
        let first = &whole[ID3.len()..ID3.len() + BLOCK];
        let second = &whole[ID3.len() + BLOCK..ID3.len() + 2 * BLOCK];
        assert_ne!(first, second);
        assert_eq!(
            &second[FRAME..FRAME + 4],
            &FRAME_HEADER,
            "frames stay aligned"
        );
        assert_ne!(bytes(8, 64), bytes(7, 64));
    }
}
