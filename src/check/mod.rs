//! The validation pipeline, from paths to checked jobs and diagnostics.
//!
//! [`check_paths`] runs every step on every file and collects all problems: `discover` the
//! job files, `load` (read, parse YAML), `secrets` and `shape` (the JSON schema) on the raw
//! value, then serde into a [`crate::job::JobFile`] and `semantic` checks into a
//! [`crate::checked::Job`]; last, job names must be unique across the files. Findings name
//! nodes by JSON pointer and are placed at a line and column only here, through a
//! [`PositionIndex`] built only for files that have something to report. `plan` and `apply`
//! call this too and add their own diagnostics with [`Checked::push`]. `render` prints them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::checked::Job;
use crate::diagnostic::{Diagnostic, Finding, Location};
use crate::load::{self, SourceFile};
use crate::position::PositionIndex;

mod render;
mod secrets;
mod semantic;
mod sets;
pub mod shape;

pub use semantic::{REGIONS, url_endpoint};
pub use sets::MAX_RANGE_IDS;

/// The outcome of checking job files: the valid jobs, and every diagnostic.
pub struct Checked {
    /// Jobs of the files without errors, in file order.
    pub jobs: Vec<Job>,
    /// Every problem, in file order, then line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// Files read, kept to place and render diagnostics.
    sources: Vec<Source>,
}

/// A file's text and, once needed, the positions of its nodes.
struct Source {
    path: PathBuf,
    text: String,
    index: OnceLock<PositionIndex>,
}

impl Source {
    fn new(file: &SourceFile) -> Source {
        Source {
            path: file.path.clone(),
            text: file.text().to_string(),
            index: OnceLock::new(),
        }
    }

    fn locate(&self, pointer: &str, at_key: bool) -> Location {
        let index = self.index.get_or_init(|| PositionIndex::build(&self.text));
        let (line, column) = index.locate(pointer, at_key).unwrap_or((1, 1));
        Location {
            file: self.path.clone(),
            line,
            column,
        }
    }
}

impl Checked {
    /// Number of error-severity diagnostics.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// Adds a diagnostic found by a later stage (e.g. the planner's caps).
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Line and column of the node at `json_pointer` (e.g. `/projects/2/delete/0`) in a job
    /// file that was checked, or `None` for a file that was not.
    pub fn location_of(&self, file: &Path, json_pointer: &str) -> Option<Location> {
        self.source(file).map(|s| s.locate(json_pointer, false))
    }

    fn source(&self, file: &Path) -> Option<&Source> {
        self.sources.iter().find(|s| s.path == file)
    }

    fn add_source(&mut self, file: &SourceFile) {
        if self.source(&file.path).is_none() {
            self.sources.push(Source::new(file));
        }
    }
}

/// Checks every job file under `paths` (files, or folders searched recursively).
pub fn check_paths(paths: &[PathBuf]) -> Checked {
    let (files, problems) = crate::discover::discover(paths);
    let mut checked = Checked {
        jobs: Vec::new(),
        diagnostics: problems,
        sources: Vec::new(),
    };
    for path in &files {
        check_file(path, &mut checked);
    }
    duplicate_names(&mut checked);
    let order: HashMap<PathBuf, usize> = checked
        .sources
        .iter()
        .enumerate()
        .map(|(n, s)| (s.path.clone(), n))
        .collect();
    checked.diagnostics.sort_by_key(|d| match &d.location {
        None => (0, 0, 0),
        Some(l) => (order.get(&l.file).map_or(0, |n| n + 1), l.line, l.column),
    });
    checked
}

/// Checks one job file given as bytes, as if read from `path` (id files are still read from
/// disk, relative to it). For the fuzz target and tests of the whole pipeline.
pub fn check_bytes(path: &Path, bytes: Vec<u8>) -> Checked {
    let mut checked = Checked {
        jobs: Vec::new(),
        diagnostics: Vec::new(),
        sources: Vec::new(),
    };
    match load::text_from_bytes(path, bytes, load::MAX_JOB_FILE_BYTES, "job file") {
        Ok(source) => check_source(&source, &mut checked),
        Err(diagnostic) => checked.push(diagnostic),
    }
    checked
}

fn check_file(path: &Path, checked: &mut Checked) {
    match load::read_text(path, load::MAX_JOB_FILE_BYTES, "job file") {
        Ok(source) => check_source(&source, checked),
        Err(diagnostic) => checked.push(diagnostic),
    }
}

fn check_source(source: &SourceFile, checked: &mut Checked) {
    let path = &source.path;
    checked.add_source(source);
    let value = match load::parse_yaml(source) {
        Ok(value) => value,
        Err(diagnostic) => return checked.push(diagnostic),
    };
    let mut findings = secrets::secret_findings(&value);
    let secret_pointers: BTreeSet<String> = findings.iter().map(|f| f.pointer.clone()).collect();
    let shape = shape::shape_findings(&value);
    let shape_ok = shape.is_empty();
    // A secret reported once is enough: drop shape errors on, above or below it.
    findings.extend(shape.into_iter().filter(|f| {
        !secret_pointers
            .iter()
            .any(|s| s.starts_with(&f.pointer) || f.pointer.starts_with(s.as_str()))
    }));
    if !shape_ok {
        // A misspelt `region`/`endpoint` is already reported with a suggestion.
        let misspelt_endpoint = findings.iter().any(|f| {
            f.diagnostic.code == "unknown-key"
                && f.diagnostic
                    .hint
                    .as_deref()
                    .is_some_and(|h| h.contains("`region`") || h.contains("`endpoint`"))
        });
        findings.extend(
            semantic::standalone_findings(&value)
                .into_iter()
                .filter(|f| !(misspelt_endpoint && f.diagnostic.code == "missing-endpoint")),
        );
    } else {
        match serde_json::from_value::<crate::job::JobFile>(value) {
            Ok(file) => {
                let result = semantic::check_job(source, file, &secret_pointers);
                findings.extend(result.findings);
                checked.diagnostics.extend(result.id_file_diagnostics);
                for id_source in &result.id_sources {
                    checked.add_source(id_source);
                }
                if let Some(job) = result.job.filter(|_| secret_pointers.is_empty()) {
                    checked.jobs.push(job);
                }
            }
            Err(e) => findings.push(Finding::new(
                "",
                Diagnostic::error("invalid-value", format!("the job cannot be read: {e}")),
            )),
        }
    }
    let index = checked.sources.iter().position(|s| s.path == *path);
    for finding in findings {
        let location = index.map(|i| checked.sources[i].locate(&finding.pointer, finding.at_key));
        checked.push(finding.diagnostic.at(location));
    }
}

/// Job names key the state, so two files given together must not share one.
fn duplicate_names(checked: &mut Checked) {
    let mut first: HashMap<String, PathBuf> = HashMap::new();
    let mut duplicates = Vec::new();
    for job in &checked.jobs {
        match first.get(&job.name) {
            Some(other) => duplicates.push((job.file.clone(), job.name.clone(), other.clone())),
            None => {
                first.insert(job.name.clone(), job.file.clone());
            }
        }
    }
    for (file, name, other) in duplicates {
        let location = checked.location_of(&file, "/name");
        checked.push(
            Diagnostic::error(
                "duplicate-job-name",
                format!("job name `{name}` is also used by {}", other.display()),
            )
            .at(location)
            .hint("job names key the state: give each job its own name"),
        );
        checked.jobs.retain(|j| j.file != file);
    }
}
