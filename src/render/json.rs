//! The JSON plan: a versioned wire format, kept apart from the internal types so they can
//! change without breaking a script that reads `plan --format json`.
//!
//! `{"format_version": 1, "jobs": [{"name", "file", "fingerprint", "projects": [{"project_id",
//! "label", "token_source", "delete_ids", "protected_ids", "already_done", "batch_count"}]}],
//! "totals": {"to_delete", "batches", "projects", "protected", "already_done"}}`. Keys come out
//! in that order, ids sorted, so the same plan always gives the same bytes. The saved plan
//! (`render::saved`) is this document plus what `apply --plan` needs.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::Totals;
// The saved plan lives in `render::saved`; reachable from here too, beside the format it extends.
pub use super::saved::{SavedPlanError, plan_id, read_saved_plan};
use crate::checked::describe_token;
use crate::plan::{Plan, ProjectPlan};

/// The version of both the JSON plan and the saved plan. Bump it on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct PlanDoc<'a> {
    format_version: u32,
    jobs: Vec<JobDoc<'a>>,
    totals: TotalsDoc,
}

#[derive(Serialize)]
struct JobDoc<'a> {
    name: &'a str,
    file: String,
    fingerprint: &'a str,
    projects: Vec<ProjectDoc<'a>>,
}

#[derive(Serialize)]
struct ProjectDoc<'a> {
    project_id: &'a str,
    label: Option<&'a str>,
    token_source: String,
    delete_ids: &'a [u64],
    protected_ids: &'a [u64],
    already_done: usize,
    batch_count: usize,
}

/// `totals`, shared with the saved plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotalsDoc {
    pub to_delete: u64,
    pub batches: u64,
    pub projects: u64,
    pub protected: u64,
    pub already_done: u64,
}

impl From<Totals> for TotalsDoc {
    fn from(t: Totals) -> Self {
        TotalsDoc {
            to_delete: t.to_delete,
            batches: t.batches,
            projects: t.projects,
            protected: t.protected,
            already_done: t.already_done,
        }
    }
}

/// Pretty-printed JSON, ending with a newline.
pub fn render(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write(plan, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`render`], streamed to `out` (a million ids need not be held twice in memory).
pub fn write(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let doc = PlanDoc {
        format_version: FORMAT_VERSION,
        jobs: plan
            .jobs
            .iter()
            .map(|job| JobDoc {
                name: &job.name,
                file: path_string(&job.file),
                fingerprint: &job.fingerprint,
                projects: job.projects.iter().map(project_doc).collect(),
            })
            .collect(),
        totals: Totals::of(plan).into(),
    };
    write_pretty(&doc, out)
}

fn project_doc(project: &ProjectPlan) -> ProjectDoc<'_> {
    ProjectDoc {
        project_id: &project.project_id,
        label: project.label.as_deref(),
        token_source: describe_token(&project.token),
        delete_ids: project.delete.as_slice(),
        protected_ids: project.protected.as_slice(),
        already_done: project.already_done,
        batch_count: project.batch_count(),
    }
}

/// Paths as plain strings, with `/` on every platform so plans compare across machines.
pub(super) fn path_string(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Two-space indented JSON and a final newline: the one way every document here is written.
pub(super) fn write_pretty<T: Serialize>(doc: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use crate::plan::tests::sample_plan;

    #[test]
    fn sample_plan_as_json() {
        let rendered = super::render(&sample_plan());
        insta::assert_snapshot!(rendered);
        let value: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(value["format_version"], 1);
        assert_eq!(value["totals"]["to_delete"], 102);
    }

    #[test]
    fn same_plan_same_bytes() {
        assert_eq!(super::render(&sample_plan()), super::render(&sample_plan()));
    }
}
