//! Diagnostics: every problem found in job files and id files, with where and why.
//!
//! One [`Diagnostic`] type for the whole pipeline (YAML syntax, schema, semantic checks, plan
//! caps), each with a stable kebab-case [`Code`], a severity, a message, an optional hint and
//! a location. Checks collect them all instead of stopping at the first.

use std::path::PathBuf;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// Where a problem is: a file, and a 1-based line and column when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
    pub location: Option<Location>,
}

impl Location {
    /// The first character of a file: for problems with the file as a whole.
    pub fn start(file: &std::path::Path) -> Location {
        Location {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
        }
    }
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            hint: None,
            location: None,
        }
    }

    /// The same diagnostic at `location`.
    pub fn at(mut self, location: Option<Location>) -> Diagnostic {
        self.location = location;
        self
    }

    /// The same diagnostic with a hint: what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every diagnostic code, with a one-line description (the README's table is made from it).
/// Codes are stable: scripts match on them. Add new ones; never rename.
pub const CODES: &[(&str, &str)] = &[
    // Files and YAML.
    (
        "path-not-found",
        "a path given on the command line does not exist",
    ),
    ("no-job-files", "a folder holds no `*.yaml` or `*.yml` file"),
    ("file-not-found", "a job or id file does not exist"),
    (
        "file-unreadable",
        "a job or id file cannot be read (permissions, I/O error)",
    ),
    (
        "file-too-large",
        "a job file over 32 MiB or an id file over 128 MiB",
    ),
    (
        "not-utf8",
        "a file is not UTF-8 text (binary, or another encoding)",
    ),
    (
        "empty-file",
        "a job file holds nothing but blanks and comments",
    ),
    ("yaml-syntax", "the YAML cannot be parsed"),
    ("yaml-tab", "a tab is used for indentation"),
    (
        "yaml-unknown-anchor",
        "an alias (`*name`) refers to no anchor (`&name`)",
    ),
    ("duplicate-key", "the same key twice in one mapping"),
    // Shape (the JSON schema).
    (
        "unknown-key",
        "a key the format does not have (often a typo)",
    ),
    ("missing-key", "a required key is missing"),
    (
        "wrong-type",
        "a value of the wrong type (e.g. an id in quotes)",
    ),
    ("invalid-value", "a value outside what the format allows"),
    (
        "invalid-set",
        "a set that is not exactly one of `ids`, `range`, `file`",
    ),
    (
        "invalid-token-source",
        "a token source that is not exactly one of `env`, `file`, `command`, `iam`, `aksk`",
    ),
    ("id-out-of-range", "a work-item id outside 1..=9999999999"),
    // Meaning.
    ("unsupported-version", "`version` is not 1"),
    (
        "invalid-name",
        "a job name reqprune cannot use as a state key",
    ),
    (
        "invalid-project-id",
        "a project id that is not 32 letters and digits",
    ),
    ("duplicate-project", "the same project twice in one job"),
    (
        "duplicate-job-name",
        "two job files given together have the same `name`",
    ),
    (
        "unknown-token",
        "a token name that `tokens` does not define",
    ),
    (
        "missing-token",
        "a project with no token source and no job-level `token`",
    ),
    ("unknown-set", "a set name that `sets` does not define"),
    ("unused-token", "a token source no project uses"),
    ("unused-set", "a set neither `delete` nor `protect` uses"),
    ("empty-set", "a set with no ids"),
    ("nothing-to-delete", "a project whose `delete` is empty"),
    ("endpoint-conflict", "both `endpoint` and `region`"),
    ("missing-endpoint", "neither `endpoint` nor `region`"),
    ("unknown-region", "a region CodeArts Req is not offered in"),
    (
        "invalid-endpoint",
        "an endpoint that is not an `https://` URL (or `http://` to loopback)",
    ),
    ("range-reversed", "a range whose `from` is above its `to`"),
    ("range-too-large", "a range of more than 1,000,000 ids"),
    (
        "id-file-format",
        "an id file whose extension is not .txt, .json or .csv",
    ),
    (
        "id-file-syntax",
        "a line or value in an id file that is not an id",
    ),
    (
        "csv-column",
        "a `column` missing from a CSV file, or given for a non-CSV file",
    ),
    (
        "more-problems",
        "more than 100 problems in one job file (or 20 in one id file): the rest are counted",
    ),
    (
        "secret-literal",
        "a secret value written in a job file instead of a reference",
    ),
    // Plans.
    (
        "max-deletions-exceeded",
        "a job would delete more than its blast-radius cap",
    ),
    (
        "max-deletions-flag-ignored",
        "`--max-deletions` above a job's cap (the flag can only lower it)",
    ),
    (
        "all-ids-protected",
        "a project whose every id is protected: nothing to delete",
    ),
];

/// A diagnostic about a node of a job file, named by JSON pointer; `check` places it at the
/// node's line and column once it knows there is something to report.
#[derive(Debug, Clone)]
pub struct Finding {
    /// JSON pointer to the node, e.g. `/projects/2/delete/0`.
    pub pointer: String,
    /// Point at the node's key rather than its value (unknown keys, duplicates).
    pub at_key: bool,
    pub diagnostic: Diagnostic,
}

impl Finding {
    pub fn new(pointer: impl Into<String>, diagnostic: Diagnostic) -> Finding {
        Finding {
            pointer: pointer.into(),
            at_key: false,
            diagnostic,
        }
    }

    pub fn at_key(pointer: impl Into<String>, diagnostic: Diagnostic) -> Finding {
        Finding {
            pointer: pointer.into(),
            at_key: true,
            diagnostic,
        }
    }
}
