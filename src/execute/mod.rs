//! Applying a plan: the executor and the policies it runs by.
//!
//! [`execute`] takes one job's work (per project, the ids still to delete), cuts it into
//! batches interleaved across projects, and runs `concurrency` workers over them. Each worker
//! settles a batch through `bisect` (poison ids isolated by halving), whose requests go through
//! `request` (rate limiter turn, journal line, retries per `retry`, throttle feedback to
//! `ratelimit`). Settled outcomes are journaled through `recorder` (one writer thread, group
//! commit) before they count. `signal` stops the run cleanly; `progress` shows it; `report`
//! tallies it. `service` is the API as the executor sees it, and `client` and `journaled`
//! connect it to the real `api::Client` and `state::Journal`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::idset::IdSet;

pub mod bisect;
pub mod client;
pub mod journaled;
pub mod progress;
pub mod ratelimit;
pub mod recorder;
pub mod report;
pub mod request;
pub mod retry;
pub mod service;
pub mod signal;

use ratelimit::RateLimiter;
use recorder::Recorder;
use report::{Counters, ProjectTally};
use request::{Lane, Shared};
use retry::RetryPolicy;
use service::Service;
use signal::{Stop, StopReason};

/// How a job runs: the policies, as values.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests in flight at once, across and within projects.
    pub concurrency: usize,
    pub policy: RetryPolicy,
    /// After a stop, how long requests in flight may take to finish before they are abandoned
    /// (their ids stay in flight in the journal and are sent again on resume).
    pub grace: Duration,
}

/// One project's work.
#[derive(Debug, Clone)]
pub struct ProjectWork {
    pub project_id: String,
    pub label: Option<String>,
    pub ids: IdSet,
    pub batch_size: usize,
}

/// What a job's execution came to.
pub struct Executed<R> {
    pub tallies: Vec<ProjectTally>,
    /// Set when the run stopped early.
    pub stopped: Option<StopReason>,
    /// The journal could not be written: the run stopped and must exit with an error.
    pub journal_error: Option<crate::state::StateError>,
    /// The recorder, given back for the closing records and compaction.
    pub recorder: R,
}

/// Run one job's work to the end (or to a stop). `limiter` and `counters` are passed in so the
/// progress display can read them.
pub async fn execute<S: Service, R: Recorder>(
    service: S,
    work: Vec<ProjectWork>,
    settings: &Settings,
    recorder: R,
    stop: Stop,
    limiter: Arc<RateLimiter>,
    counters: Arc<Counters>,
) -> Executed<R> {
    let tallies: Vec<ProjectTally> = work
        .iter()
        .map(|w| ProjectTally::new(&w.project_id, w.label.as_deref(), w.ids.len() as u64))
        .collect();
    let tallies = Arc::new(Mutex::new(tallies));
    let projects: Vec<String> = work.iter().map(|w| w.project_id.clone()).collect();
    let (journal, writer) = recorder::spawn(
        recorder,
        projects.clone(),
        {
            let (tallies, counters) = (tallies.clone(), counters.clone());
            move |project, settled| {
                counters.count(&settled);
                tallies.lock().expect("poisoned")[project].record(&settled);
            }
        },
        {
            // Nothing more is durable: stop, and leave what is unconfirmed in flight.
            let stop = stop.clone();
            move || stop.trigger(StopReason::Journal)
        },
    );
    let queue = Arc::new(Mutex::new(interleave(&work)));
    let shared = Arc::new(Shared {
        service,
        projects,
        stopped: work.iter().map(|_| Mutex::new(None)).collect(),
        limiter,
        policy: settings.policy,
        counters: counters.clone(),
        stop: stop.clone(),
        journal: journal.clone(),
    });
    drop(journal);

    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..settings.concurrency.max(1) {
        let (shared, queue) = (shared.clone(), queue.clone());
        workers.spawn(async move {
            loop {
                if shared.stop.is_stopped() {
                    return;
                }
                let Some((project, ids)) = queue.lock().expect("poisoned").pop_front() else {
                    return;
                };
                let lane = Lane {
                    shared: &shared,
                    project,
                };
                bisect::settle(&lane, &ids).await;
            }
        });
    }

    // Wait for the workers; after a stop, at most `grace` more.
    let grace = settings.grace;
    let drained = async { while workers.join_next().await.is_some() {} };
    tokio::select! {
        _ = drained => {}
        _ = async { stop.stopped().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("requests still in flight after {grace:?}; they will be sent again on resume");
        }
    }
    workers.abort_all();
    while workers.join_next().await.is_some() {}

    let stopped_projects: Vec<Option<String>> =
        (0..work.len()).map(|p| shared.stopped_reason(p)).collect();
    drop(shared);
    let (recorder, journal_error) = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .expect("the journal thread panicked");
    let mut tallies = std::mem::take(&mut *tallies.lock().expect("poisoned"));
    for (tally, why) in tallies.iter_mut().zip(stopped_projects) {
        tally.stopped = why;
    }
    Executed {
        tallies,
        stopped: stop.reason(),
        journal_error,
        recorder,
    }
}

/// Batches in the order they are sent: round-robin across projects, so that with several
/// projects the requests in flight spread over them.
fn interleave(work: &[ProjectWork]) -> VecDeque<(usize, Vec<u64>)> {
    let mut per_project: Vec<_> = work
        .iter()
        .map(|w| w.ids.chunks(w.batch_size.max(1)))
        .collect();
    let mut queue = VecDeque::new();
    loop {
        let before = queue.len();
        for (project, batches) in per_project.iter_mut().enumerate() {
            if let Some(batch) = batches.next() {
                queue.push_back((project, batch.to_vec()));
            }
        }
        if queue.len() == before {
            return queue;
        }
    }
}

#[cfg(test)]
mod tests;
