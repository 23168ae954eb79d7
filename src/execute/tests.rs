//! The executor against an in-memory service that misbehaves on demand: every id ends
//! deleted, absent, rejected, failed or pending, exactly once, and nothing outside the work
//! is ever deleted.

use std::collections::BTreeSet;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};

use super::*;
use crate::execute::recorder::Memory;
use crate::execute::retry::TransportKind;
use crate::execute::service::Answer;

/// Faults, each a probability per request.
#[derive(Default, Clone, Copy)]
struct Faults {
    /// 503, half of them after the deletion was applied.
    fail: f64,
    /// Connection reset after the deletion was applied.
    drop: f64,
    /// Throttled (as `PM.02153001` when `pm_throttle`).
    throttle: f64,
    pm_throttle: bool,
}

struct Fake {
    existing: Vec<Mutex<BTreeSet<u64>>>,
    locked: BTreeSet<u64>,
    deleted: Vec<Mutex<Vec<u64>>>,
    faults: Faults,
    rng: Mutex<rand::rngs::StdRng>,
    /// Answer every request of this project with a 401.
    refuse_project: Option<usize>,
}

impl Fake {
    fn new(projects: Vec<BTreeSet<u64>>, locked: &[u64], faults: Faults) -> Fake {
        Fake {
            deleted: projects.iter().map(|_| Mutex::new(Vec::new())).collect(),
            existing: projects.into_iter().map(Mutex::new).collect(),
            locked: locked.iter().copied().collect(),
            faults,
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(42)),
            refuse_project: None,
        }
    }

    fn roll(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().unwrap().random_bool(p)
    }
}

impl Service for Arc<Fake> {
    async fn delete(&self, project: usize, ids: &[u64]) -> Answer {
        tokio::task::yield_now().await;
        if self.refuse_project == Some(project) {
            return Answer::error(401, "APIGW.0301", "bad token");
        }
        if self.roll(self.faults.throttle) {
            return if self.faults.pm_throttle {
                Answer::error(400, "PM.02153001", "access frequency too high")
            } else {
                Answer::error(429, "APIGW.0308", "throttled")
            };
        }
        if self.roll(self.faults.fail / 2.0) {
            return Answer::error(503, "APIGW.0203", "unavailable");
        }
        let mut existing = self.existing[project].lock().unwrap();
        if ids.iter().any(|id| !existing.contains(id)) {
            return Answer::error(400, "PM.02152001", "issue not found");
        }
        if ids.iter().any(|id| self.locked.contains(id)) {
            return Answer::error(400, "PM.02175202", "under change review");
        }
        for id in ids {
            existing.remove(id);
        }
        self.deleted[project].lock().unwrap().extend(ids);
        drop(existing);
        if self.roll(self.faults.fail / 2.0) {
            return Answer::error(502, "APIGW.0201", "bad gateway");
        }
        if self.roll(self.faults.drop) {
            return Answer::Transport {
                kind: TransportKind::Reset,
                message: "connection closed".into(),
            };
        }
        Answer::status(204)
    }

    async fn get(&self, project: usize, id: u64) -> Answer {
        if self.existing[project].lock().unwrap().contains(&id) {
            Answer::status(200)
        } else {
            Answer::error(404, "PM.02152004", "not found")
        }
    }
}

fn settings(concurrency: usize) -> Settings {
    let mut policy = RetryPolicy::new(8);
    policy.base = Duration::from_millis(1);
    Settings {
        concurrency,
        policy,
        grace: Duration::from_secs(5),
    }
}

fn work(project: usize, ids: IdSet) -> ProjectWork {
    ProjectWork {
        project_id: format!("{project:0>32}"),
        label: None,
        ids,
        batch_size: 100,
    }
}

async fn run(fake: &Arc<Fake>, work: Vec<ProjectWork>, stop: Stop) -> Executed<Memory> {
    execute(
        fake.clone(),
        work,
        &settings(8),
        Memory::default(),
        stop,
        Arc::new(RateLimiter::new(100_000)),
        Arc::new(Counters::default()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_id_is_settled_through_faults() {
    // Two projects of 3,000 ids; some planned ids never existed; two are locked.
    let planned: Vec<IdSet> = (0..2)
        .map(|p| IdSet::from_range(p * 10_000 + 1, p * 10_000 + 3_000))
        .collect();
    let missing: BTreeSet<u64> = [5, 6, 7, 2_999, 10_500].into();
    let existing: Vec<BTreeSet<u64>> = planned
        .iter()
        .map(|set| {
            let mut ids: BTreeSet<u64> = set.as_slice().iter().copied().collect();
            ids.retain(|id| !missing.contains(id));
            ids.extend([900_000, 900_001]); // not planned: must survive
            ids
        })
        .collect();
    let faults = Faults {
        fail: 0.05,
        drop: 0.02,
        throttle: 0.05,
        pm_throttle: true,
    };
    let fake = Arc::new(Fake::new(existing, &[42, 10_042], faults));
    let work: Vec<_> = planned
        .iter()
        .enumerate()
        .map(|(p, ids)| work(p, ids.clone()))
        .collect();
    let done = run(&fake, work, Stop::new()).await;
    assert!(done.journal_error.is_none() && done.stopped.is_none());

    for (p, tally) in done.tallies.iter().enumerate() {
        let c = &tally.counts;
        assert_eq!(c.pending, 0);
        assert_eq!(c.failed, 0, "{:?}", tally.failed);
        assert_eq!(c.deleted + c.absent + c.rejected, 3_000);
        let rejected: Vec<u64> = tally.rejected.iter().map(|r| r.id).collect();
        assert_eq!(rejected, vec![p as u64 * 10_000 + 42]);
        // Never-existing ids are absent, not failed.
        for id in &missing {
            if planned[p].contains(*id) {
                assert!(tally.absent.contains(id), "{id} not reported absent");
            }
        }
        // The service's own record: only planned ids deleted, each planned id gone.
        let deleted = fake.deleted[p].lock().unwrap();
        assert!(deleted.iter().all(|id| planned[p].contains(*id)));
        let remaining = fake.existing[p].lock().unwrap();
        assert_eq!(
            remaining.iter().copied().collect::<Vec<_>>(),
            vec![p as u64 * 10_000 + 42, 900_000, 900_001]
        );
    }
    // Every outcome was journaled: settled records cover every planned id exactly once.
    let mut journaled: Vec<u64> = Vec::new();
    for (_, s) in &done.recorder.settled {
        match s {
            bisect::Settled::Deleted { ids, .. } | bisect::Settled::Absent { ids } => {
                journaled.extend(ids)
            }
            bisect::Settled::Rejected { id, .. } => journaled.push(*id),
            other => panic!("unexpected {other:?}"),
        }
    }
    journaled.sort();
    let all: Vec<u64> = planned.iter().flat_map(|s| s.as_slice().to_vec()).collect();
    assert_eq!(journaled, all);
    assert!(done.recorder.commits >= 1);
}

#[tokio::test]
async fn refused_credentials_stop_only_that_project() {
    let existing = vec![(1..=500).collect(), (1..=500).collect()];
    let mut fake = Fake::new(existing, &[], Faults::default());
    fake.refuse_project = Some(1);
    let fake = Arc::new(fake);
    let work = vec![
        work(0, IdSet::from_range(1, 500)),
        work(1, IdSet::from_range(1, 500)),
    ];
    let done = run(&fake, work, Stop::new()).await;
    assert_eq!(done.tallies[0].counts.deleted, 500);
    assert_eq!(done.tallies[1].counts.failed, 500);
    assert!(
        done.tallies[1]
            .stopped
            .as_deref()
            .unwrap()
            .contains("APIGW.0301")
    );
    assert!(fake.deleted[1].lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_stopped_run_starts_nothing_and_leaves_ids_pending() {
    let fake = Arc::new(Fake::new(
        vec![(1..=1000).collect()],
        &[],
        Faults::default(),
    ));
    let stop = Stop::new();
    stop.trigger(StopReason::Signal);
    let done = run(&fake, vec![work(0, IdSet::from_range(1, 1000))], stop).await;
    assert_eq!(done.stopped, Some(StopReason::Signal));
    assert_eq!(done.tallies[0].counts.pending, 1000);
    assert!(fake.deleted[0].lock().unwrap().is_empty());
    assert!(done.recorder.sent.is_empty());
}

#[test]
fn batches_interleave_across_projects() {
    let work = vec![
        work(0, IdSet::from_range(1, 250)),
        work(1, IdSet::from_range(1, 100)),
    ];
    let order: Vec<(usize, usize)> = interleave(&work)
        .into_iter()
        .map(|(p, ids)| (p, ids.len()))
        .collect();
    assert_eq!(order, vec![(0, 100), (1, 100), (0, 100), (0, 50)]);
}
