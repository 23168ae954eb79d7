//! Benchmarks of `reqprune apply` against the in-process sandbox (`cargo bench --bench apply`,
//! optionally followed by `-- throughput`, `-- ratelimit` or `-- journal` to run one part).
//!
//! (a) throughput: 100,000 ids, 20 ms latency per request, `concurrency: 16`,
//!     `requests_per_second: 1000`: the release `reqprune` binary against a straightforward
//!     sequential script with the official Python SDK (`tests/sdk/sequential_delete.py`, 100 ids
//!     per call) in the same run. Targets: at least 10x faster, and at least 90% of the
//!     physical ceiling of 16 requests in flight / 20 ms = 800 requests/s.
//! (b) ratelimit: a sandbox limit of R = 200 requests/s the job does not know (its ceiling is
//!     1,000), 60 seconds (`--timeout 60s`), throttling as 429 and as 400 `PM.02153001`:
//!     at least 90% of R accepted, no failed ids.
//! (c) journal: the executor with the state journal against the same without journaling,
//!     sandbox with no latency: under 10% more wall time.
//!
//! Each part prints its figures and whether the target is met; the README quotes them.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqprune::sandbox::{Sandbox, SandboxConfig, ThrottleAs};

const AK: &str = "BENCHAKEXAMPLE0000000";
const SK: &str = "bench-secret-key-example-000000000000000";
const PROJECT_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const PROJECT_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const PROJECT_C: &str = "cccccccccccccccccccccccccccccccc";

mod journal;

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut all_met = true;
    if wants("throughput") {
        all_met &= throughput(&runtime);
    }
    if wants("ratelimit") {
        all_met &= rate_limit(&runtime, ThrottleAs::Gateway429);
        all_met &= rate_limit(&runtime, ThrottleAs::Pm400);
    }
    if wants("journal") {
        all_met &= journal::overhead(&runtime);
    }
    println!(
        "\n{}",
        if all_met {
            "all targets met"
        } else {
            "SOME TARGETS MISSED"
        }
    );
}

/// A job file for one project of `PROJECT_A` ids `from..=to` against `base_url`.
fn job_yaml(base_url: &str, from: u64, to: u64, limits: &str) -> String {
    job_yaml_for(PROJECT_A, base_url, from, to, limits)
}

fn job_yaml_for(project: &str, base_url: &str, from: u64, to: u64, limits: &str) -> String {
    format!(
        "version: 1\nname: bench\nendpoint: {base_url}\ntoken: signer\n\
         tokens:\n  signer: {{ aksk: {{ ak_env: BENCH_AK, sk_env: BENCH_SK }} }}\n\
         projects:\n  - id: {project}\n    delete: [{{ range: {{ from: {from}, to: {to} }} }}]\n\
         limits:\n  max_deletions: 1000000\n{limits}"
    )
}

/// Run the release binary's `apply` on `job` in `dir`; returns the wall time and the report.
fn run_reqprune(dir: &Path, job: &str, extra: &[&str]) -> (Duration, serde_json::Value) {
    std::fs::write(dir.join("job.yaml"), job).expect("writing the job");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_reqprune"))
        .current_dir(dir)
        .args(["apply", "job.yaml", "--yes", "--state-dir", "state"])
        .args(["--report", "report.json"])
        .args(extra)
        .env("BENCH_AK", AK)
        .env("BENCH_SK", SK)
        .output()
        .expect("running reqprune");
    let elapsed = start.elapsed();
    let code = out.status.code();
    if !matches!(code, Some(0 | 3)) {
        panic!(
            "reqprune exited {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let report = std::fs::read(dir.join("report.json")).expect("reading the report");
    (
        elapsed,
        serde_json::from_slice(&report).expect("report JSON"),
    )
}

fn sandbox(runtime: &tokio::runtime::Runtime, config: SandboxConfig) -> Sandbox {
    let config = SandboxConfig {
        aksk: vec![(AK.to_string(), SK.to_string())],
        ..config
    };
    runtime
        .block_on(Sandbox::start(config))
        .expect("starting the sandbox")
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// (a) reqprune against the sequential official SDK, same sandbox, same run.
fn throughput(runtime: &tokio::runtime::Runtime) -> bool {
    const IDS: u64 = 100_000;
    let latency = Duration::from_millis(20);
    let sandbox = sandbox(
        runtime,
        SandboxConfig {
            latency: Some((latency, latency)),
            ..SandboxConfig::default()
        }
        .with_project(PROJECT_A, &[(1, IDS)])
        .with_project(PROJECT_B, &[(1, IDS)])
        .with_project(PROJECT_C, &[(1, 10_000)]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_yaml(
        &sandbox.base_url(),
        1,
        IDS,
        "  concurrency: 16\n  requests_per_second: 1000\n",
    );
    let (wall, report) = run_reqprune(dir.path(), &job, &[]);
    let deleted = report["totals"]["deleted"].as_u64().unwrap_or(0);
    let requests = report["requests"].as_u64().unwrap_or(0) as f64;
    let executor = report["elapsed_seconds"].as_f64().unwrap_or(f64::NAN);
    // While deleting: from the first request's arrival at the sandbox to the last one's
    // answer, as the sandbox recorded them (start-up, planning and the journal's final
    // compaction excluded; they are in the wall time).
    let (_, span) = arrivals(&sandbox, PROJECT_A);
    let deleting = span + latency.as_secs_f64();
    let rate = requests / deleting;
    let ceiling = 16.0 / latency.as_secs_f64();

    // The machine's own floor: one request at a time (100 requests), the sandbox's 20 ms
    // plus timer rounding, HTTP and scheduling under whatever load the machine has.
    let floor_dir = tempfile::tempdir().expect("tempdir");
    let floor_job = job_yaml_for(
        PROJECT_C,
        &sandbox.base_url(),
        1,
        10_000,
        "  concurrency: 1\n  requests_per_second: 1000\n",
    );
    run_reqprune(floor_dir.path(), &floor_job, &[]);
    let (sent, span) = arrivals(&sandbox, PROJECT_C);
    let round_trip = span / (sent - 1) as f64;
    let machine_ceiling = 16.0 / round_trip;

    let python = sdk_python();
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/sdk/sequential_delete.py"
        ))
        .args([&sandbox.base_url(), PROJECT_B, "1", &IDS.to_string()])
        .env("CLOUD_SDK_AK", AK)
        .env("CLOUD_SDK_SK", SK)
        .env("HOME", dir.path()) // the SDK writes ~/.huaweicloud/application_id
        .output()
        .expect("running the SDK script");
    assert!(
        out.status.success(),
        "SDK script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sdk: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SDK script JSON");
    let sdk_seconds = sdk["seconds"].as_f64().unwrap_or(f64::NAN);
    let stats = sandbox.stats();
    let sdk_deleted = stats.deleted.get(PROJECT_B).map_or(0, Vec::len);

    let speedup = sdk_seconds / wall.as_secs_f64();
    let fast_enough = speedup >= 10.0 && deleted == IDS && sdk_deleted as u64 == IDS;
    let near_ceiling = rate >= 0.9 * ceiling;
    println!("(a) throughput: {IDS} ids, 20 ms latency, concurrency 16, ceiling 1000/s");
    println!(
        "    reqprune: {:.2} s wall, {executor:.2} s in the executor, {requests} requests; \
         {deleting:.2} s from first request to last answer = {rate:.0} requests/s = {:.1}% \
         of the {ceiling:.0}/s physical ceiling [{}]",
        wall.as_secs_f64(),
        100.0 * rate / ceiling,
        verdict(near_ceiling)
    );
    println!(
        "    one request at a time: {:.1} ms per round trip here, so 16 in flight can do at \
         most {machine_ceiling:.0}/s on this machine; reqprune reached {:.1}% of that",
        round_trip * 1000.0,
        100.0 * rate / machine_ceiling
    );
    println!(
        "    official Python SDK, sequential: {sdk_seconds:.2} s, {} calls, {} errors",
        sdk["calls"], sdk["errors"]
    );
    println!(
        "    speed-up {speedup:.1}x (target >= 10x) [{}]",
        verdict(fast_enough)
    );
    runtime.block_on(sandbox.shutdown());
    fast_enough && near_ceiling
}

/// (b) a sandbox rate limit unknown to the job, for 60 seconds.
fn rate_limit(runtime: &tokio::runtime::Runtime, throttle_as: ThrottleAs) -> bool {
    const R: f64 = 200.0;
    const SECONDS: u64 = 60;
    // Batches of 10 ids, so 60 s at R needs 120,000 ids; 150,000 keeps it busy to the end.
    const IDS: u64 = 150_000;
    let sandbox = sandbox(
        runtime,
        SandboxConfig {
            rate_limit: Some(R),
            throttle_as,
            ..SandboxConfig::default()
        }
        .with_project(PROJECT_A, &[(1, IDS)]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let job = job_yaml(
        &sandbox.base_url(),
        1,
        IDS,
        "  batch_size: 10\n  concurrency: 16\n  requests_per_second: 1000\n",
    );
    let timeout = format!("{SECONDS}s");
    let (_, report) = run_reqprune(dir.path(), &job, &["--timeout", &timeout]);
    let stats = sandbox.stats();
    let accepted = stats.by_status.get("204").copied().unwrap_or(0) as f64;
    let elapsed = report["elapsed_seconds"].as_f64().unwrap_or(f64::NAN);
    let failed = report["totals"]["failed"].as_u64().unwrap_or(u64::MAX);
    let throttled = report["throttled"].as_u64().unwrap_or(0);
    let rate = accepted / elapsed;
    let met = rate >= 0.9 * R && failed == 0;
    let how = match throttle_as {
        ThrottleAs::Gateway429 => "429 APIGW.0308",
        ThrottleAs::Pm400 => "400 PM.02153001",
    };
    println!(
        "(b) unknown rate limit {R:.0}/s answered as {how}, ceiling 1000/s, {elapsed:.1} s: \
         {accepted:.0} accepted = {rate:.1}/s = {:.1}% of R, {throttled} throttled, \
         {failed} failed [{}]",
        100.0 * rate / R,
        verdict(met)
    );
    runtime.block_on(sandbox.shutdown());
    met
}

/// The Python of the official SDK's virtual environment (`tests/sdk/venv.sh` builds it once).
fn sdk_python() -> String {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/venv.sh"))
        .output()
        .expect("running tests/sdk/venv.sh");
    assert!(
        out.status.success(),
        "tests/sdk/venv.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Requests the sandbox received for `project`, and the seconds from the first one's arrival
/// to the last one's.
fn arrivals(sandbox: &Sandbox, project: &str) -> (usize, f64) {
    let times: Vec<f64> = sandbox
        .requests()
        .iter()
        .filter(|r| r.path.contains(project))
        .map(|r| arrival_seconds(&r.time))
        .collect();
    let first = times.iter().copied().fold(f64::INFINITY, f64::min);
    let last = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (times.len(), last - first)
}

/// Seconds since the epoch of a sandbox record's RFC 3339 time.
fn arrival_seconds(time: &str) -> f64 {
    let at = time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
        .expect("sandbox times are RFC 3339");
    at.unix_timestamp_nanos() as f64 / 1e9
}
