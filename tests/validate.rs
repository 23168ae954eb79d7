//! `reqprune validate`, run as the real binary, on every example job (all valid) and on the
//! corpus of broken job files under `tests/fixtures/invalid/` (each snapshotted: exit code,
//! human output and JSON output). Files too big or too odd to commit (a 50 MB job, an id
//! "file" that cannot be read) are generated into a temporary folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqprune::check::check_paths;
use reqprune::checked::Endpoint;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Exit code, stdout and stderr of `reqprune ARGS` run in `dir`.
fn reqprune(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_reqprune"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("REQPRUNE_STATE_DIR")
        .output()
        .expect("run reqprune");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What a user sees for one path: both formats, with the exit code of each.
fn both_formats(dir: &Path, path: &str) -> String {
    let (code, human, stderr) = reqprune(dir, &["validate", path]);
    let (json_code, json, _) = reqprune(dir, &["validate", "--format", "json", path]);
    assert_eq!(code, json_code, "both formats exit alike");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("--format json is JSON");
    for d in parsed.as_array().expect("a JSON array") {
        for key in ["file", "line", "column", "code", "severity", "message"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
    format!(
        "$ reqprune validate {path}\nexit {code}\n{human}{stderr}\n$ reqprune validate --format json {path}\n{json}"
    )
}

#[test]
fn every_invalid_fixture_is_reported_with_positions() {
    let dir = Path::new(ROOT).join("tests/fixtures/invalid");
    insta::glob!("fixtures/invalid/*.yaml", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        let output = both_formats(&dir, name);
        assert!(
            output.contains("\nexit 1\n"),
            "{name} must be refused:\n{output}"
        );
        assert!(!output.contains("panicked"), "{name} made reqprune panic");
        insta::assert_snapshot!(output);
    });
}

#[test]
fn duplicate_job_names_across_files_are_refused() {
    let dir = Path::new(ROOT).join("tests/fixtures/invalid");
    insta::assert_snapshot!(both_formats(&dir, "duplicate-job-names"));
}

#[test]
fn a_literal_secret_never_reaches_the_output() {
    let dir = Path::new(ROOT).join("tests/fixtures/invalid");
    for (file, secret) in [
        ("literal-token.yaml", "MIIZkAYJKoZIhvcNAQcCoIIZgTCCGX0"),
        ("iam-password-literal.yaml", "Sup3r-Secret!"),
        (
            "token-source-is-a-string.yaml",
            "4f9a1c2e7b3d8e6f0a5b9c1d2e3f4a5b",
        ),
        ("aksk-secret-literal.yaml", "wJalrXUtnFEMI"),
        ("env-holds-a-token.yaml", "eyJhbGciOiJSUzI1NiJ9"),
        ("command-with-token.yaml", "MIIZkAYJKoZIhvcNAQ"),
    ] {
        let output = both_formats(&dir, file);
        assert!(output.contains("secret-literal"), "{file}: {output}");
        assert!(
            !output.contains(secret),
            "{file} leaked its secret:\n{output}"
        );
    }
}

#[test]
fn huge_and_unreadable_files_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // 50 MB: a job file far past the 32 MiB cap.
    let mut huge = String::from("version: 1\nname: huge\nregion: cn-north-4\nprojects:\n");
    let line = format!("  # {}\n", "x".repeat(100));
    while huge.len() < 50 * 1024 * 1024 {
        huge.push_str(&line);
    }
    std::fs::write(dir.path().join("huge.yaml"), huge).unwrap();
    // An id "file" that is a folder: unreadable even for root.
    std::fs::create_dir_all(dir.path().join("ids/stale.txt")).unwrap();
    std::fs::write(
        dir.path().join("unreadable-id-file.yaml"),
        "version: 1\nname: unreadable\nregion: cn-north-4\ntoken: ci\ntokens:\n  ci: { env: CODEARTS_TOKEN }\n\
         sets:\n  stale: { file: ids/stale.txt }\nprojects:\n  - id: 526cefde62004de2b62b5e8dd2c2b3af\n    delete: [stale]\n",
    )
    .unwrap();
    insta::assert_snapshot!("generated_huge", both_formats(dir.path(), "huge.yaml"));
    insta::assert_snapshot!(
        "generated_unreadable_id_file",
        both_formats(dir.path(), "unreadable-id-file.yaml")
    );
}

#[test]
fn every_example_job_is_valid() {
    let (code, stdout, stderr) = reqprune(Path::new(ROOT), &["validate", "jobs/"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("error["), "{stdout}");
    // With no path, `jobs/` is validated.
    let (default_code, default_stdout, _) = reqprune(Path::new(ROOT), &["validate"]);
    assert_eq!((default_code, default_stdout), (code, stdout.clone()));
    insta::assert_snapshot!(stdout);
}

#[test]
fn missing_paths_and_empty_folders_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, stdout, _) = reqprune(dir.path(), &["validate", "nowhere.yaml", "empty"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("error[path-not-found]: nowhere.yaml does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("error[no-job-files]"), "{stdout}");
}

#[test]
fn validate_help() {
    let (code, stdout, _) = reqprune(Path::new(ROOT), &["validate", "--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn demo_job_resolves_into_a_checked_job() {
    let checked = check_paths(&[PathBuf::from(ROOT).join("jobs/demo.yaml")]);
    assert_eq!(checked.error_count(), 0);
    let job = &checked.jobs[0];
    assert_eq!(job.name, "demo-cleanup");
    assert_eq!(job.endpoint, Endpoint::Sandbox);
    assert!(job.fingerprint.starts_with("sha256:"));
    let payments = &job.projects[0];
    assert_eq!(payments.token_name, "demo");
    assert_eq!(payments.base_dir, PathBuf::from(ROOT).join("jobs"));
    assert!(payments.delete.contains(1660150) && payments.protect.contains(1660150));
    // The Location of a node, for later stages' diagnostics.
    let at = checked
        .location_of(&job.file, "/projects/1/delete/0")
        .unwrap();
    assert_eq!(at.file, job.file);
    assert!(at.line > 1 && at.column > 1);
}

#[test]
fn region_job_protect_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.yaml");
    std::fs::write(
        &job,
        "version: 1\nname: fp\nregion: cn-east-3\ntoken: ci\ntokens:\n  ci: { env: T }\nprotect: [5]\n\
         projects:\n  - id: 526cefde62004de2b62b5e8dd2c2b3af\n    delete: [{ file: ids.txt }, { range: { from: 1, to: 9 } }]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ids.txt"), "20\n21\n").unwrap();
    let first = check_paths(std::slice::from_ref(&job));
    assert_eq!(first.error_count(), 0, "{}", first.render_json());
    let checked = &first.jobs[0];
    assert_eq!(
        checked.endpoint,
        Endpoint::Url("https://projectman-ext.cn-east-3.myhuaweicloud.com".into())
    );
    assert_eq!(checked.projects[0].protect.as_slice(), &[5]);
    assert_eq!(checked.projects[0].delete.len(), 11);
    std::fs::write(dir.path().join("ids.txt"), "20\n22\n").unwrap();
    let second = check_paths(std::slice::from_ref(&job));
    assert_ne!(
        checked.fingerprint, second.jobs[0].fingerprint,
        "an id file changed"
    );
    std::fs::write(dir.path().join("ids.txt"), "20\n21\n").unwrap();
    let third = check_paths(std::slice::from_ref(&job));
    assert_eq!(
        checked.fingerprint, third.jobs[0].fingerprint,
        "same bytes, same hash"
    );
}

/// Every code a check can emit is in `diagnostic::CODES`, and every one is in the README.
#[test]
fn diagnostic_codes_are_documented() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let known: Vec<&str> = reqprune::diagnostic::CODES
        .iter()
        .map(|(c, _)| *c)
        .collect();
    for code in &known {
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "{code} is not in the README"
        );
    }
    let mut used = Vec::new();
    let mut stack = vec![Path::new(ROOT).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in ["Diagnostic::error(", "Diagnostic::warning("] {
                    for (at, _) in text.match_indices(marker) {
                        let rest = text[at + marker.len()..].trim_start();
                        if let Some(code) = rest.strip_prefix('"').and_then(|r| r.split('"').next())
                        {
                            used.push((code.to_string(), path.clone()));
                        }
                    }
                }
            }
        }
    }
    assert!(used.len() > 30, "found only {} uses", used.len());
    for (code, path) in used {
        assert!(
            known.contains(&code.as_str()),
            "{code} (in {}) is not in CODES",
            path.display()
        );
    }
}

/// Pieces of job files, so random inputs reach the schema and semantic checks, not only the
/// YAML parser.
const FRAGMENTS: &[&str] = &[
    "version: 1\n",
    "version: 2\n",
    "name: job\n",
    "region: cn-north-4\n",
    "endpoint: sandbox\n",
    "endpoint: http://x\n",
    "token: ci\n",
    "tokens:\n",
    "  ci: { env: T }\n",
    "  x: abc\n",
    "sets:\n",
    "  s: { ids: [1, 2] }\n",
    "  r: { range: { from: 9, to: 1 } }\n",
    "  f: { file: nowhere.txt }\n",
    "projects:\n",
    "  - id: 526cefde62004de2b62b5e8dd2c2b3af\n",
    "    delete: [s, r, f, 5, -1, \"7\", { ids: [] }]\n",
    "    protect: [zz]\n",
    "limits: {batch_size: 0}\n",
    "\t",
    "  ",
    "- ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!t ",
    "\"",
    "'",
    "#",
    "é",
    "\n",
    "password: p\n",
    "9999999999999999999999",
    "1.5",
    "~",
    "<<: *a\n",
    "---\n",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    #[test]
    fn no_input_makes_validation_panic(
        pieces in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40),
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        raw in proptest::prelude::any::<bool>(),
    ) {
        let mut bytes: Vec<u8> = pieces.concat().into_bytes();
        if raw {
            bytes.extend_from_slice(&noise);
        }
        let checked = reqprune::check::check_bytes(Path::new("job.yaml"), bytes);
        let mut out = Vec::new();
        checked.render_human(&mut out, true).unwrap();
        let json: serde_json::Value = serde_json::from_str(&checked.render_json()).unwrap();
        // Every input ends as a job or as at least one error.
        proptest::prop_assert!(checked.jobs.len() == 1 || checked.error_count() > 0, "{}", json);
    }
}

/// One systematic mistake over a long list gives a hundred diagnostics and a count, not a
/// hundred thousand; pathological nesting and a list of a billion aliases end cleanly too.
#[test]
fn systematic_and_pathological_inputs_end_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let quoted: Vec<String> = (1..=200_000).map(|id| format!("\"{id}\"")).collect();
    let job = format!(
        "version: 1\nname: quoted\nregion: cn-north-4\ntoken: ci\ntokens:\n  ci: {{ env: T }}\n\
         projects:\n  - id: 526cefde62004de2b62b5e8dd2c2b3af\n    delete: [{{ ids: [{}] }}]\n",
        quoted.join(", ")
    );
    std::fs::write(dir.path().join("quoted.yaml"), job).unwrap();
    let (code, json, _) = reqprune(dir.path(), &["validate", "--format", "json", "quoted.yaml"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(code, 1);
    assert_eq!(list.len(), 101);
    assert_eq!(list[0]["code"], "wrong-type");
    let more = list.iter().find(|d| d["code"] == "more-problems").unwrap();
    assert!(
        more["message"].as_str().unwrap().contains("199900 more"),
        "{more}"
    );

    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(dir.path().join("deep.yaml"), deep).unwrap();
    let laughs: String = std::iter::once("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string())
        .chain((1..10).map(|i| {
            format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 10].join(", ")
            )
        }))
        .collect();
    std::fs::write(dir.path().join("laughs.yaml"), laughs).unwrap();
    for file in ["deep.yaml", "laughs.yaml"] {
        let (code, json, stderr) = reqprune(dir.path(), &["validate", "--format", "json", file]);
        assert_eq!(code, 1, "{file}: {json}{stderr}");
        let list: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(list.len(), 1, "{file}: {json}");
        assert_eq!(list[0]["code"], "yaml-syntax", "{file}: {json}");
    }
}
