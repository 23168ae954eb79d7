//! Benchmark of `reqprune plan --format json --out FILE` on a million ids, side by side with
//! `sort -un` over the same id files in the same run.
//!
//! Run with `cargo bench --bench plan` (a release build). It writes, in a temporary folder, one
//! job of 100 projects whose ids come from id files holding 1,000,000 distinct ids in random
//! order, 10,000 per project (so 1,000,000 ids to delete). Each command runs `RUNS` times;
//! the figures are the median wall time and the largest peak RSS (from `wait4`). Targets
//! (issue 3): under 1 s, under 300 MB, and within 3x of `sort -un` (`LC_ALL=C`, a fast
//! baseline). `PLAN_BENCH_FILES` changes how many id files the million ids are split into
//! (default 100, one per project; 10 gives ten files of 100,000 lines, one per ten projects,
//! which then delete the same ids: 10,000,000 planned deletions, a heavier variant).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::seq::SliceRandom;

const PROJECTS: usize = 100;
const IDS: u64 = 1_000_000;
const RUNS: usize = 5;

fn main() {
    let files: usize = std::env::var("PLAN_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PROJECTS);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (job, id_files) = write_inputs(dir.path(), files);
    let out = dir.path().join("plan.json");
    let binary = env!("CARGO_BIN_EXE_reqprune");

    let mut plan = Command::new(binary);
    plan.args(["plan", "--format", "json", "--out"])
        .arg(&out)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg(&job);
    let mut sort = Command::new("sort");
    sort.arg("-un").args(&id_files).env("LC_ALL", "C");

    // Interleaved, so a busy machine slows both alike.
    let (mut plan_runs, mut sort_runs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plan_runs.push(measure(&mut plan));
        sort_runs.push(measure(&mut sort));
    }
    let plan_size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let (plan_time, plan_rss) = summarise(&plan_runs);
    let (sort_time, sort_rss) = summarise(&sort_runs);
    let ratio = plan_time.as_secs_f64() / sort_time.as_secs_f64();

    let planned = PROJECTS as u64 * (IDS / id_files.len() as u64);
    println!(
        "plan benchmark: {PROJECTS} projects, {IDS} distinct ids in {} id files, {planned} planned deletions, {RUNS} runs each",
        id_files.len()
    );
    println!(
        "  reqprune plan --format json --out: median {:>7.1} ms, peak RSS {:>6.1} MB, saved plan {:.1} MB",
        ms(plan_time),
        mb(plan_rss),
        plan_size as f64 / 1e6
    );
    println!(
        "  sort -un (LC_ALL=C), same files:   median {:>7.1} ms, peak RSS {:>6.1} MB",
        ms(sort_time),
        mb(sort_rss)
    );
    println!("  ratio plan / sort: {ratio:.2}x");
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "  targets: < 1 s {}, < 300 MB {}, within 3x of sort {}",
        verdict(plan_time < Duration::from_secs(1)),
        verdict(plan_rss < 300 * 1024 * 1024),
        verdict(ratio <= 3.0)
    );
}

/// The job file and the id files; returns the job's path and the id files' paths.
fn write_inputs(dir: &Path, files: usize) -> (PathBuf, Vec<PathBuf>) {
    let files = files.clamp(1, PROJECTS);
    std::fs::create_dir(dir.join("ids")).expect("ids folder");
    let mut ids: Vec<u64> = (0..IDS).map(|n| 1_000_000_000 + 3 * n).collect();
    ids.shuffle(&mut rand::rngs::StdRng::seed_from_u64(3));
    let per_file = ids.len() / files;
    let mut paths = Vec::new();
    for (n, chunk) in ids.chunks(per_file).enumerate() {
        let mut text = String::with_capacity(chunk.len() * 11);
        for id in chunk {
            let _ = writeln!(text, "{id}");
        }
        let path = dir.join(format!("ids/part-{n:03}.txt"));
        std::fs::write(&path, text).expect("id file");
        paths.push(path);
    }
    let mut job = String::from(
        "version: 1\nname: bench\nendpoint: https://projectman-ext.cn-north-4.myhuaweicloud.com\n\
         token: ci\ntokens:\n  ci: { env: CODEARTS_TOKEN }\nlimits:\n  max_deletions: 10000000\nsets:\n",
    );
    for n in 0..paths.len() {
        let _ = writeln!(job, "  part-{n:03}: {{ file: ids/part-{n:03}.txt }}");
    }
    job.push_str("projects:\n");
    for p in 0..PROJECTS {
        let set = p * paths.len() / PROJECTS;
        let _ = writeln!(job, "  - id: {p:0>32}\n    delete: [part-{set:03}]");
    }
    let path = dir.join("bench.yaml");
    std::fs::write(&path, job).expect("job file");
    (path, paths)
}

/// Runs `command` with stdout discarded; its wall time and peak RSS in bytes.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its own peak RSS"
)]
fn measure(command: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, and `pid` is our own child, waited for exactly once here
    // (the `Child` is then only dropped, which does not wait).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        panic!("{command:?} failed ({status}): {stderr}");
    }
    // ru_maxrss is in kilobytes on Linux.
    (elapsed, usage.ru_maxrss as u64 * 1024)
}

/// Median time and largest peak RSS of several runs.
fn summarise(runs: &[(Duration, u64)]) -> (Duration, u64) {
    let mut times: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    times.sort();
    let rss = runs.iter().map(|r| r.1).max().unwrap_or(0);
    (times[times.len() / 2], rss)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
