//! Running one prepared job: its endpoint (or embedded sandbox), one authenticator per token
//! source, one client per project, the executor, and the run's first and last journal records.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::prepare::Prepared;
use crate::api::{Client, ClientOptions};
use crate::auth::{AuthContext, Authenticator};
use crate::checked::Endpoint;
use crate::execute::client::Clients;
use crate::execute::progress::{Display, Progress};
use crate::execute::ratelimit::RateLimiter;
use crate::execute::report::{Counters, ProjectTally};
use crate::execute::retry::RetryPolicy;
use crate::execute::signal::{Stop, StopReason};
use crate::execute::{ProjectWork, Settings, execute};
use crate::exit::Error;
use crate::state::{Journal, Record, RunOutcome};

/// Overrides from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Overrides {
    pub concurrency: Option<u32>,
    pub rate: Option<u32>,
}

/// What one job's run came to.
pub struct JobRun {
    pub name: String,
    pub tallies: Vec<ProjectTally>,
}

/// How long requests in flight may take to finish after Ctrl-C.
const GRACE: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn run_job(
    prepared: Prepared,
    plan_id: Option<String>,
    state_dir: &Path,
    overrides: Overrides,
    stop: &Stop,
    counters: Arc<Counters>,
    display: Display,
) -> Result<JobRun, Error> {
    let Prepared {
        plan,
        mut journal,
        job,
    } = prepared;
    journal.append(Record::run_started(plan_id, plan.fingerprint.clone()))?;
    journal.commit()?;

    let sandbox = match &plan.endpoint {
        Endpoint::Sandbox => Some(crate::sandbox::embedded::start_for_job(state_dir, &job).await?),
        Endpoint::Url(_) => None,
    };
    let base_url = match (&plan.endpoint, &sandbox) {
        (Endpoint::Url(url), _) => url.clone(),
        (Endpoint::Sandbox, Some(sandbox)) => sandbox.base_url(),
        (Endpoint::Sandbox, None) => unreachable!("started above"),
    };

    let mut authenticators: BTreeMap<String, Arc<Authenticator>> = BTreeMap::new();
    let mut clients = Vec::new();
    for project in &plan.projects {
        let auth = authenticators
            .entry(project.token_name.clone())
            .or_insert_with(|| {
                let mut ctx = AuthContext::new(base_url.clone());
                ctx.region = plan.region.clone();
                ctx.state_dir = Some(state_dir.to_path_buf());
                if sandbox.is_some() {
                    ctx.iam_endpoint_override = Some(base_url.clone());
                }
                Arc::new(Authenticator::new(&project.token, &project.base_dir, ctx))
            })
            .clone();
        let client = Client::new(&base_url, auth, ClientOptions::default())?;
        clients.push((project.project_id.clone(), client));
    }

    let limits = &plan.limits;
    let ceiling = overrides.rate.unwrap_or(limits.requests_per_second);
    let limiter = Arc::new(RateLimiter::new(ceiling));
    let settings = Settings {
        concurrency: overrides.concurrency.unwrap_or(limits.concurrency) as usize,
        policy: RetryPolicy::new(limits.max_attempts),
        grace: GRACE,
    };
    let work: Vec<ProjectWork> = plan
        .projects
        .iter()
        .map(|p| ProjectWork {
            project_id: p.project_id.clone(),
            label: p.label.clone(),
            ids: p.delete.clone(),
            batch_size: p.batch_size,
        })
        .collect();
    let total = work.iter().map(|w| w.ids.len() as u64).sum();
    tracing::info!(
        job = %plan.name,
        total,
        concurrency = settings.concurrency,
        rate = ceiling,
        "applying"
    );
    let progress = Progress::start(
        display,
        &plan.name,
        total,
        counters.clone(),
        limiter.clone(),
    );
    let executed = execute(
        Clients { projects: clients },
        work,
        &settings,
        journal,
        stop.clone(),
        limiter,
        counters,
    )
    .await;
    progress.finish();
    let mut journal: Journal = executed.recorder;
    if let Some(error) = executed.journal_error {
        if let Some(sandbox) = sandbox {
            sandbox.shutdown().await;
        }
        return Err(error.into());
    }
    let unsettled = executed
        .tallies
        .iter()
        .any(|t| t.counts.rejected + t.counts.failed > 0);
    let end = match executed.stopped {
        Some(StopReason::Signal) => Record::run_interrupted(),
        _ if executed.stopped.is_some() || unsettled => Record::run_finished(RunOutcome::Partial),
        _ => Record::run_finished(RunOutcome::Complete),
    };
    journal.append(end)?;
    journal.commit()?;
    journal.compact()?;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(JobRun {
        name: plan.name,
        tallies: executed.tallies,
    })
}
