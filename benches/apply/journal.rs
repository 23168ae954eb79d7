//! (c) What journaling costs: the executor with the state journal against the same executor
//! with `Journal::disabled()` (a benchmark-only journal that records nothing), against the
//! sandbox with no latency, so the journal's share of the wall time is as large as it gets.
//! Five rounds, alternating, median of each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqprune::api::{Client, ClientOptions};
use reqprune::auth::{AuthContext, Authenticator};
use reqprune::execute::client::Clients;
use reqprune::execute::ratelimit::RateLimiter;
use reqprune::execute::report::Counters;
use reqprune::execute::retry::RetryPolicy;
use reqprune::execute::signal::Stop;
use reqprune::execute::{ProjectWork, Settings, execute};
use reqprune::idset::IdSet;
use reqprune::job::TokenSource;
use reqprune::sandbox::SandboxConfig;
use reqprune::state::Journal;

use super::{PROJECT_A, sandbox, verdict};

/// A typical large job, and the largest `max_deletions` a job is likely to allow.
const SIZES: [u64; 2] = [200_000, 1_000_000];
const TOKEN: &str = "bench-journal-token-0123456789abcdef";

pub fn overhead(runtime: &tokio::runtime::Runtime) -> bool {
    // Every size is measured and printed, met or not.
    let met: Vec<bool> = SIZES
        .iter()
        .map(|&ids| overhead_for(runtime, ids))
        .collect();
    met.iter().all(|&m| m)
}

fn overhead_for(runtime: &tokio::runtime::Runtime, ids: u64) -> bool {
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _round in 0..5 {
        for journaled in [false, true] {
            let seconds = once(runtime, journaled, ids).as_secs_f64();
            if journaled {
                with.push(seconds);
            } else {
                without.push(seconds);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (with, without) = (median(&mut with), median(&mut without));
    let overhead = with / without - 1.0;
    let met = overhead < 0.10;
    println!(
        "(c) journal: {ids} ids, no latency, concurrency 16: with the journal {with:.2} s, \
         without {without:.2} s (medians of 5): {:+.1}% (target < 10%) [{}]",
        100.0 * overhead,
        verdict(met)
    );
    met
}

fn once(runtime: &tokio::runtime::Runtime, journaled: bool, ids: u64) -> Duration {
    let sandbox = sandbox(
        runtime,
        SandboxConfig {
            tokens: vec![TOKEN.to_string()],
            ..SandboxConfig::default()
        }
        .with_project(PROJECT_A, &[(1, ids)]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("writing the token");
    {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(&token_file, private).expect("chmod");
    }
    let journal = if journaled {
        Journal::open(&dir.path().join("state"), "bench").expect("opening the journal")
    } else {
        Journal::disabled()
    };
    let base_url = sandbox.base_url();
    let source = TokenSource::File(token_file.display().to_string());
    let auth = Arc::new(Authenticator::new(
        &source,
        dir.path(),
        AuthContext::new(base_url.clone()),
    ));
    let client = Client::new(&base_url, auth, ClientOptions::default()).expect("client");
    let settings = Settings {
        concurrency: 16,
        policy: RetryPolicy::new(6),
        grace: Duration::from_secs(5),
    };
    let work = vec![ProjectWork {
        project_id: PROJECT_A.to_string(),
        label: None,
        ids: IdSet::from_range(1, ids),
        batch_size: 100,
    }];
    let start = Instant::now();
    let executed = runtime.block_on(execute(
        Clients {
            projects: vec![(PROJECT_A.to_string(), client)],
        },
        work,
        &settings,
        journal,
        Stop::new(),
        Arc::new(RateLimiter::new(100_000)),
        Arc::new(Counters::default()),
    ));
    let elapsed = start.elapsed();
    assert_eq!(
        executed.tallies[0].counts.deleted, ids,
        "not everything deleted"
    );
    assert!(executed.journal_error.is_none());
    runtime.block_on(sandbox.shutdown());
    elapsed
}
