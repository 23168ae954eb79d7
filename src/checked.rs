//! The checked job: what `check` makes of a [`crate::job::JobFile`] once every reference is
//! resolved, every default filled and every invariant verified.
//!
//! Only these types reach the planner, so nothing unchecked can ever be planned, let alone
//! deleted. They hold no secret: token sources are still references (an env name, a path, a
//! command), resolved by `auth` only when a command calls the API.

use std::path::PathBuf;

use crate::idset::IdSet;
use crate::job::{Limits, TokenSource};

/// A valid job, ready to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's unique name; keys the state.
    pub name: String,
    /// The job file as given on the command line (shown in plans and diagnostics).
    pub file: PathBuf,
    pub description: Option<String>,
    pub endpoint: Endpoint,
    /// Region, when the job named one (used for IAM endpoints).
    pub region: Option<String>,
    pub projects: Vec<Project>,
    pub limits: Limits,
    /// Hash of the job file and every id file it read: a saved plan is stale when it changes.
    pub fingerprint: String,
}

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A base URL such as `https://projectman-ext.cn-north-4.myhuaweicloud.com`, no trailing `/`.
    Url(String),
    /// The embedded sandbox (`endpoint: sandbox`).
    Sandbox,
}

/// One project of a valid job.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The 32-character CodeArts project id.
    pub id: String,
    pub label: Option<String>,
    /// Name of the token source (key of the job's `tokens`).
    pub token_name: String,
    /// The token source itself, still a reference.
    pub token: TokenSource,
    /// Base directory for relative paths in the token source (the job file's folder).
    pub base_dir: PathBuf,
    /// Union of every `delete` set, sorted and de-duplicated.
    pub delete: IdSet,
    /// Union of the project's and the job's `protect` sets.
    pub protect: IdSet,
}

impl Project {
    /// How plans and logs name a project: see [`display_name`].
    pub fn display_name(&self) -> String {
        display_name(self.label.as_deref(), &self.id)
    }
}

/// `label (526c…b3af)` or the bare id: how plans and logs name a project.
pub fn display_name(label: Option<&str>, id: &str) -> String {
    match label {
        Some(label) => format!("{label} ({})", short_id(id)),
        None => id.to_string(),
    }
}

/// `526cefde62004de2b62b5e8dd2c2b3af` → `526c…b3af`.
pub fn short_id(id: &str) -> String {
    if id.len() > 8 && id.is_ascii() {
        format!("{}…{}", &id[..4], &id[id.len() - 4..])
    } else {
        id.to_string()
    }
}

/// How a token source is shown to people: the reference, never a value.
pub fn describe_token(source: &TokenSource) -> String {
    match source {
        TokenSource::Env(name) => format!("env {name}"),
        TokenSource::File(path) => format!("file {path}"),
        TokenSource::Command(argv) => {
            format!("command {}", argv.first().map_or("", String::as_str))
        }
        TokenSource::Iam(iam) => format!("iam {} (user from {})", iam.domain, iam.user_env),
        TokenSource::Aksk(aksk) => format!("aksk (AK from {})", aksk.ak_env),
    }
}
