//! The call engine: every decision of a call, a download and a multi-request operation, made
//! without I/O. The blocking and async clients only carry out its steps.
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
pub(crate) mod tokens;

pub use exchange::Answer;

pub(crate) use download::{ERROR_BODY_LIMIT, Fetch, Transfer, not_opened};
pub(crate) use exchange::{Exchange, Opened, Step};
pub(crate) use listing::{ListStep, Listing};
pub(crate) use tokens::{AuthNeed, Authorized, Ticket, TokenState, TokenStep};
