//! The validation pipeline, from paths to checked jobs and diagnostics.
//!
//! [`check_paths`] runs every step on every file and collects all problems: `discover` the
//! job files, `load` (read, parse YAML), then on the raw value `secrets` (literal
//! credentials), `idlists` (bad ids, cheaply) and `shape` (the JSON schema), then serde into
//! a [`crate::job::JobFile`] and `semantic` checks (with `sets` and `endpoint`) into a
//! [`crate::checked::Job`]. A file with shape errors is `prune`d so the semantic checks still
//! run on the rest. Last, job names must be unique across the files. Findings name nodes by
//! JSON pointer and are placed at a line and column only here, through a [`PositionIndex`]
//! built only for files that have something to report. `plan` and `apply` call this too and
//! add their own diagnostics with [`Checked::push`]; `render` prints them all.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::checked::Job;
use crate::diagnostic::{Diagnostic, Finding, Location};
use crate::load::{self, SourceFile};
use crate::position::PositionIndex;

mod endpoint;
mod idlists;
mod prune;
mod render;
mod secrets;
mod semantic;
mod sets;
pub mod shape;
mod suggest;

pub use endpoint::{REGIONS, url_endpoint};
pub use sets::MAX_RANGE_IDS;

/// Findings reported per job file; past this, one diagnostic counts the rest. A systematic
/// mistake (every id of a long list in quotes) would otherwise print a million errors.
const MAX_FINDINGS_PER_FILE: usize = 100;

/// The outcome of checking job files: the valid jobs, and every diagnostic.
#[derive(Default)]
pub struct Checked {
    /// Jobs of the files without errors, in file order.
    pub jobs: Vec<Job>,
    /// Every problem, in file order, then line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// Files read, kept to place and render diagnostics.
    sources: Vec<Source>,
    /// The `name` of every job file that parsed, valid or not, to find duplicates.
    names: Vec<(String, PathBuf)>,
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
        diagnostics: problems,
        ..Checked::default()
    };
    for path in &files {
        check_file(path, &mut checked);
    }
    duplicate_names(&mut checked);
    sort_diagnostics(&mut checked);
    checked
}

/// Checks one job file given as bytes, as if read from `path` (id files are still read from
/// disk, relative to it). For the fuzz target and tests of the whole pipeline.
pub fn check_bytes(path: &Path, bytes: Vec<u8>) -> Checked {
    let mut checked = Checked::default();
    match load::text_from_bytes(path, bytes, load::MAX_JOB_FILE_BYTES, "job file") {
        Ok(source) => check_source(&source, &mut checked),
        Err(diagnostic) => checked.push(diagnostic),
    }
    sort_diagnostics(&mut checked);
    checked
}

/// In file order, then by position; a file's "and N more" comes last in it.
fn sort_diagnostics(checked: &mut Checked) {
    let order: HashMap<PathBuf, usize> = checked
        .sources
        .iter()
        .enumerate()
        .map(|(n, s)| (s.path.clone(), n))
        .collect();
    checked.diagnostics.sort_by_key(|d| match &d.location {
        None => (0, false, 0, 0),
        Some(l) => (
            order.get(&l.file).map_or(0, |n| n + 1),
            d.code == "more-problems",
            l.line,
            l.column,
        ),
    });
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
    let mut value = match load::parse_yaml(source) {
        Ok(value) => value,
        Err(diagnostic) => return checked.push(diagnostic),
    };
    if let Some(name) = value.get("name").and_then(serde_json::Value::as_str) {
        checked.names.push((name.to_string(), path.clone()));
    }
    let mut findings = secrets::secret_findings(&value);
    let secret_pointers: BTreeSet<String> = findings.iter().map(|f| f.pointer.clone()).collect();
    let bad_ids = idlists::take_bad_ids(&mut value, MAX_FINDINGS_PER_FILE);
    let not_shown = bad_ids.not_shown;
    let mut shape = shape::shape_findings(&value);
    shape.splice(0..0, bad_ids.findings);
    let shape_ok = shape.is_empty() && not_shown == 0;
    // A secret reported once is enough: drop the shape errors it causes.
    findings.extend(shape.into_iter().filter(|f| {
        !secret_pointers
            .iter()
            .any(|s| caused_by_secret(&f.pointer, s))
    }));
    if shape_ok {
        match serde_json::from_value::<crate::job::JobFile>(value) {
            Ok(file) => {
                let result = semantic::check_job(source, file, &secret_pointers);
                findings.extend(result.findings);
                record_id_files(checked, &result.id_file_diagnostics, &result.id_sources);
                if let Some(job) = result.job.filter(|_| secret_pointers.is_empty()) {
                    checked.jobs.push(job);
                }
            }
            Err(e) => findings.push(Finding::new(
                "",
                Diagnostic::error("invalid-value", format!("the job cannot be read: {e}")),
            )),
        }
    } else {
        findings.extend(despite_shape_errors(
            source,
            &value,
            &findings,
            &secret_pointers,
            checked,
        ));
    }
    let hidden = findings.len().saturating_sub(MAX_FINDINGS_PER_FILE) + not_shown;
    findings.truncate(MAX_FINDINGS_PER_FILE);
    if hidden > 0 {
        findings.push(Finding::new(
            "",
            Diagnostic::error(
                "more-problems",
                format!("and {hidden} more problems in this file, not shown"),
            )
            .hint("fix these first; a systematic mistake often causes all the rest"),
        ));
    }
    let index = checked.sources.iter().position(|s| s.path == *path);
    for finding in findings {
        let location = index.map(|i| checked.sources[i].locate(&finding.pointer, finding.at_key));
        checked.push(finding.diagnostic.at(location));
    }
}

/// The semantic findings of a job with shape errors: those of the job with its bad nodes
/// pruned, when that reads as a job; else only the checks that need no other part of it.
fn despite_shape_errors(
    source: &SourceFile,
    value: &serde_json::Value,
    findings: &[Finding],
    secret_pointers: &BTreeSet<String>,
    checked: &mut Checked,
) -> Vec<Finding> {
    let pruned = prune::prune(value, findings);
    if let Some(pruned) = pruned
        && let Ok(file) = serde_json::from_value::<crate::job::JobFile>(pruned.value.clone())
    {
        let result = semantic::check_job(source, file, secret_pointers);
        record_id_files(checked, &result.id_file_diagnostics, &result.id_sources);
        return result
            .findings
            .into_iter()
            .filter(|f| pruned.keeps(f))
            .collect();
    }
    // A misspelt `region`/`endpoint` is already reported with a suggestion.
    let misspelt_endpoint = findings.iter().any(|f| {
        f.diagnostic.code == "unknown-key"
            && f.diagnostic
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("`region`") || h.contains("`endpoint`"))
    });
    endpoint::standalone_findings(value)
        .into_iter()
        .filter(|f| !(misspelt_endpoint && f.diagnostic.code == "missing-endpoint"))
        .collect()
}

fn record_id_files(checked: &mut Checked, diagnostics: &[Diagnostic], sources: &[SourceFile]) {
    checked.diagnostics.extend_from_slice(diagnostics);
    for source in sources {
        checked.add_source(source);
    }
}

/// Whether a shape error at `pointer` is a consequence of the literal secret at `secret`: on
/// it, below it, or on the token source or set that holds it (`/tokens/ci` for
/// `/tokens/ci/value`), but not on the job as a whole or a top-level key.
fn caused_by_secret(pointer: &str, secret: &str) -> bool {
    let below = |a: &str, b: &str| a.strip_prefix(b).is_some_and(|rest| rest.starts_with('/'));
    pointer == secret
        || below(pointer, secret)
        || (below(secret, pointer) && pointer.matches('/').count() >= 2)
}

/// Job names key the state, so two files given together must not share one (whether or
/// not they are otherwise valid).
fn duplicate_names(checked: &mut Checked) {
    let mut first: HashMap<&str, &PathBuf> = HashMap::new();
    let mut duplicates = Vec::new();
    for (name, file) in &checked.names {
        match first.get(name.as_str()) {
            Some(other) => duplicates.push((file.clone(), name.clone(), (*other).clone())),
            None => {
                first.insert(name, file);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hide_only_the_errors_they_cause() {
        assert!(caused_by_secret("/tokens/ci/value", "/tokens/ci/value"));
        assert!(caused_by_secret("/tokens/ci", "/tokens/ci/value"));
        assert!(caused_by_secret(
            "/tokens/ci/iam/password",
            "/tokens/ci/iam"
        ));
        assert!(!caused_by_secret("", "/tokens/ci/value"));
        assert!(!caused_by_secret("/tokens", "/tokens/ci/value"));
        assert!(!caused_by_secret("/tokens/ci2", "/tokens/ci"));
    }

    #[test]
    fn a_secret_does_not_hide_other_problems() {
        let text = "version: 1\nname: x\nregion: cn-north-4\ntoken: ci\n\
                    tokens:\n  ci: { value: abc }\n";
        let checked = check_bytes(Path::new("job.yaml"), text.as_bytes().to_vec());
        let codes: Vec<&str> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["missing-key", "secret-literal"]);
    }
}
