//! The transport conformance kit against the built-in transport: every case, none skipped.
#![allow(clippy::unwrap_used)] // a test fails loudly by design

use record_api::conformance::{Kit, PeakAlloc};
use transport_blocking::{HttpTransport, Proxy};

#[global_allocator]
static ALLOCATED: PeakAlloc = PeakAlloc;

/// What the reader may hold at once: its 64 KiB connection buffer, a head or line up to its
/// limit, and a buffered gzip answer up to the 1 MiB from which the ratio cap applies.
const MEMORY_BOUND: usize = 4 << 20;

#[test]
fn the_built_in_transport_passes_the_kit() {
    let report = Kit::new()
        .count_memory(&ALLOCATED, MEMORY_BOUND)
        .run_blocking(|setup| {
            let proxy = setup.proxy.as_deref().map(|url| Proxy::parse(url).unwrap());
            HttpTransport::with_timeouts(setup.connect_timeout, setup.read_timeout)
                .with_proxy(proxy)
        });
    println!("{report}");
    report.assert_passed();
}
