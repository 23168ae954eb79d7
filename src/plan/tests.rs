//! Unit and property tests of the planner, and the hand-built sample plan that the renderers'
//! tests share (two jobs: one with labels, protection, state and batches; one with nothing to do).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::checked::{Endpoint, Job, Project};
use crate::diagnostic::{Location, Severity};
use crate::job::{Limits, TokenSource};

pub(crate) fn project(id: &str, label: Option<&str>, delete: IdSet, protect: IdSet) -> Project {
    Project {
        id: id.to_string(),
        label: label.map(str::to_string),
        token_name: "ci".into(),
        token: TokenSource::Env("CODEARTS_TOKEN".into()),
        base_dir: PathBuf::from("jobs"),
        delete,
        protect,
    }
}

pub(crate) fn job(name: &str, projects: Vec<Project>) -> Job {
    Job {
        name: name.into(),
        file: PathBuf::from(format!("jobs/{name}.yaml")),
        description: None,
        endpoint: Endpoint::Url("https://projectman-ext.cn-north-4.myhuaweicloud.com".into()),
        region: None,
        projects,
        limits: Limits::default(),
        fingerprint: format!("sha256:{}", "ab".repeat(32)),
    }
}

const PAYMENTS: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const SEARCH: &str = "0123456789abcdef0123456789ABCDEF";

/// A plan with every feature the renderers show.
pub(crate) fn sample_plan() -> Plan {
    let mut delete = IdSet::from_range(1660100, 1660199);
    delete = delete.union(&IdSet::from_unsorted(vec![1660084, 1660085, 1660300]));
    let payments = project(
        PAYMENTS,
        Some("payments"),
        delete,
        IdSet::from_unsorted(vec![1660150, 1660151]),
    );
    let search = project(SEARCH, None, IdSet::from_range(42, 44), IdSet::new());
    let mut state = StateView {
        lineage: Some("lineage-1".into()),
        sequence: 7,
        done: BTreeMap::new(),
        ..StateView::default()
    };
    state.done.insert(
        PAYMENTS.into(),
        IdSet::from_unsorted(vec![1660084, 1660085]),
    );
    let cleanup = plan_job(&job("q3-import-cleanup", vec![payments, search]), &state);
    let idle = plan_job(
        &job(
            "idle",
            vec![project(SEARCH, Some("search"), IdSet::new(), IdSet::new())],
        ),
        &StateView::default(),
    );
    Plan {
        jobs: vec![cleanup, idle],
    }
}

#[test]
fn deletes_the_union_minus_protected_minus_done() {
    let plan = sample_plan();
    let payments = &plan.jobs[0].projects[0];
    assert_eq!(payments.delete.len(), 100 + 1 - 2);
    assert!(!payments.delete.contains(1660084));
    assert!(!payments.delete.contains(1660150));
    assert!(payments.delete.contains(1660300));
    assert_eq!(payments.protected.as_slice(), &[1660150, 1660151]);
    assert_eq!(payments.already_done, 2);
    assert_eq!(payments.batch_count(), 1);
    assert_eq!(plan.jobs[0].state_sequence, 7);
    assert_eq!(plan.jobs[0].state_lineage.as_deref(), Some("lineage-1"));
}

#[test]
fn batches_are_chunks_of_batch_size_in_id_order() {
    let mut job = job(
        "big",
        vec![project(
            PAYMENTS,
            None,
            IdSet::from_range(1, 250),
            IdSet::new(),
        )],
    );
    job.limits.batch_size = 100;
    let plan = plan_job(&job, &StateView::default());
    let batches: Vec<&[u64]> = plan.projects[0].batches().collect();
    assert_eq!(plan.projects[0].batch_count(), 3);
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[2], &(201..=250).collect::<Vec<u64>>()[..]);
}

#[test]
fn cap_exceeded_says_by_how_much_and_flag_only_lowers() {
    let mut job = job(
        "big",
        vec![project(
            PAYMENTS,
            None,
            IdSet::from_range(1, 12_345),
            IdSet::new(),
        )],
    );
    let plan = Plan {
        jobs: vec![plan_job(&job, &StateView::default())],
    };
    let diags = check_caps(&plan, None);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "max-deletions-exceeded");
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(
        diags[0]
            .message
            .contains("12,345 work items, 2,345 more than its cap of 10,000")
    );

    // A higher flag does not raise the cap: still an error, plus a warning.
    let diags = check_caps(&plan, Some(20_000));
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0].code, "max-deletions-flag-ignored");
    assert_eq!(diags[1].code, "max-deletions-exceeded");

    // The job file raises it; then a lower flag brings it back down.
    job.limits.max_deletions = 20_000;
    let plan = Plan {
        jobs: vec![plan_job(&job, &StateView::default())],
    };
    assert!(check_caps(&plan, None).is_empty());
    let diags = check_caps(&plan, Some(12_000));
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0]
            .message
            .contains("345 more than its cap of 12,000 (--max-deletions 12,000)")
    );
    assert!(check_caps(&plan, Some(12_345)).is_empty());
}

#[test]
fn warns_about_fully_protected_projects_where_they_are() {
    let empty = project(PAYMENTS, Some("payments"), IdSet::new(), IdSet::new());
    let shielded = project(
        SEARCH,
        None,
        IdSet::from_range(1, 3),
        IdSet::from_range(1, 10),
    );
    let plan = Plan {
        jobs: vec![plan_job(
            &job("j", vec![empty, shielded]),
            &StateView::default(),
        )],
    };
    let locate = |file: &Path, pointer: &str| {
        Some(Location {
            file: PathBuf::from(format!("{}#{pointer}", file.display())),
            line: 9,
            column: 5,
        })
    };
    let warnings = plan_warnings(&plan, &locate);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].code, "all-ids-protected");
    assert!(
        warnings[0]
            .message
            .contains("3 ids of project 0123456789abcdef0123456789ABCDEF")
    );
    let at = warnings[0].location.as_ref().unwrap();
    assert_eq!(at.file, Path::new("jobs/j.yaml#/projects/1/protect"));
    assert!(plan_warnings(&sample_plan(), &|_, _| None).is_empty());
}

#[test]
fn counts_read_with_thousands_separators() {
    assert_eq!(count(0), "0");
    assert_eq!(count(999), "999");
    assert_eq!(count(1_000), "1,000");
    assert_eq!(count(1_234_567), "1,234,567");
}

fn id_set() -> impl Strategy<Value = IdSet> {
    proptest::collection::vec(1u64..500, 0..200).prop_map(IdSet::from_unsorted)
}

proptest! {
    /// A protected id never appears in the ids to delete, nor does one the state says is done,
    /// and every other id of the sets does, exactly once and in order.
    #[test]
    fn protected_ids_are_never_deleted(
        sets in proptest::collection::vec(id_set(), 1..4),
        protect in id_set(),
        done in id_set(),
        batch_size in 1usize..=100,
    ) {
        let union = sets.iter().fold(IdSet::new(), |acc, set| acc.union(set));
        let mut job = job("prop", vec![project(PAYMENTS, None, union.clone(), protect.clone())]);
        job.limits.batch_size = batch_size as u32;
        let mut state = StateView::default();
        state.done.insert(PAYMENTS.into(), done.clone());
        let plan = plan_job(&job, &state);
        let p = &plan.projects[0];
        for id in p.delete.as_slice() {
            prop_assert!(!protect.contains(*id));
            prop_assert!(!done.contains(*id));
            prop_assert!(union.contains(*id));
        }
        for id in union.as_slice() {
            let expected = !protect.contains(*id) && !done.contains(*id);
            prop_assert_eq!(p.delete.contains(*id), expected);
        }
        prop_assert!(p.delete.as_slice().windows(2).all(|w| w[0] < w[1]));
        let batched: Vec<u64> = p.batches().flatten().copied().collect();
        prop_assert_eq!(&batched[..], p.delete.as_slice());
        prop_assert!(p.batches().all(|b| b.len() <= batch_size));
        prop_assert_eq!(p.batches().count(), p.batch_count());
        prop_assert_eq!(p.protected.len() + p.already_done + p.delete.len(), union.len());
    }
}
