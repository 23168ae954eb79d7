//! One request to the service, with everything around it: its turn from the rate limiter, its
//! journal line, retries with backoff, throttle feedback, and stopping a project whose
//! credentials are refused.
//!
//! [`Lane`] is one project's view of the shared executor state; it implements
//! [`bisect::Target`], so bisection drives it without knowing about retries or rates.

use std::sync::{Arc, Mutex};

use super::bisect::{Existence, Rejection, Sent, Settled, Target};
use super::ratelimit::RateLimiter;
use super::recorder::JournalHandle;
use super::report::Counters;
use super::retry::{Class, PM_NO_PROJECT, RetryPolicy};
use super::service::{Answer, Service};
use super::signal::Stop;

/// What every worker shares.
pub struct Shared<S> {
    pub service: S,
    /// Project ids, by index.
    pub projects: Vec<String>,
    /// Why a project was stopped (credentials refused, project gone), by index.
    pub stopped: Vec<Mutex<Option<String>>>,
    pub limiter: Arc<RateLimiter>,
    pub policy: RetryPolicy,
    pub counters: Arc<Counters>,
    pub stop: Stop,
    pub journal: JournalHandle,
}

/// How a request ended, once retries are done.
enum Final {
    /// A definitive answer: classified `Done` or `Poison`.
    Answered(Answer, Class),
    Failed(String),
    Stopped,
}

impl<S: Service> Shared<S> {
    pub fn stopped_reason(&self, project: usize) -> Option<String> {
        self.stopped[project].lock().expect("poisoned").clone()
    }

    fn stop_project(&self, project: usize, why: String) {
        let mut slot = self.stopped[project].lock().expect("poisoned");
        if slot.is_none() {
            tracing::error!(project = %self.projects[project], "stopping this project: {why}");
            *slot = Some(why);
        }
    }

    /// Send `ids` for deletion (or GET `id` when `ids` is `None`) until a definitive answer,
    /// the retry budget runs out, or the run stops.
    async fn request(&self, project: usize, ids: Option<&[u64]>, id: u64) -> Final {
        let (mut failures, mut throttles, mut attempt) = (0u32, 0u32, 0u32);
        loop {
            if self.stop.is_stopped() {
                return Final::Stopped;
            }
            if let Some(why) = self.stopped_reason(project) {
                return Final::Failed(why);
            }
            self.limiter.acquire().await;
            attempt += 1;
            if let Some(ids) = ids {
                self.journal.sent(project, ids, attempt);
            }
            Counters::bump(&self.counters.requests, 1);
            let answer = match ids {
                Some(ids) => self.service.delete(project, ids).await,
                None => self.service.get(project, id).await,
            };
            let mut class = answer.class();
            if ids.is_none() && not_found(&answer) {
                // For a GET, "no such item" is the answer, not a failure.
                class = Class::Poison;
            }
            let retry_after = match &answer {
                Answer::Http { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = match class {
                Class::Done | Class::Poison => {
                    self.limiter.on_success();
                    return Final::Answered(answer, class);
                }
                Class::Throttle => {
                    throttles += 1;
                    Counters::bump(&self.counters.throttles, 1);
                    self.limiter.on_throttle();
                    if !self.policy.allows(failures, throttles) {
                        return Final::Failed(format!(
                            "{} (throttled {throttles} times)",
                            answer.describe()
                        ));
                    }
                    // The limiter now paces the retry; a short jitter only de-synchronises.
                    self.policy.delay(1, retry_after, &mut rand::rng())
                }
                Class::Retry => {
                    failures += 1;
                    if !self.policy.allows(failures, throttles) {
                        return Final::Failed(format!(
                            "{} after {attempt} attempts",
                            answer.describe()
                        ));
                    }
                    Counters::bump(&self.counters.retries, 1);
                    tracing::debug!(
                        project = %self.projects[project],
                        attempt,
                        "retrying after {}",
                        answer.describe()
                    );
                    self.policy.delay(failures, retry_after, &mut rand::rng())
                }
                Class::Auth => {
                    let why = answer.describe();
                    self.stop_project(project, why.clone());
                    return Final::Failed(why);
                }
                Class::Fatal => {
                    let why = answer.describe();
                    if let Answer::Http {
                        error_code: Some(code),
                        ..
                    } = &answer
                        && code == PM_NO_PROJECT
                    {
                        self.stop_project(project, why.clone());
                    }
                    return Final::Failed(why);
                }
            };
            if self.stop.sleep(wait).await {
                return Final::Stopped;
            }
        }
    }
}

/// A 404 from the service itself (not the gateway's "no such API").
fn not_found(answer: &Answer) -> bool {
    matches!(answer, Answer::Http { status: 404, error_code, .. }
        if error_code.as_deref() != Some("APIGW.0101"))
}

/// One project's requests, as bisection drives them.
pub struct Lane<'a, S> {
    pub shared: &'a Shared<S>,
    pub project: usize,
}

impl<S: Service> Target for Lane<'_, S> {
    async fn delete(&self, ids: &[u64]) -> Sent {
        match self.shared.request(self.project, Some(ids), 0).await {
            Final::Answered(answer, Class::Done) => Sent::Deleted {
                request_id: request_id(&answer),
            },
            Final::Answered(answer, _) => Sent::Poison(rejection(answer)),
            Final::Failed(reason) => Sent::Failed { reason },
            Final::Stopped => Sent::Stopped,
        }
    }

    async fn exists(&self, id: u64) -> Existence {
        match self.shared.request(self.project, None, id).await {
            Final::Answered(_, Class::Done) => Existence::Present,
            // A 404, or a 400 that is not about pacing: the item is not there.
            Final::Answered(_, _) => Existence::Gone,
            Final::Failed(reason) => Existence::Unknown(reason),
            Final::Stopped => Existence::Unknown("the run is stopping".into()),
        }
    }

    /// Journal the outcome; the writer counts it once it is durable.
    async fn settled(&self, settled: Settled) {
        if matches!(settled, Settled::Pending { .. }) {
            return;
        }
        let project_id = &self.shared.projects[self.project];
        tracing::debug!(project = %project_id, outcome = ?settled, "settled");
        self.shared.journal.settled(self.project, settled);
    }
}

fn request_id(answer: &Answer) -> Option<String> {
    match answer {
        Answer::Http { request_id, .. } => request_id.clone(),
        _ => None,
    }
}

fn rejection(answer: Answer) -> Rejection {
    match answer {
        Answer::Http {
            status,
            error_code,
            error_msg,
            request_id,
            ..
        } => Rejection {
            status,
            error_code: error_code.unwrap_or_default(),
            error_msg: error_msg.unwrap_or_default(),
            request_id,
        },
        other => Rejection {
            status: 0,
            error_code: String::new(),
            error_msg: other.describe(),
            request_id: None,
        },
    }
}
