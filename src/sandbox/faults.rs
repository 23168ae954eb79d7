//! Misbehaviour on demand: latency, throttling, 5xx answers and dropped connections.
//!
//! Every draw is a hash of (seed, request sequence number, purpose), so the same seed gives
//! the same faults to the same sequence of requests, with no lock and no shared RNG on the hot
//! path. Throttling is a `governor` token bucket over all `/v4` requests, answered as the API
//! gateway's 429 or the service's own 400, as `--throttle-as` says.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::attrs::mix;
use super::reply::{Reply, code};
use super::{SandboxConfig, SandboxError, ThrottleAs};

pub(crate) struct Faults {
    seed: u64,
    latency: Option<(Duration, Duration)>,
    fail_rate: f64,
    drop_rate: f64,
    limiter: Option<(DefaultDirectRateLimiter, f64)>,
    throttle_as: ThrottleAs,
}

/// A failure to inject: the status, and whether the request is applied first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail {
    pub status: StatusCode,
    pub after: bool,
}

/// The faults drawn for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Draw {
    pub latency: Duration,
    pub fail: Option<Fail>,
    pub drop: bool,
}

const SALT_LATENCY: u64 = 1;
const SALT_FAIL: u64 = 2;
const SALT_FAIL_KIND: u64 = 3;
const SALT_DROP: u64 = 4;

impl Faults {
    pub fn new(config: &SandboxConfig) -> Result<Faults, SandboxError> {
        for (name, rate) in [
            ("fail rate", config.fail_rate),
            ("drop rate", config.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::Config(format!(
                    "{name} {rate} is not between 0 and 1"
                )));
            }
        }
        if let Some((min, max)) = config.latency
            && min > max
        {
            return Err(SandboxError::Config(format!(
                "latency minimum {min:?} is above the maximum {max:?}"
            )));
        }
        let limiter = match config.rate_limit {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 && rate <= 1e9 => {
                // Refill one request every 1/rate seconds; let a tenth of a second's worth
                // through at once, so the bucket smooths bursts as a gateway does.
                let period = Duration::from_secs_f64(1.0 / rate);
                let burst = NonZeroU32::new(((rate / 10.0).ceil() as u32).max(1))
                    .unwrap_or(NonZeroU32::MIN);
                let quota = Quota::with_period(period)
                    .ok_or_else(|| SandboxError::Config(format!("rate limit {rate} is too high")))?
                    .allow_burst(burst);
                Some((RateLimiter::direct(quota), rate))
            }
            Some(rate) => {
                return Err(SandboxError::Config(format!(
                    "rate limit {rate} is not a positive number of requests per second"
                )));
            }
        };
        Ok(Faults {
            seed: config.seed,
            latency: config.latency,
            fail_rate: config.fail_rate,
            drop_rate: config.drop_rate,
            limiter,
            throttle_as: config.throttle_as,
        })
    }

    /// A uniform number in [0, 1) for request `seq` and `salt`.
    fn unit(&self, seq: u64, salt: u64) -> f64 {
        let h = mix(self.seed ^ mix(seq.wrapping_mul(8).wrapping_add(salt)));
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn draw(&self, seq: u64) -> Draw {
        let latency = match self.latency {
            Some((min, max)) => min + (max - min).mul_f64(self.unit(seq, SALT_LATENCY)),
            None => Duration::ZERO,
        };
        let fail =
            (self.fail_rate > 0.0 && self.unit(seq, SALT_FAIL) < self.fail_rate).then(|| {
                let kind = (self.unit(seq, SALT_FAIL_KIND) * 6.0) as u32;
                Fail {
                    status: match kind % 3 {
                        0 => StatusCode::INTERNAL_SERVER_ERROR,
                        1 => StatusCode::BAD_GATEWAY,
                        _ => StatusCode::SERVICE_UNAVAILABLE,
                    },
                    after: kind >= 3,
                }
            });
        let drop =
            fail.is_none() && self.drop_rate > 0.0 && self.unit(seq, SALT_DROP) < self.drop_rate;
        Draw {
            latency,
            fail,
            drop,
        }
    }

    /// `Some(reply)` when the token bucket is empty.
    pub fn throttle(&self) -> Option<Reply> {
        let (limiter, rate) = self.limiter.as_ref()?;
        if limiter.check().is_ok() {
            return None;
        }
        Some(match self.throttle_as {
            ThrottleAs::Gateway429 => Reply::gateway(
                StatusCode::TOO_MANY_REQUESTS,
                code::THROTTLED,
                format!(
                    "The throttling threshold has been reached: policy user over ratelimit,limit:{},time:1 second",
                    rate.round()
                ),
            ),
            ThrottleAs::Pm400 => Reply::service(
                code::PM_THROTTLED,
                "Access frequency is too high. Try again later.",
            ),
        })
    }
}

/// The gateway's answer for an injected failure.
pub(crate) fn fail_reply(status: StatusCode) -> Reply {
    let (code, msg) = match status {
        StatusCode::BAD_GATEWAY => (code::BAD_REQUEST_GW, "Backend unavailable"),
        StatusCode::SERVICE_UNAVAILABLE => ("APIGW.0613", "Service unavailable, try again later"),
        _ => ("APIGW.0601", "Internal server error"),
    };
    Reply::gateway(status, code, msg)
}

/// How much of an injected latency is left to the operating system's finer timer.
const FINE_WAIT: Duration = Duration::from_millis(2);

/// Waits until `deadline`, close to it. Tokio's timer has millisecond ticks and rounds up
/// (a 20 ms sleep takes about 21.2 ms here), which would make every injected latency a
/// millisecond longer than asked and the throughput ceiling it implies unreachable. So the
/// timer wakes us `FINE_WAIT` early and a blocking-pool thread sleeps the rest.
pub(crate) async fn wait_until(deadline: tokio::time::Instant) {
    if let Some(coarse) = deadline.checked_sub(FINE_WAIT) {
        tokio::time::sleep_until(coarse).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(config: SandboxConfig) -> Faults {
        Faults::new(&config).unwrap()
    }

    #[test]
    fn draws_are_deterministic_per_seed_and_match_the_rates() {
        let config = SandboxConfig {
            fail_rate: 0.1,
            drop_rate: 0.05,
            seed: 9,
            ..SandboxConfig::default()
        };
        let a = faults(config.clone());
        let b = faults(config.clone());
        let draws: Vec<Draw> = (0..20_000).map(|seq| a.draw(seq)).collect();
        assert!(draws.iter().zip(0..).all(|(d, seq)| *d == b.draw(seq)));
        let fails = draws.iter().filter(|d| d.fail.is_some()).count();
        let after = draws
            .iter()
            .filter(|d| d.fail.is_some_and(|f| f.after))
            .count();
        let drops = draws.iter().filter(|d| d.drop).count();
        assert!((1_800..2_200).contains(&fails), "{fails}");
        assert!(
            after > fails / 3 && after < fails * 2 / 3,
            "{after} of {fails}"
        );
        assert!((800..1_100).contains(&drops), "{drops}");
        let other = faults(SandboxConfig { seed: 10, ..config });
        assert!((0..100).any(|seq| other.draw(seq) != a.draw(seq)));
    }

    #[test]
    fn latency_stays_in_range() {
        let f = faults(SandboxConfig {
            latency: Some((Duration::from_millis(5), Duration::from_millis(9))),
            ..SandboxConfig::default()
        });
        for seq in 0..1000 {
            let l = f.draw(seq).latency;
            assert!(l >= Duration::from_millis(5) && l <= Duration::from_millis(9));
        }
    }

    #[test]
    fn rejects_nonsense_rates() {
        for config in [
            SandboxConfig {
                fail_rate: 1.5,
                ..SandboxConfig::default()
            },
            SandboxConfig {
                rate_limit: Some(0.0),
                ..SandboxConfig::default()
            },
            SandboxConfig {
                rate_limit: Some(f64::NAN),
                ..SandboxConfig::default()
            },
        ] {
            assert!(Faults::new(&config).is_err());
        }
    }

    #[test]
    fn throttles_beyond_the_bucket() {
        let f = faults(SandboxConfig {
            rate_limit: Some(10.0),
            throttle_as: ThrottleAs::Pm400,
            ..SandboxConfig::default()
        });
        assert!(f.throttle().is_none());
        let reply = f.throttle().expect("bucket of 1 is empty");
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.error_code(), Some(code::PM_THROTTLED));
    }

    #[tokio::test]
    async fn latency_never_ends_before_its_deadline() {
        // None, below, at and above the part left to the fine timer.
        for micros in [0, 500, 2_000, 3_500, 20_000] {
            let start = tokio::time::Instant::now();
            let deadline = start + Duration::from_micros(micros);
            wait_until(deadline).await;
            assert!(
                tokio::time::Instant::now() >= deadline,
                "{micros} µs ended early"
            );
        }
    }
}
