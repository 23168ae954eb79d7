//! Crashes: a real journal cut at every byte offset always replays to exactly the records
//! whose lines were whole, or fails with a clear error when even the header is cut; and
//! writer processes killed at random moments never lose a committed record.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use rand::Rng;
use reqprune::idset::IdSet;
use reqprune::state::{Journal, Record, RunOutcome, StateError, StateView, read_view};
use tempfile::TempDir;

use super::support::{JOB, PROJECT, child_dir, ids, role, spawn_child};

fn without_warnings(mut view: StateView) -> StateView {
    view.warnings.clear();
    view
}

#[test]
fn a_journal_cut_at_every_byte_replays_or_fails_clearly() {
    let dir = TempDir::new().unwrap();
    // A real journal: a first run compacted into a snapshot, then a second run's events.
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal
        .append(Record::run_started(None, "sha256:one"))
        .unwrap();
    journal
        .append(Record::BatchDeleted {
            project: "p0".into(),
            ids: ids(1, 50),
            request_id: Some("r0".into()),
        })
        .unwrap();
    journal
        .append(Record::Rejected {
            project: PROJECT.into(),
            id: 7,
            error_code: "PM.1".into(),
            error_msg: "nope «é»".into(),
            request_id: None,
        })
        .unwrap();
    journal
        .append(Record::Failed {
            project: PROJECT.into(),
            ids: vec![8, 9],
            reason: "timeout".into(),
        })
        .unwrap();
    journal.append(Record::run_interrupted()).unwrap();
    journal.commit().unwrap();
    journal.compact().unwrap();
    let snapshot_view = journal.view().clone();
    let path = journal.path().unwrap().to_path_buf();
    let snapshot_len = std::fs::metadata(&path).unwrap().len() as usize;
    let mut expected = vec![(snapshot_len, snapshot_view)];
    let records = [
        Record::run_started(Some("plan-2".into()), "sha256:two"),
        Record::BatchSent {
            project: PROJECT.into(),
            ids: ids(100, 160),
            attempt: 1,
        },
        Record::BatchSent {
            project: PROJECT.into(),
            ids: ids(200, 260),
            attempt: 1,
        },
        Record::BatchDeleted {
            project: PROJECT.into(),
            ids: ids(200, 260),
            request_id: Some("r2".into()),
        },
        Record::Absent {
            project: PROJECT.into(),
            ids: vec![7],
            request_id: Some("r3".into()),
        },
        Record::BatchDeleted {
            project: PROJECT.into(),
            ids: ids(100, 160),
            request_id: Some("r1".into()),
        },
        Record::run_finished(RunOutcome::Complete),
    ];
    for record in records {
        journal.append(record).unwrap();
        journal.commit().unwrap();
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        expected.push((len, journal.view().clone()));
    }
    drop(journal);
    let bytes = std::fs::read(&path).unwrap();
    let header_len = bytes.iter().position(|&b| b == b'\n').unwrap();

    for cut in 0..=bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let result = read_view(dir.path(), JOB);
        if cut < header_len {
            match result {
                Err(StateError::Corrupt { line: 1, .. }) => continue,
                other => panic!("cut at {cut} inside the header: {other:?}"),
            }
        }
        let view = result.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        // Whole lines, or a whole last record missing only its newline, count; the rest of a
        // cut line is ignored with a warning.
        let at_boundary = cut == bytes.len() || bytes[cut] == b'\n' || bytes[cut - 1] == b'\n';
        assert_eq!(
            view.warnings.is_empty(),
            at_boundary,
            "cut at {cut}: {:?}",
            view.warnings
        );
        if let Some((_, want)) = expected.iter().rev().find(|(len, _)| *len <= cut + 1) {
            assert_eq!(
                without_warnings(view),
                without_warnings(want.clone()),
                "cut at {cut}"
            );
        } else {
            // Inside the snapshot: fewer projects restored, never anything invented.
            let whole = &expected[0].1;
            assert!(
                view.sequence == whole.sequence && view.projects.len() <= whole.projects.len(),
                "cut at {cut}"
            );
        }
    }
}

const WRITER_TEST: &str = "state::crash::killed_writers_never_lose_a_committed_record";

#[test]
fn killed_writers_never_lose_a_committed_record() {
    if role().as_deref() == Some("writer") {
        return write_until_killed();
    }
    let dir = TempDir::new().unwrap();
    let mut rng = rand::rng();
    let mut committed_so_far = 0;
    for round in 0..15 {
        let mut child = spawn_child(WRITER_TEST, "writer", dir.path());
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = 0u64;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may print the test name on the same line first.
                if let Some((_, n)) = line.split_once("<committed>") {
                    last = n.trim().parse().unwrap();
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(20..120)));
        child.kill().unwrap();
        child.wait().unwrap();
        let committed = reader.join().unwrap().max(committed_so_far);
        let view = read_view(dir.path(), JOB).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let done = view.done.get(PROJECT).cloned().unwrap_or_default();
        let missing = IdSet::from_range(1, committed).difference(&done);
        assert!(
            missing.is_empty(),
            "round {round}: committed ids lost: {missing}"
        );
        assert_eq!(
            done.as_slice().last().copied().unwrap_or(0) as usize,
            done.len(),
            "round {round}: contiguous"
        );
        committed_so_far = committed;
    }
    assert!(committed_so_far > 0, "the writers got to commit something");
}

/// The child: resumes where the state says, then journals batches and says which are
/// committed, compacting often, until it is killed.
fn write_until_killed() {
    let mut journal = Journal::open(&child_dir(), JOB).unwrap();
    journal.set_compact_threshold(8 << 10);
    let mut next = journal
        .view()
        .done
        .get(PROJECT)
        .map_or(0, |d| d.len() as u64)
        + 1;
    journal
        .append(Record::run_started(None, "sha256:kill"))
        .unwrap();
    for _ in 0..1_000_000 {
        let batch = ids(next, next + 99);
        journal
            .append(Record::BatchSent {
                project: PROJECT.into(),
                ids: batch.clone(),
                attempt: 1,
            })
            .unwrap();
        journal
            .append(Record::BatchDeleted {
                project: PROJECT.into(),
                ids: batch,
                request_id: None,
            })
            .unwrap();
        journal.commit().unwrap();
        next += 100;
        println!("<committed> {}", next - 1);
    }
}
