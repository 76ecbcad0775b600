//! The transport conformance kit against the ureq transport (feature `ureq`).
#![cfg(feature = "ureq")]
#![allow(clippy::unwrap_used)] // a test fails loudly by design

use record_api::conformance::{Case, Kit, PeakAlloc};
use transport_blocking::UreqTransport;

#[global_allocator]
static ALLOCATED: PeakAlloc = PeakAlloc;

/// ureq's buffers (a 128 KiB input buffer, a 64 KiB head limit) and a buffered gzip answer up
/// to the 1 MiB from which the ratio cap applies.
const MEMORY_BOUND: usize = 4 << 20;

#[test]
fn the_ureq_transport_passes_the_kit() {
    let report = Kit::new()
        .count_memory(&ALLOCATED, MEMORY_BOUND)
        // What ureq 3.5 does otherwise, as `UreqTransport`'s documentation says.
        .skip(
            Case::Chunked,
            "ureq refuses a chunk extension with a quoted value",
        )
        .skip(
            Case::SignedChunkSize,
            "ureq accepts a chunk size written +5",
        )
        .skip(
            Case::ChunkedThenGzip,
            "ureq decodes `chunked, gzip` as chunked alone",
        )
        .skip(
            Case::LengthAndChunked,
            "ureq keeps the connection after such an answer",
        )
        .skip(
            Case::ProxyAbsoluteForm,
            "ureq tunnels plain-HTTP requests through CONNECT too",
        )
        // The bench turns ureq's `gzip` feature on for the whole workspace: ureq then decodes
        // in this transport's stead, and no compressed count is left to cap.
        .skip(
            Case::GzipBomb,
            "ureq decodes gzip itself when its `gzip` feature is on",
        )
        .skip(
            Case::EmptyGzip,
            "with its `gzip` feature on, ureq fails an empty answer labelled gzip",
        )
        .run_blocking(|setup| {
            UreqTransport::with_proxy(
                setup.connect_timeout,
                setup.read_timeout,
                setup.proxy.as_deref(),
            )
            .unwrap()
        });
    println!("{report}");
    report.assert_passed();
}
