//! The transport conformance kit against the built-in transport: every case, none skipped.
#![allow(clippy::unwrap_used)] // a test fails loudly by design

use record_api::conformance::{Case, Kit, PeakAlloc};
use transport_blocking::{CHUNK_LINE_LIMIT, HEAD_LIMIT, HttpTransport, Proxy, TRAILER_LIMIT};

#[global_allocator]
static ALLOCATED: PeakAlloc = PeakAlloc;

/// What the reader may hold at once: its 64 KiB connection buffer, a head or line up to its
/// limit, and a buffered gzip answer up to the 1 MiB from which the ratio cap applies (with
/// the doubling of its buffer).
const MEMORY_BOUND: usize = 4 << 20;

/// The connection's 64 KiB buffer, and what a request and its parsed head allocate besides
/// the line (about 25 KiB measured).
const READER: usize = 64 * 1024 + 32 * 1024;

#[test]
fn the_built_in_transport_passes_the_kit() {
    let report = Kit::new()
        .count_memory(&ALLOCATED, MEMORY_BOUND)
        // An endless line costs at most its documented limit, beside the reader's buffer.
        .memory_bound(Case::EndlessHeadLine, HEAD_LIMIT + READER)
        .memory_bound(Case::EndlessChunkLine, CHUNK_LINE_LIMIT + READER)
        .memory_bound(Case::EndlessTrailer, TRAILER_LIMIT + READER)
        .memory_bound(Case::EndlessChunkEnd, 2 + READER)
        .run_blocking(|setup| {
            let proxy = setup.proxy.as_deref().map(|url| Proxy::parse(url).unwrap());
            HttpTransport::with_timeouts(setup.connect_timeout, setup.read_timeout)
                .with_proxy(proxy)
        });
    println!("{report}");
    report.assert_passed();
}
