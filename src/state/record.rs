//! The journal's lines: the events `apply` records ([`Record`]) and the lines only the journal
//! itself writes (the [`Header`] and, after compaction, the snapshot lines).
//!
//! One JSON object per line, told apart by its `kind`, so a person can read a journal with
//! `less` and a script with `jq`. Event records are what the executor hands to
//! [`super::Journal::append`]; `replay` turns them back into per-id statuses. Ids are plain
//! arrays in events (one batch, at most 100) and `[from, to]` ranges in snapshots (up to
//! millions, mostly consecutive).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The journal format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// This build's version, recorded in headers and `run_started` records.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One event of an apply, appended to the journal as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// An apply started executing `plan_id` (a saved plan) or a fresh plan of `fingerprint`.
    RunStarted {
        plan_id: Option<String>,
        fingerprint: String,
        tool_version: String,
        at: String,
    },
    /// A delete request for `ids` is about to be sent (attempt 1, 2...): until confirmed, the
    /// ids are in flight and a resumed run sends them again.
    BatchSent {
        project: String,
        ids: Vec<u64>,
        attempt: u32,
    },
    /// The service answered 204 for `ids`.
    BatchDeleted {
        project: String,
        ids: Vec<u64>,
        request_id: Option<String>,
    },
    /// `ids` do not exist on the service (any more): the goal is met without deleting them.
    Absent {
        project: String,
        ids: Vec<u64>,
        request_id: Option<String>,
    },
    /// The service refused to delete `id`, with a reason that retrying will not change.
    Rejected {
        project: String,
        id: u64,
        error_code: String,
        error_msg: String,
        request_id: Option<String>,
    },
    /// The run gave up on `ids` (retries exhausted, authentication failed...); a later run
    /// tries them again.
    Failed {
        project: String,
        ids: Vec<u64>,
        reason: String,
    },
    /// The run was stopped by Ctrl-C or SIGTERM after finishing what was in flight.
    RunInterrupted { at: String },
    /// The run went through its whole plan.
    RunFinished { at: String, outcome: RunOutcome },
}

impl Record {
    /// `RunStarted` stamped with this build's version and the current time.
    pub fn run_started(plan_id: Option<String>, fingerprint: impl Into<String>) -> Record {
        Record::RunStarted {
            plan_id,
            fingerprint: fingerprint.into(),
            tool_version: TOOL_VERSION.to_string(),
            at: now(),
        }
    }

    /// `RunInterrupted` at the current time.
    pub fn run_interrupted() -> Record {
        Record::RunInterrupted { at: now() }
    }

    /// `RunFinished` at the current time.
    pub fn run_finished(outcome: RunOutcome) -> Record {
        Record::RunFinished { at: now(), outcome }
    }
}

/// How a run ended, as recorded by `run_finished` (or `run_interrupted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every planned id deleted or absent (exit 0).
    Complete,
    /// Finished, but some ids were rejected or failed (exit 3).
    Partial,
    /// Stopped by an error that ended the run (exit 1).
    Error,
    /// Stopped by Ctrl-C or SIGTERM (exit 130); written for `run_interrupted`.
    Interrupted,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Complete => "complete",
            RunOutcome::Partial => "partial",
            RunOutcome::Error => "error",
            RunOutcome::Interrupted => "interrupted",
        }
    }
}

/// The first line of every journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format_version: u32,
    /// The job this state belongs to (the file is named after it too).
    pub job: String,
    /// Random id created with the state and kept by compaction: a saved plan made against
    /// another lineage (the state was deleted and recreated) is stale.
    pub lineage: String,
    /// The reqprune version that wrote this file.
    pub tool_version: String,
    /// When the state was created.
    pub created: String,
    /// Fingerprint of the plan being applied when this file was written (the latest run's);
    /// every later run records its own in `run_started`.
    pub fingerprint: Option<String>,
    /// Event records before this file's first one (non-zero after compaction), so the
    /// state's sequence keeps growing across rewrites.
    pub sequence: u64,
}

/// A run as the state remembers it: its `run_started` and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSummary {
    /// The state's sequence just before this run's `run_started` record: the run started
    /// after a plan whose `sequence` is at most this.
    pub started_at_sequence: u64,
    pub plan_id: Option<String>,
    pub fingerprint: String,
    pub tool_version: String,
    pub started: String,
    pub ended: Option<String>,
    /// `None` while running, or when the process died without recording an end.
    pub outcome: Option<RunOutcome>,
}

/// A rejected id's error, as the service gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
}

/// Inclusive id ranges, the compact form of large sets in snapshot lines.
pub type Ranges = Vec<(u64, u64)>;

/// Snapshot of one project's statuses, written by compaction in place of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSnapshot {
    pub project: String,
    pub deleted: Ranges,
    pub absent: Ranges,
    pub in_flight: Ranges,
    pub failed: Vec<FailedSnapshot>,
    pub rejected: Vec<RejectedSnapshot>,
}

/// Failed ids sharing one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedSnapshot {
    pub reason: String,
    pub ids: Ranges,
}

/// One rejected id and its error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedSnapshot {
    pub id: u64,
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
}

/// The lines only the journal writes, tagged like records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Internal {
    Header(Header),
    /// A run, as kept by a snapshot.
    Run(RunSummary),
    /// A project's statuses, as kept by a snapshot.
    Project(ProjectSnapshot),
}

/// Kinds of the [`Internal`] lines; everything else must be a [`Record`].
pub(crate) const INTERNAL_KINDS: [&str; 3] = ["header", "run", "project"];

/// Just the `kind` of a line, read without building the rest.
#[derive(Deserialize)]
pub(crate) struct KindOnly<'a> {
    #[serde(borrow)]
    pub kind: std::borrow::Cow<'a, str>,
}

/// The current time as RFC 3339, in UTC.
pub fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "unknown".to_string())
}
