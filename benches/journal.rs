//! Benchmark of the state journal: replaying a million ids, and the append + commit
//! throughput an apply gets from it.
//!
//! `cargo bench --bench journal` (a release build). In a temporary folder it writes, through
//! the real [`Journal`], the journal of one run deleting 1,000,000 ids in 10,000 batches of
//! 100 (a `batch_sent` and a `batch_deleted` per batch, 20,002 lines), then measures:
//! - replay: `read_view` of that journal (target, issue 6: under 1 second), and
//!   `Journal::open` (lock + replay) of it; then the same after `compact()`;
//! - write throughput: batches journaled per second with a commit (`fdatasync`) after every
//!   batch, with group commits of 16 batches (as a concurrent executor would do), and with a
//!   single commit at the end (the cost of appending alone);
//! - the disabled journal (`Journal::disabled()`), the baseline of the apply benchmark.
//!
//! Each replay is run `RUNS` times and the median is shown. `JOURNAL_BENCH_BATCHES` changes
//! the number of batches (default 10,000).

use std::path::Path;
use std::time::{Duration, Instant};

use reqprune::state::{Journal, Record, RunOutcome, read_view};

const JOB: &str = "bench";
const PROJECT: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const RUNS: usize = 5;
/// Batches timed with a commit after each (each one an `fdatasync`).
const SYNCED_BATCHES: u64 = 1_000;

fn main() {
    let batches: u64 = std::env::var("JOURNAL_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temporary folder");
    println!(
        "journal benchmark: {} ids in {batches} batches of 100",
        batches * 100
    );

    // The journal, written with group commits of 16 batches (timed: the write throughput).
    let state = dir.path().join("state");
    let (elapsed, size) = write_run(&state, batches, 16);
    println!(
        "write, commit every 16 batches: {:>8.0} batches/s ({:.0} ids/s), {batches} batches in {}, journal {:.1} MB",
        batches as f64 / elapsed.as_secs_f64(),
        (batches * 100) as f64 / elapsed.as_secs_f64(),
        ms(elapsed),
        size as f64 / 1e6
    );

    let view = read_view(&state, JOB).expect("replay");
    assert_eq!(
        view.done[PROJECT].len() as u64,
        batches * 100,
        "every id replayed deleted"
    );
    let replay = median(|| {
        read_view(&state, JOB).expect("replay");
    });
    println!(
        "replay (read_view) of {} ids:   {} (target < 1 s)",
        batches * 100,
        ms(replay)
    );
    let open = median(|| {
        drop(Journal::open(&state, JOB).expect("open"));
    });
    println!("Journal::open (lock + replay):   {}", ms(open));

    let mut journal = Journal::open(&state, JOB).expect("open");
    let started = Instant::now();
    journal.compact().expect("compact");
    let compact = started.elapsed();
    drop(journal);
    let compacted = std::fs::metadata(state.join(format!("{JOB}.journal.jsonl")))
        .expect("journal")
        .len();
    let replay_compacted = median(|| {
        read_view(&state, JOB).expect("replay");
    });
    println!(
        "compact: {} -> {compacted} bytes; replay after compaction: {}",
        ms(compact),
        ms(replay_compacted)
    );

    // One commit at the very end: what appending costs apart from syncing.
    let unsynced = dir.path().join("unsynced");
    let (elapsed, _) = write_run(&unsynced, batches, u64::MAX);
    println!(
        "write, one commit at the end:   {:>8.0} batches/s ({:.1} µs of append per batch)",
        batches as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / batches as f64
    );

    // Every batch committed on its own: the worst case, one fdatasync per batch.
    let synced = dir.path().join("synced");
    let (elapsed, _) = write_run(&synced, SYNCED_BATCHES, 1);
    println!(
        "write, commit every batch:      {:>8.0} batches/s ({:.2} ms per commit of 2 records)",
        SYNCED_BATCHES as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / SYNCED_BATCHES as f64
    );

    // The benchmark-only disabled journal: what the apply benchmark compares against.
    let started = Instant::now();
    let mut disabled = Journal::disabled();
    for batch in 0..batches {
        for record in batch_records(batch) {
            disabled.append(record).expect("append");
        }
        disabled.commit().expect("commit");
    }
    println!("disabled journal, same records:  {}", ms(started.elapsed()));
}

/// The two records of batch `n`: sent, then confirmed.
fn batch_records(n: u64) -> [Record; 2] {
    let ids: Vec<u64> = (1_000_000 + n * 100..1_000_000 + (n + 1) * 100).collect();
    [
        Record::BatchSent {
            project: PROJECT.into(),
            ids: ids.clone(),
            attempt: 1,
        },
        Record::BatchDeleted {
            project: PROJECT.into(),
            ids,
            request_id: Some(format!("{n:08x}-5b1e-4c6f-9d2a-7e3f1a2b3c4d")),
        },
    ]
}

/// Journals a whole run of `batches` batches, committing every `group` batches; returns the
/// time taken and the journal's size. Compaction is kept out of it (measured apart).
fn write_run(state: &Path, batches: u64, group: u64) -> (Duration, u64) {
    let started = Instant::now();
    let mut journal = Journal::open(state, JOB).expect("open");
    journal.set_compact_threshold(u64::MAX);
    journal
        .append(Record::run_started(None, "sha256:bench"))
        .expect("append");
    for batch in 0..batches {
        for record in batch_records(batch) {
            journal.append(record).expect("append");
        }
        if (batch + 1) % group == 0 {
            journal.commit().expect("commit");
        }
    }
    journal
        .append(Record::run_finished(RunOutcome::Complete))
        .expect("append");
    journal.commit().expect("commit");
    let elapsed = started.elapsed();
    let size = std::fs::metadata(journal.path().expect("a path"))
        .expect("journal")
        .len();
    (elapsed, size)
}

fn median(mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
