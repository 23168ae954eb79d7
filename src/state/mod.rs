//! The state: an append-only journal per job, its lock, and what it says is done.
//!
//! The API answers a batch delete with a bare 204, or with nothing when a connection drops,
//! so the journal is how reqprune knows, across crashes and kills, which ids are gone.
//! `apply` writes it through a [`Journal`] (exclusive lock, buffered appends, group commit,
//! compaction); `plan` and `status` read it through [`read_view`], which takes no lock and
//! never blocks. [`StateView`] is what both sides see: per project, each id's status.
//!
//! Files, in the state folder (`--state-dir`, default `.reqprune/`), per job name:
//! `NAME.journal.jsonl` (the journal: JSON Lines, a header, then one event per line) and
//! `NAME.lock` (the lock file; it names the pid and start time of the run holding it).
//! The parts: [`record`] (the lines), [`replay`] (reading them back), [`tracker`] (what they
//! add up to), [`status`] (what `status` reports), [`journal`] (the writer), [`snapshot`]
//! (compaction), and [`lock`]; whole files are replaced through [`crate::atomic_file`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::idset::IdSet;

pub mod journal;
pub mod lock;
pub mod record;
pub mod replay;
pub mod snapshot;
pub mod status;
pub mod tracker;

pub use journal::Journal;
pub use record::{Record, Rejection, RunOutcome, RunSummary};

/// What the planner, the executor and `status` know of a job's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateView {
    /// Random id created with the state; `None` when there is no state yet.
    pub lineage: Option<String>,
    /// Event records in the journal so far (kept across compaction): a saved plan is stale
    /// when a run not of that plan started at or after the plan's sequence.
    pub sequence: u64,
    /// Per project id: ids recorded deleted or absent.
    pub done: BTreeMap<String, IdSet>,
    /// Every run, oldest first.
    pub runs: Vec<RunSummary>,
    /// Per project id: each id's status.
    pub projects: BTreeMap<String, ProjectView>,
    /// Things worth telling the user that did not stop the read (an ignored torn last line).
    pub warnings: Vec<String>,
}

impl StateView {
    /// The latest run, if any.
    pub fn last_run(&self) -> Option<&RunSummary> {
        self.runs.last()
    }

    /// The fingerprint of the latest run, if any.
    pub fn fingerprint(&self) -> Option<&str> {
        self.runs.last().map(|run| run.fingerprint.as_str())
    }

    /// A project's statuses (empty when the state never mentioned it).
    pub fn project(&self, project_id: &str) -> ProjectView {
        self.projects.get(project_id).cloned().unwrap_or_default()
    }
}

/// The ids of one project by status. An id is in at most one of these; ids in none are
/// pending. Later records win, except that deleted and absent are final (ids are never
/// reused, so an item once gone stays gone whatever a later batch says).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectView {
    /// Confirmed deleted by a 204.
    pub deleted: IdSet,
    /// Found not to exist: the goal is met.
    pub absent: IdSet,
    /// Sent but never confirmed: a resumed run sends them again.
    pub in_flight: IdSet,
    /// Given up on by a run (retries exhausted...): retried by the next run.
    pub failed: IdSet,
    /// The failed ids by their last failure's reason.
    pub failures: BTreeMap<String, IdSet>,
    /// Refused by the service, with its error.
    pub rejected: BTreeMap<u64, Rejection>,
}

impl ProjectView {
    /// Deleted or absent: nothing left to do for these.
    pub fn done(&self) -> IdSet {
        self.deleted.union(&self.absent)
    }
}

/// Failures reading or writing the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another run holds the job's lock; the message names the lock file and the holder.
    #[error("state is locked by another run: {0}")]
    Locked(String),
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A journal line that is not what reqprune writes; never skipped, never reset.
    #[error(
        "{}:{line}: {message}\n  the state journal is damaged; nothing was done (fix or move the file aside after checking it)",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// The job name cannot name files in the state folder.
    #[error("job name `{0}` cannot be used to name a state file")]
    BadJobName(String),
    /// A record the executor asked to append makes no sense where it is (nothing was written).
    #[error("cannot journal this record: {0}")]
    BadRecord(String),
    /// An earlier write failed, so the journal's end is uncertain; the run must stop.
    #[error("the journal {} could not be written earlier in this run; stopping", .0.display())]
    Poisoned(PathBuf),
}

impl StateError {
    pub fn is_locked(&self) -> bool {
        matches!(self, StateError::Locked(_))
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> StateError {
        StateError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The journal's path for a job: `STATE_DIR/NAME.journal.jsonl`.
pub fn journal_path(state_dir: &Path, job_name: &str) -> Result<PathBuf, StateError> {
    check_job_name(job_name)?;
    Ok(state_dir.join(format!("{job_name}.journal.jsonl")))
}

/// The lock file's path for a job: `STATE_DIR/NAME.lock`.
pub fn lock_path(state_dir: &Path, job_name: &str) -> Result<PathBuf, StateError> {
    check_job_name(job_name)?;
    Ok(state_dir.join(format!("{job_name}.lock")))
}

/// Job names are checked by `validate`; this only keeps a name from escaping the folder.
fn check_job_name(name: &str) -> Result<(), StateError> {
    let fine = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if fine {
        Ok(())
    } else {
        Err(StateError::BadJobName(name.to_string()))
    }
}

/// What the state says of a job, read without the lock (it never blocks, even while an
/// apply runs: a half-written last line is then ignored with a warning). No state yet gives
/// `StateView::default()`.
pub fn read_view(state_dir: &Path, job_name: &str) -> Result<StateView, StateError> {
    let path = journal_path(state_dir, job_name)?;
    match replay::replay_file(&path, job_name)? {
        Some(replayed) => Ok(replayed.tracker.view(replayed.warnings)),
        None => Ok(StateView::default()),
    }
}
