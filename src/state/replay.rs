//! Replay: from journal lines to each id's status.
//!
//! [`Tracker`] holds the statuses while records are applied, one hash-map entry per id, so a
//! million ids replay in a fraction of a second; [`Tracker::view`] sorts them into the
//! [`StateView`] that callers read. [`replay_file`] reads a journal line by line: an
//! unterminated last line that does not parse is a write cut short by a crash and is ignored
//! with a warning; any other bad line is an error naming `file:line`, so nothing recorded is
//! ever silently dropped.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::record::{
    FORMAT_VERSION, Header, INTERNAL_KINDS, Internal, KindOnly, ProjectSnapshot, Record, Rejection,
    RunOutcome, RunSummary,
};
use super::{ProjectView, StateError, StateView};
use crate::idset::IdSet;

/// The event kinds this build knows; any other is from a newer reqprune or damage.
const RECORD_KINDS: [&str; 8] = [
    "run_started",
    "batch_sent",
    "batch_deleted",
    "absent",
    "rejected",
    "failed",
    "run_interrupted",
    "run_finished",
];

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
    ids: HashMap<u64, Status>,
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

/// A journal read back.
#[derive(Debug)]
pub(crate) struct Replayed {
    pub tracker: Tracker,
    pub warnings: Vec<String>,
    /// Bytes of complete lines: where the next append goes once a torn tail is cut off.
    pub good_len: u64,
    /// The last line parsed but lacked its newline (a write cut just before it).
    pub missing_newline: bool,
}

/// Reads the journal at `path`; `Ok(None)` when there is none.
pub(crate) fn replay_file(path: &Path, job: &str) -> Result<Option<Replayed>, StateError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StateError::io("reading", path, e)),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut replay = LineReader::new(path, job);
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| StateError::io("reading", path, e))?;
        if read == 0 {
            break;
        }
        replay.line(&line)?;
    }
    replay.finish().map(Some)
}

/// Replays lines in order; kept apart from the file so tests can feed text.
pub(crate) struct LineReader {
    path: PathBuf,
    job: String,
    tracker: Tracker,
    number: u64,
    good_len: u64,
    torn: Option<usize>,
    missing_newline: bool,
}

impl LineReader {
    pub fn new(path: &Path, job: &str) -> Self {
        LineReader {
            path: path.to_path_buf(),
            job: job.to_string(),
            tracker: Tracker::default(),
            number: 0,
            good_len: 0,
            torn: None,
            missing_newline: false,
        }
    }

    /// One line, with its `\n` unless it is the file's last and unterminated.
    pub fn line(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        self.number += 1;
        match bytes.strip_suffix(b"\n") {
            Some(body) => {
                self.parse(body)?;
                self.good_len += bytes.len() as u64;
                Ok(())
            }
            None => self.unterminated(bytes),
        }
    }

    /// The last line without its newline: a write cut short by a crash (possibly followed
    /// by the zeros a file system leaves after a power loss) is ignored; a whole record that
    /// only lacks the newline counts; anything else is damage like on any other line.
    fn unterminated(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let body = &bytes[..end];
        if body.is_empty() {
            self.torn = Some(bytes.len());
            return Ok(());
        }
        match self.parse(body) {
            Ok(()) => {
                self.good_len += end as u64;
                self.missing_newline = true;
                Ok(())
            }
            Err(_) if cut_short(body) => {
                self.torn = Some(bytes.len());
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    pub fn finish(self) -> Result<Replayed, StateError> {
        let mut warnings = Vec::new();
        if let Some(len) = self.torn {
            if self.tracker.header.is_none() {
                return Err(self.corrupt("the header line is incomplete (the file was cut short)"));
            }
            warnings.push(format!(
                "{}:{}: ignored an incomplete last line ({len} bytes): a write was cut short \
                 by a crash or is in progress",
                self.path.display(),
                self.number
            ));
        }
        if self.tracker.header.is_none() {
            return Err(StateError::Corrupt {
                path: self.path,
                line: 1,
                message: "the journal is empty (no header line)".to_string(),
            });
        }
        Ok(Replayed {
            tracker: self.tracker,
            warnings,
            good_len: self.good_len,
            missing_newline: self.missing_newline,
        })
    }

    fn corrupt(&self, message: impl Into<String>) -> StateError {
        StateError::Corrupt {
            path: self.path.clone(),
            line: self.number,
            message: message.into(),
        }
    }

    fn parse(&mut self, bytes: &[u8]) -> Result<(), StateError> {
        let text = std::str::from_utf8(bytes).map_err(|_| self.corrupt("not UTF-8 text"))?;
        if text.trim().is_empty() {
            return Ok(());
        }
        let kind = serde_json::from_str::<KindOnly>(text)
            .map_err(|e| self.corrupt(format!("not a journal record: {}", json_message(&e))))?
            .kind;
        let first = self.tracker.header.is_none();
        if first != (kind == "header") {
            return Err(self.corrupt(if first {
                format!("expected the journal header, found a `{kind}` record")
            } else {
                "a second header in the middle of the journal".to_string()
            }));
        }
        if INTERNAL_KINDS.contains(&kind.as_ref()) {
            let internal = serde_json::from_str::<Internal>(text)
                .map_err(|e| self.corrupt(format!("bad `{kind}` line: {}", json_message(&e))))?;
            return self.internal(internal);
        }
        if !RECORD_KINDS.contains(&kind.as_ref()) {
            return Err(self.corrupt(format!(
                "unknown record kind `{kind}` (written by a newer reqprune? this one knows {})",
                RECORD_KINDS.join(", ")
            )));
        }
        let record = serde_json::from_str::<Record>(text)
            .map_err(|e| self.corrupt(format!("bad `{kind}` record: {}", json_message(&e))))?;
        self.tracker
            .apply(&record)
            .map_err(|message| self.corrupt(message))
    }

    fn internal(&mut self, line: Internal) -> Result<(), StateError> {
        match line {
            Internal::Header(header) => {
                if header.format_version != FORMAT_VERSION {
                    return Err(self.corrupt(format!(
                        "journal format {} is not the format {FORMAT_VERSION} this reqprune reads \
                         (written by reqprune {})",
                        header.format_version, header.tool_version
                    )));
                }
                if header.job != self.job {
                    return Err(self.corrupt(format!(
                        "this journal belongs to job `{}`, not `{}`",
                        header.job, self.job
                    )));
                }
                self.tracker.header = Some(header);
            }
            Internal::Run(run) => {
                self.before_events("run")?;
                self.tracker.runs.push(run);
            }
            Internal::Project(project) => {
                self.before_events("project")?;
                self.tracker
                    .restore_project(&project)
                    .map_err(|message| self.corrupt(message))?;
            }
        }
        Ok(())
    }

    fn before_events(&self, kind: &str) -> Result<(), StateError> {
        if self.tracker.events > 0 {
            return Err(self.corrupt(format!("a `{kind}` snapshot line after event records")));
        }
        Ok(())
    }
}

/// Whether `bytes` are the beginning of a JSON text that ended too early.
fn cut_short(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Err(e) => e.error_len().is_none(),
        Ok(text) => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .is_err_and(|e| e.classify() == serde_json::error::Category::Eof),
    }
}

/// serde_json's message without its "at line 1 column N" (the journal line is named instead).
fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => format!("{} (column {})", &text[..at], error.column()),
        None => text,
    }
}
