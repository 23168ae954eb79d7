//! `reqprune plan` as a user runs it: the real binary on job files in a temporary folder (and
//! on the examples in `jobs/`), its stdout, stderr, exit code and saved plan.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reqprune::render::saved::read_saved_plan;

const BIN: &str = env!("CARGO_BIN_EXE_reqprune");
const SECRET: &str = "tok-4b1d-NEVER-SHOWN";

/// Runs `reqprune ARGS` in `dir`, with a state folder inside it and a token in the environment.
fn reqprune(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("REQPRUNE_STATE_DIR", dir.join(".state"))
        .env("CODEARTS_TOKEN", SECRET)
        .env_remove("RUST_LOG")
        .output()
        .expect("run reqprune")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

const PAYMENTS: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const SEARCH: &str = "0123456789abcdef0123456789ABCDEF";

/// A job with named, inline, range and file sets (overlapping), protection, two projects.
fn write_job(dir: &Path, limits: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("ids")).unwrap();
    std::fs::write(
        dir.join("ids/stale.txt"),
        "# stale items\n1660300\n1660301\n1660084\n",
    )
    .unwrap();
    let job = format!(
        "version: 1
name: cleanup
endpoint: https://projectman-ext.cn-north-4.myhuaweicloud.com
token: ci
tokens:
  ci: {{ env: CODEARTS_TOKEN }}
sets:
  dupes: {{ ids: [1660084, 1660085] }}
  range: {{ range: {{ from: 1660100, to: 1660199 }} }}
  stale: {{ file: ids/stale.txt }}
projects:
  - id: {PAYMENTS}
    label: payments
    delete: [dupes, range, stale, {{ ids: [1660150, 1660199] }}]
    protect: [1660150]
  - id: {SEARCH}
    delete: [{{ range: {{ from: 42, to: 44 }} }}]
    protect: [42, 43, 44]
{limits}"
    );
    let path = dir.join("cleanup.yaml");
    std::fs::write(&path, job).unwrap();
    path
}

#[test]
fn text_plan_counts_overlaps_once_and_warns_about_a_fully_protected_project() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "");
    let output = reqprune(dir.path(), &["plan", "cleanup.yaml", "--show-ids"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("text_show_ids", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("all-ids-protected"), "{err}");
    assert!(err.contains("cleanup.yaml:"), "{err}");
}

#[test]
fn each_format_is_deterministic_and_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "");
    for format in ["text", "json", "markdown"] {
        let first = reqprune(dir.path(), &["plan", "cleanup.yaml", "--format", format]);
        let second = reqprune(dir.path(), &["plan", "cleanup.yaml", "--format", format]);
        assert_eq!(first.status.code(), Some(0));
        assert_eq!(first.stdout, second.stdout, "{format} differs between runs");
        let all = format!("{}{}", stdout(&first), stderr(&first));
        assert!(!all.contains(SECRET), "{format} shows the token");
        assert!(
            all.contains("env CODEARTS_TOKEN"),
            "{format} hides the token source"
        );
    }
    // plan wrote nothing: no state folder, no other file.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cleanup.yaml", "ids"]);
}

#[test]
fn json_plan_has_the_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "");
    let output = reqprune(dir.path(), &["plan", "cleanup.yaml", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let project = &value["jobs"][0]["projects"][0];
    let keys: Vec<&str> = project
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "already_done",
            "batch_count",
            "delete_ids",
            "label",
            "project_id",
            "protected_ids",
            "token_source"
        ]
    );
    // 2 dupes + 100 range + 2 new from the file (1660084 overlaps) - 1 protected = 103.
    assert_eq!(project["delete_ids"].as_array().unwrap().len(), 103);
    assert_eq!(project["protected_ids"], serde_json::json!([1660150]));
    assert_eq!(
        value["totals"],
        serde_json::json!({"to_delete": 103, "batches": 2, "projects": 1, "protected": 4, "already_done": 0})
    );
}

#[test]
fn detailed_exitcode_is_2_only_when_deletions_are_pending() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "");
    let pending = reqprune(dir.path(), &["plan", "cleanup.yaml", "--detailed-exitcode"]);
    assert_eq!(pending.status.code(), Some(2));
    let plain = reqprune(dir.path(), &["plan", "cleanup.yaml"]);
    assert_eq!(plain.status.code(), Some(0));

    std::fs::write(
        dir.path().join("idle.yaml"),
        format!(
            "version: 1\nname: idle\nregion: cn-north-4\ntokens:\n  t: {{ env: X }}\n\
             projects:\n  - id: {SEARCH}\n    token: t\n    delete: [7]\n    protect: [7]\n"
        ),
    )
    .unwrap();
    let none = reqprune(dir.path(), &["plan", "idle.yaml", "--detailed-exitcode"]);
    assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
    assert!(stdout(&none).ends_with("No changes.\n"));

    // Errors and usage errors exit 1, never 2; help exits 0.
    let missing = reqprune(dir.path(), &["plan", "nope.yaml", "--detailed-exitcode"]);
    assert_eq!(missing.status.code(), Some(1));
    let usage = reqprune(
        dir.path(),
        &["plan", "--detailed-exitcode", "--format", "yaml"],
    );
    assert_eq!(usage.status.code(), Some(1));
    assert!(stderr(&usage).contains("invalid value 'yaml'"));
    assert_eq!(
        reqprune(dir.path(), &["plan", "--bogus"]).status.code(),
        Some(1)
    );
    assert_eq!(reqprune(dir.path(), &[]).status.code(), Some(1));
    assert_eq!(
        reqprune(dir.path(), &["plan", "--help"]).status.code(),
        Some(0)
    );
}

#[test]
fn the_cap_fails_the_plan_says_by_how_much_and_the_flag_only_lowers_it() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "limits:\n  max_deletions: 100\n");
    let over = reqprune(dir.path(), &["plan", "cleanup.yaml", "--out", "plan.json"]);
    assert_eq!(over.status.code(), Some(1));
    let err = stderr(&over);
    assert!(
        err.contains("would delete 103 work items, 3 more than its cap of 100"),
        "{err}"
    );
    assert!(err.contains("cleanup.yaml:"), "{err}");
    assert!(stdout(&over).is_empty());
    assert!(
        !dir.path().join("plan.json").exists(),
        "a refused plan was saved"
    );

    let raised = reqprune(
        dir.path(),
        &["plan", "cleanup.yaml", "--max-deletions", "1000"],
    );
    assert_eq!(raised.status.code(), Some(1));
    assert!(stderr(&raised).contains("max-deletions-flag-ignored"));

    write_job(dir.path(), "limits:\n  max_deletions: 1000\n");
    let lowered = reqprune(
        dir.path(),
        &["plan", "cleanup.yaml", "--max-deletions", "50"],
    );
    assert_eq!(lowered.status.code(), Some(1));
    assert!(stderr(&lowered).contains("53 more than its cap of 50 (--max-deletions 50)"));
    assert_eq!(
        reqprune(dir.path(), &["plan", "cleanup.yaml"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn invalid_job_files_fail_like_validate_and_save_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "version: 1\nname: bad\nprojetcs: []\n",
    )
    .unwrap();
    let output = reqprune(dir.path(), &["plan", "bad.yaml", "--out", "plan.json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("bad.yaml:3:1"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
    assert!(!dir.path().join("plan.json").exists());
}

/// The saved plan's fingerprint for the job in `dir`, planned afresh.
fn saved_fingerprint(dir: &Path) -> String {
    let output = reqprune(dir, &["plan", "cleanup.yaml", "--out", "plan.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (plan, _) = read_saved_plan(&dir.join("plan.json")).unwrap();
    plan.jobs[0].fingerprint.clone()
}

#[test]
fn saved_plans_round_trip_and_their_fingerprint_follows_every_input() {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path(), "");
    let base = saved_fingerprint(dir.path());
    let (plan, id) = read_saved_plan(&dir.path().join("plan.json")).unwrap();
    assert_eq!(plan.jobs[0].projects[0].delete.len(), 103);
    assert_eq!(plan.jobs[0].state_sequence, 0);
    assert!(id.starts_with("sha256:"));
    let bytes = std::fs::read(dir.path().join("plan.json")).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
    // What apply does before executing it: re-check the job and verify the plan against it.
    let checked = reqprune::check::check_paths(&[dir.path().join("cleanup.yaml")]);
    assert_eq!(checked.jobs[0].fingerprint, base);
    assert_eq!(
        reqprune::plan::verify_saved_job(&plan.jobs[0], &checked.jobs[0]),
        Ok(())
    );

    // Planning again with nothing changed: same fingerprint, byte-identical plan (same id).
    assert_eq!(saved_fingerprint(dir.path()), base);
    assert_eq!(
        read_saved_plan(&dir.path().join("plan.json")).unwrap().1,
        id
    );

    // A changed id file changes it; changing it back restores it.
    let ids = dir.path().join("ids/stale.txt");
    let original = std::fs::read_to_string(&ids).unwrap();
    std::fs::write(&ids, format!("{original}1660302\n")).unwrap();
    assert_ne!(saved_fingerprint(dir.path()), base);
    std::fs::write(&ids, &original).unwrap();
    assert_eq!(saved_fingerprint(dir.path()), base);

    // So does a changed job file, even a comment that changes no id.
    let job = dir.path().join("cleanup.yaml");
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&job, format!("{text}# reviewed\n")).unwrap();
    assert_ne!(saved_fingerprint(dir.path()), base);
}

/// Snapshots of each format for each example in `jobs/`, run from the repository root as the
/// README shows (one snapshot per file and format, so a new example adds its own).
#[test]
fn example_jobs_in_every_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().unwrap();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[fingerprint]");
    settings.bind(|| {
        for example in &examples {
            let name = example.file_stem().unwrap().to_string_lossy();
            let relative = format!("jobs/{}", example.file_name().unwrap().to_string_lossy());
            for format in ["text", "json", "markdown"] {
                let output = Command::new(BIN)
                    .args([
                        "plan",
                        &relative,
                        "--show-ids",
                        "--format",
                        format,
                        "--state-dir",
                    ])
                    .arg(state.path())
                    .current_dir(root)
                    .env_remove("REQPRUNE_STATE_DIR")
                    .output()
                    .unwrap();
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{relative}: {}",
                    stderr(&output)
                );
                insta::assert_snapshot!(format!("example_{name}_{format}"), stdout(&output));
            }
        }
    });
    // Planning reads the state folder but never creates it.
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
}

#[test]
fn help_documents_every_flag() {
    let output = Command::new(BIN)
        .args(["plan", "--help"])
        .env_remove("REQPRUNE_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("plan_help", stdout(&output));
}
