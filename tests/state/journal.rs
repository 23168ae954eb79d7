//! The writer: appends, group commit, the file created on first commit, torn tails repaired,
//! compaction that changes nothing a reader sees, and the benchmark-only disabled journal.

use reqprune::idset::IdSet;
use reqprune::state::{Journal, Record, RunOutcome, StateError, read_view};
use tempfile::TempDir;

use super::support::{JOB, PROJECT, ids, lines, write_journal};

fn deleted(from: u64, to: u64) -> Record {
    Record::BatchDeleted {
        project: PROJECT.into(),
        ids: ids(from, to),
        request_id: Some(format!("req-{from}")),
    }
}

fn sent(from: u64, to: u64) -> Record {
    Record::BatchSent {
        project: PROJECT.into(),
        ids: ids(from, to),
        attempt: 1,
    }
}

#[test]
fn a_run_written_and_read_back() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    let lineage = journal
        .view()
        .lineage
        .clone()
        .expect("a lineage from the start");
    let journal_file = dir.path().join(format!("{JOB}.journal.jsonl"));
    assert!(
        !journal_file.exists(),
        "nothing is written before the first commit"
    );
    journal
        .append(Record::run_started(Some("plan-1".into()), "sha256:f1"))
        .unwrap();
    journal.append(sent(1, 100)).unwrap();
    assert_eq!(
        journal.view().projects[PROJECT].in_flight.len(),
        100,
        "the view sees appends"
    );
    journal.commit().unwrap();
    journal.append(deleted(1, 100)).unwrap();
    journal
        .append(Record::run_finished(RunOutcome::Complete))
        .unwrap();
    journal.commit().unwrap();
    let written = journal.view().clone();
    drop(journal);

    let read = read_view(dir.path(), JOB).unwrap();
    assert_eq!(read, written);
    assert_eq!(read.lineage, Some(lineage));
    assert_eq!(read.sequence, 4);
    assert_eq!(read.done[PROJECT], IdSet::from_range(1, 100));
    assert_eq!(read.fingerprint(), Some("sha256:f1"));
    assert_eq!(read.last_run().unwrap().plan_id.as_deref(), Some("plan-1"));
    let text = std::fs::read_to_string(&journal_file).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "header");
    assert_eq!(
        first["fingerprint"], "sha256:f1",
        "the header records the plan being applied"
    );
    assert_eq!(text.lines().count(), 5);
}

#[test]
fn reopening_continues_the_sequence_and_lineage() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal
        .append(Record::run_started(None, "sha256:a"))
        .unwrap();
    journal.append(deleted(1, 10)).unwrap();
    journal.append(Record::run_interrupted()).unwrap();
    journal.commit().unwrap();
    let lineage = journal.view().lineage.clone();
    drop(journal);

    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    assert_eq!(journal.view().lineage, lineage);
    journal
        .append(Record::run_started(None, "sha256:b"))
        .unwrap();
    journal.commit().unwrap();
    let view = journal.view();
    assert_eq!(view.sequence, 4);
    assert_eq!(view.runs.len(), 2);
    assert_eq!(view.runs[0].outcome, Some(RunOutcome::Interrupted));
    assert_eq!(view.runs[1].started_at_sequence, 3);
    assert_eq!(
        view.fingerprint(),
        Some("sha256:b"),
        "a new fingerprint is recorded"
    );
}

#[test]
fn records_that_cannot_follow_are_refused_and_not_written() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    let error = journal
        .append(Record::run_finished(RunOutcome::Complete))
        .unwrap_err();
    assert!(matches!(error, StateError::BadRecord(_)), "{error}");
    journal.commit().unwrap();
    assert_eq!(journal.view().sequence, 0);
    assert!(!dir.path().join(format!("{JOB}.journal.jsonl")).exists());
}

#[test]
fn uncommitted_records_are_kept_when_the_journal_is_dropped() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal
        .append(Record::run_started(None, "sha256:a"))
        .unwrap();
    journal.append(deleted(1, 3)).unwrap();
    drop(journal);
    assert_eq!(read_view(dir.path(), JOB).unwrap().sequence, 2);
}

#[test]
fn open_cuts_a_torn_tail_before_appending() {
    let dir = TempDir::new().unwrap();
    let started =
        r#"{"kind":"run_started","plan_id":null,"fingerprint":"f","tool_version":"0","at":"t"}"#;
    let path = write_journal(dir.path(), &(lines(&[started]) + r#"{"kind":"batch_del"#));
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    assert_eq!(journal.view().warnings.len(), 1);
    journal.append(deleted(5, 6)).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let view = read_view(dir.path(), JOB).unwrap();
    assert!(view.warnings.is_empty(), "{:?}", view.warnings);
    assert_eq!(view.done[PROJECT], IdSet::from_range(5, 6));
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);

    // A whole last record missing only its newline is kept and ended properly.
    let absent = r#"{"kind":"absent","project":"p","ids":[9],"request_id":null}"#;
    write_journal(dir.path(), &(lines(&[started]) + absent));
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal.append(deleted(1, 1)).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!((view.sequence, view.done["p"].len()), (3, 1));
}

#[test]
fn open_refuses_a_damaged_journal_and_leaves_it_alone() {
    let dir = TempDir::new().unwrap();
    let text = lines(&[
        "garbage",
        r#"{"kind":"absent","project":"p","ids":[9],"request_id":null}"#,
    ]);
    let path = write_journal(dir.path(), &text);
    let error = Journal::open(dir.path(), JOB)
        .err()
        .expect("damage is an error");
    assert!(
        error.to_string().contains(":2: not a journal record"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        text,
        "never silently reset"
    );
}

#[test]
fn compaction_keeps_everything_a_reader_sees() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal
        .append(Record::run_started(Some("p1".into()), "sha256:a"))
        .unwrap();
    for batch in 0..50 {
        let from = 1000 + batch * 100;
        journal.append(sent(from, from + 99)).unwrap();
        if batch % 7 != 0 {
            journal.append(deleted(from, from + 99)).unwrap();
        }
    }
    journal
        .append(Record::Absent {
            project: "other".into(),
            ids: vec![1, 5, 9],
            request_id: None,
        })
        .unwrap();
    journal
        .append(Record::Rejected {
            project: PROJECT.into(),
            id: 1000,
            error_code: "PM.02152009".into(),
            error_msg: "locked".into(),
            request_id: Some("r".into()),
        })
        .unwrap();
    journal
        .append(Record::Failed {
            project: PROJECT.into(),
            ids: ids(1701, 1710),
            reason: "HTTP 503 after 5 attempts".into(),
        })
        .unwrap();
    journal.append(Record::run_interrupted()).unwrap();
    journal.commit().unwrap();
    let before = journal.view().clone();

    journal.compact().unwrap();
    assert_eq!(
        journal.view(),
        &before,
        "the writer's own view is unchanged"
    );
    let path = dir.path().join(format!("{JOB}.journal.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().count(),
        1 + 1 + 2,
        "header, one run, two projects"
    );
    assert_eq!(read_view(dir.path(), JOB).unwrap(), before);
    assert!(
        text.contains(r#""deleted":[[1100,1699],[1800,2399],"#),
        "ranges: {text}"
    );

    // Appends after a compaction continue the sequence, and reopening replays both parts.
    journal
        .append(Record::run_started(None, "sha256:b"))
        .unwrap();
    journal.append(deleted(1000, 1099)).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.sequence, before.sequence + 2);
    assert_eq!(view.runs[1].started_at_sequence, before.sequence);
    assert!(
        view.projects[PROJECT].rejected.is_empty(),
        "the rejected id was deleted later"
    );
    assert_eq!(view.lineage, before.lineage);
    let reopened = Journal::open(dir.path(), JOB).unwrap();
    assert_eq!(reopened.view(), &view);
}

#[test]
fn commit_compacts_past_the_threshold() {
    let dir = TempDir::new().unwrap();
    let mut journal = Journal::open(dir.path(), JOB).unwrap();
    journal.set_compact_threshold(10_000);
    journal
        .append(Record::run_started(None, "sha256:a"))
        .unwrap();
    for batch in 0..100 {
        let from = batch * 100 + 1;
        journal.append(sent(from, from + 99)).unwrap();
        journal.append(deleted(from, from + 99)).unwrap();
        journal.commit().unwrap();
    }
    let path = dir.path().join(format!("{JOB}.journal.jsonl"));
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 20_000, "compacted along the way: {size} bytes");
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.sequence, 201);
    assert_eq!(view.done[PROJECT], IdSet::from_range(1, 10_000));
}

#[test]
fn a_disabled_journal_accepts_everything_and_writes_nothing() {
    let mut journal = Journal::disabled();
    journal
        .append(Record::run_started(None, "sha256:a"))
        .unwrap();
    journal.append(deleted(1, 100)).unwrap();
    journal.commit().unwrap();
    journal.compact().unwrap();
    assert!(journal.path().is_none());
    assert_eq!(journal.view().sequence, 0);
}

#[test]
fn a_second_writer_in_the_same_process_is_locked_out() {
    let dir = TempDir::new().unwrap();
    let first = Journal::open(dir.path(), JOB).unwrap();
    let error = Journal::open(dir.path(), JOB).err().expect("locked");
    assert!(error.is_locked());
    let text = error.to_string();
    assert!(
        text.contains(&format!("{JOB}.lock is held by pid {}", std::process::id())),
        "{text}"
    );
    assert!(
        read_view(dir.path(), JOB).is_ok(),
        "readers never need the lock"
    );
    drop(first);
    Journal::open(dir.path(), JOB).expect("released when the writer is dropped");
}
