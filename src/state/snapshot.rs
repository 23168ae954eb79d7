//! Compaction: a journal rewritten as a snapshot of what it says, atomically.
//!
//! A snapshot is an ordinary journal that starts with a header (its `sequence` counts the
//! events it replaces), one `run` line per run and one `project` line per project with its
//! ids as `[from, to]` ranges. It is written to a temporary file in the state folder, synced,
//! renamed over the journal and the folder synced, so a crash at any moment leaves either the
//! old journal or the new one, whole. Readers that opened the old file keep reading it.

use std::path::Path;

use super::record::{
    FailedSnapshot, Header, Internal, ProjectSnapshot, Ranges, RejectedSnapshot, Rejection,
};
use super::tracker::Tracker;
use super::{ProjectView, StateError};
use crate::atomic_file;
use crate::idset::IdSet;

/// Ids one snapshot line may describe: far above any job, far below exhausting memory on a
/// damaged file that claims a huge range.
const MAX_IDS_PER_LINE: u64 = 50_000_000;

/// The lines of a snapshot of `tracker`, headed by `header`.
pub(crate) fn snapshot_lines(header: &Header, tracker: &Tracker) -> Vec<Internal> {
    let view = tracker.view(Vec::new());
    let mut lines = vec![Internal::Header(header.clone())];
    lines.extend(view.runs.into_iter().map(Internal::Run));
    lines.extend(
        view.projects
            .iter()
            .map(|(id, project)| Internal::Project(project_snapshot(id, project))),
    );
    lines
}

fn project_snapshot(id: &str, view: &ProjectView) -> ProjectSnapshot {
    ProjectSnapshot {
        project: id.to_string(),
        deleted: view.deleted.ranges(),
        absent: view.absent.ranges(),
        in_flight: view.in_flight.ranges(),
        failed: view
            .failures
            .iter()
            .map(|(reason, ids)| FailedSnapshot {
                reason: reason.clone(),
                ids: ids.ranges(),
            })
            .collect(),
        rejected: view
            .rejected
            .iter()
            .map(|(&id, r)| RejectedSnapshot {
                id,
                error_code: r.error_code.clone(),
                error_msg: r.error_msg.clone(),
                request_id: r.request_id.clone(),
            })
            .collect(),
    }
}

/// A project snapshot line back as statuses, or why it cannot be.
pub(crate) fn project_view(snapshot: &ProjectSnapshot) -> Result<ProjectView, String> {
    let mut budget = MAX_IDS_PER_LINE;
    let mut ids = |ranges: &Ranges| -> Result<IdSet, String> {
        let mut out = Vec::new();
        for &(from, to) in ranges {
            if from > to {
                return Err(format!("range [{from}, {to}] runs backwards"));
            }
            let count = to - from + 1;
            if count > budget {
                return Err(format!("more than {MAX_IDS_PER_LINE} ids in one line"));
            }
            budget -= count;
            out.extend(from..=to);
        }
        Ok(IdSet::from_unsorted(out))
    };
    let deleted = ids(&snapshot.deleted)?;
    let absent = ids(&snapshot.absent)?;
    let in_flight = ids(&snapshot.in_flight)?;
    let mut failures = std::collections::BTreeMap::new();
    let mut failed = IdSet::new();
    for group in &snapshot.failed {
        let set = ids(&group.ids)?;
        failed = failed.union(&set);
        failures.insert(group.reason.clone(), set);
    }
    let rejected = snapshot
        .rejected
        .iter()
        .map(|r| {
            let rejection = Rejection {
                error_code: r.error_code.clone(),
                error_msg: r.error_msg.clone(),
                request_id: r.request_id.clone(),
            };
            (r.id, rejection)
        })
        .collect();
    Ok(ProjectView {
        deleted,
        absent,
        in_flight,
        failed,
        failures,
        rejected,
    })
}

/// Serialises lines as JSON Lines into `out`.
pub(crate) fn write_lines<'a>(lines: impl IntoIterator<Item = &'a Internal>, out: &mut Vec<u8>) {
    for line in lines {
        serde_json::to_writer(&mut *out, line).expect("journal lines serialise");
        out.push(b'\n');
    }
}

/// Replaces `path` by `bytes` through [`atomic_file::replace`]: a reader sees the old file or
/// the new one, never a mix.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    atomic_file::replace(path, |out| out.write_all(bytes))
        .map_err(|e| StateError::io(e.step.action(), path, e.source))
}
