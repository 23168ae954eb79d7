//! The adaptive rate limiter: never above the job's `requests_per_second`, and below it as far
//! as the service asks.
//!
//! No rate limit is published for CodeArts Req, so the client finds it by itself, like TCP
//! finds a link's capacity: [`AdaptiveRate`] (a plain value, unit-tested with a fake clock)
//! backs off multiplicatively on a throttled answer (429 `APIGW.0308`, 400 `PM.02153001`) and
//! creeps back up additively on every success. Every success adds the same small amount, so the
//! climb is proportional to the current rate, and a run settles in a narrow sawtooth just
//! under the rate the service allows. [`RateLimiter`] paces requests at that rate, with a
//! `governor` limiter at the ceiling as a hard cap that the adaptation can never exceed.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::time::Instant;

/// The adaptation policy: the current rate, between a floor and the ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveRate {
    ceiling: f64,
    floor: f64,
    current: f64,
    /// Factor applied on a throttled answer (0.9: a 10% cut).
    backoff: f64,
    /// Requests per second added on each success.
    creep: f64,
    /// Throttled answers within this long after a cut were sent before it: they must not cut
    /// again, or 16 requests in flight would divide the rate by 0.9^16.
    cooldown: Duration,
    last_cut: Option<Instant>,
}

impl AdaptiveRate {
    /// Starts at the ceiling: most services never throttle a polite client.
    pub fn new(ceiling: u32) -> Self {
        let ceiling = f64::from(ceiling.max(1));
        AdaptiveRate {
            ceiling,
            floor: ceiling.min(1.0),
            current: ceiling,
            backoff: 0.9,
            creep: 0.05,
            cooldown: Duration::from_millis(300),
            last_cut: None,
        }
    }

    /// Requests per second allowed now.
    pub fn rate(&self) -> f64 {
        self.current
    }

    pub fn ceiling(&self) -> f64 {
        self.ceiling
    }

    /// A throttled answer arrived at `now`: cut the rate, unless one was cut just before.
    /// Returns whether it was cut.
    pub fn on_throttle(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last_cut
            && now.saturating_duration_since(last) < self.cooldown
        {
            return false;
        }
        self.current = (self.current * self.backoff).max(self.floor);
        self.last_cut = Some(now);
        true
    }

    /// A request succeeded: creep back towards the ceiling.
    pub fn on_success(&mut self) {
        self.current = (self.current + self.creep).min(self.ceiling);
    }
}

/// Paces requests at the adaptive rate, under a hard governor ceiling. Shared by all workers.
pub struct RateLimiter {
    inner: Mutex<Pacing>,
    ceiling: DefaultDirectRateLimiter,
}

struct Pacing {
    policy: AdaptiveRate,
    /// When the next request may start.
    next: Instant,
}

/// Credit a pause may accumulate: a late timer wake-up is caught up instead of lost, but an
/// idle limiter does not hoard a burst.
const SLACK: Duration = Duration::from_millis(50);

impl RateLimiter {
    pub fn new(ceiling: u32) -> Self {
        let ceiling = ceiling.max(1);
        let burst = (ceiling / 20).max(1);
        let quota = Quota::per_second(NonZeroU32::new(ceiling).expect("at least 1"))
            .allow_burst(NonZeroU32::new(burst).expect("at least 1"));
        RateLimiter {
            inner: Mutex::new(Pacing {
                policy: AdaptiveRate::new(ceiling),
                next: Instant::now(),
            }),
            ceiling: governor::RateLimiter::direct(quota),
        }
    }

    /// Wait for this request's turn.
    pub async fn acquire(&self) {
        let start = {
            let mut pacing = self.inner.lock().expect("rate limiter poisoned");
            let now = Instant::now();
            let start = pacing.next.max(now.checked_sub(SLACK).unwrap_or(now));
            let interval = Duration::from_secs_f64(1.0 / pacing.policy.rate());
            pacing.next = start + interval;
            start
        };
        // A timer, even for an instant already past, waits for the next tick of the timer
        // wheel (up to a millisecond): only sleep when there is something to wait for.
        if start > Instant::now() {
            tokio::time::sleep_until(start).await;
        }
        if self.ceiling.check().is_err() {
            self.ceiling.until_ready().await;
        }
    }

    /// Report a throttled answer; returns whether the rate was cut.
    pub fn on_throttle(&self) -> bool {
        let mut pacing = self.inner.lock().expect("rate limiter poisoned");
        pacing.policy.on_throttle(Instant::now())
    }

    pub fn on_success(&self) {
        self.inner
            .lock()
            .expect("rate limiter poisoned")
            .policy
            .on_success();
    }

    /// The rate allowed now, requests per second.
    pub fn rate(&self) -> f64 {
        self.inner
            .lock()
            .expect("rate limiter poisoned")
            .policy
            .rate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_the_ceiling_and_cuts_multiplicatively() {
        let mut rate = AdaptiveRate::new(100);
        assert_eq!(rate.rate(), 100.0);
        let t0 = Instant::now();
        assert!(rate.on_throttle(t0));
        assert!((rate.rate() - 90.0).abs() < 1e-9);
        assert!(rate.on_throttle(t0 + Duration::from_secs(1)));
        assert!((rate.rate() - 81.0).abs() < 1e-9);
    }

    #[test]
    fn throttles_during_the_cooldown_do_not_cut_again() {
        let mut rate = AdaptiveRate::new(100);
        let t0 = Instant::now();
        assert!(rate.on_throttle(t0));
        for ms in [1, 50, 299] {
            assert!(!rate.on_throttle(t0 + Duration::from_millis(ms)));
        }
        assert!((rate.rate() - 90.0).abs() < 1e-9);
        assert!(rate.on_throttle(t0 + Duration::from_millis(300)));
    }

    #[test]
    fn creeps_up_additively_and_never_past_the_ceiling() {
        let mut rate = AdaptiveRate::new(100);
        rate.on_throttle(Instant::now());
        for _ in 0..100 {
            rate.on_success();
        }
        assert!((rate.rate() - 95.0).abs() < 1e-9);
        for _ in 0..1000 {
            rate.on_success();
        }
        assert_eq!(rate.rate(), 100.0);
    }

    #[test]
    fn never_below_the_floor() {
        let mut rate = AdaptiveRate::new(5);
        let t0 = Instant::now();
        for i in 0..200 {
            rate.on_throttle(t0 + Duration::from_secs(i));
        }
        assert_eq!(rate.rate(), 1.0);
    }

    /// Against a simulated service that allows `allowed` requests per second, the policy settles
    /// close to it: the successes it gets are at least 90% of what the service would allow.
    #[test]
    fn settles_near_an_unknown_service_rate() {
        for allowed in [20.0, 150.0, 700.0] {
            let mut rate = AdaptiveRate::new(1000);
            let t0 = Instant::now();
            let tick = 0.01; // simulate in 10 ms steps
            let (mut credit, mut sent_credit, mut ok, mut measured) = (0.0, 0.0, 0.0, 0.0);
            let warmup = 1000; // 10 s
            for step in 0..7000 {
                // The service: a token bucket of `allowed`/s with 100 ms of burst, as the
                // sandbox's.
                credit = f64::min(credit + allowed * tick, (allowed / 10.0).max(1.0));
                sent_credit += rate.rate() * tick;
                while sent_credit >= 1.0 {
                    sent_credit -= 1.0;
                    if credit >= 1.0 {
                        credit -= 1.0;
                        rate.on_success();
                        ok += 1.0;
                    } else {
                        rate.on_throttle(t0 + Duration::from_secs_f64(step as f64 * tick));
                    }
                }
                if step == warmup {
                    measured = ok;
                }
            }
            let achieved = (ok - measured) / 60.0;
            assert!(
                achieved >= 0.9 * allowed,
                "allowed {allowed}/s, achieved {achieved:.1}/s"
            );
            assert!(
                rate.rate() <= 1.3 * allowed,
                "rate stuck high: {}",
                rate.rate()
            );
        }
    }

    #[tokio::test]
    async fn paces_at_the_current_rate() {
        let limiter = RateLimiter::new(50);
        let t0 = Instant::now();
        for _ in 0..101 {
            limiter.acquire().await;
        }
        let elapsed = t0.elapsed().as_secs_f64();
        assert!(
            (1.9..2.2).contains(&elapsed),
            "101 requests at 50/s took {elapsed}s"
        );
    }
}
