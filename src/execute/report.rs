//! What an apply did: per-project tallies of settled ids, the run's counters, the `--report FILE`
//! JSON and the closing summary.
//!
//! The executor feeds every [`Settled`] outcome into a [`ProjectTally`]; workers bump the shared
//! [`Counters`] (also read by `progress`). At the end, [`Report`] is the versioned wire format
//! written by `--report`, kept apart from the internal types, and [`Report::summary`] is the
//! text a person reads.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::bisect::Settled;

/// Counters shared by all workers, read live by the progress display.
#[derive(Debug, Default)]
pub struct Counters {
    /// HTTP requests sent (deletes and GETs, retries included).
    pub requests: AtomicU64,
    /// Requests sent again after a transient failure.
    pub retries: AtomicU64,
    /// Throttled answers (429 `APIGW.0308`, 400 `PM.02153001`).
    pub throttles: AtomicU64,
    pub deleted: AtomicU64,
    pub absent: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Ids settled one way or another.
    pub fn settled(&self) -> u64 {
        Self::get(&self.deleted)
            + Self::get(&self.absent)
            + Self::get(&self.rejected)
            + Self::get(&self.failed)
    }

    /// Count a settled outcome.
    pub fn count(&self, settled: &Settled) {
        match settled {
            Settled::Deleted { ids, .. } => Self::bump(&self.deleted, ids.len() as u64),
            Settled::Absent { ids } => Self::bump(&self.absent, ids.len() as u64),
            Settled::Rejected { .. } => Self::bump(&self.rejected, 1),
            Settled::Failed { ids, .. } => Self::bump(&self.failed, ids.len() as u64),
            Settled::Pending { .. } => {}
        }
    }
}

/// One refused id, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedId {
    pub id: u64,
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
}

/// One id that could not be settled in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedId {
    pub id: u64,
    pub reason: String,
}

/// Counts per outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub planned: u64,
    pub deleted: u64,
    pub absent: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Not settled in this run (interrupted, deadline, or the project was stopped).
    pub pending: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.planned += other.planned;
        self.deleted += other.deleted;
        self.absent += other.absent;
        self.rejected += other.rejected;
        self.failed += other.failed;
        self.pending += other.pending;
    }
}

/// What happened to one project's planned ids in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProjectTally {
    pub project_id: String,
    pub label: Option<String>,
    pub counts: Counts,
    pub deleted: Vec<u64>,
    pub absent: Vec<u64>,
    pub rejected: Vec<RejectedId>,
    pub failed: Vec<FailedId>,
    /// Why the project stopped early, e.g. its credentials were refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl ProjectTally {
    pub fn new(project_id: &str, label: Option<&str>, planned: u64) -> Self {
        ProjectTally {
            project_id: project_id.to_string(),
            label: label.map(str::to_string),
            counts: Counts {
                planned,
                pending: planned,
                ..Counts::default()
            },
            ..ProjectTally::default()
        }
    }

    pub fn record(&mut self, settled: &Settled) {
        let c = &mut self.counts;
        match settled {
            Settled::Deleted { ids, .. } => {
                c.deleted += ids.len() as u64;
                c.pending -= ids.len() as u64;
                self.deleted.extend(ids);
            }
            Settled::Absent { ids } => {
                c.absent += ids.len() as u64;
                c.pending -= ids.len() as u64;
                self.absent.extend(ids);
            }
            Settled::Rejected { id, rejection } => {
                c.rejected += 1;
                c.pending -= 1;
                self.rejected.push(RejectedId {
                    id: *id,
                    error_code: rejection.error_code.clone(),
                    error_msg: rejection.error_msg.clone(),
                    request_id: rejection.request_id.clone(),
                });
            }
            Settled::Failed { ids, reason } => {
                c.failed += ids.len() as u64;
                c.pending -= ids.len() as u64;
                self.failed.extend(ids.iter().map(|&id| FailedId {
                    id,
                    reason: reason.clone(),
                }));
            }
            Settled::Pending { .. } => {}
        }
    }

    /// Sort the id lists, so reports are deterministic whatever the completion order.
    fn normalise(&mut self) {
        self.deleted.sort_unstable();
        self.absent.sort_unstable();
        self.rejected.sort_by_key(|r| r.id);
        self.failed.sort_by_key(|f| f.id);
    }
}

/// One job in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobReport {
    pub name: String,
    pub counts: Counts,
    pub projects: Vec<ProjectTally>,
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunEnd {
    /// Every planned id deleted or absent.
    Complete,
    /// Finished, but some ids were rejected or failed.
    Partial,
    /// Stopped by a signal or the `--timeout` deadline; some ids still pending.
    Interrupted,
}

/// The `--report FILE` JSON, format version 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub outcome: RunEnd,
    pub started_at: String,
    pub elapsed_seconds: f64,
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub totals: Counts,
    pub jobs: Vec<JobReport>,
}

impl Report {
    /// Assemble the report from the tallies of each job (name, projects) and the counters.
    pub fn new(
        jobs: Vec<(String, Vec<ProjectTally>)>,
        counters: &Counters,
        started_at: String,
        elapsed: std::time::Duration,
        interrupted: bool,
    ) -> Report {
        let mut totals = Counts::default();
        let jobs: Vec<JobReport> = jobs
            .into_iter()
            .map(|(name, mut projects)| {
                let mut counts = Counts::default();
                for project in &mut projects {
                    project.normalise();
                    counts.add(&project.counts);
                }
                totals.add(&counts);
                JobReport {
                    name,
                    counts,
                    projects,
                }
            })
            .collect();
        let outcome = if interrupted || totals.pending > 0 {
            RunEnd::Interrupted
        } else if totals.rejected + totals.failed > 0 {
            RunEnd::Partial
        } else {
            RunEnd::Complete
        };
        Report {
            format_version: 1,
            outcome,
            started_at,
            elapsed_seconds: (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            requests: Counters::get(&counters.requests),
            retries: Counters::get(&counters.retries),
            throttled: Counters::get(&counters.throttles),
            totals,
            jobs,
        }
    }

    /// The closing summary a person reads: counts, then each rejected or failed reason.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let t = &self.totals;
        let mut out = format!(
            "Deleted {}, absent {}, rejected {}, failed {}, pending {} of {} planned; \
             {} requests, {} retries, {} throttled, in {}.\n",
            t.deleted,
            t.absent,
            t.rejected,
            t.failed,
            t.pending,
            t.planned,
            self.requests,
            self.retries,
            self.throttled,
            humantime::format_duration(std::time::Duration::from_millis(
                (self.elapsed_seconds * 1000.0) as u64
            )),
        );
        for job in &self.jobs {
            for project in &job.projects {
                let name = match &project.label {
                    Some(label) => format!("{label} ({})", project.project_id),
                    None => project.project_id.clone(),
                };
                if let Some(why) = &project.stopped {
                    let _ = writeln!(out, "  {}: {name}: stopped: {why}", job.name);
                }
                for r in reasons(
                    project
                        .rejected
                        .iter()
                        .map(|r| (r.id, format!("rejected: {} {}", r.error_code, r.error_msg))),
                ) {
                    let _ = writeln!(out, "  {}: {name}: {r}", job.name);
                }
                for r in reasons(
                    project
                        .failed
                        .iter()
                        .map(|f| (f.id, format!("failed: {}", f.reason))),
                ) {
                    let _ = writeln!(out, "  {}: {name}: {r}", job.name);
                }
            }
        }
        out
    }
}

/// Group ids by reason: `rejected: PM.02175202 under review: 1660084, 1660090-1660091`.
fn reasons(items: impl Iterator<Item = (u64, String)>) -> Vec<String> {
    let mut by_reason: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for (id, reason) in items {
        by_reason.entry(reason).or_default().push(id);
    }
    by_reason
        .into_iter()
        .map(|(reason, ids)| format!("{reason}: {}", crate::idset::IdSet::from_unsorted(ids)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::bisect::Rejection;

    fn tally() -> ProjectTally {
        let mut t = ProjectTally::new("526cefde62004de2b62b5e8dd2c2b3af", Some("payments"), 9);
        t.record(&Settled::Deleted {
            ids: vec![5, 4, 3],
            request_id: Some("req-1".into()),
        });
        t.record(&Settled::Absent { ids: vec![1] });
        t.record(&Settled::Rejected {
            id: 2,
            rejection: Rejection {
                status: 400,
                error_code: "PM.02175202".into(),
                error_msg: "work item is under change review".into(),
                request_id: Some("req-2".into()),
            },
        });
        t.record(&Settled::Failed {
            ids: vec![7, 6],
            reason: "HTTP 503 after 6 attempts".into(),
        });
        t.record(&Settled::Pending { ids: vec![8, 9] });
        t
    }

    #[test]
    fn report_json_and_summary() {
        let counters = Counters::default();
        Counters::bump(&counters.requests, 12);
        Counters::bump(&counters.retries, 5);
        Counters::bump(&counters.throttles, 2);
        let report = Report::new(
            vec![("demo".into(), vec![tally()])],
            &counters,
            "2026-01-01T00:00:00Z".into(),
            std::time::Duration::from_millis(1500),
            false,
        );
        assert_eq!(report.outcome, RunEnd::Interrupted, "2 ids still pending");
        insta::assert_json_snapshot!(report);
        insta::assert_snapshot!(report.summary());
    }

    #[test]
    fn outcome_follows_the_counts() {
        let counters = Counters::default();
        let mut done = ProjectTally::new("p", None, 2);
        done.record(&Settled::Deleted {
            ids: vec![1],
            request_id: None,
        });
        done.record(&Settled::Absent { ids: vec![2] });
        let at = || "t".to_string();
        let zero = std::time::Duration::ZERO;
        let complete = Report::new(
            vec![("j".into(), vec![done.clone()])],
            &counters,
            at(),
            zero,
            false,
        );
        assert_eq!(complete.outcome, RunEnd::Complete);
        let stopped = Report::new(vec![("j".into(), vec![done])], &counters, at(), zero, true);
        assert_eq!(stopped.outcome, RunEnd::Interrupted);
        let mut partial = ProjectTally::new("p", None, 1);
        partial.record(&Settled::Failed {
            ids: vec![1],
            reason: "x".into(),
        });
        let partial = Report::new(
            vec![("j".into(), vec![partial])],
            &counters,
            at(),
            zero,
            false,
        );
        assert_eq!(partial.outcome, RunEnd::Partial);
    }
}
