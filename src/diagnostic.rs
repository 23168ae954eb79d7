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
