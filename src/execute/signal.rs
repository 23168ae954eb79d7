//! Stopping a run cleanly: Ctrl-C, SIGTERM and the `--timeout` deadline.
//!
//! The first Ctrl-C or SIGTERM (or the deadline) triggers [`Stop`]: workers start no new batch
//! and leave the rest pending, requests in flight finish (bounded by `GRACE` in the executor),
//! their outcomes are journaled, and `apply` prints how to resume. A second signal exits at
//! once with 130: the journal is append-only and a torn last line is ignored on replay, so it
//! stays consistent whatever is cut short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM.
    Signal,
    /// The `--timeout` deadline passed.
    Deadline,
    /// The journal could not be written: nothing more may be done.
    Journal,
}

/// A shared, one-way "stop starting work" flag that can also be awaited.
#[derive(Debug, Clone)]
pub struct Stop {
    tx: Arc<watch::Sender<Option<StopReason>>>,
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

impl Stop {
    pub fn new() -> Self {
        Stop {
            tx: Arc::new(watch::Sender::new(None)),
        }
    }

    /// Trigger the stop; the first reason wins.
    pub fn trigger(&self, reason: StopReason) {
        self.tx.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    pub fn reason(&self) -> Option<StopReason> {
        *self.tx.borrow()
    }

    pub fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once the stop is triggered.
    pub async fn stopped(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so this cannot fail while we wait.
        let _ = rx.wait_for(Option::is_some).await;
    }

    /// Sleep for `duration`, or less if the stop comes first; returns whether it came.
    pub async fn sleep(&self, duration: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(duration) => self.is_stopped(),
            _ = self.stopped() => true,
        }
    }
}

/// Listen for Ctrl-C and SIGTERM (and the deadline, if any) on the current runtime: the first
/// triggers `stop` and tells the user; a second exits the process at once with 130.
pub fn listen(stop: &Stop, deadline: Option<tokio::time::Instant>) {
    let signals = stop.clone();
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        let mut first = true;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            if !first {
                eprintln!("reqprune: second interrupt, exiting now; the journal stays consistent");
                std::process::exit(130);
            }
            first = false;
            signals.trigger(StopReason::Signal);
            eprintln!(
                "reqprune: interrupted; finishing the requests in flight \
                 (interrupt again to exit at once)"
            );
        }
    });
    if let Some(deadline) = deadline {
        let timer = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            timer.trigger(StopReason::Deadline);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reason_wins_and_waiters_wake() {
        let stop = Stop::new();
        assert!(!stop.is_stopped());
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.sleep(Duration::from_secs(60)).await }
        });
        stop.trigger(StopReason::Deadline);
        stop.trigger(StopReason::Signal);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .unwrap()
                .unwrap()
        );
        assert_eq!(stop.reason(), Some(StopReason::Deadline));
        stop.stopped().await;
    }

    #[tokio::test]
    async fn sleep_runs_out_when_nothing_stops() {
        let stop = Stop::new();
        assert!(!stop.sleep(Duration::from_millis(5)).await);
    }
}
