//! The acceptance test of `apply`: 20,000 ids across 3 projects against a sandbox that fails,
//! drops connections after deleting, throttles below the client's starting rate and rejects
//! batches naming ids that never existed; the real binary is SIGKILLed at random moments at
//! least 20 times and re-run until it finishes. Then, from the sandbox's own record: every
//! planned id is deleted or never existed, nothing protected or unplanned was ever deleted,
//! `status` says complete, and the ids that never existed are recorded absent.
//!
//! The sandbox runs in this test process, so it outlives every killed `reqprune`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use reqprune::sandbox::{MissingIds, Sandbox, SandboxConfig};

const TOKEN: &str = "reliability-test-token-0123456789";
const PROJECTS: [&str; 3] = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2",
    "ccccccccccccccccccccccccccccccc3",
];

/// Per project: the planned range, ids in it that never existed, protected ids in it, and
/// ids outside it that exist (they must survive).
struct Layout {
    from: u64,
    to: u64,
    never_existed: Vec<u64>,
    protected: Vec<u64>,
    unplanned: (u64, u64),
}

fn layouts() -> Vec<Layout> {
    // 6,667 + 6,667 + 6,666 = 20,000 planned ids.
    let sizes = [6_667u64, 6_667, 6_666];
    sizes
        .iter()
        .enumerate()
        .map(|(p, &size)| {
            let from = (p as u64 + 1) * 1_000_000;
            let to = from + size - 1;
            Layout {
                from,
                to,
                // Scattered, plus a dense run that fills a whole batch's tail.
                never_existed: (0..25)
                    .map(|i| from + 17 + i * 251)
                    .chain(to - 9..=to)
                    .collect(),
                protected: vec![from + 5, from + 3_000, to - 20],
                unplanned: (to + 1, to + 500),
            }
        })
        .collect()
}

fn job_yaml(base_url: &str, layouts: &[Layout]) -> String {
    let mut out = format!(
        "version: 1\nname: reliability\nendpoint: {base_url}\ntoken: t\n\
         tokens:\n  t: {{ env: RELIABILITY_TOKEN }}\nprojects:\n"
    );
    for (p, l) in layouts.iter().enumerate() {
        let protect: Vec<String> = l.protected.iter().map(u64::to_string).collect();
        out += &format!(
            "  - id: {}\n    delete: [{{ range: {{ from: {}, to: {} }} }}]\n    protect: [{}]\n",
            PROJECTS[p],
            l.from,
            l.to,
            protect.join(", ")
        );
    }
    // Starts at 300 requests/s; the sandbox allows 120.
    out += "limits:\n  max_deletions: 30000\n  concurrency: 8\n  requests_per_second: 300\n";
    out
}

fn sandbox_config(layouts: &[Layout]) -> SandboxConfig {
    let mut config = SandboxConfig {
        tokens: vec![TOKEN.to_string()],
        seed: 7,
        missing_ids: MissingIds::Reject,
        fail_rate: 0.05,
        drop_rate: 0.02,
        rate_limit: Some(120.0),
        latency: Some((Duration::from_millis(1), Duration::from_millis(4))),
        ..SandboxConfig::default()
    };
    for (p, l) in layouts.iter().enumerate() {
        // Every planned id exists except the never-existing ones; so do the unplanned ones.
        let mut ranges = Vec::new();
        let mut start = l.from;
        for &gap in &l.never_existed {
            if gap > start {
                ranges.push((start, gap - 1));
            }
            start = gap + 1;
        }
        if start <= l.to {
            ranges.push((start, l.to));
        }
        ranges.push(l.unplanned);
        config = config.with_project(PROJECTS[p], &ranges);
    }
    config
}

fn apply(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reqprune"));
    cmd.current_dir(dir)
        .args(["apply", "job.yaml", "--yes", "--state-dir", "state"])
        .args(["--report", "report.json"])
        .env("RELIABILITY_TOKEN", TOKEN)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn apply_survives_faults_and_kills() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let layouts = layouts();
    let sandbox = runtime
        .block_on(Sandbox::start(sandbox_config(&layouts)))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("job.yaml"),
        job_yaml(&sandbox.base_url(), &layouts),
    )
    .unwrap();

    // Kill at random moments until 20 kills landed on a running process.
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_000);
    let (mut kills, mut early_exits) = (0, 0);
    let started = Instant::now();
    while kills < 20 {
        assert!(started.elapsed() < Duration::from_secs(240), "too slow");
        let mut child = apply(dir.path()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(40..700)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            kills += 1;
        } else {
            let status = child.wait_with_output().unwrap();
            let code = status.status.code();
            assert!(
                matches!(code, Some(0 | 3)),
                "apply exited {code:?}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            early_exits += 1;
            assert!(early_exits < 5, "the work finished before 20 kills landed");
        }
    }

    // Re-run until it finishes cleanly.
    let mut last = None;
    for _ in 0..10 {
        let out = apply(dir.path()).output().unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 3)),
            "apply exited {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        last = code;
        if code == Some(0) {
            break;
        }
    }
    assert_eq!(last, Some(0), "apply never completed");

    // The sandbox's own record.
    let stats = sandbox.stats();
    for (p, l) in layouts.iter().enumerate() {
        let deleted: Vec<u64> = stats.deleted.get(PROJECTS[p]).cloned().unwrap_or_default();
        let deleted_set: BTreeSet<u64> = deleted.iter().copied().collect();
        assert_eq!(deleted.len(), deleted_set.len(), "an id deleted twice");
        let never: BTreeSet<u64> = l.never_existed.iter().copied().collect();
        let protected: BTreeSet<u64> = l.protected.iter().copied().collect();
        for id in l.from..=l.to {
            let expected = !never.contains(&id) && !protected.contains(&id);
            assert_eq!(deleted_set.contains(&id), expected, "project {p}, id {id}");
        }
        assert!(deleted.iter().all(|id| (l.from..=l.to).contains(id)));
        // Unplanned and protected ids remain.
        let unplanned = l.unplanned.1 - l.unplanned.0 + 1;
        assert_eq!(
            stats.remaining[PROJECTS[p]],
            unplanned + protected.len() as u64
        );
    }
    let by_status: BTreeMap<String, u64> = stats.by_status.clone();
    let seen = |prefix: &str| {
        by_status
            .iter()
            .any(|(status, &n)| status.starts_with(prefix) && n > 0)
    };
    for prefix in ["429", "5", "dropped", "400"] {
        assert!(
            seen(prefix),
            "the sandbox never answered {prefix}: {by_status:?}"
        );
    }

    // Ids that never existed are recorded absent, not failed or rejected.
    let view = reqprune::state::read_view(&dir.path().join("state"), "reliability").unwrap();
    for (p, l) in layouts.iter().enumerate() {
        let project = view.project(PROJECTS[p]);
        for id in &l.never_existed {
            assert!(project.absent.contains(*id), "project {p}: {id} not absent");
        }
        assert!(project.rejected.is_empty());
    }
    // `status` says complete.
    let out = Command::new(env!("CARGO_BIN_EXE_reqprune"))
        .current_dir(dir.path())
        .args([
            "status",
            "job.yaml",
            "--state-dir",
            "state",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &status["jobs"][0];
    assert_eq!(job["complete"], true, "{status}");
    assert_eq!(job["pending"], 0, "{status}");

    runtime.block_on(sandbox.shutdown());
}
