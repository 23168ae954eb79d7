//! The raw job-file model: exactly what a YAML job file says, nothing resolved.
//!
//! These types are the single source of truth for the file format: serde reads them and
//! schemars turns them into `schemas/job.schema.json`, so the schema and the parser cannot
//! disagree. Every struct denies unknown fields for that reason. Doc comments become the
//! schema's descriptions, which editors show on hover. Nothing here is checked beyond its
//! shape: `check` turns a [`JobFile`] into a [`crate::checked::Job`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reqprune job: which work items to delete, in which CodeArts projects, with which
/// credentials. One job per file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "reqprune job file", extend("$id" = "https://reqprune.invalid/job.schema.json"))]
pub struct JobFile {
    /// Format version of this file. Only `1` exists.
    pub version: u32,
    /// Name of the job, unique across the job files given together. It keys the state, so
    /// renaming a job starts it afresh.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"))]
    pub name: String,
    /// What the job is for, shown in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Base URL of the CodeArts Req API (`https://...`, or `http://` to a loopback host), or
    /// `sandbox` for the embedded local stand-in. Exactly one of `endpoint` and `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Huawei Cloud region, e.g. `cn-north-4`; the endpoint is then
    /// `https://projectman-ext.{region}.myhuaweicloud.com`. Exactly one of `endpoint` and `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Name of the token source (a key of `tokens`) used by projects that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Named token sources. Each says where a credential comes from, never the credential
    /// itself: a job file must not hold a secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<String, TokenSource>,
    /// Named sets of work-item ids, referenced by name from `delete` and `protect`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: BTreeMap<String, SetSpec>,
    /// Ids (or set names) never to be deleted in any project of this job, whatever the sets say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<SetRef>,
    /// The CodeArts projects to delete work items from.
    pub projects: Vec<ProjectSpec>,
    /// Caps and pacing. All optional.
    #[serde(default)]
    pub limits: Limits,
}

/// Where a credential comes from. Exactly one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// An `X-Auth-Token` read from this environment variable.
    Env(String),
    /// An `X-Auth-Token` read from this file (trailing newline trimmed). Relative to the job file.
    File(String),
    /// An `X-Auth-Token` printed on stdout by this command (argv, run without a shell).
    Command(#[schemars(length(min = 1))] Vec<String>),
    /// A token from IAM (`POST /v3/auth/tokens`) for a user whose name and password come
    /// from environment variables.
    Iam(IamSource),
    /// AK/SK request signing (`SDK-HMAC-SHA256`) with keys from environment variables.
    Aksk(AkskSource),
}

/// IAM password authentication. The user name and password are read from the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IamSource {
    /// The account (domain) name the IAM user belongs to.
    pub domain: String,
    /// Environment variable holding the IAM user name.
    pub user_env: String,
    /// Environment variable holding the IAM user's password.
    pub password_env: String,
    /// Scope the token to this IAM project (a region name such as `cn-north-4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_project: Option<String>,
    /// Scope the token to this domain instead. Exactly one of `scope_project` and `scope_domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_domain: Option<String>,
    /// IAM endpoint; by default derived from the job's region (`https://iam.{region}.myhuaweicloud.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// AK/SK request signing. Keys are read from the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AkskSource {
    /// Environment variable holding the access key id.
    pub ak_env: String,
    /// Environment variable holding the secret access key.
    pub sk_env: String,
    /// Environment variable holding a security token, for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_token_env: Option<String>,
    /// IAM project id sent (and signed) as `X-Project-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// A set of work-item ids: a list, an inclusive range, or a file. Exactly one of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SetSpec {
    /// A list of ids.
    Ids(IdsSet),
    /// An inclusive range of ids.
    Range(RangeSet),
    /// Ids read from a file.
    File(FileSet),
}

/// `{ ids: [...] }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdsSet {
    /// Work-item ids (1 to 10 digits).
    pub ids: Vec<Id>,
}

/// `{ range: { from, to } }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeSet {
    /// An inclusive range of ids.
    pub range: IdRange,
}

/// An inclusive range of work-item ids, at most 1,000,000 long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdRange {
    /// First id of the range.
    pub from: Id,
    /// Last id of the range (inclusive).
    pub to: Id,
}

/// `{ file: path, column: name }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSet {
    /// Path relative to the job file: `.txt` (one id a line, `#` comments), `.json` (an array
    /// of ids) or `.csv` (with `column`).
    pub file: String,
    /// For `.csv` files: the header of the column holding the ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

/// A work-item id: an integer of 1 to 10 digits.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Id(#[schemars(range(min = 1, max = 9_999_999_999u64))] pub u64);

/// A reference to ids from `delete` or `protect`: a set name, an inline set, or a bare id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SetRef {
    /// A single id.
    Id(Id),
    /// The name of a set in `sets`.
    Name(String),
    /// An inline set.
    Inline(SetSpec),
}

/// One CodeArts project and what to delete from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// The 32-character CodeArts project id.
    #[schemars(regex(pattern = r"^[A-Za-z0-9]{32}$"))]
    pub id: String,
    /// A human name for the project, shown in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Token source for this project; defaults to the job's `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// What to delete: set names, inline sets or ids. Their union is deleted.
    pub delete: Vec<SetRef>,
    /// Ids (or set names) never to be deleted from this project, whatever the sets say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protect: Vec<SetRef>,
}

/// Caps and pacing for the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Ids per delete request, 1 to 100 (the API's maximum).
    #[serde(default = "defaults::batch_size")]
    #[schemars(range(min = 1, max = 100))]
    pub batch_size: u32,
    /// Blast-radius cap: the most work items the whole job may delete. `plan` and `apply`
    /// refuse a job that would delete more.
    #[serde(default = "defaults::max_deletions")]
    #[schemars(range(min = 1))]
    pub max_deletions: u64,
    /// Delete requests in flight at once, across and within projects.
    #[serde(default = "defaults::concurrency")]
    #[schemars(range(min = 1, max = 64))]
    pub concurrency: u32,
    /// Ceiling on delete requests per second. The executor adapts below it when throttled.
    #[serde(default = "defaults::requests_per_second")]
    #[schemars(range(min = 1, max = 100000))]
    pub requests_per_second: u32,
    /// Attempts per batch (first try plus retries) before its ids are recorded as failed.
    #[serde(default = "defaults::max_attempts")]
    #[schemars(range(min = 1, max = 20))]
    pub max_attempts: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_size: defaults::batch_size(),
            max_deletions: defaults::max_deletions(),
            concurrency: defaults::concurrency(),
            requests_per_second: defaults::requests_per_second(),
            max_attempts: defaults::max_attempts(),
        }
    }
}

/// Documented defaults of [`Limits`]; the README's job-file reference quotes them.
pub mod defaults {
    /// The API's maximum batch.
    pub fn batch_size() -> u32 {
        100
    }
    /// Large enough for a real cleanup, small enough that a typo cannot empty a project.
    pub fn max_deletions() -> u64 {
        10_000
    }
    pub fn concurrency() -> u32 {
        4
    }
    /// Polite: well under the gateway's documented 200 calls per second.
    pub fn requests_per_second() -> u32 {
        10
    }
    pub fn max_attempts() -> u32 {
        6
    }
}
