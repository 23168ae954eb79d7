//! The whole-run leak test: `reqprune apply` at `RUST_LOG=trace` against the sandbox, one
//! project per source kind (env, file, command, IAM, AK/SK with a security token), each secret
//! recognisable; then every byte the run wrote (stdout, stderr, every file of the state folder,
//! the report) is searched for each secret. A second run with a rejected token and a wrong IAM
//! password, logging JSON, does the same for the failure paths. The token IAM issued may be only in its
//! 0600 cache file.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqprune::sandbox::{IamUser, Sandbox, SandboxConfig};

const ENV: &str = "LEAKCANARY-apply-env-7d1c52";
const FILE: &str = "LEAKCANARY-apply-file-e04b96";
const COMMAND: &str = "LEAKCANARY-apply-command-2a9f13";
const IAM_PASSWORD: &str = "LEAKCANARY-apply-iam-password-58c0de";
const SK: &str = "LEAKCANARY-apply-sk-b6e7a4";
const SECURITY_TOKEN: &str = "LEAKCANARY-apply-sts-91fd07";
const REJECTED: &str = "LEAKCANARY-apply-rejected-c3a5e8";
const WRONG_PASSWORD: &str = "LEAKCANARY-apply-wrong-password-0b7f61";

const PROJECTS: [&str; 5] = [
    "e1111111111111111111111111111111",
    "f2222222222222222222222222222222",
    "c3333333333333333333333333333333",
    "a4444444444444444444444444444444",
    "b5555555555555555555555555555555",
];

fn job(base_url: &str) -> String {
    let tokens = ["by-env", "by-file", "by-command", "by-iam", "by-aksk"];
    let mut job = format!(
        "version: 1\nname: leak-check\nendpoint: {base_url}\n\
         tokens:\n\
         \x20 by-env: {{ env: LEAK_ENV_TOKEN }}\n\
         \x20 by-file: {{ file: token.txt }}\n\
         \x20 by-command: {{ command: [printenv, LEAK_COMMAND_TOKEN] }}\n\
         \x20 by-iam: {{ iam: {{ domain: leak-account, user_env: LEAK_IAM_USER, password_env: LEAK_IAM_PASSWORD, scope_project: cn-north-4, endpoint: \"{base_url}\" }} }}\n\
         \x20 by-aksk: {{ aksk: {{ ak_env: LEAK_AK, sk_env: LEAK_SK, security_token_env: LEAK_STS }} }}\n\
         projects:\n"
    );
    for (project, token) in PROJECTS.iter().zip(tokens) {
        job.push_str(&format!(
            "  - id: {project}\n    token: {token}\n    delete: [{{ range: {{ from: 1, to: 150 }} }}]\n"
        ));
    }
    job.push_str("limits:\n  requests_per_second: 1000\n  concurrency: 4\n");
    job
}

fn apply(dir: &Path, env_token: &str, password: &str, log_format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reqprune"))
        .current_dir(dir)
        .args([
            "apply",
            "job.yaml",
            "--yes",
            "--state-dir",
            "state",
            "--report",
            "report.json",
            "--log-format",
            log_format,
        ])
        .env("RUST_LOG", "trace")
        .env_remove("REQPRUNE_STATE_DIR")
        .env("LEAK_ENV_TOKEN", env_token)
        .env("LEAK_COMMAND_TOKEN", COMMAND)
        .env("LEAK_IAM_USER", "robot")
        .env("LEAK_IAM_PASSWORD", password)
        .env("LEAK_AK", "AK-APPLY-LEAK")
        .env("LEAK_SK", SK)
        .env("LEAK_STS", SECURITY_TOKEN)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Every file under `dir`, with its path.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_whole_apply_at_trace_level_writes_no_secret_anywhere() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = SandboxConfig {
        tokens: vec![ENV.into(), FILE.into(), COMMAND.into()],
        aksk: vec![("AK-APPLY-LEAK".into(), SK.into())],
        iam_users: vec![IamUser::new("leak-account", "robot", IAM_PASSWORD)],
        token_ttl: Duration::from_secs(3600),
        ..SandboxConfig::default()
    };
    for project in PROJECTS {
        config = config.with_project(project, &[(1, 300)]);
    }
    let sandbox: Sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.yaml"), job(&sandbox.base_url())).unwrap();
    let token_file = dir.path().join("token.txt");
    std::fs::write(&token_file, format!("{FILE}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    let first = apply(dir.path(), ENV, IAM_PASSWORD, "text");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    for project in PROJECTS {
        assert_eq!(
            sandbox.stats().deleted[project].len(),
            150,
            "{project}: {stderr}"
        );
    }
    let schemes: std::collections::BTreeSet<String> =
        sandbox.requests().into_iter().map(|r| r.auth).collect();
    assert!(schemes.contains("token") && schemes.contains("aksk") && schemes.contains("password"));
    assert!(stderr.contains("TRACE"), "the run logged at trace level");
    // reqwest's and hyper's own lines (text logs show no target, so match their messages).
    assert!(
        stderr.contains("starting new connection") && stderr.contains("idle connection"),
        "dependencies' logs included: {stderr}"
    );

    // A failing run: the env token is rejected, the IAM password is wrong.
    std::fs::write(
        dir.path().join("job.yaml"),
        job(&sandbox.base_url()).replace("to: 150", "to: 300"),
    )
    .unwrap();
    // The token IAM issued is a secret too: only its 0600 cache may hold it, and the cache
    // goes before the failing run so that run has to ask IAM (with the wrong password).
    let cache = files(&dir.path().join("state/auth"));
    assert_eq!(cache.len(), 1, "one cached IAM token");
    let cache: serde_json::Value = serde_json::from_slice(&cache[0].1).unwrap();
    let issued = cache["token"].as_str().unwrap().to_string();
    std::fs::remove_dir_all(dir.path().join("state/auth")).unwrap();
    let second = apply(dir.path(), REJECTED, WRONG_PASSWORD, "json");
    assert_eq!(
        second.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report = String::from_utf8_lossy(&second.stdout);
    assert!(report.contains("(APIGW.0301)"), "{report}");
    assert!(
        report.contains("refused the user from LEAK_IAM_USER: HTTP 401"),
        "{report}"
    );
    runtime.block_on(sandbox.shutdown());

    let written: Vec<(std::path::PathBuf, Vec<u8>)> = files(dir.path())
        .into_iter()
        .filter(|(path, _)| !path.ends_with("job.yaml") && !path.ends_with("token.txt"))
        .chain([
            ("first stdout".into(), first.stdout),
            ("first stderr".into(), first.stderr),
            ("second stdout".into(), second.stdout),
            ("second stderr".into(), second.stderr),
        ])
        .collect();
    assert!(
        written.iter().any(|(p, _)| p.ends_with("report.json")),
        "a report was written"
    );
    let secrets = [
        ENV,
        FILE,
        COMMAND,
        IAM_PASSWORD,
        SK,
        SECURITY_TOKEN,
        REJECTED,
        WRONG_PASSWORD,
        &issued,
    ];
    for (path, bytes) in &written {
        for secret in secrets {
            assert!(
                !contains(bytes, secret),
                "{secret} leaked into {}",
                path.display()
            );
        }
    }
}
