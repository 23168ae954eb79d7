//! Benchmark: `reqprune validate` on one job of 1,000 projects and 1,000,000 ids.
//!
//! Target (issue 2): under 1 second and under 300 MB peak memory in a release build on a
//! 2-core machine. Each project deletes 400 ids written inline, a range of 400 ids and 200 ids
//! from its own id file (text, JSON and CSV in turn), and protects a few. The job is generated
//! into a temporary folder, then the real release binary validates it several times; wall time
//! and the children's peak RSS (`getrusage(RUSAGE_CHILDREN)`) are printed.
//!
//! Run: `cargo bench --bench validate`

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PROJECTS: u64 = 1_000;
const INLINE: u64 = 400;
const RANGE: u64 = 400;
const FROM_FILE: u64 = 200;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let job = generate(dir.path());
    let bytes = std::fs::metadata(&job).map(|m| m.len()).unwrap_or(0);
    println!(
        "validate: 1 job, {PROJECTS} projects, {} ids ({} inline, {} in ranges, {} in id files); job file {:.1} MB",
        PROJECTS * (INLINE + RANGE + FROM_FILE),
        PROJECTS * INLINE,
        PROJECTS * RANGE,
        PROJECTS * FROM_FILE,
        bytes as f64 / 1e6
    );
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_reqprune"))
            .args(["validate", "--format", "json"])
            .arg(&job)
            .output()
            .expect("run reqprune validate");
        times.push(start.elapsed());
        assert!(
            output.status.success(),
            "the generated job must be valid:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    times.sort();
    let peak_mb = peak_child_rss_kb() as f64 / 1024.0;
    println!(
        "wall time over {RUNS} runs: min {:.3} s, median {:.3} s, max {:.3} s",
        times[0].as_secs_f64(),
        times[RUNS / 2].as_secs_f64(),
        times[RUNS - 1].as_secs_f64()
    );
    println!("peak RSS (largest run): {peak_mb:.1} MB");
    let verdict = times[RUNS / 2] < Duration::from_secs(1) && peak_mb < 300.0;
    println!(
        "target (< 1 s, < 300 MB): {}",
        if verdict { "met" } else { "NOT met" }
    );
}

/// Writes the job and its id files; returns the job file's path.
fn generate(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("ids")).expect("ids folder");
    let mut yaml = String::with_capacity(12 << 20);
    yaml.push_str("version: 1\nname: bench-million\nregion: cn-north-4\ntoken: ci\n");
    yaml.push_str("tokens:\n  ci: { env: CODEARTS_TOKEN }\n");
    yaml.push_str("protect: [1000000001]\nlimits:\n  max_deletions: 2000000\nprojects:\n");
    let per_project = INLINE + RANGE + FROM_FILE;
    for p in 0..PROJECTS {
        let base = 1_000_000_000 + p * per_project * 2;
        let _ = writeln!(yaml, "  - id: {:032x}", 0xabc0_0000_u64 + p);
        let _ = write!(yaml, "    delete:\n      - ids: [");
        for i in 0..INLINE {
            let _ = write!(yaml, "{}{}", if i == 0 { "" } else { ", " }, base + i);
        }
        yaml.push_str("]\n");
        let (from, to) = (base + INLINE, base + INLINE + RANGE - 1);
        let _ = writeln!(yaml, "      - range: {{ from: {from}, to: {to} }}");
        let first = base + INLINE + RANGE;
        let ids: Vec<u64> = (first..first + FROM_FILE).collect();
        let file = match p % 3 {
            0 => {
                let name = format!("ids/p{p}.txt");
                let text: String = ids.iter().map(|id| format!("{id}\n")).collect();
                std::fs::write(dir.join(&name), text).expect("write id file");
                format!("{{ file: {name} }}")
            }
            1 => {
                let name = format!("ids/p{p}.json");
                std::fs::write(dir.join(&name), serde_json::to_string(&ids).unwrap())
                    .expect("write id file");
                format!("{{ file: {name} }}")
            }
            _ => {
                let name = format!("ids/p{p}.csv");
                let text: String = std::iter::once("id,title\n".to_string())
                    .chain(ids.iter().map(|id| format!("{id},stale item\n")))
                    .collect();
                std::fs::write(dir.join(&name), text).expect("write id file");
                format!("{{ file: {name}, column: id }}")
            }
        };
        let _ = writeln!(yaml, "      - {file}");
        let _ = writeln!(yaml, "    protect: [{}]", base + 1);
    }
    let path = dir.join("million.yaml");
    std::fs::write(&path, yaml).expect("write job file");
    path
}

fn peak_child_rss_kb() -> i64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc == 0 { usage.ru_maxrss } else { -1 }
}
