//! The call engine: every decision of a call, a download and a multi-request operation, made
//! without I/O. One driver (`crate::driver`) carries out its steps for both clients.
//!
//! ```text
//! call:      start ─► Authorize ─► Send ─► received ─┬─► Done(Ok | Err)
//!              ▲                                       ├─► Sleep ─► start        (retry)
//!              └───────────── 401: refused token ◄─────┘                         (reauthorize)
//! download:  start ─► [StorageLink] ─► Authorize ─► Open ─► Stream ─► body_ended ─► Done
//!              ▲          (error head: ReadErrorBody)            │ broke: ResetSink ─┐
//!              └──────── Sleep / fall back to the API ◄──────────┴───────────────────┘
//! listing:   Open(window) ─► Read* ─► [Stats] ─► next window … ─► Done
//!                               └─► Yield(record) between reads
//! ```
//!
//! The rule of the executors: **no lock is held across I/O, and no future that may be dropped
//! or left unpolled holds anything another caller waits on.** The token cache is locked only
//! to read or change it; a token is fetched by a shared future that every caller needing it
//! drives; windows opened ahead are polled whenever their stream is.
//!
//! - [`exchange`]: one request to completion (authorize, send, decode, retry, reauthorize).
//! - [`download`]: a download to completion (source, open, stream, verify, fall back, restart).
//! - [`listing`]: a period as a stream of records (windows, de-duplication, completeness guard).
//! - [`plan`]: list, stats and delete-range over any period.
//! - [`tokens`]: the token cache (single flight, generations, refusal → primary grant).
//! - [`attempts`]: the retry bookkeeping of one call.

mod attempts;
pub(crate) mod download;
pub(crate) mod exchange;
pub(crate) mod listing;
pub(crate) mod plan;
#[cfg(test)]
mod scenario;
pub(crate) mod tokens;

pub use exchange::Answer;

pub(crate) use download::{ERROR_BODY_LIMIT, Fetch, Transfer, not_opened};
pub(crate) use exchange::{Exchange, Opened, Step};
pub(crate) use listing::{ListStep, Listing};
pub(crate) use tokens::{AuthNeed, Authorized, Ticket, TokenState, TokenStep};
