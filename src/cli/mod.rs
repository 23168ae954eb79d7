//! The command line: clap's raw arguments, one file per subcommand, and the exit code.
//!
//! Each `cli/<command>.rs` holds its `Args` and a `run` that returns an [`Exit`] or an
//! [`Error`]; this file only dispatches and turns errors into messages and exit codes, so
//! `main.rs` stays one line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Error, Exit};

pub mod apply;
pub mod plan;
pub mod schema;
pub mod status;
pub mod validate;

/// Delete Huawei Cloud CodeArts Req work items in bulk, declaratively and safely.
///
/// Jobs are YAML files (see `reqprune schema`). `validate` checks them, `plan` shows exactly
/// what would be deleted (no credentials needed), `apply` deletes and journals every outcome
/// so an interrupted run resumes, `status` reads the journal.
#[derive(Debug, Parser)]
#[command(
    name = "reqprune",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check job files and report every problem with file:line:column.
    Validate(validate::Args),
    /// Show exactly which work items would be deleted, without deleting anything.
    Plan(plan::Args),
    /// Delete the planned work items, journaling every outcome.
    Apply(apply::Args),
    /// Show what the state journal says of each job.
    Status(status::Args),
    /// Print the JSON schema of job files.
    Schema(schema::Args),
}

/// Where the state lives; shared by every command that reads or writes it.
#[derive(Debug, Clone, clap::Args)]
pub struct StateDirArg {
    /// State folder (one journal per job name).
    #[arg(
        long,
        env = "REQPRUNE_STATE_DIR",
        default_value = ".reqprune",
        value_name = "DIR"
    )]
    pub state_dir: PathBuf,
}

/// Job files or folders; folders are searched recursively for `*.yaml` and `*.yml`.
#[derive(Debug, Clone, clap::Args)]
pub struct PathsArg {
    /// Job files or folders [default: jobs/]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

impl PathsArg {
    /// The paths given, or `jobs/` when none was.
    pub fn or_default(&self) -> Vec<PathBuf> {
        if self.paths.is_empty() {
            vec![PathBuf::from("jobs")]
        } else {
            self.paths.clone()
        }
    }
}

/// Parse the command line, run the command, map the outcome to an exit code.
pub fn main() -> ExitCode {
    // clap exits 2 on a usage error, but 2 means "deletions pending" to `plan
    // --detailed-exitcode` scripts: usage errors exit 1, --help and --version 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Error.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    let outcome = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Status(args) => status::run(args),
        Command::Schema(args) => schema::run(args),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(error) => {
            if !matches!(error, Error::Invalid { .. }) {
                eprintln!("error: {error}");
            } else {
                eprintln!("{error}");
            }
            error.exit_code().into()
        }
    }
}

pub type Outcome = Result<Exit, Error>;

/// Colour on a terminal, unless `NO_COLOR` is set.
pub(crate) fn use_color(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints the diagnostics (errors and warnings) on stderr: stdout is the command's own output.
pub(crate) fn print_diagnostics(checked: &crate::check::Checked) {
    let mut stderr = std::io::stderr().lock();
    let color = use_color(&stderr);
    // Diagnostics that cannot be shown (stderr closed) must not hide the exit code.
    let _ = checked.render_human(&mut stderr, color);
}

/// Prints the diagnostics and gives the error that ends the run with exit 1: how `plan`,
/// `apply` and `status` refuse invalid job files.
pub(crate) fn refuse(checked: &crate::check::Checked) -> Error {
    print_diagnostics(checked);
    Error::Invalid {
        errors: checked.error_count(),
    }
}
