//! `reqprune apply` as a user runs it: the real binary on a temporary folder, against a sandbox
//! on 127.0.0.1 started in this test process (so the tests can read what it deleted).

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqprune::sandbox::{Sandbox, SandboxConfig};

const TOKEN: &str = "apply-test-token-0123456789abcdef";
const P1: &str = "a1111111111111111111111111111111";
const P2: &str = "b2222222222222222222222222222222";

struct Fixture {
    /// Serves the sandbox; kept alive for the test.
    _runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A sandbox holding ids 1..=1000 in P1 and P2, and a job deleting `p1` and `p2` ranges.
    fn new(config: SandboxConfig, job_extra: &str) -> Fixture {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let config = SandboxConfig {
            tokens: vec![TOKEN.to_string()],
            ..config
        }
        .with_project(P1, &[(1, 1000)])
        .with_project(P2, &[(1, 1000)]);
        let sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let fixture = Fixture {
            _runtime: runtime,
            sandbox,
            dir,
        };
        fixture.write_job(job_extra);
        fixture
    }

    fn write_job(&self, extra: &str) {
        let job = format!(
            "version: 1\nname: cleanup\nendpoint: {}\ntoken: t\n\
             tokens:\n  t: {{ env: APPLY_TEST_TOKEN }}\n\
             projects:\n\
             \x20 - id: {P1}\n    label: alpha\n    delete: [{{ range: {{ from: 1, to: 250 }} }}]\n    protect: [7]\n\
             \x20 - id: {P2}\n    delete: [{{ ids: [5, 6, 1500, 1501] }}, {{ range: {{ from: 100, to: 199 }} }}]\n\
             limits:\n  requests_per_second: 200\n  concurrency: 4\n{extra}",
            self.sandbox.base_url()
        );
        std::fs::write(self.dir.path().join("job.yaml"), job).unwrap();
    }

    fn reqprune(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reqprune"));
        cmd.current_dir(self.dir.path())
            .args(args)
            .args(["--state-dir", "state"])
            .env("APPLY_TEST_TOKEN", TOKEN)
            .env_remove("RUST_LOG")
            .env_remove("REQPRUNE_STATE_DIR")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.reqprune(args).output().unwrap()
    }

    /// Start `reqprune` in the background, its output captured.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.reqprune(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn deleted(&self, project: &str) -> Vec<u64> {
        let mut ids = self
            .sandbox
            .stats()
            .deleted
            .get(project)
            .cloned()
            .unwrap_or_default();
        ids.sort();
        ids
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

fn sigterm(child: &std::process::Child) {
    // SAFETY: kill(2) on the pid of a child this test started and has not waited for yet.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn applies_a_job_then_has_nothing_to_do() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let out = f.run(&["apply", "job.yaml", "--yes", "--report", "report.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Everything planned is gone, the protected id and everything else stays.
    let expected: Vec<u64> = (1..=250).filter(|&id| id != 7).collect();
    assert_eq!(f.deleted(P1), expected);
    let expected: Vec<u64> = [5, 6].into_iter().chain(100..=199).collect();
    assert_eq!(f.deleted(P2), expected);
    // Ids that never existed (1500, 1501) are reported absent, not failed.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.path("report.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"], "complete");
    assert_eq!(report["totals"]["deleted"], 249 + 102);
    assert_eq!(report["totals"]["absent"], 2);
    assert_eq!(
        report["jobs"][0]["projects"][1]["absent"],
        serde_json::json!([1500, 1501])
    );
    insta::with_settings!({filters => vec![
        (r"in [0-9][0-9a-z ]*\.", "in [ELAPSED]."),
        (r"\d+ requests, \d+ retries", "[N] requests, [N] retries"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
    ]}, {
        insta::assert_snapshot!("first_apply", text(&out.stdout));
    });

    let again = f.run(&["apply", "job.yaml", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), "No changes: nothing to delete.\n");
    let status = f.run(&["status", "job.yaml", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["jobs"][0]["complete"], true, "{status}");
}

#[test]
fn refuses_without_a_terminal_or_yes() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let out = f.run(&["apply", "job.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pass --yes"),
        "{}",
        text(&out.stderr)
    );
    assert!(f.deleted(P1).is_empty() && f.deleted(P2).is_empty());
    assert_eq!(f.sandbox.stats().requests, 0);
}

#[test]
fn a_locked_state_exits_4() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let held = reqprune::state::Journal::open(&f.path("state"), "cleanup").unwrap();
    let out = f.run(&["apply", "job.yaml", "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("locked"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(f.sandbox.stats().requests, 0);
    drop(held);
}

#[test]
fn over_the_cap_is_refused() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let out = f.run(&["apply", "job.yaml", "--yes", "--max-deletions", "100"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("max-deletions"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(f.sandbox.stats().requests, 0);
}

#[test]
fn a_saved_plan_is_applied_once_and_refused_when_stale() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let plan = f.run(&["plan", "job.yaml", "--out", "plan.json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let out = f.run(&["apply", "--plan", "plan.json", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.deleted(P1).len(), 249);
    let again = f.run(&["apply", "--plan", "plan.json", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("applied completely"));

    // A new plan, then the job file changes: stale.
    f.write_job("");
    let plan = f.run(&["plan", "job.yaml", "--out", "plan2.json"]);
    assert_eq!(plan.status.code(), Some(0));
    f.write_job("  batch_size: 50\n");
    let requests = f.sandbox.stats().requests;
    let stale = f.run(&["apply", "--plan", "plan2.json", "--yes"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stderr).contains("stale"),
        "{}",
        text(&stale.stderr)
    );
    assert_eq!(f.sandbox.stats().requests, requests, "nothing sent");
}

#[test]
fn a_saved_plan_is_stale_once_another_run_moved_the_state() {
    let f = Fixture::new(SandboxConfig::default(), "");
    assert!(
        f.run(&["plan", "job.yaml", "--out", "plan.json"])
            .status
            .success()
    );
    let out = f.run(&["apply", "job.yaml", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let requests = f.sandbox.stats().requests;
    let stale = f.run(&["apply", "--plan", "plan.json", "--yes"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stderr).contains("another run"),
        "{}",
        text(&stale.stderr)
    );
    assert_eq!(f.sandbox.stats().requests, requests);
}

#[test]
fn sigterm_stops_cleanly_and_the_same_command_resumes() {
    let config = SandboxConfig {
        latency: Some((Duration::from_millis(50), Duration::from_millis(50))),
        ..SandboxConfig::default()
    };
    // One id per batch at 10/s: about 35 s of work, interrupted after one.
    let f = Fixture::new(config, "  batch_size: 1\n  max_deletions: 1000\n");
    let child = f.spawn(&["apply", "job.yaml", "--yes", "--rate", "10"]);
    std::thread::sleep(Duration::from_millis(1500));
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("To resume, run the same command again"));
    let done_before = f.deleted(P1).len() + f.deleted(P2).len();
    assert!(done_before > 0 && done_before < 300, "{done_before}");

    // The journal knows what was done; the rest is pending or in flight.
    let view = reqprune::state::read_view(&f.path("state"), "cleanup").unwrap();
    let journaled: usize = [P1, P2].iter().map(|p| view.project(p).done().len()).sum();
    assert_eq!(journaled, done_before);

    let out = f.run(&[
        "apply",
        "job.yaml",
        "--yes",
        "--rate",
        "1000",
        "--concurrency",
        "16",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.deleted(P1).len(), 249);
    assert_eq!(f.deleted(P2).len(), 102);
}

#[test]
fn failures_end_in_exit_3_and_a_rerun_finishes() {
    let config = SandboxConfig {
        fail_rate: 1.0,
        ..SandboxConfig::default()
    };
    let f = Fixture::new(config, "  max_attempts: 2\n");
    let out = f.run(&["apply", "job.yaml", "--yes", "--report", "report.json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.path("report.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"], "partial");
    assert!(report["totals"]["failed"].as_u64().unwrap() > 0);
    assert!(
        text(&out.stdout).contains("failed: HTTP 5"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_refused_token_stops_the_project_with_a_clear_error() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let out = f
        .reqprune(&["apply", "job.yaml", "--yes"])
        .env("APPLY_TEST_TOKEN", "wrong-token-000000000000000000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("APIGW.0301"),
        "{}",
        text(&out.stdout)
    );
    assert!(f.deleted(P1).is_empty());
    assert!(!text(&out.stdout).contains("wrong-token"));
    assert!(!text(&out.stderr).contains("wrong-token"));
}

#[test]
fn json_logs_are_one_object_per_line() {
    let f = Fixture::new(SandboxConfig::default(), "");
    let out = f.run(&["apply", "job.yaml", "--yes", "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<&str> = std::str::from_utf8(&out.stderr).unwrap().lines().collect();
    assert!(lines.len() > 3, "{lines:?}");
    for line in lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {line}");
        });
        assert!(event.get("level").is_some(), "{line}");
    }
}

#[test]
fn the_timeout_deadline_stops_the_run_with_exit_3() {
    // One id per batch at 5/s: far more work than the 1 s deadline allows.
    let f = Fixture::new(
        SandboxConfig::default(),
        "  batch_size: 1\n  max_deletions: 1000\n",
    );
    let out = f.run(&[
        "apply",
        "job.yaml",
        "--yes",
        "--rate",
        "5",
        "--timeout",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("--timeout deadline"),
        "{}",
        text(&out.stdout)
    );
    let deleted = f.deleted(P1).len() + f.deleted(P2).len();
    assert!(
        (1..=15).contains(&deleted),
        "{deleted} deleted in about 1 s at 5/s"
    );
}

#[test]
fn a_second_signal_exits_at_once_and_leaves_a_readable_journal() {
    // Requests take 3 s, so the first SIGTERM has requests in flight to wait for.
    let config = SandboxConfig {
        latency: Some((Duration::from_secs(3), Duration::from_secs(3))),
        ..SandboxConfig::default()
    };
    let f = Fixture::new(config, "");
    let child = f.spawn(&["apply", "job.yaml", "--yes"]);
    std::thread::sleep(Duration::from_millis(700));
    let started = std::time::Instant::now();
    sigterm(&child);
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "did not exit at once: {:?}",
        started.elapsed()
    );
    assert!(
        text(&out.stderr).contains("second interrupt"),
        "{}",
        text(&out.stderr)
    );
    let status = f.run(&["status", "job.yaml"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    reqprune::state::read_view(&f.path("state"), "cleanup").unwrap();
}
