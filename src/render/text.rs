//! The text plan: what a person reads in a terminal before applying.
//!
//! One header line per job, one line per project (`payments (526c…b3af): delete 1,234 work
//! items in 13 batches, 2 protected, 40 already deleted`), the ids as compact ranges with
//! `--show-ids`, and a closing `Plan: N to delete in P projects (B batches).` or `No changes.`.

use std::fmt::Write;

use super::{Totals, counted, range_lines};
use crate::checked::{Endpoint, describe_token};
use crate::idset::IdSet;
use crate::plan::{Plan, ProjectPlan, count};

/// Id lists wrap at this width (after the indentation).
const WIDTH: usize = 92;

pub fn render(plan: &Plan, show_ids: bool) -> String {
    let mut out = String::new();
    for job in &plan.jobs {
        let endpoint = match &job.endpoint {
            Endpoint::Url(url) => url.as_str(),
            Endpoint::Sandbox => "the embedded sandbox",
        };
        let _ = writeln!(out, "{} ({}), on {endpoint}", job.name, job.file.display());
        for project in &job.projects {
            let _ = writeln!(out, "  {}", project_line(project));
            if show_ids {
                ids(&mut out, "delete", &project.delete);
                ids(&mut out, "protected", &project.protected);
            }
        }
    }
    let totals = Totals::of(plan);
    if !plan.jobs.is_empty() {
        out.push('\n');
    }
    out.push_str(&totals.conclusion());
    out.push('\n');
    out
}

/// `payments (526c…b3af): delete 1,234 work items in 13 batches, 2 protected, 40 already deleted`
pub fn project_line(project: &ProjectPlan) -> String {
    let mut line = format!("{}: ", project.display_name());
    if project.delete.is_empty() {
        line.push_str("nothing to delete");
    } else {
        let _ = write!(
            line,
            "delete {} in {}",
            counted(project.delete.len() as u64, "work item", "work items"),
            counted(project.batch_count() as u64, "batch", "batches"),
        );
    }
    if !project.protected.is_empty() {
        let _ = write!(
            line,
            ", {} protected",
            count(project.protected.len() as u64)
        );
    }
    if project.already_done > 0 {
        let _ = write!(
            line,
            ", {} already deleted",
            count(project.already_done as u64)
        );
    }
    let _ = write!(line, " (token: {})", describe_token(&project.token));
    line
}

fn ids(out: &mut String, what: &str, set: &IdSet) {
    if set.is_empty() {
        return;
    }
    let _ = writeln!(out, "    {what}:");
    for line in range_lines(set, WIDTH) {
        let _ = writeln!(out, "      {line}");
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::tests::sample_plan;

    #[test]
    fn sample_plan_as_text() {
        insta::assert_snapshot!(super::render(&sample_plan(), true));
    }

    #[test]
    fn nothing_to_do_says_no_changes() {
        let mut plan = sample_plan();
        plan.jobs.remove(0);
        assert!(super::render(&plan, false).ends_with("\n\nNo changes.\n"));
    }
}
