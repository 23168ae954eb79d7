//! Replay of hand-written journals: statuses, runs, torn tails, duplicates, reordering, and
//! every kind of damage reported with its file and line.

use reqprune::idset::IdSet;
use reqprune::state::{RunOutcome, StateError, read_view};
use tempfile::TempDir;

use super::support::{JOB, PROJECT, header, lines, write_journal};

const STARTED: &str = r#"{"kind":"run_started","plan_id":null,"fingerprint":"sha256:aa","tool_version":"0.1.0","at":"2026-12-01T10:00:01Z"}"#;

fn set(ids: &[u64]) -> IdSet {
    IdSet::from_unsorted(ids.to_vec())
}

fn corrupt(error: StateError) -> (u64, String) {
    match error {
        StateError::Corrupt { line, message, .. } => (line, message),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

#[test]
fn no_state_yet_is_the_default_view() {
    let dir = TempDir::new().unwrap();
    assert_eq!(read_view(dir.path(), JOB).unwrap(), Default::default());
}

#[test]
fn every_status_and_the_run_are_replayed() {
    let dir = TempDir::new().unwrap();
    write_journal(
        dir.path(),
        &lines(&[
            STARTED,
            r#"{"kind":"batch_sent","project":"526cefde62004de2b62b5e8dd2c2b3af","ids":[1,2,3,4,5,6],"attempt":1}"#,
            r#"{"kind":"batch_deleted","project":"526cefde62004de2b62b5e8dd2c2b3af","ids":[1,2],"request_id":"r-1"}"#,
            r#"{"kind":"absent","project":"526cefde62004de2b62b5e8dd2c2b3af","ids":[3],"request_id":null}"#,
            r#"{"kind":"rejected","project":"526cefde62004de2b62b5e8dd2c2b3af","id":4,"error_code":"PM.02152009","error_msg":"locked in review","request_id":"r-2"}"#,
            r#"{"kind":"failed","project":"526cefde62004de2b62b5e8dd2c2b3af","ids":[5],"reason":"retries exhausted"}"#,
            r#"{"kind":"run_finished","at":"2026-12-01T10:00:09Z","outcome":"partial"}"#,
        ]),
    );
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(
        view.lineage.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(view.sequence, 7);
    let p = &view.projects[PROJECT];
    assert_eq!(p.deleted, set(&[1, 2]));
    assert_eq!(p.absent, set(&[3]));
    assert_eq!(p.rejected[&4].error_code, "PM.02152009");
    assert_eq!(p.rejected[&4].request_id.as_deref(), Some("r-2"));
    assert_eq!(p.failed, set(&[5]));
    assert_eq!(p.failures["retries exhausted"], set(&[5]));
    assert_eq!(p.in_flight, set(&[6]));
    assert_eq!(view.done[PROJECT], set(&[1, 2, 3]));
    let run = view.last_run().unwrap();
    assert_eq!(run.started_at_sequence, 0);
    assert_eq!(run.started, "2026-12-01T10:00:01Z");
    assert_eq!(run.ended.as_deref(), Some("2026-12-01T10:00:09Z"));
    assert_eq!(run.outcome, Some(RunOutcome::Partial));
    assert!(view.warnings.is_empty());
}

#[test]
fn duplicate_records_count_once() {
    let dir = TempDir::new().unwrap();
    let sent = r#"{"kind":"batch_sent","project":"p1","ids":[7,8],"attempt":1}"#;
    let deleted = r#"{"kind":"batch_deleted","project":"p1","ids":[7,8],"request_id":"r"}"#;
    write_journal(dir.path(), &lines(&[STARTED, sent, sent, deleted, deleted]));
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.projects["p1"].deleted, set(&[7, 8]));
    assert!(view.projects["p1"].in_flight.is_empty());
    assert_eq!(
        view.sequence, 5,
        "the sequence counts records, duplicates included"
    );
}

#[test]
fn concurrent_batches_confirmed_out_of_order() {
    let dir = TempDir::new().unwrap();
    write_journal(
        dir.path(),
        &lines(&[
            STARTED,
            r#"{"kind":"batch_sent","project":"p1","ids":[1,2],"attempt":1}"#,
            r#"{"kind":"batch_sent","project":"p2","ids":[1,2],"attempt":1}"#,
            r#"{"kind":"batch_sent","project":"p1","ids":[3,4],"attempt":1}"#,
            r#"{"kind":"batch_deleted","project":"p1","ids":[3,4],"request_id":"b"}"#,
            r#"{"kind":"batch_deleted","project":"p2","ids":[1,2],"request_id":"c"}"#,
            r#"{"kind":"batch_sent","project":"p1","ids":[5,6],"attempt":1}"#,
            r#"{"kind":"batch_deleted","project":"p1","ids":[1,2],"request_id":"a"}"#,
        ]),
    );
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.projects["p1"].deleted, set(&[1, 2, 3, 4]));
    assert_eq!(view.projects["p1"].in_flight, set(&[5, 6]));
    assert_eq!(view.projects["p2"].deleted, set(&[1, 2]));
    assert_eq!(view.last_run().unwrap().outcome, None, "no end recorded");
}

#[test]
fn later_records_win_but_gone_stays_gone() {
    let dir = TempDir::new().unwrap();
    write_journal(
        dir.path(),
        &lines(&[
            STARTED,
            // Rejected, then deleted by a later run: deleted.
            r#"{"kind":"rejected","project":"p","id":1,"error_code":"E","error_msg":"m","request_id":null}"#,
            r#"{"kind":"batch_deleted","project":"p","ids":[1],"request_id":null}"#,
            // Failed, then sent again: in flight.
            r#"{"kind":"failed","project":"p","ids":[2],"reason":"timeout"}"#,
            r#"{"kind":"batch_sent","project":"p","ids":[2],"attempt":1}"#,
            // Deleted, then a stray send, rejection and failure: still deleted.
            r#"{"kind":"batch_deleted","project":"p","ids":[3],"request_id":null}"#,
            r#"{"kind":"batch_sent","project":"p","ids":[3],"attempt":2}"#,
            r#"{"kind":"rejected","project":"p","id":3,"error_code":"E","error_msg":"m","request_id":null}"#,
            r#"{"kind":"failed","project":"p","ids":[3],"reason":"x"}"#,
            // Absent, then deleted: deleted; deleted then absent: deleted.
            r#"{"kind":"absent","project":"p","ids":[4],"request_id":null}"#,
            r#"{"kind":"batch_deleted","project":"p","ids":[4,5],"request_id":null}"#,
            r#"{"kind":"absent","project":"p","ids":[5],"request_id":null}"#,
            // Failed twice with different reasons: the last reason.
            r#"{"kind":"failed","project":"p","ids":[6],"reason":"first"}"#,
            r#"{"kind":"failed","project":"p","ids":[6],"reason":"second"}"#,
        ]),
    );
    let p = &read_view(dir.path(), JOB).unwrap().projects["p"];
    assert_eq!(p.deleted, set(&[1, 3, 4, 5]));
    assert_eq!(p.in_flight, set(&[2]));
    assert!(p.rejected.is_empty() && p.absent.is_empty());
    assert_eq!(p.failed, set(&[6]));
    assert_eq!(p.failures.keys().collect::<Vec<_>>(), ["second"]);
}

#[test]
fn a_torn_last_line_is_ignored_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let mut text = lines(&[
        STARTED,
        r#"{"kind":"batch_sent","project":"p","ids":[1],"attempt":1}"#,
    ]);
    text.push_str(r#"{"kind":"batch_deleted","project":"p","ids":[1"#);
    write_journal(dir.path(), &text);
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.projects["p"].in_flight, set(&[1]));
    assert_eq!(view.sequence, 2);
    assert_eq!(view.warnings.len(), 1);
    assert!(
        view.warnings[0].contains(":4: ignored an incomplete last line"),
        "{:?}",
        view.warnings
    );
}

#[test]
fn zeros_left_by_a_power_loss_are_a_torn_tail() {
    let dir = TempDir::new().unwrap();
    let mut text = lines(&[STARTED]).into_bytes();
    text.extend_from_slice(br#"{"kind":"batch_sent","pro"#);
    text.extend_from_slice(&[0; 100]);
    std::fs::write(dir.path().join(format!("{JOB}.journal.jsonl")), text).unwrap();
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.sequence, 1);
    assert_eq!(view.warnings.len(), 1);
}

#[test]
fn a_whole_last_record_without_its_newline_counts() {
    let dir = TempDir::new().unwrap();
    let text = lines(&[STARTED]) + r#"{"kind":"absent","project":"p","ids":[9],"request_id":null}"#;
    write_journal(dir.path(), &text);
    let view = read_view(dir.path(), JOB).unwrap();
    assert_eq!(view.projects["p"].absent, set(&[9]));
    assert!(view.warnings.is_empty());
}

#[test]
fn an_unknown_record_kind_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let future = r#"{"kind":"batch_archived","project":"p","ids":[1]}"#;
    let path = write_journal(dir.path(), &lines(&[STARTED, future, STARTED]));
    let error = read_view(dir.path(), JOB).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:3: unknown record kind `batch_archived`",
            path.display()
        )),
        "{text}"
    );
    // Even as the last, unterminated line: it is whole, so it is not a torn write.
    write_journal(dir.path(), &(lines(&[STARTED]) + future));
    assert_eq!(corrupt(read_view(dir.path(), JOB).unwrap_err()).0, 3);
}

#[test]
fn damage_anywhere_else_names_the_line() {
    let sent = r#"{"kind":"batch_sent","project":"p","ids":[1],"attempt":1}"#;
    let cases: Vec<(String, u64, &str)> = vec![
        (
            lines(&[STARTED, "{not json", sent]),
            3,
            "not a journal record",
        ),
        (
            lines(&[STARTED, r#"{"ids":[1]}"#]),
            3,
            "missing field `kind`",
        ),
        (
            lines(&[r#"{"kind":"batch_sent","project":"p","ids":["x"],"attempt":1}"#]),
            2,
            "bad `batch_sent` record",
        ),
        (
            lines(&[r#"{"kind":"batch_sent","project":"p","ids":[-1],"attempt":1}"#]),
            2,
            "bad `batch_sent` record",
        ),
        (
            lines(&[r#"{"kind":"batch_sent","project":"p","ids":[1],"attempt":1,"extra":true}"#]),
            2,
            "unknown field `extra`",
        ),
        (
            lines(&[r#"{"kind":"run_finished","at":"t","outcome":"complete"}"#]),
            2,
            "no run started",
        ),
        (lines(&[STARTED, &header()]), 3, "a second header"),
        (format!("{sent}\n"), 1, "expected the journal header"),
        (String::new(), 1, "the journal is empty"),
        (header()[..40].to_string(), 1, "header line is incomplete"),
        (
            header().replace("\"job\":\"cleanup\"", "\"job\":\"other\"") + "\n",
            1,
            "belongs to job `other`",
        ),
        (
            header().replace("\"format_version\":1", "\"format_version\":2") + "\n",
            1,
            "journal format 2",
        ),
        (
            lines(&[
                STARTED,
                r#"{"kind":"run","started_at_sequence":0,"plan_id":null,"fingerprint":"f","tool_version":"v","started":"t","ended":null,"outcome":null}"#,
            ]),
            3,
            "snapshot line after event records",
        ),
        (
            lines(&[
                r#"{"kind":"project","project":"p","deleted":[[5,1]],"absent":[],"in_flight":[],"failed":[],"rejected":[]}"#,
            ]),
            2,
            "runs backwards",
        ),
        (
            lines(&[
                r#"{"kind":"project","project":"p","deleted":[[1,18446744073709551615]],"absent":[],"in_flight":[],"failed":[],"rejected":[]}"#,
            ]),
            2,
            "more than",
        ),
    ];
    for (text, line, message) in cases {
        let dir = TempDir::new().unwrap();
        write_journal(dir.path(), &text);
        let (got_line, got) = corrupt(read_view(dir.path(), JOB).unwrap_err());
        assert_eq!(
            (got_line, got.contains(message)),
            (line, true),
            "{got} for {text:?}"
        );
    }
    let dir = TempDir::new().unwrap();
    let mut bytes = lines(&[STARTED]).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    std::fs::write(dir.path().join(format!("{JOB}.journal.jsonl")), bytes).unwrap();
    assert_eq!(
        corrupt(read_view(dir.path(), JOB).unwrap_err()),
        (3, "not UTF-8 text".into())
    );
}

#[test]
fn blank_lines_are_harmless() {
    let dir = TempDir::new().unwrap();
    write_journal(dir.path(), &lines(&["", STARTED, "   "]));
    assert_eq!(read_view(dir.path(), JOB).unwrap().sequence, 1);
}

#[test]
fn a_job_name_cannot_escape_the_state_folder() {
    let dir = TempDir::new().unwrap();
    for name in ["../x", "a/b", "", ".hidden"] {
        assert!(
            matches!(read_view(dir.path(), name), Err(StateError::BadJobName(_))),
            "{name}"
        );
    }
}
