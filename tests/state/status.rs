//! `reqprune status` as a user runs it: the real binary on a job file and journals left by
//! complete, interrupted, killed and running applies, in text and JSON.

use std::path::Path;
use std::process::{Command, Output};

use reqprune::state::{Journal, Record, RunOutcome};
use tempfile::TempDir;

use super::support::ids;

const BIN: &str = env!("CARGO_BIN_EXE_reqprune");
const PAYMENTS: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const SEARCH: &str = "0123456789abcdef0123456789ABCDEF";

/// A job of two projects: 1..=10 minus 5 in payments, 100..=102 in search.
fn write_job(dir: &Path) {
    let job = format!(
        "version: 1
name: cleanup
endpoint: https://projectman-ext.cn-north-4.myhuaweicloud.com
token: ci
tokens:
  ci: {{ env: CODEARTS_TOKEN }}
projects:
  - id: {PAYMENTS}
    label: payments
    delete: [{{ range: {{ from: 1, to: 10 }} }}]
    protect: [5]
  - id: {SEARCH}
    delete: [{{ ids: [100, 101, 102] }}]
"
    );
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(dir.join("jobs/cleanup.yaml"), job).unwrap();
}

fn status(dir: &Path, format: &str) -> Output {
    Command::new(BIN)
        .args(["status", "--format", format])
        .current_dir(dir)
        .env("REQPRUNE_STATE_DIR", dir.join(".state"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run reqprune status")
}

/// Runs `reqprune status` in text and JSON and snapshots both, times and hashes filtered.
fn snapshot(dir: &Path, name: &str) -> serde_json::Value {
    let text = status(dir, "text");
    let json = status(dir, "json");
    assert!(text.status.success() && json.status.success(), "{text:?}");
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "[time]");
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[fingerprint]");
    settings.add_filter(r#""lineage": "[0-9a-f]{32}""#, r#""lineage": "[lineage]""#);
    settings.bind(|| {
        insta::assert_snapshot!(
            format!("status_{name}_text"),
            String::from_utf8(text.stdout).unwrap()
        );
        insta::assert_snapshot!(
            format!("status_{name}_json"),
            String::from_utf8(json.stdout.clone()).unwrap()
        );
    });
    serde_json::from_slice(&json.stdout).unwrap()
}

fn deleted(project: &str, ids: Vec<u64>) -> Record {
    Record::BatchDeleted {
        project: project.into(),
        ids,
        request_id: Some("req-1".into()),
    }
}

#[test]
fn status_after_no_run_then_interrupted_killed_running_and_complete_runs() {
    let dir = TempDir::new().unwrap();
    write_job(dir.path());
    let state = dir.path().join(".state");

    let json = snapshot(dir.path(), "never");
    assert_eq!(json["jobs"][0]["pending"], 12);
    assert_eq!(json["jobs"][0]["last_run"], serde_json::Value::Null);

    // Interrupted: some deleted, one rejected, two failed, one batch in flight.
    let mut journal = Journal::open(&state, "cleanup").unwrap();
    journal
        .append(Record::run_started(None, "sha256:old"))
        .unwrap();
    journal.append(deleted(PAYMENTS, ids(1, 3))).unwrap();
    journal
        .append(Record::Absent {
            project: PAYMENTS.into(),
            ids: vec![4],
            request_id: None,
        })
        .unwrap();
    journal
        .append(Record::Rejected {
            project: PAYMENTS.into(),
            id: 6,
            error_code: "PM.02152009".into(),
            error_msg: "The work item is locked in review".into(),
            request_id: Some("req-2".into()),
        })
        .unwrap();
    journal
        .append(Record::Failed {
            project: SEARCH.into(),
            ids: vec![100, 101],
            reason: "HTTP 503 after 5 attempts".into(),
        })
        .unwrap();
    journal
        .append(Record::BatchSent {
            project: PAYMENTS.into(),
            ids: ids(7, 8),
            attempt: 1,
        })
        .unwrap();
    // An id the job no longer plans: not counted.
    journal.append(deleted(PAYMENTS, vec![5000])).unwrap();
    journal.append(Record::run_interrupted()).unwrap();
    journal.commit().unwrap();
    drop(journal);
    let json = snapshot(dir.path(), "interrupted");
    let job = &json["jobs"][0];
    assert_eq!(
        (
            job["deleted"].as_u64(),
            job["absent"].as_u64(),
            job["rejected"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(
        (
            job["failed"].as_u64(),
            job["in_flight"].as_u64(),
            job["pending"].as_u64()
        ),
        (Some(2), Some(2), Some(3))
    );
    assert_eq!(job["complete"], false);
    assert_eq!(job["last_run"]["outcome"], "interrupted");

    // Killed: a run that started and never recorded an end, its process gone.
    let mut journal = Journal::open(&state, "cleanup").unwrap();
    journal
        .append(Record::run_started(None, "sha256:old"))
        .unwrap();
    journal.append(deleted(PAYMENTS, ids(6, 8))).unwrap();
    journal.commit().unwrap();
    // Dropping clears the lock file as a normal exit does; a killed process leaves its pid,
    // which is not alive: written here by hand as such a process would have left it.
    drop(journal);
    std::fs::write(
        state.join("cleanup.lock"),
        r#"{"pid":2147483646,"started":"2026-12-01T10:00:00Z"}"#,
    )
    .unwrap();
    let json = snapshot(dir.path(), "killed");
    assert_eq!(json["jobs"][0]["last_run"]["outcome"], "killed");
    assert_eq!(
        json["jobs"][0]["rejected"], 0,
        "the rejected id was deleted later"
    );

    // Running, with the job's own fingerprint: this process holds the lock.
    let checked = reqprune::check::check_paths(&[dir.path().join("jobs")]);
    let fingerprint = checked.jobs[0].fingerprint.clone();
    let mut journal = Journal::open(&state, "cleanup").unwrap();
    journal
        .append(Record::run_started(Some("plan-7".into()), fingerprint))
        .unwrap();
    journal.commit().unwrap();
    let json = snapshot(dir.path(), "running");
    assert_eq!(json["jobs"][0]["last_run"]["outcome"], "running");

    // Complete.
    journal.append(deleted(PAYMENTS, ids(9, 10))).unwrap();
    journal.append(deleted(SEARCH, ids(100, 102))).unwrap();
    journal
        .append(Record::run_finished(RunOutcome::Complete))
        .unwrap();
    journal.commit().unwrap();
    journal.compact().unwrap();
    drop(journal);
    let json = snapshot(dir.path(), "complete");
    assert_eq!(json["jobs"][0]["complete"], true);
    assert_eq!(json["jobs"][0]["pending"], 0);
}

#[test]
fn status_refuses_invalid_job_files_and_damaged_state() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    std::fs::write(dir.path().join("jobs/bad.yaml"), "version: 2\n").unwrap();
    let output = status(dir.path(), "text");
    assert_eq!(output.status.code(), Some(1));

    let dir = TempDir::new().unwrap();
    write_job(dir.path());
    std::fs::create_dir_all(dir.path().join(".state")).unwrap();
    std::fs::write(
        dir.path().join(".state/cleanup.journal.jsonl"),
        "{\"kind\":\"nonsense\"}\n",
    )
    .unwrap();
    let output = status(dir.path(), "json");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cleanup.journal.jsonl:1: expected the journal header"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn status_help_documents_every_flag() {
    let output = Command::new(BIN)
        .args(["status", "--help"])
        .env_remove("REQPRUNE_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--state-dir", "--format", "[PATH]..."] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    insta::assert_snapshot!("status_help", help);
}
