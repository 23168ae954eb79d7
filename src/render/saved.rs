//! The saved plan (`plan --out FILE`): the JSON plan plus everything `apply --plan FILE` needs
//! to execute exactly that plan later, and its reader.
//!
//! Per job it adds the endpoint, region, limits, the state's position at plan time (`state`:
//! lineage and sequence) and per project the token source as a reference (`token_name`,
//! `token`, `base_dir`), never a secret. `apply` decides staleness: it re-checks the listed job
//! files and compares each `fingerprint`, and compares the state's position. The reader trusts
//! nothing: a hand-edited or truncated file is refused with the reason, never half-executed.
//! A plan's id is the SHA-256 of the file's bytes, which `apply` journals to recognise a resume.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Totals;
use super::json::{FORMAT_VERSION, TotalsDoc, path_string, write_pretty};
use crate::checked::{Endpoint, describe_token};
use crate::idset::IdSet;
use crate::job::{Limits, TokenSource};
use crate::plan::{JobPlan, Plan, ProjectPlan};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedPlan<'a> {
    format_version: u32,
    jobs: Vec<SavedJob<'a>>,
    totals: TotalsDoc,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedJob<'a> {
    name: Cow<'a, str>,
    file: String,
    fingerprint: Cow<'a, str>,
    /// A base URL, or `sandbox`.
    endpoint: String,
    region: Option<Cow<'a, str>>,
    limits: Cow<'a, Limits>,
    state: StatePosition,
    projects: Vec<SavedProject<'a>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatePosition {
    lineage: Option<String>,
    sequence: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedProject<'a> {
    project_id: Cow<'a, str>,
    label: Option<Cow<'a, str>>,
    token_source: String,
    token_name: Cow<'a, str>,
    token: Cow<'a, TokenSource>,
    base_dir: String,
    delete_ids: Cow<'a, [u64]>,
    protected_ids: Cow<'a, [u64]>,
    already_done: usize,
    batch_count: usize,
}

/// Why a saved plan cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}:{column}: not a saved plan: {message} (write one with `reqprune plan --out FILE`)"
    )]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: refusing the saved plan: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The saved plan's bytes: pretty JSON, deterministic for the same plan.
pub fn render(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write(plan, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`render`], streamed to `out`.
pub fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let doc = SavedPlan {
        format_version: FORMAT_VERSION,
        jobs: plan.jobs.iter().map(saved_job).collect(),
        totals: Totals::of(plan).into(),
    };
    write_pretty(&doc, out)
}

fn saved_job(job: &JobPlan) -> SavedJob<'_> {
    SavedJob {
        name: Cow::Borrowed(&job.name),
        file: path_string(&job.file),
        fingerprint: Cow::Borrowed(&job.fingerprint),
        endpoint: match &job.endpoint {
            Endpoint::Url(url) => url.clone(),
            Endpoint::Sandbox => "sandbox".into(),
        },
        region: job.region.as_deref().map(Cow::Borrowed),
        limits: Cow::Borrowed(&job.limits),
        state: StatePosition {
            lineage: job.state_lineage.clone(),
            sequence: job.state_sequence,
        },
        projects: job.projects.iter().map(saved_project).collect(),
    }
}

fn saved_project(project: &ProjectPlan) -> SavedProject<'_> {
    SavedProject {
        project_id: Cow::Borrowed(&project.project_id),
        label: project.label.as_deref().map(Cow::Borrowed),
        token_source: describe_token(&project.token),
        token_name: Cow::Borrowed(&project.token_name),
        token: Cow::Borrowed(&project.token),
        base_dir: path_string(&project.base_dir),
        delete_ids: Cow::Borrowed(project.delete.as_slice()),
        protected_ids: Cow::Borrowed(project.protected.as_slice()),
        already_done: project.already_done,
        batch_count: project.batch_count(),
    }
}

/// `sha256:` and the hex SHA-256 of a saved plan's bytes: the plan's identity.
pub fn plan_id(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Reads and checks a saved plan; returns it with its id ([`plan_id`] of the file's bytes).
pub fn read_saved_plan(path: &Path) -> Result<(Plan, String), SavedPlanError> {
    let bytes = std::fs::read(path).map_err(|source| SavedPlanError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let plan = parse_saved_plan(&bytes).map_err(|e| match e {
        Problem::Syntax(e) => SavedPlanError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        },
        Problem::Invalid(message) => SavedPlanError::Invalid {
            path: path.to_path_buf(),
            message,
        },
    })?;
    Ok((plan, plan_id(&bytes)))
}

enum Problem {
    Syntax(serde_json::Error),
    Invalid(String),
}

fn parse_saved_plan(bytes: &[u8]) -> Result<Plan, Problem> {
    // The version first, so a future format gets a clear message rather than a field error.
    #[derive(Deserialize)]
    struct Version {
        format_version: u32,
    }
    let version: Version = serde_json::from_slice(bytes).map_err(Problem::Syntax)?;
    if version.format_version != FORMAT_VERSION {
        return Err(Problem::Invalid(format!(
            "format_version {} is not supported (this reqprune reads {FORMAT_VERSION})",
            version.format_version
        )));
    }
    let doc: SavedPlan = serde_json::from_slice(bytes).map_err(Problem::Syntax)?;
    let plan = Plan {
        jobs: doc
            .jobs
            .into_iter()
            .map(job_plan)
            .collect::<Result<_, _>>()?,
    };
    if TotalsDoc::from(Totals::of(&plan)) != doc.totals {
        return Err(Problem::Invalid(
            "`totals` do not add up to the projects' ids: the file was edited or damaged".into(),
        ));
    }
    Ok(plan)
}

fn job_plan(job: SavedJob<'_>) -> Result<JobPlan, Problem> {
    let limits = job.limits.into_owned();
    if !(1..=100).contains(&limits.batch_size) {
        return Err(Problem::Invalid(format!(
            "job `{}`: batch_size {} is outside 1..=100",
            job.name, limits.batch_size
        )));
    }
    let name = job.name.into_owned();
    let projects = job
        .projects
        .into_iter()
        .map(|p| project_plan(&name, p, limits.batch_size as usize))
        .collect::<Result<_, _>>()?;
    Ok(JobPlan {
        name,
        file: PathBuf::from(job.file),
        fingerprint: job.fingerprint.into_owned(),
        endpoint: match job.endpoint.as_str() {
            "sandbox" => Endpoint::Sandbox,
            url => Endpoint::Url(url.to_string()),
        },
        region: job.region.map(Cow::into_owned),
        limits,
        state_lineage: job.state.lineage,
        state_sequence: job.state.sequence,
        projects,
    })
}

fn project_plan(job: &str, p: SavedProject<'_>, batch_size: usize) -> Result<ProjectPlan, Problem> {
    let invalid =
        |what: &str| Problem::Invalid(format!("job `{job}`, project {}: {what}", p.project_id));
    if p.project_id.len() != 32 || !p.project_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid("the project id is not 32 letters and digits"));
    }
    for (what, ids) in [
        ("delete_ids", &p.delete_ids),
        ("protected_ids", &p.protected_ids),
    ] {
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid(&format!("{what} are not sorted and distinct")));
        }
        if ids.iter().any(|&id| !(1..=9_999_999_999).contains(&id)) {
            return Err(invalid(&format!(
                "{what} holds an id outside 1..=9999999999"
            )));
        }
    }
    let delete = IdSet::from_sorted(p.delete_ids.into_owned());
    let protected = IdSet::from_sorted(p.protected_ids.into_owned());
    if !delete.intersection(&protected).is_empty() {
        return Err(invalid("an id is both to delete and protected"));
    }
    if p.batch_count != delete.len().div_ceil(batch_size) {
        return Err(invalid(
            "batch_count does not match delete_ids and batch_size",
        ));
    }
    Ok(ProjectPlan {
        project_id: p.project_id.into_owned(),
        label: p.label.map(Cow::into_owned),
        token_name: p.token_name.into_owned(),
        token: p.token.into_owned(),
        base_dir: PathBuf::from(p.base_dir),
        delete,
        protected,
        already_done: p.already_done,
        batch_size,
    })
}

#[cfg(test)]
mod tests;
