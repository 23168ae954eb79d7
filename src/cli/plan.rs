//! `reqprune plan`: validate, plan every job against its state, check the caps, show the plan.
//!
//! The edge around the pure planner: it reads the job files (through `check`) and each job's
//! state (without taking the lock, so it never blocks), prints diagnostics on stderr and the
//! plan on stdout, and writes nothing but `--out`, atomically. It needs no secret and no
//! network: token sources are shown as references. `--detailed-exitcode` follows Terraform:
//! 0 nothing to delete, 2 deletions pending, 1 any error.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Outcome, PathsArg, StateDirArg, print_diagnostics, refuse};
use crate::atomic_file;
use crate::check::check_paths;
use crate::exit::{Error, Exit};
use crate::plan::{Plan, check_caps_located, plan_job, plan_warnings};
use crate::render::{self, Format};
use crate::state::StateView;

/// Show exactly which work items would be deleted, without deleting anything.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: PathsArg,
    #[command(flatten)]
    pub state: StateDirArg,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also save the plan here (JSON), for `reqprune apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when nothing is to be deleted, 2 when deletions are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// List the ids (as compact ranges) in the text format.
    #[arg(long)]
    pub show_ids: bool,
    /// Lower every job's blast-radius cap to N for this run (only the job file can raise it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_deletions: Option<u64>,
}

pub fn run(args: Args) -> Outcome {
    let mut checked = check_paths(&args.paths.or_default());
    if checked.error_count() > 0 {
        return Err(refuse(&checked));
    }
    let mut plan = Plan::default();
    for job in &checked.jobs {
        let state = state_view(&args.state.state_dir, &job.name)?;
        plan.jobs.push(plan_job(job, &state));
    }
    let locate = |file: &Path, pointer: &str| checked.location_of(file, pointer);
    let mut found = check_caps_located(&plan, args.max_deletions, &locate);
    found.extend(plan_warnings(&plan, &locate));
    for diagnostic in found {
        checked.push(diagnostic);
    }
    if checked.error_count() > 0 {
        return Err(refuse(&checked));
    }
    print_diagnostics(&checked);
    if let Some(out) = &args.out {
        write_atomically(out, |file| render::saved::write(&plan, file))?;
    }
    let mut stdout = BufWriter::new(std::io::stdout().lock());
    render::write(&plan, args.format, args.show_ids, &mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("writing the plan to stdout", e))?;
    if let Some(out) = &args.out {
        eprintln!(
            "Saved the plan to {}; apply it with `reqprune apply --plan {0}`.",
            out.display()
        );
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Exit::Pending
    } else {
        Exit::Success
    })
}

/// What the state says of a job, read without the lock (never blocks, writes nothing); what
/// the read had to overlook (a torn last line of a running apply) is said on stderr.
fn state_view(state_dir: &Path, job_name: &str) -> Result<StateView, Error> {
    let view = crate::state::read_view(state_dir, job_name)?;
    for warning in &view.warnings {
        eprintln!("warning: state of job `{job_name}`: {warning}");
    }
    Ok(view)
}

/// Writes `path` through [`atomic_file::replace`], so a reader never sees half a plan and an
/// interrupted write leaves any previous plan intact.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    atomic_file::replace(path, write)
        .map_err(|e| Error::io(format!("writing the plan to {}", path.display()), e.source))
}
