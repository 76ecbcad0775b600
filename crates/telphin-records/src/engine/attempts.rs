//! One call's progress through retries and re-authorization, decided without I/O.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use record_api::{Decision, Error, RetryPolicy, TransportError, TransportErrorKind};

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Return the error.
    Return,
    /// Wait, then send again.
    Retry(Duration),
    /// Forget the token, fetch a new one, send again (once per call).
    Reauthorize,
}

/// The attempts of one call.
#[derive(Debug)]
pub(crate) struct Attempts {
    policy: RetryPolicy,
    idempotent: bool,
    can_refresh: bool,
    attempt: u32,
    replayed: bool,
}

impl Attempts {
    pub(crate) fn new(policy: RetryPolicy, idempotent: bool, can_refresh: bool) -> Self {
        Attempts {
            policy,
            idempotent,
            can_refresh,
            attempt: 1,
            replayed: false,
        }
    }

    /// The number of the current attempt, 1 for the first.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Decides what follows `error`.
    pub(crate) fn after(&mut self, error: &Error) -> After {
        if matches!(error, Error::Unauthorized(_)) && self.can_refresh && !self.replayed {
            self.replayed = true;
            return After::Reauthorize;
        }
        self.decide(error)
    }

    /// Decides what follows a body that broke off or ended short: for the retry policy, a
    /// transport failure of a request that was sent.
    pub(crate) fn after_body(&mut self) -> After {
        self.decide(&Error::Transport(TransportError::new(
            TransportErrorKind::Protocol,
            true,
        )))
    }

    fn decide(&mut self, error: &Error) -> After {
        match self
            .policy
            .decide(self.attempt, error, self.idempotent, jitter())
        {
            Decision::Retry { after } => {
                self.attempt += 1;
                After::Retry(after)
            }
            Decision::Stop => After::Return,
        }
    }
}

/// A random number in `[0, 1)` for backoff jitter, from the standard library's hasher keys.
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use record_api::{error_for_status, http};

    fn unauthorized() -> Error {
        error_for_status(http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(), b"")
            .expect("401 is an error")
    }

    #[test]
    fn a_401_is_replayed_once_then_returned() {
        let mut attempts = Attempts::new(RetryPolicy::default(), true, true);
        assert_eq!(attempts.after(&unauthorized()), After::Reauthorize);
        assert_eq!(attempts.after(&unauthorized()), After::Return);
    }

    #[test]
    fn a_fixed_token_is_not_refreshed() {
        let mut attempts = Attempts::new(RetryPolicy::default(), true, false);
        assert_eq!(attempts.after(&unauthorized()), After::Return);
    }

    #[test]
    fn retries_count_attempts_up_to_the_policy() {
        let policy = RetryPolicy::default().with_max_attempts(3);
        let mut attempts = Attempts::new(policy, true, true);
        let failure = || Error::Transport(TransportError::new(TransportErrorKind::Io, true));
        assert!(matches!(attempts.after(&failure()), After::Retry(_)));
        assert!(matches!(attempts.after_body(), After::Retry(_)));
        assert_eq!(attempts.after(&failure()), After::Return);
        assert_eq!(attempts.attempt(), 3);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
