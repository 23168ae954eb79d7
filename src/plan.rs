//! The plan: exactly which work items each project of each job will lose, in which batches.
//!
//! Pure set algebra over a checked [`Job`] and what the state says is done: for each project,
//! the union of its `delete` sets minus every protected id minus every id the state records as
//! deleted or absent, sorted, cut into batches of `batch_size`. Nothing here reads a file, the
//! network or a secret, so a plan can be made in a pull request without credentials. `render`
//! shows a [`Plan`] as text, JSON or Markdown; `execute` runs one to the letter, and nothing
//! that a plan did not show can be deleted.

use std::path::{Path, PathBuf};

use crate::checked::{Endpoint, Job};
use crate::diagnostic::{Diagnostic, Location};
use crate::idset::IdSet;
use crate::job::{Limits, TokenSource};
use crate::state::StateView;

mod verify;
pub use verify::verify_saved_job;

/// The plans of every job given together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub jobs: Vec<JobPlan>,
}

/// One job's plan, with everything `apply --plan` needs to execute it later.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPlan {
    pub name: String,
    pub file: PathBuf,
    /// Hash of the job file and every id file it read (see [`crate::fingerprint`]).
    pub fingerprint: String,
    pub endpoint: Endpoint,
    pub region: Option<String>,
    pub limits: Limits,
    /// The state's lineage at plan time (`None`: no state yet).
    pub state_lineage: Option<String>,
    /// The state's sequence at plan time: a saved plan is stale once the state moved on.
    pub state_sequence: u64,
    pub projects: Vec<ProjectPlan>,
}

/// One project's part of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectPlan {
    pub project_id: String,
    pub label: Option<String>,
    pub token_name: String,
    /// Where the credential comes from: a reference, never a value.
    pub token: TokenSource,
    /// Folder that relative paths in `token` are relative to.
    pub base_dir: PathBuf,
    /// Union of the sets, minus protected ids, minus ids the state records done; sorted.
    pub delete: IdSet,
    /// Ids the sets named that `protect` held back.
    pub protected: IdSet,
    /// Ids the sets named (and did not protect) that the state records deleted or absent.
    pub already_done: usize,
    pub batch_size: usize,
}

impl ProjectPlan {
    /// The batches, in id order: consecutive chunks of at most `batch_size` ids.
    pub fn batches(&self) -> impl Iterator<Item = &[u64]> {
        self.delete.chunks(self.batch_size)
    }

    pub fn batch_count(&self) -> usize {
        self.delete.len().div_ceil(self.batch_size.max(1))
    }

    /// How plans and logs name a project: see [`crate::checked::display_name`].
    pub fn display_name(&self) -> String {
        crate::checked::display_name(self.label.as_deref(), &self.project_id)
    }
}

impl JobPlan {
    /// Work items this job would delete, across its projects.
    pub fn to_delete(&self) -> u64 {
        self.projects.iter().map(|p| p.delete.len() as u64).sum()
    }
}

impl Plan {
    /// True when nothing at all is to be deleted (`No changes.`, exit 0 with `--detailed-exitcode`).
    pub fn is_empty(&self) -> bool {
        self.jobs.iter().all(|job| job.to_delete() == 0)
    }
}

/// Plans one job against its state.
pub fn plan_job(job: &Job, state: &StateView) -> JobPlan {
    let empty = IdSet::new();
    let projects = job
        .projects
        .iter()
        .map(|project| {
            let done = state.done.get(&project.id).unwrap_or(&empty);
            let protected = project.delete.intersection(&project.protect);
            let unprotected = project.delete.difference(&project.protect);
            let delete = unprotected.difference(done);
            ProjectPlan {
                project_id: project.id.clone(),
                label: project.label.clone(),
                token_name: project.token_name.clone(),
                token: project.token.clone(),
                base_dir: project.base_dir.clone(),
                already_done: unprotected.len() - delete.len(),
                delete,
                protected,
                batch_size: job.limits.batch_size as usize,
            }
        })
        .collect();
    JobPlan {
        name: job.name.clone(),
        file: job.file.clone(),
        fingerprint: job.fingerprint.clone(),
        endpoint: job.endpoint.clone(),
        region: job.region.clone(),
        limits: job.limits.clone(),
        state_lineage: state.lineage.clone(),
        state_sequence: state.sequence,
        projects,
    }
}

/// The blast-radius cap: an error for each job that would delete more than its
/// `limits.max_deletions`, or than `--max-deletions` when that is lower. The flag can only
/// lower the cap (a warning says so when it is higher); only the job file raises it.
pub fn check_caps(plan: &Plan, max_deletions_flag: Option<u64>) -> Vec<Diagnostic> {
    check_caps_located(plan, max_deletions_flag, &|_, _| None)
}

/// Finds where a diagnostic points: a job file and a JSON pointer into it (`/projects/0`).
/// The CLI passes `check`'s position map; without one, diagnostics name the job in words.
pub type Locate<'a> = &'a dyn Fn(&Path, &str) -> Option<Location>;

/// [`check_caps`], each diagnostic located at the job's `limits.max_deletions` (or its name).
pub fn check_caps_located(
    plan: &Plan,
    max_deletions_flag: Option<u64>,
    locate: Locate<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for job in &plan.jobs {
        let job_cap = job.limits.max_deletions;
        // Point at the cap when the job file sets one, else at the job's name.
        let pointer = if job_cap == crate::job::defaults::max_deletions() {
            "/name"
        } else {
            "/limits/max_deletions"
        };
        let (cap, source) = match max_deletions_flag {
            Some(flag) if flag < job_cap => (flag, format!("--max-deletions {}", count(flag))),
            Some(flag) if flag > job_cap => {
                out.push(
                    Diagnostic::warning(
                        "max-deletions-flag-ignored",
                        format!(
                            "--max-deletions {} is above job `{}`'s cap of {}; the lower cap applies",
                            count(flag),
                            job.name,
                            count(job_cap)
                        ),
                    )
                    .hint("the flag can only lower the cap; raise `limits.max_deletions` in the job file")
                    .at(locate(&job.file, pointer)),
                );
                (job_cap, "limits.max_deletions".to_string())
            }
            _ => (job_cap, "limits.max_deletions".to_string()),
        };
        let total = job.to_delete();
        if total > cap {
            out.push(
                Diagnostic::error(
                    "max-deletions-exceeded",
                    format!(
                        "job `{}` would delete {} work items, {} more than its cap of {} ({source})",
                        job.name,
                        count(total),
                        count(total - cap),
                        count(cap)
                    ),
                )
                .hint(format!(
                    "check the sets; if {} deletions are intended, raise `limits.max_deletions` in {}",
                    count(total),
                    job.file.display()
                ))
                .at(locate(&job.file, pointer)),
            );
        }
    }
    out
}

/// Warnings about a plan that is valid but probably not what was meant: a project whose every
/// id is protected (it gets no batch). Sets that resolve to no id are `check`'s `empty-set`.
pub fn plan_warnings(plan: &Plan, locate: Locate<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for job in &plan.jobs {
        for (index, project) in job.projects.iter().enumerate() {
            if project.delete.is_empty()
                && project.already_done == 0
                && !project.protected.is_empty()
            {
                out.push(
                    Diagnostic::warning(
                        "all-ids-protected",
                        format!(
                            "every one of the {} ids of project {} is protected: it has nothing to delete",
                            count(project.protected.len() as u64),
                            project.display_name(),
                        ),
                    )
                    .hint("check `protect`, or remove the project from the job")
                    .at(locate(&job.file, &format!("/projects/{index}/protect"))),
                );
            }
        }
    }
    out
}

/// `1234567` → `1,234,567`: counts as people read them.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
