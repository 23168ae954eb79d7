//! The committed `schemas/job.schema.json` must be exactly what the Rust types generate, and
//! `reqprune schema` must print it. `UPDATE_SCHEMA=1 cargo test --test schema` rewrites the
//! committed file after a change to `src/job.rs`.

use std::path::Path;
use std::process::Command;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/job.schema.json");

#[test]
fn committed_schema_is_up_to_date() {
    let generated = reqprune::schema::job_schema_text();
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    if generated == committed {
        return;
    }
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(COMMITTED, &generated).expect("write schemas/job.schema.json");
        return;
    }
    let diff: Vec<String> = diff_lines(&committed, &generated);
    panic!(
        "schemas/job.schema.json is stale; run `UPDATE_SCHEMA=1 cargo test --test schema`.\n{}",
        diff.join("\n")
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let output = Command::new(env!("CARGO_BIN_EXE_reqprune"))
        .arg("schema")
        .output()
        .expect("run reqprune schema");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        reqprune::schema::job_schema_text()
    );
}

#[test]
fn schema_forbids_unknown_keys_everywhere() {
    let schema = reqprune::schema::job_schema();
    assert_eq!(schema["additionalProperties"], false);
    for (name, def) in schema["$defs"].as_object().unwrap() {
        if def.get("properties").is_some() {
            assert_eq!(
                def["additionalProperties"], false,
                "{name} allows unknown keys"
            );
        }
    }
    assert!(Path::new(COMMITTED).exists());
}

/// A line diff good enough to see what changed: lines only in one side, with their numbers.
fn diff_lines(old: &str, new: &str) -> Vec<String> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let mut out = Vec::new();
    for (n, line) in old.iter().enumerate() {
        if !new.contains(line) {
            out.push(format!("-{:>5} {line}", n + 1));
        }
    }
    for (n, line) in new.iter().enumerate() {
        if !old.contains(line) {
            out.push(format!("+{:>5} {line}", n + 1));
        }
    }
    out
}
