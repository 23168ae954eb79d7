//! The Markdown plan: its shape for the sample plan, and the size limit on huge plans.

use super::*;
use crate::idset::IdSet;
use crate::plan::plan_job;
use crate::plan::tests::{job, project, sample_plan};
use crate::state::StateView;

#[test]
fn sample_plan_as_markdown() {
    insta::assert_snapshot!(render(&sample_plan()));
}

/// `projects` projects of `ids` ids each, every other id, so each id is its own range.
fn scattered(projects: usize, ids: u64) -> Plan {
    let projects = (0..projects)
        .map(|n| {
            let start = 1_000_000 * (n as u64 + 1);
            let set: IdSet = (0..ids).map(|i| start + 2 * i).collect();
            project(&format!("{n:0>32}"), Some("a|b<i>"), set, IdSet::new())
        })
        .collect();
    Plan {
        jobs: vec![plan_job(&job("huge", projects), &StateView::default())],
    }
}

#[test]
fn a_huge_plan_keeps_the_summary_and_notes_the_truncation() {
    let text = render(&scattered(20, 50_000));
    assert!(text.chars().count() < 65_536);
    assert!(text.starts_with(
        "### reqprune plan\n\n**Plan: 1,000,000 to delete in 20 projects (10,000 batches).**"
    ));
    // Every project row is there, then the total row.
    assert_eq!(text.matches("| huge | a\\|b&lt;i&gt; (`").count(), 20);
    assert!(text.contains(
        "| **total** | 20 projects with deletions | **1,000,000** | **10,000** | **0** | |"
    ));
    assert!(text.contains("_Id list truncated: "));
    assert!(text.contains("_The ids of 19 more projects are not shown"));
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
}

#[test]
fn a_table_too_long_for_a_comment_is_cut_but_keeps_its_total() {
    let text = render(&scattered(2_000, 3));
    assert!(text.len() <= LIMIT);
    assert!(text.contains("more projects not listed (comment size limit)"));
    assert!(text.contains("| **total** | 2,000 projects with deletions | **6,000** |"));
}

#[test]
fn small_plans_show_every_id() {
    let text = render(&scattered(3, 10));
    assert!(!text.contains("truncated"));
    assert!(!text.contains("not shown"));
    assert_eq!(text.matches("<details>").count(), 3);
}
