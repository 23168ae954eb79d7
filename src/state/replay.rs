//! Replay: reading a journal back, line by line, into a [`Tracker`].
//!
//! [`replay_file`] reads a journal line by line: an unterminated last line that does not parse
//! is a write cut short by a crash and is ignored with a warning; any other bad line is an
//! error naming `file:line`, so nothing recorded is ever silently dropped. Header and snapshot
//! lines are checked here; event records go to the [`Tracker`].

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::StateError;
use super::record::{FORMAT_VERSION, INTERNAL_KINDS, Internal, KindOnly, Record};
use super::tracker::Tracker;

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
