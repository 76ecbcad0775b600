//! The rate-limit budget: the API's hourly limit is shared with the company's other
//! integrations, so a run keeps a reserve of it untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use telphin_records::RateLimit;

/// How much of `X-RateLimit-Limit` to leave to others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// This many requests.
    Requests(u64),
    /// This percentage (0–100) of the limit.
    Percent(u8),
}

impl std::str::FromStr for Reserve {
    type Err = String;

    /// `N` requests or `P%` of the limit (`20%`); the error says what to write.
    fn from_str(text: &str) -> Result<Reserve, String> {
        let text = text.trim();
        let wrong = || format!("{text:?}: a number of requests, or a percentage such as 20%");
        match text.strip_suffix('%') {
            Some(percent) => percent
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .map(Reserve::Percent)
                .ok_or_else(wrong),
            None => text.parse().map(Reserve::Requests).map_err(|_| wrong()),
        }
    }
}

/// What to do when only the reserve is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenReserveReached {
    /// Wait for the limit's reset (`X-RateLimit-Reset`), then go on.
    Wait,
    /// Stop starting work, finish what is under way, and end with
    /// [`Outcome::Paused`](crate::Outcome::Paused), which says when to resume.
    Stop,
}

/// The share of the API's rate limit that a run may use.
///
/// ```
/// use record_backup::{RateBudget, Reserve, WhenReserveReached};
///
/// // Leave a fifth of the hourly limit to the CRM integration; stop when only that is left.
/// let budget = RateBudget::new(Reserve::Percent(20), WhenReserveReached::Stop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    reserve: Reserve,
    when_reached: WhenReserveReached,
}

impl Default for RateBudget {
    /// A tenth of the limit is left to others; the run waits when it reaches it.
    fn default() -> Self {
        RateBudget::new(Reserve::Percent(10), WhenReserveReached::Wait)
    }
}

impl RateBudget {
    /// Keeps `reserve`, and does `when_reached` once only the reserve is left.
    pub fn new(reserve: Reserve, when_reached: WhenReserveReached) -> Self {
        RateBudget {
            reserve,
            when_reached,
        }
    }

    fn reserve_of(&self, limit: Option<u64>) -> u64 {
        match self.reserve {
            Reserve::Requests(n) => n,
            Reserve::Percent(p) => limit.unwrap_or(0).saturating_mul(u64::from(p.min(100))) / 100,
        }
    }
}

/// The budget during one run: the latest headers, less the requests under way.
pub(crate) struct Gate {
    budget: RateBudget,
    in_flight: Arc<AtomicU64>,
    stopped: AtomicBool,
}

/// An admitted request; the count of requests under way drops when it is dropped.
pub(crate) struct Permit {
    in_flight: Arc<AtomicU64>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the gate says about the next request.
pub(crate) enum Admission {
    Go(Permit),
    /// Wait this long (the limit resets), then ask again.
    Wait(Duration),
    /// Stop; the limit resets after this long.
    Stop(Duration),
}

/// When the headers do not say when the limit resets.
const UNKNOWN_RESET: Duration = Duration::from_secs(60);

impl Gate {
    pub(crate) fn new(budget: RateBudget) -> Gate {
        Gate {
            budget,
            in_flight: Arc::new(AtomicU64::new(0)),
            stopped: AtomicBool::new(false),
        }
    }

    /// Whether a request may be made now, given the latest rate-limit headers.
    pub(crate) fn admit(&self, latest: Option<RateLimit>) -> Admission {
        let in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let permit = Permit {
            in_flight: Arc::clone(&self.in_flight),
        };
        let reset = latest
            .and_then(|rate| rate.reset_after)
            .unwrap_or(UNKNOWN_RESET);
        if self.stopped.load(Ordering::SeqCst) {
            return Admission::Stop(reset);
        }
        let Some(rate) = latest else {
            return Admission::Go(permit);
        };
        let Some(remaining) = rate.remaining else {
            return Admission::Go(permit);
        };
        let reserve = self.budget.reserve_of(rate.limit);
        if remaining.saturating_sub(in_flight) > reserve {
            return Admission::Go(permit);
        }
        drop(permit);
        match self.budget.when_reached {
            WhenReserveReached::Wait => Admission::Wait(reset),
            WhenReserveReached::Stop => {
                self.stopped.store(true, Ordering::SeqCst);
                Admission::Stop(reset)
            }
        }
    }

    /// Whether the run was stopped by the budget.
    #[cfg(test)]
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_are_read_as_people_write_them() {
        assert_eq!("20%".parse(), Ok(Reserve::Percent(20)));
        assert_eq!(" 150 ".parse(), Ok(Reserve::Requests(150)));
        for wrong in ["101%", "-1", "ten", "%", ""] {
            let error = wrong.parse::<Reserve>().unwrap_err();
            assert!(
                error.contains("a percentage such as 20%"),
                "{wrong}: {error}"
            );
        }
    }

    fn rate(limit: u64, remaining: u64) -> Option<RateLimit> {
        Some(RateLimit::from_header_values(
            Some(&limit.to_string()),
            Some(&remaining.to_string()),
            Some("120"),
        ))
    }

    #[test]
    fn the_reserve_is_never_spent() {
        let gate = Gate::new(RateBudget::new(
            Reserve::Requests(10),
            WhenReserveReached::Stop,
        ));
        assert!(matches!(gate.admit(None), Admission::Go(_)));
        // 12 left and a reserve of 10: two requests may be under way at once, not three.
        let first = gate.admit(rate(100, 12));
        assert!(matches!(first, Admission::Go(_)));
        let second = gate.admit(rate(100, 12));
        assert!(matches!(second, Admission::Go(_)));
        assert!(matches!(gate.admit(rate(100, 12)), Admission::Stop(_)));
        assert!(gate.stopped());
        // Once stopped, the run stays stopped whatever the headers say.
        assert!(matches!(gate.admit(rate(100, 90)), Admission::Stop(_)));
    }

    #[test]
    fn a_percentage_of_the_limit_is_kept_and_waiting_is_offered() {
        let gate = Gate::new(RateBudget::new(
            Reserve::Percent(20),
            WhenReserveReached::Wait,
        ));
        assert!(matches!(gate.admit(rate(1000, 201)), Admission::Go(_)));
        match gate.admit(rate(1000, 200)) {
            Admission::Wait(pause) => assert_eq!(pause, Duration::from_secs(120)),
            _ => panic!("expected a wait"),
        }
        assert!(!gate.stopped());
    }
}
