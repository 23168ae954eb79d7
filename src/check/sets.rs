//! Resolving id sets: lists, ranges and id files become [`IdSet`]s, with findings for the
//! ranges and files that cannot be used.
//!
//! Each named set and each id file is resolved once per job however often it is referenced,
//! and every id file's bytes go into the job's fingerprint in the order they were first read.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Finding};
use crate::fingerprint::Fingerprinter;
use crate::idfile::{self, Format};
use crate::idset::IdSet;
use crate::job::{SetRef, SetSpec};
use crate::load::{self, SourceFile};
use crate::position::join_pointer;

/// The most ids one `range` may hold.
pub const MAX_RANGE_IDS: u64 = 1_000_000;

/// Resolves the sets of one job; collects findings in the job file and diagnostics in id files.
pub struct SetResolver<'a> {
    base_dir: &'a Path,
    named: &'a BTreeMap<String, SetSpec>,
    resolved: HashMap<String, Option<IdSet>>,
    files: HashMap<PathBuf, Option<Vec<u64>>>,
    pub used: std::collections::BTreeSet<String>,
    pub findings: Vec<Finding>,
    /// Diagnostics located in id files, and those files' text for rendering.
    pub id_file_diagnostics: Vec<Diagnostic>,
    pub id_sources: Vec<SourceFile>,
    pub fingerprint: Fingerprinter,
}

impl<'a> SetResolver<'a> {
    pub fn new(
        base_dir: &'a Path,
        named: &'a BTreeMap<String, SetSpec>,
        fingerprint: Fingerprinter,
    ) -> Self {
        SetResolver {
            base_dir,
            named,
            resolved: HashMap::new(),
            files: HashMap::new(),
            used: Default::default(),
            findings: Vec::new(),
            id_file_diagnostics: Vec::new(),
            id_sources: Vec::new(),
            fingerprint,
        }
    }

    /// Every named set, resolved in name order (so unused sets are checked too and id files
    /// are fingerprinted in a stable order).
    pub fn resolve_all_named(&mut self) {
        for name in self.named.keys() {
            self.named_set(name);
        }
    }

    /// Adds the ids of each reference in `refs` (at `pointer`) to `into`. Unknown names are
    /// findings; `None` when any reference could not be resolved.
    pub fn add_refs(&mut self, refs: &[SetRef], pointer: &str, into: &mut Vec<u64>) -> bool {
        let mut ok = true;
        for (n, set_ref) in refs.iter().enumerate() {
            let at = format!("{pointer}/{n}");
            match set_ref {
                SetRef::Id(id) => into.push(id.0),
                SetRef::Name(name) => {
                    self.used.insert(name.clone());
                    if !self.named.contains_key(name) {
                        self.findings
                            .push(Finding::new(&at, unknown_set(name, self.named)));
                        ok = false;
                    } else if let Some(set) = self.named_set(name) {
                        into.extend_from_slice(set.as_slice());
                    } else {
                        ok = false;
                    }
                }
                SetRef::Inline(spec) => match self.spec(spec, &at) {
                    Some(set) => {
                        if set.is_empty() {
                            self.findings.push(Finding::new(
                                &at,
                                Diagnostic::warning("empty-set", "this set holds no ids"),
                            ));
                        }
                        into.extend_from_slice(set.as_slice());
                    }
                    None => ok = false,
                },
            }
        }
        ok
    }

    fn named_set(&mut self, name: &str) -> Option<IdSet> {
        if let Some(done) = self.resolved.get(name) {
            return done.clone();
        }
        let spec = self.named.get(name)?;
        let pointer = join_pointer("/sets", name);
        let set = self.spec(spec, &pointer);
        if set.as_ref().is_some_and(IdSet::is_empty) {
            self.findings.push(Finding::at_key(
                &pointer,
                Diagnostic::warning("empty-set", format!("set `{name}` holds no ids")),
            ));
        }
        self.resolved.insert(name.to_string(), set.clone());
        set
    }

    fn spec(&mut self, spec: &SetSpec, pointer: &str) -> Option<IdSet> {
        match spec {
            SetSpec::Ids(list) => Some(IdSet::from_unsorted(
                list.ids.iter().map(|id| id.0).collect(),
            )),
            SetSpec::Range(range) => {
                let (from, to) = (range.range.from.0, range.range.to.0);
                let at = format!("{pointer}/range");
                if from > to {
                    self.findings.push(Finding::new(
                        &at,
                        Diagnostic::error(
                            "range-reversed",
                            format!("this range starts at {from}, after its end {to}"),
                        )
                        .hint("`from` is the first id and `to` the last; swap them"),
                    ));
                    None
                } else if to - from >= MAX_RANGE_IDS {
                    self.findings.push(Finding::new(
                        &at,
                        Diagnostic::error(
                            "range-too-large",
                            format!(
                                "this range holds {} ids; a range may hold at most 1,000,000",
                                to - from + 1
                            ),
                        )
                        .hint("a range this wide is almost always a typo in `from` or `to`"),
                    ));
                    None
                } else {
                    Some(IdSet::from_range(from, to))
                }
            }
            SetSpec::File(file) => {
                let ids = self.file(&file.file, file.column.as_deref(), pointer)?;
                Some(IdSet::from_unsorted(ids))
            }
        }
    }

    fn file(&mut self, relative: &str, column: Option<&str>, pointer: &str) -> Option<Vec<u64>> {
        let file_pointer = format!("{pointer}/file");
        let Some(format) = Format::of(Path::new(relative)) else {
            self.findings.push(Finding::new(
                &file_pointer,
                Diagnostic::error(
                    "id-file-format",
                    "an id file must end in `.txt`, `.json` or `.csv`",
                )
                .hint("`.txt`: one id a line; `.json`: an array of ids; `.csv`: with `column:`"),
            ));
            return None;
        };
        match (format, column) {
            (Format::Csv, None) => {
                self.findings.push(Finding::new(
                    pointer,
                    Diagnostic::error("csv-column", "a `.csv` id file needs `column:`, the header of the column holding the ids"),
                ));
                return None;
            }
            (Format::Text | Format::Json, Some(_)) => {
                self.findings.push(Finding::at_key(
                    format!("{pointer}/column"),
                    Diagnostic::error("csv-column", "`column` only applies to `.csv` id files"),
                ));
                return None;
            }
            _ => {}
        }
        let path = self.base_dir.join(relative);
        if let Some(done) = self.files.get(&path) {
            return done.clone();
        }
        let ids = match load::read_text(&path, load::MAX_ID_FILE_BYTES, "id file") {
            Ok(source) => {
                self.fingerprint.add(relative, &source.bytes);
                let (ids, problems) = idfile::parse_ids(&path, source.text(), format, column);
                let ok = problems.is_empty();
                if !ok {
                    self.id_file_diagnostics.extend(problems);
                    self.id_sources.push(source);
                }
                ok.then_some(ids)
            }
            Err(diagnostic) if diagnostic.location.is_none() => {
                self.findings.push(Finding::new(&file_pointer, diagnostic));
                None
            }
            Err(diagnostic) => {
                self.id_file_diagnostics.push(diagnostic);
                None
            }
        };
        self.files.insert(path, ids.clone());
        ids
    }
}

fn unknown_set(name: &str, named: &BTreeMap<String, SetSpec>) -> Diagnostic {
    let names: Vec<String> = named.keys().cloned().collect();
    let d = Diagnostic::error("unknown-set", format!("no set is named `{name}`"));
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        d.hint("an id in quotes is read as a set name; write ids without quotes")
    } else {
        d.hint(super::shape::name_hint(
            name,
            &names,
            "sets",
            "define it under `sets:`, or write the set inline, e.g. `{ ids: [1660084] }`",
        ))
    }
}
