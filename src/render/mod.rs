//! Rendering plans for people and programs: text for terminals, JSON (a versioned wire format,
//! and the saved plan that `apply --plan` executes), Markdown for pull-request comments.
//!
//! Renderers are pure functions of a [`Plan`]: same plan, same bytes. The figures every format
//! shows (to delete, batches, projects, protected, already done) come from [`Totals`] so they
//! cannot disagree, and ids are always shown as compact ranges through [`range_lines`].

use crate::idset::{IdSet, RangeText};
use crate::plan::Plan;

pub mod json;
pub mod markdown;
pub mod saved;
pub mod text;

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Renders `plan` in `format`; `show_ids` adds the id ranges to the text format (JSON always
/// lists ids, Markdown always folds them).
pub fn render(plan: &Plan, format: Format, show_ids: bool) -> String {
    match format {
        Format::Text => text::render(plan, show_ids),
        Format::Json => json::render(plan),
        Format::Markdown => markdown::render(plan),
    }
}

/// [`render`], streamed to `out`: JSON is written as it is produced, never held whole.
pub fn write(
    plan: &Plan,
    format: Format,
    show_ids: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(plan, out),
        _ => out.write_all(render(plan, format, show_ids).as_bytes()),
    }
}

/// The figures of a whole plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Work items to delete.
    pub to_delete: u64,
    pub batches: u64,
    /// Projects with at least one work item to delete.
    pub projects: u64,
    pub protected: u64,
    pub already_done: u64,
}

impl Totals {
    pub fn of(plan: &Plan) -> Totals {
        let mut totals = Totals::default();
        for project in plan.jobs.iter().flat_map(|job| &job.projects) {
            totals.to_delete += project.delete.len() as u64;
            totals.batches += project.batch_count() as u64;
            totals.projects += u64::from(!project.delete.is_empty());
            totals.protected += project.protected.len() as u64;
            totals.already_done += project.already_done as u64;
        }
        totals
    }

    /// `Plan: N to delete in P projects (B batches).` or `No changes.`
    pub fn conclusion(&self) -> String {
        if self.to_delete == 0 {
            return "No changes.".into();
        }
        format!(
            "Plan: {} to delete in {} ({}).",
            crate::plan::count(self.to_delete),
            counted(self.projects, "project", "projects"),
            counted(self.batches, "batch", "batches"),
        )
    }
}

/// `1 batch`, `2 batches`: a count with its noun.
pub fn counted(n: u64, singular: &str, plural: &str) -> String {
    let noun = if n == 1 { singular } else { plural };
    format!("{} {noun}", crate::plan::count(n))
}

/// The compact ranges of `set` (`1660100-1660199, 1660300`), cut into lines of about `width`
/// characters so a long list stays readable; a range is never split across lines.
pub fn range_lines(set: &IdSet, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for (first, last) in set.ranges() {
        let item = RangeText(first, last).to_string();
        if !line.is_empty() && line.len() + 2 + item.len() > width {
            line.push(',');
            lines.push(std::mem::take(&mut line));
        } else if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&item);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_lines_wrap_between_ranges() {
        let set = IdSet::from_unsorted(vec![1, 2, 3, 10, 20, 21, 30]);
        assert_eq!(range_lines(&set, 100), vec!["1-3, 10, 20-21, 30"]);
        assert_eq!(range_lines(&set, 8), vec!["1-3, 10,", "20-21,", "30"]);
        assert!(range_lines(&IdSet::new(), 80).is_empty());
    }

    #[test]
    fn totals_add_up_the_sample_plan() {
        let totals = Totals::of(&crate::plan::tests::sample_plan());
        assert_eq!(
            totals,
            Totals {
                to_delete: 102,
                batches: 2,
                projects: 2,
                protected: 2,
                already_done: 2
            }
        );
    }
}
