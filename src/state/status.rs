//! What `reqprune status` reports of a job: its planned ids held against what the state says.
//!
//! Pure: a checked [`Job`] (what is planned: per project, the union of `delete` minus
//! `protect`) and its [`StateView`] in, a [`JobStatus`] out. Only planned ids are counted, so
//! after the job file changed, ids it no longer names drop out and new ones show as pending.
//! [`JobStatus`] is also the JSON wire format of `status --format json` (`format_version` 1),
//! kept apart from the journal's own types.

use serde::Serialize;

use super::record::RunSummary;
use super::{ProjectView, StateView};
use crate::checked::{Job, Project};
use crate::idset::IdSet;

/// The JSON document of `status --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub format_version: u32,
    pub jobs: Vec<JobStatus>,
}

/// Counts of one job (or one project), by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub planned: u64,
    pub deleted: u64,
    pub absent: u64,
    pub rejected: u64,
    pub failed: u64,
    pub in_flight: u64,
    /// Planned and not yet tried (or tried by a run that recorded nothing about them).
    pub pending: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.planned += other.planned;
        self.deleted += other.deleted;
        self.absent += other.absent;
        self.rejected += other.rejected;
        self.failed += other.failed;
        self.in_flight += other.in_flight;
        self.pending += other.pending;
    }

    /// Every planned id deleted or absent.
    pub fn complete(&self) -> bool {
        self.deleted + self.absent == self.planned
    }
}

/// One job's status.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub name: String,
    pub file: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub complete: bool,
    /// Each rejected planned id with the service's error.
    pub rejections: Vec<RejectedId>,
    /// Failed planned ids, by reason.
    pub failures: Vec<FailureGroup>,
    pub last_run: Option<LastRun>,
    pub projects: Vec<ProjectStatus>,
    /// The job's fingerprint now; differs from `last_run.fingerprint` when the job changed.
    pub fingerprint: String,
    /// The state's lineage and sequence (`null` and 0 when there is no state yet).
    pub lineage: Option<String>,
    pub sequence: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectStatus {
    pub project_id: String,
    pub label: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedId {
    pub project_id: String,
    pub id: u64,
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    pub project_id: String,
    pub reason: String,
    pub count: u64,
    pub ids: Vec<u64>,
}

/// The latest run and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastRun {
    pub started: String,
    pub ended: Option<String>,
    /// `complete`, `partial`, `error`, `interrupted`, `running` (its process holds the lock
    /// now) or `killed` (no end recorded and no process holds the lock: killed or crashed).
    pub outcome: &'static str,
    pub plan_id: Option<String>,
    pub fingerprint: String,
    pub started_at_sequence: u64,
}

impl LastRun {
    /// `running` tells an apply under way from one that died without recording its end.
    pub fn of(run: &RunSummary, running: bool) -> LastRun {
        let outcome = match run.outcome {
            Some(outcome) => outcome.as_str(),
            None if running => "running",
            None => "killed",
        };
        LastRun {
            started: run.started.clone(),
            ended: run.ended.clone(),
            outcome,
            plan_id: run.plan_id.clone(),
            fingerprint: run.fingerprint.clone(),
            started_at_sequence: run.started_at_sequence,
        }
    }
}

/// `job`'s status from `view`; `running` says whether an apply holds the job's lock now.
pub fn job_status(job: &Job, view: &StateView, running: bool) -> JobStatus {
    let mut counts = Counts::default();
    let mut projects = Vec::new();
    let mut rejections = Vec::new();
    let mut failures = Vec::new();
    for project in &job.projects {
        let state = view.projects.get(&project.id).cloned().unwrap_or_default();
        let (project_counts, planned) = project_counts(project, &state);
        for (&id, rejection) in &state.rejected {
            if planned.contains(id) {
                rejections.push(RejectedId {
                    project_id: project.id.clone(),
                    id,
                    error_code: rejection.error_code.clone(),
                    error_msg: rejection.error_msg.clone(),
                    request_id: rejection.request_id.clone(),
                });
            }
        }
        for (reason, ids) in &state.failures {
            let ids = ids.intersection(&planned);
            if !ids.is_empty() {
                failures.push(FailureGroup {
                    project_id: project.id.clone(),
                    reason: reason.clone(),
                    count: ids.len() as u64,
                    ids: ids.into_vec(),
                });
            }
        }
        counts.add(&project_counts);
        projects.push(ProjectStatus {
            project_id: project.id.clone(),
            label: project.label.clone(),
            counts: project_counts,
        });
    }
    JobStatus {
        name: job.name.clone(),
        file: job.file.display().to_string(),
        counts,
        complete: counts.complete(),
        rejections,
        failures,
        last_run: view.last_run().map(|run| LastRun::of(run, running)),
        projects,
        fingerprint: job.fingerprint.clone(),
        lineage: view.lineage.clone(),
        sequence: view.sequence,
    }
}

/// A project's counts, and its planned ids.
fn project_counts(project: &Project, state: &ProjectView) -> (Counts, IdSet) {
    let planned = project.delete.difference(&project.protect);
    let among = |set: &IdSet| planned.intersection(set).len() as u64;
    let rejected = state
        .rejected
        .keys()
        .filter(|&&id| planned.contains(id))
        .count() as u64;
    let mut counts = Counts {
        planned: planned.len() as u64,
        deleted: among(&state.deleted),
        absent: among(&state.absent),
        rejected,
        failed: among(&state.failed),
        in_flight: among(&state.in_flight),
        pending: 0,
    };
    // The statuses are disjoint, so what is left is pending.
    counts.pending = counts.planned
        - (counts.deleted + counts.absent + counts.rejected + counts.failed + counts.in_flight);
    (counts, planned)
}
