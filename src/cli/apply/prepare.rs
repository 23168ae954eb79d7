//! Before anything is deleted: each job's lock taken, its plan made (or a saved plan checked
//! for staleness), and what is already done according to the state taken out.
//!
//! From job files, `apply` plans exactly like `plan` (same diagnostics, same caps). From a
//! saved plan it refuses, with the reason, a plan whose job or id files changed since, or
//! whose state moved on through anything other than this very plan; it stays valid for
//! resuming its own interrupted runs.

use std::path::{Path, PathBuf};

use crate::check::check_paths;
use crate::checked::Job;
use crate::cli::{print_diagnostics, refuse};
use crate::exit::Error;
use crate::plan::{
    JobPlan, Plan, check_caps, check_caps_located, plan_job, plan_warnings, verify_saved_job,
};
use crate::render::saved::read_saved_plan;
use crate::state::{Journal, StateView};

/// One job ready to run: its plan (only what is still to do) and its journal, locked.
pub struct Prepared {
    pub plan: JobPlan,
    pub journal: Journal,
    /// The checked job (the embedded sandbox seeds from it).
    pub job: Job,
}

/// Everything `apply` will run, in order.
pub struct Preparation {
    pub jobs: Vec<Prepared>,
    /// The saved plan's id, when applying one.
    pub plan_id: Option<String>,
}

/// Plan the job files at `paths`, taking each job's lock.
pub fn from_paths(
    paths: &[PathBuf],
    state_dir: &Path,
    max_deletions: Option<u64>,
) -> Result<Preparation, Error> {
    let mut checked = check_paths(paths);
    if checked.error_count() > 0 {
        return Err(refuse(&checked));
    }
    let mut plan = Plan::default();
    let mut journals = Vec::new();
    for job in &checked.jobs {
        let journal = Journal::open(state_dir, &job.name)?;
        warn_state(journal.view(), &job.name);
        plan.jobs.push(plan_job(job, journal.view()));
        journals.push(journal);
    }
    let locate = |file: &Path, pointer: &str| checked.location_of(file, pointer);
    let mut found = check_caps_located(&plan, max_deletions, &locate);
    found.extend(plan_warnings(&plan, &locate));
    for diagnostic in found {
        checked.push(diagnostic);
    }
    if checked.error_count() > 0 {
        return Err(refuse(&checked));
    }
    print_diagnostics(&checked);
    let jobs = plan
        .jobs
        .into_iter()
        .zip(journals)
        .zip(checked.jobs.iter().cloned())
        .map(|((plan, journal), job)| Prepared { plan, journal, job })
        .collect();
    Ok(Preparation {
        jobs,
        plan_id: None,
    })
}

/// Read the saved plan at `path`, refuse it when stale, take each job's lock.
pub fn from_saved(
    path: &Path,
    state_dir: &Path,
    max_deletions: Option<u64>,
) -> Result<Preparation, Error> {
    let (plan, plan_id) = read_saved_plan(path).map_err(|e| Error::Refused(e.to_string()))?;
    let stale = |why: String| {
        Error::Refused(format!(
            "the saved plan {} is stale: {why}; nothing was deleted. Make a new plan with \
             `reqprune plan --out FILE`",
            path.display()
        ))
    };
    // The job and id files must be what the plan was made from.
    let files: Vec<PathBuf> = plan.jobs.iter().map(|j| j.file.clone()).collect();
    let checked = check_paths(&files);
    if checked.error_count() > 0 {
        print_diagnostics(&checked);
        return Err(stale("its job files no longer validate".into()));
    }
    for saved in &plan.jobs {
        let Some(job) = checked.jobs.iter().find(|j| j.name == saved.name) else {
            return Err(stale(format!(
                "job `{}` is no longer in {}",
                saved.name,
                saved.file.display()
            )));
        };
        verify_saved_job(saved, job).map_err(stale)?;
    }
    let caps = check_caps(&plan, max_deletions);
    if let Some(error) = caps
        .iter()
        .find(|d| d.severity == crate::diagnostic::Severity::Error)
    {
        return Err(Error::Refused(error.message.clone()));
    }
    let mut jobs = Vec::new();
    for mut job_plan in plan.jobs {
        let journal = Journal::open(state_dir, &job_plan.name)?;
        let view = journal.view();
        warn_state(view, &job_plan.name);
        if let Some(why) = moved_on(&job_plan, view, &plan_id) {
            return Err(stale(why));
        }
        let job = checked
            .jobs
            .iter()
            .find(|j| j.name == job_plan.name)
            .cloned()
            .expect("verified above");
        for project in &mut job_plan.projects {
            // Resuming: what this plan's earlier runs settled is not sent again.
            if let Some(done) = view.done.get(&project.project_id) {
                project.delete = project.delete.difference(done);
            }
            // Credentials are resolved from the job as it is here, not as the plan says.
            if let Some(now) = job.projects.iter().find(|p| p.id == project.project_id) {
                project.token = now.token.clone();
                project.base_dir = now.base_dir.clone();
            }
        }
        jobs.push(Prepared {
            plan: job_plan,
            journal,
            job,
        });
    }
    Ok(Preparation {
        jobs,
        plan_id: Some(plan_id),
    })
}

/// Why the state moved on since the plan was made through something other than this plan.
fn moved_on(plan: &JobPlan, view: &StateView, plan_id: &str) -> Option<String> {
    match (&plan.state_lineage, &view.lineage) {
        (Some(then), Some(now)) if then != now => {
            return Some(format!(
                "job `{}`: its state was recreated since (lineage {now}, the plan has {then})",
                plan.name
            ));
        }
        (Some(_), None) => {
            return Some(format!(
                "job `{}`: its state was removed since the plan was made",
                plan.name
            ));
        }
        _ => {}
    }
    let other = view.runs.iter().find(|run| {
        run.started_at_sequence >= plan.state_sequence && run.plan_id.as_deref() != Some(plan_id)
    })?;
    Some(format!(
        "job `{}`: another run ({}) changed its state after the plan was made",
        plan.name, other.started
    ))
}

fn warn_state(view: &StateView, job: &str) {
    for warning in &view.warnings {
        eprintln!("warning: job `{job}`: {warning}");
    }
}
