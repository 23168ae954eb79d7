//! The statuses a journal's records add up to, per project and id.
//!
//! [`Tracker`] applies records one by one, holding one hash-map entry per id (a million ids
//! replay in a fraction of a second), and sorts them into the [`StateView`] callers read only
//! when asked. The rules: later records win, except that deleted and absent are final (see
//! [`ProjectView`]). Both the reader ([`super::replay`]) and the writer ([`super::Journal`])
//! keep their statuses in one, so they cannot disagree.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::record::{Header, ProjectSnapshot, Record, Rejection, RunOutcome, RunSummary};
use super::{ProjectView, StateView};
use crate::idset::IdSet;

/// One id's status; `Failed` and `Rejected` index the project's side tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InFlight,
    Deleted,
    Absent,
    Failed(u32),
    Rejected(u32),
}

impl Status {
    fn is_done(self) -> bool {
        matches!(self, Status::Deleted | Status::Absent)
    }
}

/// Statuses of one project's ids.
#[derive(Debug, Default)]
pub(crate) struct ProjectTrack {
    /// Fx rather than SipHash: a plan's own ids need no protection from chosen keys, and the
    /// apply journal's writer thread hashes every id twice (sent, then settled), so SipHash
    /// was half the cost of an append at a million ids.
    ids: FxHashMap<u64, Status>,
    reasons: Vec<String>,
    rejections: Vec<Rejection>,
}

impl ProjectTrack {
    /// Sets `status` for `ids`, except over deleted or absent (final, see [`ProjectView`]);
    /// `Deleted` itself overrides everything.
    fn set(&mut self, ids: &[u64], status: Status) {
        self.ids.reserve(ids.len());
        for &id in ids {
            let entry = self.ids.entry(id).or_insert(status);
            if status == Status::Deleted || !entry.is_done() {
                *entry = status;
            }
        }
    }

    fn reason_index(&mut self, reason: &str) -> u32 {
        if self.reasons.last().map(String::as_str) != Some(reason) {
            self.reasons.push(reason.to_string());
        }
        (self.reasons.len() - 1) as u32
    }

    fn view(&self) -> ProjectView {
        let (mut deleted, mut absent, mut in_flight, mut failed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut by_reason: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        let mut rejected = BTreeMap::new();
        for (&id, &status) in &self.ids {
            match status {
                Status::InFlight => in_flight.push(id),
                Status::Deleted => deleted.push(id),
                Status::Absent => absent.push(id),
                Status::Failed(reason) => {
                    failed.push(id);
                    by_reason.entry(reason).or_default().push(id);
                }
                Status::Rejected(index) => {
                    rejected.insert(id, self.rejections[index as usize].clone());
                }
            }
        }
        let mut failures: BTreeMap<String, IdSet> = BTreeMap::new();
        for (reason, ids) in by_reason {
            let ids = IdSet::from_unsorted(ids);
            let reason = self.reasons[reason as usize].clone();
            let merged = match failures.remove(&reason) {
                Some(earlier) => earlier.union(&ids),
                None => ids,
            };
            failures.insert(reason, merged);
        }
        ProjectView {
            deleted: IdSet::from_unsorted(deleted),
            absent: IdSet::from_unsorted(absent),
            in_flight: IdSet::from_unsorted(in_flight),
            failed: IdSet::from_unsorted(failed),
            failures,
            rejected,
        }
    }

    /// Restores a compacted project: statuses as the snapshot lists them.
    fn restore(&mut self, view: &ProjectView) {
        self.set(view.deleted.as_slice(), Status::Deleted);
        self.set(view.absent.as_slice(), Status::Absent);
        self.set(view.in_flight.as_slice(), Status::InFlight);
        for (reason, ids) in &view.failures {
            let index = self.reason_index(reason);
            self.set(ids.as_slice(), Status::Failed(index));
        }
        for (&id, rejection) in &view.rejected {
            self.rejections.push(rejection.clone());
            let index = (self.rejections.len() - 1) as u32;
            self.set(&[id], Status::Rejected(index));
        }
    }
}

/// Everything a journal says, as records are applied.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    pub header: Option<Header>,
    /// Event records applied since the header.
    pub events: u64,
    pub runs: Vec<RunSummary>,
    pub projects: BTreeMap<String, ProjectTrack>,
}

impl Tracker {
    /// The state's sequence: records before this file plus records in it.
    pub fn sequence(&self) -> u64 {
        self.header.as_ref().map_or(0, |h| h.sequence) + self.events
    }

    /// Applies one event, or says why it cannot follow what came before.
    pub fn apply(&mut self, record: &Record) -> Result<(), String> {
        match record {
            Record::RunStarted {
                plan_id,
                fingerprint,
                tool_version,
                at,
            } => self.runs.push(RunSummary {
                started_at_sequence: self.sequence(),
                plan_id: plan_id.clone(),
                fingerprint: fingerprint.clone(),
                tool_version: tool_version.clone(),
                started: at.clone(),
                ended: None,
                outcome: None,
            }),
            Record::BatchSent { project, ids, .. } => {
                self.project(project).set(ids, Status::InFlight);
            }
            Record::BatchDeleted { project, ids, .. } => {
                self.project(project).set(ids, Status::Deleted);
            }
            Record::Absent { project, ids, .. } => {
                self.project(project).set(ids, Status::Absent);
            }
            Record::Rejected {
                project,
                id,
                error_code,
                error_msg,
                request_id,
            } => {
                let track = self.project(project);
                track.rejections.push(Rejection {
                    error_code: error_code.clone(),
                    error_msg: error_msg.clone(),
                    request_id: request_id.clone(),
                });
                let index = (track.rejections.len() - 1) as u32;
                track.set(&[*id], Status::Rejected(index));
            }
            Record::Failed {
                project,
                ids,
                reason,
            } => {
                let track = self.project(project);
                let index = track.reason_index(reason);
                track.set(ids, Status::Failed(index));
            }
            Record::RunInterrupted { at } => self.end_run(at, RunOutcome::Interrupted)?,
            Record::RunFinished { at, outcome } => self.end_run(at, *outcome)?,
        }
        self.events += 1;
        Ok(())
    }

    fn project(&mut self, project: &str) -> &mut ProjectTrack {
        if !self.projects.contains_key(project) {
            self.projects
                .insert(project.to_string(), ProjectTrack::default());
        }
        self.projects.get_mut(project).expect("inserted above")
    }

    fn end_run(&mut self, at: &str, outcome: RunOutcome) -> Result<(), String> {
        let run = self
            .runs
            .last_mut()
            .ok_or("a run ends but no run started before it")?;
        run.ended = Some(at.to_string());
        run.outcome = Some(outcome);
        Ok(())
    }

    /// Restores a project from a snapshot line.
    pub fn restore_project(&mut self, snapshot: &ProjectSnapshot) -> Result<(), String> {
        let view = super::snapshot::project_view(snapshot)?;
        self.project(&snapshot.project).restore(&view);
        Ok(())
    }

    /// The statuses, sorted into sets.
    pub fn view(&self, warnings: Vec<String>) -> StateView {
        let projects: BTreeMap<String, ProjectView> = self
            .projects
            .iter()
            .map(|(id, track)| (id.clone(), track.view()))
            .collect();
        StateView {
            lineage: self.header.as_ref().map(|h| h.lineage.clone()),
            sequence: self.sequence(),
            done: projects
                .iter()
                .map(|(id, view)| (id.clone(), view.done()))
                .collect(),
            runs: self.runs.clone(),
            projects,
            warnings,
        }
    }
}
