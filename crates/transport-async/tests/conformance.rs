//! The transport conformance kit against the reqwest transport: every case but the one the
//! crate documents it fails (hyper's).
#![allow(clippy::unwrap_used)] // a test fails loudly by design

use record_api::conformance::{Case, Kit, PeakAlloc, Setup};
use transport_async::ReqwestTransport;

#[global_allocator]
static ALLOCATED: PeakAlloc = PeakAlloc;

/// What the transport may hold at once: hyper's read buffer (at most about 400 KiB for a head),
/// one decoded gzip piece (at most about 1 MiB) and a buffered gzip answer up to the 1 MiB from
/// which the ratio cap applies, with the doubling of its buffer.
const MEMORY_BOUND: usize = 8 << 20;

fn transport(setup: &Setup) -> ReqwestTransport {
    match &setup.proxy {
        None => ReqwestTransport::with_timeouts(setup.connect_timeout, setup.read_timeout).unwrap(),
        Some(proxy) => {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(setup.connect_timeout)
                .read_timeout(setup.read_timeout)
                .no_gzip()
                .proxy(reqwest::Proxy::all(proxy).unwrap())
                .build()
                .unwrap();
            ReqwestTransport::from_client(client)
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_reqwest_transport_passes_the_kit() {
    let report = Kit::new()
        .count_memory(&ALLOCATED, MEMORY_BOUND)
        .skip(
            Case::LengthAndChunked,
            "hyper keeps the connection after an answer framed by both Content-Length and \
             Transfer-Encoding (it reads the body as chunked, as it must, but does not close)",
        )
        .run_async(transport)
        .await;
    println!("{report}");
    report.assert_passed();
}
