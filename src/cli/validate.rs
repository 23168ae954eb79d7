//! `reqprune validate [PATH]...`: check job files and report every problem with
//! `file:line:column`, as text for people or `--format json` for programs.
//!
//! Exit 0 when every job is valid (warnings allowed), 1 when any error was found. It reads
//! job and id files and nothing else: no credentials, no network, no state.

use std::io::Write;

use super::{Outcome, PathsArg};
use crate::check::{Checked, check_paths};
use crate::exit::{Error, Exit};
use crate::render::counted;

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
            let color = super::use_color(&out);
            checked.render_human(&mut out, color).map_err(write)?;
            writeln!(out, "{}", summary(&checked)).map_err(write)?;
        }
    }
    match checked.error_count() {
        0 => Ok(Exit::Success),
        errors => Err(Error::Invalid { errors }),
    }
}

/// `2 jobs valid: 5 projects, 1,234 ids to delete (1 warning)` or the error count; counts
/// as `plan` shows them ([`counted`]), so one project is not "1 projects".
fn summary(checked: &Checked) -> String {
    let warnings = match checked.warning_count() {
        0 => String::new(),
        n => format!(" ({})", counted(n as u64, "warning", "warnings")),
    };
    let errors = checked.error_count();
    if errors > 0 {
        return format!(
            "invalid: {}{warnings}",
            counted(errors as u64, "error", "errors")
        );
    }
    let jobs = checked.jobs.len();
    let projects: usize = checked.jobs.iter().map(|j| j.projects.len()).sum();
    let ids: usize = checked
        .jobs
        .iter()
        .flat_map(|j| &j.projects)
        .map(|p| p.delete.difference(&p.protect).len())
        .sum();
    format!(
        "{} valid: {}, {} to delete{warnings}",
        counted(jobs as u64, "job", "jobs"),
        counted(projects as u64, "project", "projects"),
        counted(ids as u64, "id", "ids"),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::summary;
    use crate::check::check_bytes;

    #[test]
    fn the_summary_counts_in_the_singular_too() {
        let job = "version: 1
name: one
endpoint: https://projectman-ext.cn-north-4.myhuaweicloud.com
token: ci
tokens:
  ci: { env: CODEARTS_TOKEN }
projects:
  - id: 526cefde62004de2b62b5e8dd2c2b3af
    delete: [{ range: { from: 1, to: 1001 } }]
";
        let checked = check_bytes(Path::new("one.yaml"), job.as_bytes().to_vec());
        assert_eq!(
            summary(&checked),
            "1 job valid: 1 project, 1,001 ids to delete"
        );
    }
}
