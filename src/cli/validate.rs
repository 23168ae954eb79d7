//! `reqprune validate [PATH]...`: check job files and report every problem with
//! `file:line:column`, as text for people or `--format json` for programs.
//!
//! Exit 0 when every job is valid (warnings allowed), 1 when any error was found. It reads
//! job and id files and nothing else: no credentials, no network, no state.

use std::io::{IsTerminal, Write};

use super::{Outcome, PathsArg};
use crate::check::{Checked, check_paths};
use crate::exit::{Error, Exit};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: PathsArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source lines with carets, and a summary.
    Human,
    /// A JSON array of `{file, line, column, code, severity, message, hint}`.
    Json,
}

pub fn run(args: Args) -> Outcome {
    let checked = check_paths(&args.paths.or_default());
    let mut out = std::io::stdout().lock();
    let write = |e| Error::io("writing the diagnostics", e);
    match args.format {
        Format::Json => writeln!(out, "{}", checked.render_json()).map_err(write)?,
        Format::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            checked.render_human(&mut out, color).map_err(write)?;
            writeln!(out, "{}", summary(&checked)).map_err(write)?;
        }
    }
    match checked.error_count() {
        0 => Ok(Exit::Success),
        errors => Err(Error::Invalid { errors }),
    }
}

/// `2 jobs valid: 5 projects, 1234 ids to delete (1 warning)` or the error count.
fn summary(checked: &Checked) -> String {
    let warnings = match checked.warning_count() {
        0 => String::new(),
        1 => " (1 warning)".to_string(),
        n => format!(" ({n} warnings)"),
    };
    let errors = checked.error_count();
    if errors > 0 {
        let s = if errors == 1 { "" } else { "s" };
        return format!("invalid: {errors} error{s}{warnings}");
    }
    let jobs = checked.jobs.len();
    let projects: usize = checked.jobs.iter().map(|j| j.projects.len()).sum();
    let ids: usize = checked
        .jobs
        .iter()
        .flat_map(|j| &j.projects)
        .map(|p| p.delete.difference(&p.protect).len())
        .sum();
    let s = if jobs == 1 { "" } else { "s" };
    format!("{jobs} job{s} valid: {projects} projects, {ids} ids to delete{warnings}")
}
