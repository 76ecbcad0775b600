//! One call's progress through retries and re-authorization, decided without I/O; the clients
//! only carry out the steps.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use record_api::{Decision, Error, RetryPolicy};

/// What a client does after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Return the error.
    Return,
    /// Wait, then send again.
    Retry(Duration),
    /// Forget the token, fetch a new one, send again (once per call).
    Reauthorize,
}

/// The retry state of one call.
#[derive(Debug)]
pub(crate) struct Call {
    policy: RetryPolicy,
    idempotent: bool,
    can_refresh: bool,
    attempt: u32,
    replayed: bool,
}

impl Call {
    pub(crate) fn new(policy: RetryPolicy, idempotent: bool, can_refresh: bool) -> Self {
        Call {
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
    pub(crate) fn after(&mut self, error: &Error) -> Step {
        if matches!(error, Error::Unauthorized(_)) && self.can_refresh && !self.replayed {
            self.replayed = true;
            return Step::Reauthorize;
        }
        match self
            .policy
            .decide(self.attempt, error, self.idempotent, jitter())
        {
            Decision::Retry { after } => {
                self.attempt += 1;
                Step::Retry(after)
            }
            Decision::Stop => Step::Return,
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
    use record_api::{TransportError, TransportErrorKind, error_for_status, http};

    fn unauthorized() -> Error {
        error_for_status(http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(), b"")
            .expect("401 is an error")
    }

    #[test]
    fn a_401_is_replayed_once_then_returned() {
        let mut call = Call::new(RetryPolicy::default(), true, true);
        assert_eq!(call.after(&unauthorized()), Step::Reauthorize);
        assert_eq!(call.after(&unauthorized()), Step::Return);
    }

    #[test]
    fn a_fixed_token_is_not_refreshed() {
        let mut call = Call::new(RetryPolicy::default(), true, false);
        assert_eq!(call.after(&unauthorized()), Step::Return);
    }

    #[test]
    fn retries_count_attempts_up_to_the_policy() {
        let policy = RetryPolicy::default().with_max_attempts(3);
        let mut call = Call::new(policy, true, true);
        let failure = || Error::Transport(TransportError::new(TransportErrorKind::Io, true));
        assert!(matches!(call.after(&failure()), Step::Retry(_)));
        assert!(matches!(call.after(&failure()), Step::Retry(_)));
        assert_eq!(call.after(&failure()), Step::Return);
        assert_eq!(call.attempt(), 3);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
