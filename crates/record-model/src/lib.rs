//! Domain types of the Telphin call-recordings API (`/record/`).
//!
//! ```
//! use record_model::{merge_records, Order, Period, Record};
//!
//! // 2024 as people say it: every record of the year, its last fraction of a second included.
//! let year = Period::year(2024)?;
//! // A year is too long for one request: split it into the windows the API accepts.
//! let windows: Vec<_> = year.query_range().windows().collect();
//! assert_eq!(windows.len(), 12);
//! assert_eq!(windows[0].end_datetime(), "2024-02-29 23:59:59");
//! // Each window starts where the previous one ended, so no record is lost at a boundary ...
//! assert_eq!(windows[1].start(), windows[0].end());
//! // ... and the last reaches the next year's first second, which the period then excludes.
//! assert_eq!(windows[11].end_datetime(), "2025-01-01 00:00:00");
//!
//! // The lists of all windows merge into one, without duplicates.
//! let lists: Vec<Vec<Record>> = Vec::new(); // one list per window, from the API
//! let mut records = merge_records(lists, Order::Asc);
//! records.retain(|record| year.contains(record.init_time_gmt.instant()));
//! assert!(records.is_empty());
//! # Ok::<(), record_model::ValidationError>(())
//! ```
//!
//! This crate does no I/O. It holds:
//! - [`Record`], with open enums ([`Flow`], [`ExtensionType`], [`CallResult`],
//!   [`HangupDisposition`], [`Application`]) and unknown fields kept;
//! - validated ids: [`RecordUuid`], [`ClientId`], [`ExtensionId`], [`ExtensionGroupId`];
//! - the wire time [`WireTime`] and [`format_query_time`];
//! - [`Period`] (a day, a month, a year, `[from, until)`), [`DateRange`] and [`QueryWindow`],
//!   the window rule of the API and its splitting;
//! - [`Order`] and [`merge_records`];
//! - the other payloads: [`WindowStats`], [`MonthStats`], [`StorageLink`], [`ArchiveRequest`],
//!   [`ArchiveReceipt`], [`RateLimit`];
//! - [`ValidationError`], the error of every constructor here.

mod archive;
mod enums;
mod error;
mod id;
mod link;
mod order;
mod period;
mod rate_limit;
mod record;
mod stats;
mod text;
mod time;
mod window;

pub use archive::{ArchiveId, ArchiveReceipt, ArchiveRequest, EmailAddress};
pub use enums::{Application, CallResult, ExtensionType, Flow, HangupDisposition};
pub use error::{QUOTE_LIMIT, ValidationError, quote_prefix};
pub use id::{ClientId, ExtensionGroupId, ExtensionId, RecordUuid};
pub use link::StorageLink;
pub use order::{Order, merge_records};
pub use period::{Period, PeriodEnd};
pub use rate_limit::RateLimit;
pub use record::Record;
pub use stats::{MonthStats, WindowStats, YearMonth};
pub use time::{WireTime, format_query_time};
pub use window::{DateRange, QueryWindow, Windows, latest_end};

/// Re-exported so that users name the same `chrono` types as this crate.
pub use chrono;

// The crate's README example is compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
