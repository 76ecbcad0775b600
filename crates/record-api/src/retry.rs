//! When to try a failed call again: a pure decision, carried out by the clients.

use std::time::Duration;

use crate::{Error, RateLimitKind};

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again after this pause.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// Give up and return the error.
    Stop,
}

/// The retry rules of the SDK.
///
/// - 5xx answers and transport failures are retried with exponential backoff and jitter, capped
///   at [`max_delay`](Self::max_delay) — for idempotent requests, or for any request that
///   provably never left. A non-idempotent request that may have been sent is never repeated.
/// - A 429 for the hourly limit waits for `X-RateLimit-Reset` when that is within
///   [`rate_limit_wait_cap`](Self::rate_limit_wait_cap), and stops otherwise. A 429 for a
///   concurrent statistics request backs off like a 5xx (the other request ends soon).
/// - A request that could not be built, and an answer too large to buffer, are final at once.
/// - Nothing else is retried, and nothing after [`max_attempts`](Self::max_attempts).
///
/// It reads no clock and sleeps nowhere: the caller passes the attempt number and the random
/// `jitter` in `[0, 1)`, and waits as told.
///
/// ```
/// use std::time::Duration;
/// use record_api::{Decision, RetryPolicy};
///
/// let policy = RetryPolicy::default();
/// # let error = record_api::Error::Transport(record_api::TransportError::new(
/// #     record_api::TransportErrorKind::Connect, false));
/// match policy.decide(1, &error, false, 0.5) {
///     Decision::Retry { after } => assert!(after <= policy.max_delay),
///     Decision::Stop => unreachable!("a request that never left is always safe to retry"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The most attempts of one call, the first included; `1` disables retries.
    pub max_attempts: u32,
    /// The pause before the second attempt; it doubles with each further attempt.
    pub base_delay: Duration,
    /// The longest backoff pause.
    pub max_delay: Duration,
    /// The longest wait for a rate limit to reset; a later reset returns `RateLimited`.
    pub rate_limit_wait_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            rate_limit_wait_cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the most attempts (at least 1).
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the first backoff pause and the longest one.
    pub fn with_backoff(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay.max(base_delay);
        self
    }

    /// Sets the longest wait for a rate limit to reset.
    pub fn with_rate_limit_wait_cap(mut self, cap: Duration) -> Self {
        self.rate_limit_wait_cap = cap;
        self
    }

    /// Decides what to do after attempt number `attempt` (1 for the first) failed with `error`.
    ///
    /// `idempotent` is the request's; `jitter` is a random number in `[0, 1)` (values outside
    /// are clamped).
    pub fn decide(&self, attempt: u32, error: &Error, idempotent: bool, jitter: f64) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::Stop;
        }
        match error {
            Error::Transport(transport) if transport.is_final() => Decision::Stop,
            Error::Transport(transport) => {
                if idempotent || !transport.may_have_been_sent() {
                    self.backoff(attempt, jitter)
                } else {
                    Decision::Stop
                }
            }
            // A 5xx means the request arrived; only an idempotent one may be repeated.
            Error::Api(api) if api.status.is_server_error() && idempotent => {
                self.backoff(attempt, jitter)
            }
            // A 429 means the request was refused before doing anything: repeating is safe.
            Error::RateLimited {
                kind, reset_after, ..
            } => match kind {
                RateLimitKind::ConcurrentStats => self.backoff(attempt, jitter),
                RateLimitKind::Archive => Decision::Stop,
                RateLimitKind::Hourly | RateLimitKind::Other => match reset_after {
                    Some(after) if *after <= self.rate_limit_wait_cap => {
                        Decision::Retry { after: *after }
                    }
                    _ => Decision::Stop,
                },
            },
            _ => Decision::Stop,
        }
    }

    /// Exponential backoff with "equal jitter": half the pause is fixed, half random, and the
    /// whole never exceeds `max_delay`.
    fn backoff(&self, attempt: u32, jitter: f64) -> Decision {
        let exponent = attempt.saturating_sub(1).min(31);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = full / 2;
        let after = half + (full - half).mul_f64(jitter);
        Decision::Retry {
            after: after.min(self.max_delay),
        }
    }
}
