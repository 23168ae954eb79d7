//! What to do after a delete request went wrong, and how long to wait before trying again.
//!
//! Two values, both pure: [`classify`] maps what came back (an HTTP status with the service's
//! `error_code`, or a transport failure) to a [`Class`], and [`RetryPolicy`] turns an attempt
//! number (and a `Retry-After`, when the service sent one) into a delay: exponential backoff
//! with full jitter, bounded attempts. The executor (`execute::run`) combines them with the
//! adaptive rate limiter (`ratelimit`) and the poison-id bisection (`bisect`). The classifier's
//! whole table is an insta snapshot, so a change of policy shows up in review as a diff.

use std::time::Duration;

use rand::Rng;

/// What a failed (or successful) response means for the batch that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// 2xx: the ids are deleted.
    Done,
    /// A transient failure: connection error, timeout, reset, 408, 5xx, "system busy".
    Retry,
    /// The service asks us to slow down: retry, and make the rate limiter back off.
    Throttle,
    /// A non-retryable 400 about the ids themselves: bisect to isolate the bad ones.
    Poison,
    /// Credentials refused even after the client's one refresh: stop this project.
    Auth,
    /// Anything else (no such API, unknown project...): retrying cannot help.
    Fatal,
}

pub use crate::api::TransportKind;

/// What came back from one request, as far as classification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed<'a> {
    Status {
        status: u16,
        error_code: Option<&'a str>,
    },
    Transport(TransportKind),
}

/// The service's own throttle, answered as a 400 rather than a 429.
pub const PM_THROTTLE: &str = "PM.02153001";
/// The gateway's throttle (429).
pub const APIGW_THROTTLE: &str = "APIGW.0308";
/// "System busy, try again later" (400).
pub const PM_BUSY: &str = "PM.02175000";
/// The project does not exist or was deleted (400): no id of it can be deleted.
pub const PM_NO_PROJECT: &str = "PM.02152005";

/// The decision table. Unknown 400 codes are treated as poison (bisected): the contract leaves
/// open what the service says about missing or foreign ids, and bisection is always safe.
pub fn classify(observed: Observed<'_>) -> Class {
    match observed {
        Observed::Transport(_) => Class::Retry,
        Observed::Status { status, error_code } => match (status, error_code) {
            (200..=299, _) => Class::Done,
            (429, _) => Class::Throttle,
            (400, Some(PM_THROTTLE)) => Class::Throttle,
            (400, Some(PM_BUSY)) => Class::Retry,
            (400, Some(PM_NO_PROJECT)) => Class::Fatal,
            (400, _) => Class::Poison,
            (401 | 403, _) => Class::Auth,
            (408, _) => Class::Retry,
            (500..=599, _) => Class::Retry,
            _ => Class::Fatal,
        },
    }
}

/// Exponential backoff with full jitter and a bounded number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request for transient failures (the first try included).
    pub max_attempts: u32,
    /// Throttled answers a request may get before it is given up: throttling is the service
    /// setting the pace, not a failure, so it has its own, larger budget.
    pub max_throttles: u32,
    /// Backoff before the second attempt; doubled for each further one.
    pub base: Duration,
    /// Upper bound of any one wait, `Retry-After` included.
    pub cap: Duration,
}

impl RetryPolicy {
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            max_throttles: 50,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(20),
        }
    }

    /// Whether another attempt is allowed after `failures` transient failures and
    /// `throttles` throttled answers.
    pub fn allows(&self, failures: u32, throttles: u32) -> bool {
        failures < self.max_attempts && throttles <= self.max_throttles
    }

    /// The longest wait before retry number `retry` (1 for the first retry): `base * 2^(retry-1)`,
    /// capped.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(20);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The wait before retry number `retry`: `Retry-After` when the service sent one (capped),
    /// else a uniformly random duration in `0..=ceiling(retry)` ("full jitter", which spreads
    /// concurrent retries instead of synchronising them).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.cap);
        }
        let ceiling = self.ceiling(retry).as_micros() as u64;
        Duration::from_micros(rng.random_range(0..=ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Every row of the decision table, rendered as `input => class`.
    fn table() -> Vec<String> {
        let mut rows = Vec::new();
        for kind in [
            TransportKind::Connect,
            TransportKind::Timeout,
            TransportKind::Reset,
            TransportKind::Other,
        ] {
            rows.push(format!(
                "transport {kind:?} => {:?}",
                classify(Observed::Transport(kind))
            ));
        }
        let statuses: &[(u16, Option<&str>)] = &[
            (200, None),
            (204, None),
            (400, Some("PM.02152001")),
            (400, Some("PM.02175006")),
            (400, Some("PM.02175202")),
            (400, Some("PM.02174103")),
            (400, Some(PM_NO_PROJECT)),
            (400, Some(PM_THROTTLE)),
            (400, Some(PM_BUSY)),
            (400, Some("APIGW.0201")),
            (400, None),
            (401, Some("APIGW.0301")),
            (401, Some("APIGW.0307")),
            (403, Some("APIGW.0306")),
            (404, Some("APIGW.0101")),
            (408, None),
            (413, Some("APIGW.0201")),
            (429, Some(APIGW_THROTTLE)),
            (429, None),
            (500, Some("APIGW.0601")),
            (502, Some("APIGW.0201")),
            (503, None),
            (504, Some("APIGW.0201")),
        ];
        for &(status, error_code) in statuses {
            rows.push(format!(
                "{status} {} => {:?}",
                error_code.unwrap_or("-"),
                classify(Observed::Status { status, error_code })
            ));
        }
        rows
    }

    #[test]
    fn classifier_table() {
        insta::assert_snapshot!(table().join("\n"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::new(6);
        assert_eq!(policy.ceiling(1), Duration::from_millis(100));
        assert_eq!(policy.ceiling(2), Duration::from_millis(200));
        assert_eq!(policy.ceiling(4), Duration::from_millis(800));
        assert_eq!(policy.ceiling(30), policy.cap);
    }

    #[test]
    fn full_jitter_stays_within_the_ceiling_and_spreads() {
        let policy = RetryPolicy::new(6);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..200).map(|_| policy.delay(3, None, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(400)));
        let low = delays
            .iter()
            .filter(|d| **d < Duration::from_millis(200))
            .count();
        assert!(
            (60..140).contains(&low),
            "not uniform: {low} of 200 below half"
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::new(6);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let three = Some(Duration::from_secs(3));
        assert_eq!(policy.delay(1, three, &mut rng), Duration::from_secs(3));
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(policy.delay(1, hour, &mut rng), policy.cap);
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy::new(3);
        assert!(policy.allows(2, 0));
        assert!(!policy.allows(3, 0));
        assert!(policy.allows(0, 50));
        assert!(!policy.allows(0, 51));
        assert_eq!(RetryPolicy::new(0).max_attempts, 1);
    }
}
