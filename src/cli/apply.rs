//! `reqprune apply`: plan (or read a saved plan), confirm, execute, journal, report.
//!
//! The edge around the executor (`crate::execute`): it takes each job's lock, plans against
//! the state (or checks that a saved plan is still valid), asks for confirmation, builds the
//! API clients and runs the executor job by job, then writes the report and picks the exit
//! code. `prepare` plans and checks saved plans, `execution` runs one job, `confirm` holds
//! the dialogue and `logs` the log format.

use std::path::PathBuf;
use std::time::Duration;

use super::{Outcome, PathsArg, StateDirArg};
use crate::exit::Error;

pub mod confirm;
pub mod logs;

pub use logs::LogFormat;

/// Delete the planned work items, journaling every outcome.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: PathsArg,
    /// Execute exactly this saved plan (from `reqprune plan --out FILE`) instead of planning;
    /// run it again to resume it after an interruption.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateDirArg,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Delete requests in flight at once (overrides `limits.concurrency`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: Option<u32>,
    /// Ceiling on delete requests per second (overrides `limits.requests_per_second`).
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100000))]
    pub rate: Option<u32>,
    /// Deadline for the whole run (e.g. `10m`, `1h30m`): then stop like Ctrl-C, exit 3.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Write a JSON report of every outcome to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Lower every job's blast-radius cap to N for this run (only the job file can raise it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_deletions: Option<u64>,
}

pub fn run(_args: Args) -> Outcome {
    // Wired up in `execution` and `prepare` once the state journal and the sandbox land.
    Err(Error::Refused("`apply` is not wired up yet".into()))
}
