//! Settling one batch: delete it, and when the service rejects it for some of its ids, find
//! which ones by halving, so that every other id is still deleted.
//!
//! The service answers a batch delete with one status for all of it; when one id does not
//! exist, belongs elsewhere or is locked in review, the whole batch is refused with a 400.
//! [`settle`] splits a refused batch in halves and tries each, recursively, so `k` bad ids in a
//! batch of `n` cost about `2·k·log2(n)` extra requests. A single id still refused is checked
//! with a GET: gone means **absent** (the goal, "this item does not exist", is met), otherwise
//! it is **rejected** with the service's code and message. When both halves of a small batch
//! are refused, the bad ids are dense (typically a batch whose deletion already happened on an
//! earlier, unanswered attempt): checking each id with a GET is then cheaper than halving down.
//!
//! Retries, throttling and rate limiting happen below, in the [`Target`] the executor passes
//! in; this file only decides which ids to send next, and is tested with a fake target.

use std::future::Future;
use std::pin::Pin;

/// The service's reason for refusing ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
}

/// What one delete request came to, once the target has done its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Deleted (2xx).
    Deleted { request_id: Option<String> },
    /// Refused for (some of) its ids: bisect.
    Poison(Rejection),
    /// Retries exhausted, or a fatal error: the ids stay to be retried by a later run.
    Failed { reason: String },
    /// Not sent: the run is stopping (interrupted, deadline, or the project's credentials
    /// were refused). The ids stay pending.
    Stopped,
}

/// What a GET of one id says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    Gone,
    Present,
    /// The GET itself failed (after retries).
    Unknown(String),
}

/// The service as bisection sees it, and where its conclusions go.
pub trait Target {
    fn delete(&self, ids: &[u64]) -> impl Future<Output = Sent> + Send;
    fn exists(&self, id: u64) -> impl Future<Output = Existence> + Send;
    /// The final word on some ids, given as soon as it is known (the executor journals it
    /// then, so a run killed halfway through a bisection keeps what it learnt).
    fn settled(&self, settled: Settled) -> impl Future<Output = ()> + Send;
}

/// The final word on some ids of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Deleted {
        ids: Vec<u64>,
        request_id: Option<String>,
    },
    Absent {
        ids: Vec<u64>,
    },
    Rejected {
        id: u64,
        rejection: Rejection,
    },
    Failed {
        ids: Vec<u64>,
        reason: String,
    },
    /// Left pending because the run is stopping.
    Pending {
        ids: Vec<u64>,
    },
}

/// Batches at most this large whose two halves are both refused are checked id by id.
const DENSE: usize = 32;

/// Delete `ids` (one batch), bisecting on rejection; every id ends in exactly one
/// [`Settled`], given to [`Target::settled`].
pub async fn settle<T: Target + Sync>(target: &T, ids: &[u64]) {
    match target.delete(ids).await {
        Sent::Poison(rejection) => isolate(target, ids, rejection, true).await,
        other => target.settled(simple(ids, other)).await,
    }
}

/// The outcome of a request that was not refused.
fn simple(ids: &[u64], sent: Sent) -> Settled {
    match sent {
        Sent::Deleted { request_id } => Settled::Deleted {
            ids: ids.to_vec(),
            request_id,
        },
        Sent::Failed { reason } => Settled::Failed {
            ids: ids.to_vec(),
            reason,
        },
        Sent::Stopped => Settled::Pending { ids: ids.to_vec() },
        Sent::Poison(_) => unreachable!("poison is bisected"),
    }
}

type Boxed<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// `ids` were refused with `rejection`: find the bad ones.
fn isolate<'a, T: Target + Sync>(
    target: &'a T,
    ids: &'a [u64],
    rejection: Rejection,
    may_probe: bool,
) -> Boxed<'a> {
    Box::pin(async move {
        if let [id] = ids {
            let settled = match target.exists(*id).await {
                Existence::Gone => Settled::Absent { ids: vec![*id] },
                Existence::Present => Settled::Rejected { id: *id, rejection },
                Existence::Unknown(why) => Settled::Failed {
                    ids: vec![*id],
                    reason: format!(
                        "rejected with {} and could not check whether it exists: {why}",
                        rejection.error_code
                    ),
                },
            };
            target.settled(settled).await;
            return;
        }
        let (left, right) = ids.split_at(ids.len().div_ceil(2));
        let left_sent = target.delete(left).await;
        let right_sent = target.delete(right).await;
        match (left_sent, right_sent) {
            (Sent::Poison(_), Sent::Poison(_)) if may_probe && ids.len() <= DENSE => {
                probe(target, ids, rejection).await;
            }
            (left_sent, right_sent) => {
                for (half, sent) in [(left, left_sent), (right, right_sent)] {
                    match sent {
                        Sent::Poison(r) => isolate(target, half, r, may_probe).await,
                        other => target.settled(simple(half, other)).await,
                    }
                }
            }
        }
    })
}

/// Check each id with a GET; delete the ones still there as one batch (bisecting that, without
/// probing again, if it is refused too).
async fn probe<T: Target + Sync>(target: &T, ids: &[u64], rejection: Rejection) {
    let mut gone = Vec::new();
    let mut present = Vec::new();
    for &id in ids {
        match target.exists(id).await {
            Existence::Gone => gone.push(id),
            Existence::Present => present.push(id),
            Existence::Unknown(why) => {
                let reason = format!(
                    "rejected with {} and could not check whether it exists: {why}",
                    rejection.error_code
                );
                target
                    .settled(Settled::Failed {
                        ids: vec![id],
                        reason,
                    })
                    .await
            }
        }
    }
    if !gone.is_empty() {
        target.settled(Settled::Absent { ids: gone }).await;
    }
    if present.is_empty() {
        return;
    }
    match target.delete(&present).await {
        Sent::Poison(r) => isolate(target, &present, r, false).await,
        other => target.settled(simple(&present, other)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    /// A service holding `existing` ids, refusing any batch with a missing or `locked` id.
    struct Fake {
        existing: Mutex<BTreeSet<u64>>,
        locked: BTreeSet<u64>,
        deletes: Mutex<usize>,
        gets: Mutex<usize>,
        settled: Mutex<Vec<Settled>>,
    }

    impl Fake {
        fn new(existing: impl IntoIterator<Item = u64>, locked: &[u64]) -> Self {
            Fake {
                existing: Mutex::new(existing.into_iter().collect()),
                locked: locked.iter().copied().collect(),
                deletes: Mutex::new(0),
                gets: Mutex::new(0),
                settled: Mutex::new(Vec::new()),
            }
        }
        fn counts(&self) -> (usize, usize) {
            (*self.deletes.lock().unwrap(), *self.gets.lock().unwrap())
        }
        async fn settle(&self, ids: &[u64]) -> Vec<Settled> {
            settle(self, ids).await;
            std::mem::take(&mut *self.settled.lock().unwrap())
        }
    }

    impl Target for Fake {
        async fn delete(&self, ids: &[u64]) -> Sent {
            *self.deletes.lock().unwrap() += 1;
            let mut existing = self.existing.lock().unwrap();
            if let Some(bad) = ids.iter().find(|id| !existing.contains(id)) {
                return Sent::Poison(rejection("PM.02152001", &format!("{bad} not found")));
            }
            if ids.iter().any(|id| self.locked.contains(id)) {
                return Sent::Poison(rejection("PM.02175202", "under change review"));
            }
            for id in ids {
                existing.remove(id);
            }
            Sent::Deleted {
                request_id: Some("r".into()),
            }
        }
        async fn exists(&self, id: u64) -> Existence {
            *self.gets.lock().unwrap() += 1;
            if self.existing.lock().unwrap().contains(&id) {
                Existence::Present
            } else {
                Existence::Gone
            }
        }
        async fn settled(&self, settled: Settled) {
            self.settled.lock().unwrap().push(settled);
        }
    }

    fn rejection(code: &str, msg: &str) -> Rejection {
        Rejection {
            status: 400,
            error_code: code.into(),
            error_msg: msg.into(),
            request_id: None,
        }
    }

    /// (deleted, absent, rejected) ids, each sorted.
    fn tally(settled: &[Settled]) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
        let (mut deleted, mut absent, mut rejected) = (vec![], vec![], vec![]);
        for s in settled {
            match s {
                Settled::Deleted { ids, .. } => deleted.extend(ids),
                Settled::Absent { ids } => absent.extend(ids),
                Settled::Rejected { id, .. } => rejected.push(*id),
                other => panic!("unexpected {other:?}"),
            }
        }
        deleted.sort();
        absent.sort();
        rejected.sort();
        (deleted, absent, rejected)
    }

    #[tokio::test]
    async fn a_clean_batch_is_one_request() {
        let fake = Fake::new(1..=100, &[]);
        let ids: Vec<u64> = (1..=100).collect();
        let settled = fake.settle(&ids).await;
        assert_eq!(tally(&settled).0, ids);
        assert_eq!(fake.counts(), (1, 0));
    }

    #[tokio::test]
    async fn one_missing_id_is_isolated_in_few_requests() {
        let fake = Fake::new((1..=100).filter(|&id| id != 37), &[]);
        let ids: Vec<u64> = (1..=100).collect();
        let (deleted, absent, rejected) = tally(&fake.settle(&ids).await);
        assert_eq!(absent, vec![37]);
        assert!(rejected.is_empty());
        assert_eq!(deleted.len(), 99);
        let (deletes, gets) = fake.counts();
        assert!(deletes <= 1 + 2 * 7, "{deletes} deletes");
        assert_eq!(gets, 1);
    }

    #[tokio::test]
    async fn a_locked_id_is_rejected_with_its_code_and_the_rest_deleted() {
        let fake = Fake::new(1..=100, &[5, 90]);
        let ids: Vec<u64> = (1..=100).collect();
        let settled = fake.settle(&ids).await;
        let (deleted, absent, rejected) = tally(&settled);
        assert_eq!(rejected, vec![5, 90]);
        assert!(absent.is_empty());
        assert_eq!(deleted.len(), 98);
        let codes: Vec<&str> = settled
            .iter()
            .filter_map(|s| match s {
                Settled::Rejected { rejection, .. } => Some(rejection.error_code.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(codes, ["PM.02175202", "PM.02175202"]);
    }

    #[tokio::test]
    async fn a_batch_already_gone_costs_about_one_get_per_id() {
        let fake = Fake::new(std::iter::empty(), &[]);
        let ids: Vec<u64> = (1..=100).collect();
        let (deleted, absent, _) = tally(&fake.settle(&ids).await);
        assert!(deleted.is_empty());
        assert_eq!(absent, ids);
        let (deletes, gets) = fake.counts();
        assert_eq!(gets, 100);
        assert!(deletes <= 15, "{deletes} deletes");
    }

    #[tokio::test]
    async fn mixed_missing_and_locked_ids_all_end_somewhere() {
        let missing: BTreeSet<u64> = (1..=100).filter(|id| id % 7 == 0).collect();
        let fake = Fake::new((1..=100).filter(|id| !missing.contains(id)), &[3, 4, 50]);
        let ids: Vec<u64> = (1..=100).collect();
        let (deleted, absent, rejected) = tally(&fake.settle(&ids).await);
        assert_eq!(absent, missing.iter().copied().collect::<Vec<_>>());
        assert_eq!(rejected, vec![3, 4, 50]);
        assert_eq!(deleted.len() + absent.len() + rejected.len(), 100);
    }

    /// A target that fails or stops: ids end failed or pending, never lost.
    struct Broken(Sent, Mutex<Vec<Settled>>);
    impl Target for Broken {
        async fn delete(&self, _: &[u64]) -> Sent {
            self.0.clone()
        }
        async fn exists(&self, _: u64) -> Existence {
            Existence::Unknown("down".into())
        }
        async fn settled(&self, settled: Settled) {
            self.1.lock().unwrap().push(settled);
        }
    }

    async fn broken(sent: Sent, ids: &[u64]) -> Vec<Settled> {
        let target = Broken(sent, Mutex::new(Vec::new()));
        settle(&target, ids).await;
        target.1.into_inner().unwrap()
    }

    #[tokio::test]
    async fn failures_and_stops_keep_every_id() {
        let ids = [1, 2, 3];
        let failed = broken(
            Sent::Failed {
                reason: "500".into(),
            },
            &ids,
        )
        .await;
        assert_eq!(
            failed,
            vec![Settled::Failed {
                ids: ids.to_vec(),
                reason: "500".into()
            }]
        );
        let stopped = broken(Sent::Stopped, &ids).await;
        assert_eq!(stopped, vec![Settled::Pending { ids: ids.to_vec() }]);
        let poisoned = broken(Sent::Poison(rejection("PM.1", "no")), &[9]).await;
        assert!(matches!(&poisoned[..], [Settled::Failed { ids, .. }] if ids == &[9]));
    }
}
