//! The `reqprune-sandbox` binary as a user runs it: `--help`, the port file, serving on
//! 127.0.0.1, flag errors, and a clean shutdown on SIGTERM and SIGINT.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_reqprune-sandbox");

fn sandbox_command() -> Command {
    let mut command = Command::new(BIN);
    command.env("COLUMNS", "100").stdin(Stdio::null());
    command
}

#[test]
fn help_documents_every_flag() {
    let output = sandbox_command().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--port-file",
        "--token",
        "--iam-user",
        "--token-ttl",
        "--aksk",
        "--project",
        "--seed-file",
        "--seed",
        "--missing-ids",
        "--latency-ms",
        "--rate-limit",
        "--throttle-as",
        "--fail-rate",
        "--drop-rate",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    insta::assert_snapshot!("sandbox_help", help);
}

/// Start the binary with `args`, wait for its port file, return it and the base URL.
// The child is returned: every caller waits for it (`stop_with`).
#[allow(clippy::zombie_processes)]
fn start(dir: &Path, args: &[&str]) -> (Child, String) {
    let port_file = dir.join("port");
    let mut child = sandbox_command()
        .args(["--listen", "127.0.0.1:0", "--port-file"])
        .arg(&port_file)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            let port: u16 = text.trim().parse().expect("the port file holds a port");
            return (child, format!("http://127.0.0.1:{port}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no port file after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop_with(child: Child, signal: i32) -> std::process::Output {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0);
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn serves_until_a_signal_then_exits_cleanly() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = tempfile::tempdir().unwrap();
        let seed_file = dir.path().join("seed.txt");
        std::fs::write(&seed_file, format!("# more items\n{PID2}=1-5\n")).unwrap();
        let project = format!("{PID}=1-100,200-210");
        let (child, base) = start(
            dir.path(),
            &[
                "--token",
                TOKEN,
                "--project",
                &project,
                "--seed-file",
                seed_file.to_str().unwrap(),
            ],
        );
        assert_eq!(delete_with_token(&base, PID, &[1, 205]).await.status(), 204);
        let stats = get_json(&format!("{base}/__sandbox/stats")).await;
        assert_eq!(stats["remaining"][PID], 109);
        assert_eq!(stats["remaining"][PID2], 5);
        let output = stop_with(child, signal);
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("listening on http://127.0.0.1:"),
            "{stderr}"
        );
        assert!(!stderr.contains(TOKEN), "no secret on stderr");
    }
}

#[tokio::test]
async fn flags_configure_faults_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let project = format!("{PID}=1-1000");
    let (child, base) = start(
        dir.path(),
        &[
            "--aksk",
            "AccessKey:SecretKey",
            "--iam-user",
            "acme/alice:pw",
            "--project",
            &project,
            "--missing-ids",
            "ignore",
            "--rate-limit",
            "1000",
            "--throttle-as",
            "pm",
            "--latency-ms",
            "1-2",
            "--seed",
            "5",
            "--token-ttl",
            "60",
        ],
    );
    let body = r#"{"issue_ids": [1, 5000]}"#;
    let path = format!("/v4/projects/{PID}/issues");
    let keys = ("AccessKey", "SecretKey");
    let request = signed(
        reqwest::Method::DELETE,
        &base,
        &path,
        &[],
        body,
        keys,
        &sdk_date_now(),
    );
    assert_eq!(
        request.send().await.unwrap().status(),
        204,
        "ignore: 5000 skipped"
    );
    let stats = get_json(&format!("{base}/__sandbox/stats")).await;
    assert_eq!(stats["deleted"][PID], serde_json::json!([1]));
    assert!(stop_with(child, libc::SIGTERM).status.success());
}

#[test]
fn bad_flags_and_seed_files_are_clear_errors() {
    for (args, expect) in [
        (vec!["--fail-rate", "2"], "--fail-rate"),
        (vec!["--project", "abc=1-2"], "--project"),
        (vec!["--latency-ms", "9-1"], "--latency-ms"),
        (vec!["--aksk", "nocolon"], "--aksk"),
        (vec!["--iam-user", "alice:hunter2pw"], "--iam-user"),
        (vec!["--missing-ids", "sometimes"], "--missing-ids"),
    ] {
        let output = sandbox_command().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expect), "{stderr}");
        assert!(
            !stderr.contains("nocolon") && !stderr.contains("hunter2pw"),
            "{stderr}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let seed_file = dir.path().join("seed.txt");
    std::fs::write(&seed_file, format!("{PID}=1-5\n{PID}=x\n")).unwrap();
    let output = sandbox_command()
        .args(["--listen", "127.0.0.1:0", "--seed-file"])
        .arg(&seed_file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("seed.txt:2:"), "{stderr}");
}

#[test]
fn an_address_in_use_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = sandbox_command()
        .args(["--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"));
}
