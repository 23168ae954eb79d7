//! Checking a saved plan against its job as it is now, before `apply --plan` executes it.
//!
//! The fingerprint proves the job and id files are unchanged, but not the plan file itself: a
//! hand-edited plan could add a protected id to `delete_ids`, or point `endpoint` elsewhere
//! while keeping the fingerprint. So `apply` re-checks the job and calls
//! [`verify_saved_job`], which re-plans it against an empty state and requires the saved plan
//! to be that plan minus the ids the state had done at plan time: same endpoint, region,
//! limits, projects and token sources, the same protected ids, and only ids the job deletes.
//! `apply` should then take token sources and their folder from the re-checked job.

use super::{JobPlan, plan_job};
use crate::checked::Job;
use crate::state::StateView;

/// `Ok` when `saved` is exactly what planning `job` could have produced; otherwise why not.
pub fn verify_saved_job(saved: &JobPlan, job: &Job) -> Result<(), String> {
    let fresh = plan_job(job, &StateView::default());
    let mismatch = |what: &str| {
        Err(format!(
            "the saved plan's {what} for job `{}` differs from {}: the plan file was edited",
            saved.name,
            job.file.display()
        ))
    };
    if saved.name != fresh.name || saved.fingerprint != fresh.fingerprint {
        return Err(format!(
            "job `{}` changed since the plan was made (its job or id files differ): plan again",
            saved.name
        ));
    }
    if saved.endpoint != fresh.endpoint || saved.region != fresh.region {
        return mismatch("endpoint");
    }
    if saved.limits != fresh.limits {
        return mismatch("limits");
    }
    if saved.projects.len() != fresh.projects.len() {
        return mismatch("list of projects");
    }
    for (s, f) in saved.projects.iter().zip(&fresh.projects) {
        if s.project_id != f.project_id || s.label != f.label {
            return mismatch("list of projects");
        }
        // `base_dir` is not compared: it depends on the folder the plan was made from. Token
        // files are resolved from the re-checked job, whose folder is the one that counts.
        if s.token_name != f.token_name || s.token != f.token {
            return mismatch(&format!("token source of project {}", s.display_name()));
        }
        if s.protected != f.protected {
            return mismatch(&format!("protected ids of project {}", s.display_name()));
        }
        let foreign = s.delete.difference(&f.delete);
        if !foreign.is_empty() || f.delete.len() - s.delete.len() != s.already_done {
            return mismatch(&format!("ids to delete of project {}", s.display_name()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checked::Endpoint;
    use crate::idset::IdSet;
    use crate::plan::tests::{job, project};

    fn sample() -> (Job, JobPlan) {
        let job = job(
            "j",
            vec![project(
                "526cefde62004de2b62b5e8dd2c2b3af",
                Some("payments"),
                IdSet::from_range(1, 10),
                IdSet::from_unsorted(vec![5]),
            )],
        );
        let state = StateView {
            lineage: Some("l".into()),
            sequence: 3,
            done: BTreeMap::from([(job.projects[0].id.clone(), IdSet::from_range(1, 2))]),
            ..StateView::default()
        };
        let plan = plan_job(&job, &state);
        (job, plan)
    }

    #[test]
    fn accepts_the_plan_as_made_whatever_the_state_had_done() {
        let (job, plan) = sample();
        assert_eq!(plan.projects[0].already_done, 2);
        assert_eq!(verify_saved_job(&plan, &job), Ok(()));
    }

    #[test]
    fn refuses_every_edit_that_matters() {
        let (job, plan) = sample();
        type Edit = Box<dyn Fn(&mut JobPlan)>;
        let edits: Vec<(&str, Edit)> = vec![
            (
                "changed since",
                Box::new(|p| p.fingerprint = "sha256:00".into()),
            ),
            (
                "endpoint",
                Box::new(|p| p.endpoint = Endpoint::Url("https://evil.example".into())),
            ),
            ("limits", Box::new(|p| p.limits.batch_size = 7)),
            (
                "list of projects",
                Box::new(|p| p.projects[0].project_id = "x".repeat(32)),
            ),
            (
                "token source",
                Box::new(|p| p.projects[0].token_name = "other".into()),
            ),
            (
                "protected ids",
                Box::new(|p| p.projects[0].protected = IdSet::new()),
            ),
            (
                "ids to delete",
                Box::new(|p| {
                    let d = &mut p.projects[0].delete;
                    *d = d.union(&IdSet::from_unsorted(vec![5]));
                }),
            ),
            (
                "ids to delete",
                Box::new(|p| {
                    let d = &mut p.projects[0].delete;
                    *d = d.union(&IdSet::from_unsorted(vec![11]));
                }),
            ),
            (
                "ids to delete",
                Box::new(|p| p.projects[0].already_done = 0),
            ),
            ("list of projects", Box::new(|p| p.projects.clear())),
        ];
        for (expected, edit) in edits {
            let mut edited = plan.clone();
            edit(&mut edited);
            let error = verify_saved_job(&edited, &job).unwrap_err();
            assert!(error.contains(expected), "{expected:?} not in {error:?}");
        }
    }
}
