//! The Markdown plan, for pull-request comments.
//!
//! A summary table first (job, project, to delete, batches, protected, token source, and a
//! total row), then each project's ids folded in `<details>` as compact ranges. The whole
//! comment stays under GitHub's 65,536-character limit: id lists are cut with a note saying
//! how much is not shown (and where to find it all) rather than ever dropping the summary; a
//! table too long for the comment is itself cut with a note, its total row kept.

use std::fmt::Write;

use super::{Totals, counted, range_lines};
use crate::checked::{describe_token, short_id};
use crate::plan::{Plan, ProjectPlan, count};

/// The most a comment may hold, with room to spare under GitHub's 65,536 characters. Lengths
/// are measured in bytes, which never undercounts characters.
pub const LIMIT: usize = 65_000;
/// Room kept for the closing notes whatever the lists take.
const RESERVE: usize = 400;
/// Id lists wrap at this width inside their code blocks.
const WIDTH: usize = 100;

pub fn render(plan: &Plan) -> String {
    let totals = Totals::of(plan);
    let mut out = String::from("### reqprune plan\n\n");
    let _ = writeln!(out, "**{}**", totals.conclusion());
    summary_table(plan, &totals, &mut out);
    id_lists(plan, &mut out);
    debug_assert!(out.len() <= LIMIT);
    out
}

fn summary_table(plan: &Plan, totals: &Totals, out: &mut String) {
    out.push_str(
        "\n| job | project | to delete | batches | protected | token |\n|---|---|--:|--:|--:|---|\n",
    );
    // The table may use what is left once the id lists' minimum and the total row are set aside.
    let budget = LIMIT - 3 * RESERVE;
    let rows: Vec<(&str, &ProjectPlan)> = plan
        .jobs
        .iter()
        .flat_map(|job| job.projects.iter().map(move |p| (job.name.as_str(), p)))
        .collect();
    for (n, (job, project)) in rows.iter().enumerate() {
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            escape(job),
            project_cell(project),
            count(project.delete.len() as u64),
            count(project.batch_count() as u64),
            count(project.protected.len() as u64),
            escape(&describe_token(&project.token)),
        );
        if out.len() + row.len() > budget {
            let _ = writeln!(
                out,
                "| … | {} not listed (comment size limit) | | | | |",
                counted((rows.len() - n) as u64, "more project", "more projects")
            );
            break;
        }
        out.push_str(&row);
    }
    let _ = writeln!(
        out,
        "| **total** | {} with deletions | **{}** | **{}** | **{}** | |",
        counted(totals.projects, "project", "projects"),
        count(totals.to_delete),
        count(totals.batches),
        count(totals.protected),
    );
    if totals.already_done > 0 {
        let _ = writeln!(
            out,
            "\n{} already deleted or absent according to the state.",
            counted(totals.already_done, "work item was", "work items were"),
        );
    }
}

fn id_lists(plan: &Plan, out: &mut String) {
    let projects: Vec<(&str, &ProjectPlan)> = plan
        .jobs
        .iter()
        .flat_map(|job| job.projects.iter().map(move |p| (job.name.as_str(), p)))
        .filter(|(_, p)| !p.delete.is_empty())
        .collect();
    for (n, (job, project)) in projects.iter().enumerate() {
        let head = format!(
            "\n<details><summary>{} / {}: {} to delete</summary>\n\n```\n",
            escape(job),
            escape(&project.display_name()),
            counted(project.delete.len() as u64, "id", "ids"),
        );
        let tail = "```\n\n</details>\n";
        if out.len() + head.len() + tail.len() + 2 * RESERVE > LIMIT {
            let _ = writeln!(
                out,
                "\n_The ids of {} are not shown (comment size limit); `reqprune plan --format json` lists every id._",
                counted((projects.len() - n) as u64, "more project", "more projects"),
            );
            return;
        }
        out.push_str(&head);
        let mut shown = 0usize;
        let lines = range_lines(&project.delete, WIDTH);
        let total_lines = lines.len();
        for line in lines {
            if out.len() + line.len() + 1 + tail.len() + 2 * RESERVE > LIMIT {
                break;
            }
            out.push_str(&line);
            out.push('\n');
            shown += 1;
        }
        out.push_str(tail);
        if shown < total_lines {
            let _ = writeln!(
                out,
                "\n_Id list truncated: {} of {} lines of ranges shown (comment size limit); `reqprune plan --format json` lists every id._",
                count(shown as u64),
                count(total_lines as u64),
            );
        }
    }
}

/// `payments (`526c…b3af`)` or the bare id in code.
fn project_cell(project: &ProjectPlan) -> String {
    match &project.label {
        Some(label) => format!("{} (`{}`)", escape(label), short_id(&project.project_id)),
        None => format!("`{}`", project.project_id),
    }
}

/// Keeps user text (labels) from breaking the table or injecting HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests;
