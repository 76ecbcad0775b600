//! Rate-limit information carried by every response (spec §5).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `X-RateLimit-*` headers of a response.
///
/// The limit is per hour and shared by all users and apps of a client. A header that is missing
/// or unreadable is `None`.
///
/// ```
/// use std::time::Duration;
/// use record_model::RateLimit;
///
/// let info = RateLimit::from_header_values(Some("1000"), Some("998"), Some("1800"));
/// assert_eq!(info.remaining, Some(998));
/// assert_eq!(info.reset_after, Some(Duration::from_secs(1800)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed per period (`X-RateLimit-Limit`).
    pub limit: Option<u64>,
    /// Requests left in this period (`X-RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// Time until the counter resets (`X-RateLimit-Reset`, seconds from now, not a timestamp).
    pub reset_after: Option<Duration>,
}

impl RateLimit {
    /// Reads the three header values; anything that is not a non-negative integer is `None`.
    pub fn from_header_values(
        limit: Option<&str>,
        remaining: Option<&str>,
        reset: Option<&str>,
    ) -> Self {
        let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u64>().ok());
        RateLimit {
            limit: number(limit),
            remaining: number(remaining),
            reset_after: number(reset).map(Duration::from_secs),
        }
    }

    /// Whether any of the headers was present and readable.
    pub fn is_known(&self) -> bool {
        self.limit.is_some() || self.remaining.is_some() || self.reset_after.is_some()
    }
}
