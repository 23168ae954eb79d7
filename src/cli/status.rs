//! `reqprune status`: what the state journal says of each job, against what the job plans.
//!
//! Reads the job files (through `check`, to know what is planned) and each job's journal
//! through [`read_view`], which takes no lock: `status` never blocks, and works while an
//! apply runs (whose lock file then says the run is under way). The counts come from
//! [`crate::state::status`]; this file only prints them, as text or as JSON.

use std::collections::BTreeMap;
use std::io::Write;

use super::{Outcome, PathsArg, StateDirArg};
use crate::check::check_paths;
use crate::checked::short_id;
use crate::exit::{Error, Exit};
use crate::idset::IdSet;
use crate::plan::count;
use crate::state::lock::read_holder_at;
use crate::state::status::{JobStatus, StatusReport, job_status};
use crate::state::{lock_path, read_view};

/// Show what the state journal says of each job.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: PathsArg,
    #[command(flatten)]
    pub state: StateDirArg,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

pub fn run(args: Args) -> Outcome {
    let checked = check_paths(&args.paths.or_default());
    if checked.error_count() > 0 {
        return Err(super::refuse(&checked));
    }
    let state_dir = &args.state.state_dir;
    let mut report = StatusReport {
        format_version: 1,
        jobs: Vec::new(),
    };
    for job in &checked.jobs {
        let view = read_view(state_dir, &job.name)?;
        for warning in &view.warnings {
            eprintln!("warning: {warning}");
        }
        let running = read_holder_at(&lock_path(state_dir, &job.name)?)
            .is_some_and(|holder| holder.is_alive());
        report.jobs.push(job_status(job, &view, running));
    }
    let text = match args.format {
        StatusFormat::Json => {
            serde_json::to_string_pretty(&report).expect("a status serialises") + "\n"
        }
        StatusFormat::Text => report
            .jobs
            .iter()
            .map(render_job)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("writing the status to stdout", e))?;
    Ok(Exit::Success)
}

/// One job as text: a headline, the counts, the errors, the last run.
fn render_job(job: &JobStatus) -> String {
    let c = &job.counts;
    let state = match (&job.last_run, job.complete) {
        (None, _) => "never applied".to_string(),
        (Some(run), _) if run.outcome == "running" => "an apply is running".to_string(),
        (Some(_), true) => "complete".to_string(),
        (Some(_), false) => format!(
            "{} of {} done",
            count(c.deleted + c.absent),
            count(c.planned)
        ),
    };
    let mut out = format!("{} ({}): {state}\n", job.name, job.file);
    let rows = [
        ("planned", c.planned),
        ("deleted", c.deleted),
        ("absent", c.absent),
        ("rejected", c.rejected),
        ("failed", c.failed),
        ("in flight", c.in_flight),
        ("pending", c.pending),
    ];
    let width = rows.iter().map(|(_, n)| count(*n).len()).max().unwrap_or(1);
    for (label, n) in rows {
        out.push_str(&format!("  {label:<10} {:>width$}\n", count(n)));
        if label == "rejected" {
            for line in rejection_lines(job) {
                out.push_str(&format!("    {line}\n"));
            }
        }
        if label == "failed" {
            for group in &job.failures {
                let ids = IdSet::from_sorted(group.ids.clone());
                out.push_str(&format!(
                    "    {}: {} in {}\n",
                    group.reason,
                    shorten(&ids.to_string()),
                    project_name(job, &group.project_id)
                ));
            }
        }
    }
    out.push_str(&format!("  last run   {}\n", last_run_line(job)));
    out
}

/// Rejected ids grouped by project and error, ids as compact ranges.
fn rejection_lines(job: &JobStatus) -> Vec<String> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<u64>> = BTreeMap::new();
    for r in &job.rejections {
        groups
            .entry((&r.project_id, &r.error_code, &r.error_msg))
            .or_default()
            .push(r.id);
    }
    groups
        .into_iter()
        .map(|((project, code, message), ids)| {
            let ids = IdSet::from_unsorted(ids);
            format!(
                "{code} {message}: {} in {}",
                shorten(&ids.to_string()),
                project_name(job, project)
            )
        })
        .collect()
}

/// `payments (526c…b3af)`, or the short id of a project without a label.
fn project_name(job: &JobStatus, project_id: &str) -> String {
    let label = job
        .projects
        .iter()
        .find(|p| p.project_id == project_id)
        .and_then(|p| p.label.as_deref());
    match label {
        Some(label) => format!("{label} ({})", short_id(project_id)),
        None => short_id(project_id),
    }
}

fn last_run_line(job: &JobStatus) -> String {
    let Some(run) = &job.last_run else {
        return "never".to_string();
    };
    let how = match run.outcome {
        "complete" => "finished, every planned id deleted or absent".to_string(),
        "partial" => "finished, some ids rejected or failed".to_string(),
        "error" => "stopped by an error".to_string(),
        "interrupted" => "interrupted (Ctrl-C or SIGTERM)".to_string(),
        "running" => "still running".to_string(),
        _ => "killed or crashed (no end recorded)".to_string(),
    };
    let ended = run
        .ended
        .as_deref()
        .map_or(String::new(), |at| format!(", ended {at}"));
    let changed = if run.fingerprint != job.fingerprint {
        "; the job files changed since"
    } else {
        ""
    };
    format!("started {}{ended}: {how}{changed}", run.started)
}

/// A long id list cut to about one line.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        None => text.to_string(),
        Some((at, _)) => {
            let cut = text[..at].rfind(", ").unwrap_or(at);
            format!("{}, …", &text[..cut])
        }
    }
}
