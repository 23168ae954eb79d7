//! `reqprune apply`: plan (or read a saved plan), confirm, execute, journal, report.
//!
//! The edge around the executor (`crate::execute`): it takes each job's lock, plans against
//! the state (or checks that a saved plan is still valid), asks for confirmation, builds the
//! API clients and runs the executor job by job, then writes the report and picks the exit
//! code. `prepare` plans and checks saved plans, `execution` runs one job, `confirm` holds
//! the dialogue and `logs` the log format.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Outcome, PathsArg, StateDirArg};
use crate::execute::progress::Display;
use crate::execute::report::{Counters, Report, RunEnd};
use crate::execute::signal::{self, Stop, StopReason};
use crate::exit::{Error, Exit};
use crate::render;
use execution::Overrides;

pub mod confirm;
mod execution;
pub mod logs;
mod prepare;

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

pub fn run(args: Args) -> Outcome {
    logs::init(args.log_format);
    let state_dir = &args.state.state_dir;
    let preparation = match &args.plan {
        Some(saved) => prepare::from_saved(saved, state_dir, args.max_deletions)?,
        None => prepare::from_paths(&args.paths.or_default(), state_dir, args.max_deletions)?,
    };
    let plan = crate::plan::Plan {
        jobs: preparation.jobs.iter().map(|p| p.plan.clone()).collect(),
    };
    if plan.is_empty() {
        println!(
            "{}",
            match &args.plan {
                Some(saved) => format!(
                    "The saved plan {} has been applied completely: nothing to do.",
                    saved.display()
                ),
                None => "No changes: nothing to delete.".to_string(),
            }
        );
        if let Some(path) = &args.report {
            let nothing = Report::new(
                Vec::new(),
                &Counters::default(),
                now_rfc3339(),
                Duration::ZERO,
                false,
            );
            write_report(path, &nothing)?;
        }
        return Ok(Exit::Success);
    }
    print!("{}", render::render(&plan, render::Format::Text, false));
    let names: Vec<String> = plan.jobs.iter().map(|j| j.name.clone()).collect();
    let stdin = std::io::stdin();
    let go = confirm::confirm(
        &names,
        args.yes,
        stdin.is_terminal(),
        &mut stdin.lock(),
        &mut std::io::stderr(),
    )?;
    if !go {
        return Err(Error::Refused("not confirmed; nothing was deleted".into()));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", e))?;
    let started_at = now_rfc3339();
    let clock = Instant::now();
    let counters = Arc::new(Counters::default());
    let overrides = Overrides {
        concurrency: args.concurrency,
        rate: args.rate,
    };
    let display = Display::detect();
    let runs = runtime.block_on(async {
        let stop = Stop::new();
        let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
        signal::listen(&stop, deadline);
        let mut runs = Vec::new();
        for prepared in preparation.jobs {
            if stop.is_stopped() {
                break;
            }
            if prepared.plan.to_delete() == 0 {
                continue;
            }
            let run = execution::run_job(
                prepared,
                preparation.plan_id.clone(),
                state_dir,
                overrides,
                &stop,
                counters.clone(),
                display,
            )
            .await?;
            runs.push(run);
        }
        Ok::<_, Error>((runs, stop.reason()))
    });
    // Leave no request or timer behind (a listener waits for a second Ctrl-C).
    runtime.shutdown_background();
    let (runs, stopped) = runs?;

    let report = Report::new(
        runs.into_iter().map(|r| (r.name, r.tallies)).collect(),
        &counters,
        started_at,
        clock.elapsed(),
        stopped.is_some(),
    );
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    print!("{}", report.summary());
    let resume = resume_command();
    Ok(match (stopped, report.outcome) {
        (Some(StopReason::Signal), _) => {
            println!("Interrupted. To resume, run the same command again: {resume}");
            Exit::Interrupted
        }
        (Some(StopReason::Deadline), _) => {
            println!("The --timeout deadline stopped the run. To go on, run: {resume}");
            Exit::Partial
        }
        (Some(StopReason::Journal), _) => {
            return Err(Error::Refused(
                "the state journal could not be written".into(),
            ));
        }
        (None, RunEnd::Complete) => Exit::Success,
        (None, _) => {
            println!("Some ids were not deleted; running the same command again retries them.");
            Exit::Partial
        }
    })
}

/// The command line as typed, to tell the user how to resume.
fn resume_command() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("reqprune {}", args.join(" "))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Write the report through a temporary file and a rename: never half a report.
fn write_report(path: &Path, report: &Report) -> Result<(), Error> {
    let context = || format!("writing the report to {}", path.display());
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(context(), e))?;
    serde_json::to_writer_pretty(&mut file, report)
        .map_err(std::io::Error::from)
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| Error::io(context(), e))?;
    file.persist(path)
        .map_err(|e| Error::io(context(), e.error))?;
    Ok(())
}
