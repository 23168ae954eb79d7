//! Shared by the state tests: a hand-written journal's header and how to lay one down.

use std::path::{Path, PathBuf};

pub const JOB: &str = "cleanup";
pub const PROJECT: &str = "526cefde62004de2b62b5e8dd2c2b3af";

/// The header line of a hand-written journal for [`JOB`].
pub fn header() -> String {
    format!(
        r#"{{"kind":"header","format_version":1,"job":"{JOB}","lineage":"0123456789abcdef0123456789abcdef","tool_version":"0.1.0","created":"2026-12-01T10:00:00Z","fingerprint":"sha256:aa","sequence":0}}"#
    )
}

/// Writes `text` as [`JOB`]'s journal in `state_dir`, returning its path.
pub fn write_journal(state_dir: &Path, text: &str) -> PathBuf {
    let path = state_dir.join(format!("{JOB}.journal.jsonl"));
    std::fs::write(&path, text).expect("write journal");
    path
}

/// The header and `lines`, each ending with a newline.
pub fn lines(lines: &[&str]) -> String {
    let mut text = header() + "\n";
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

pub fn ids(from: u64, to: u64) -> Vec<u64> {
    (from..=to).collect()
}

/// Environment variable telling a re-invoked test binary which side of a test it plays.
pub const ROLE: &str = "REQPRUNE_STATE_TEST_ROLE";

/// The role this process plays in a multi-process test, if it was started as a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// This test binary again, running only `test` (its full path) as `role` on `state_dir`,
/// with piped stdin and stdout.
pub fn spawn_child(test: &str, role: &str, state_dir: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env("REQPRUNE_STATE_TEST_DIR", state_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn the test binary")
}

/// The state folder a child was given.
pub fn child_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("REQPRUNE_STATE_TEST_DIR").expect("child state dir"))
}
