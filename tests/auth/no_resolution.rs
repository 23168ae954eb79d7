//! `validate` and `plan` resolve no credential: with every variable unset, the token file
//! missing, IAM unreachable and a command that would leave a mark, both still succeed, and
//! the command never runs. This is what lets a pull request get a plan without secrets.

use std::process::{Command, Stdio};

const JOB: &str = "version: 1\nname: no-secrets-needed\nendpoint: https://projectman-ext.cn-north-4.myhuaweicloud.com\n\
tokens:\n\
\x20 by-env: { env: RQP_NEVER_SET_TOKEN }\n\
\x20 by-file: { file: missing-token.txt }\n\
\x20 by-command: { command: [sh, -c, \"touch command-ran; echo token-0123456789\"] }\n\
\x20 by-iam: { iam: { domain: d, user_env: RQP_NEVER_SET_USER, password_env: RQP_NEVER_SET_PASSWORD, scope_project: cn-north-4, endpoint: \"http://127.0.0.1:1\" } }\n\
\x20 by-aksk: { aksk: { ak_env: RQP_NEVER_SET_AK, sk_env: RQP_NEVER_SET_SK } }\n\
projects:\n\
\x20 - { id: e1111111111111111111111111111111, token: by-env, delete: [1, 2] }\n\
\x20 - { id: f2222222222222222222222222222222, token: by-file, delete: [3] }\n\
\x20 - { id: c3333333333333333333333333333333, token: by-command, delete: [4] }\n\
\x20 - { id: a4444444444444444444444444444444, token: by-iam, delete: [5] }\n\
\x20 - { id: b5555555555555555555555555555555, token: by-aksk, delete: [6] }\n";

#[test]
fn validate_and_plan_resolve_no_credential() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("job.yaml"), JOB).unwrap();
    for args in [
        vec!["validate", "job.yaml"],
        vec!["plan", "job.yaml", "--state-dir", "state"],
        vec![
            "plan",
            "job.yaml",
            "--state-dir",
            "state",
            "--format",
            "json",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_reqprune"))
            .current_dir(dir.path())
            .args(&args)
            .env_remove("REQPRUNE_STATE_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !dir.path().join("command-ran").exists(),
            "{args:?} ran the command"
        );
    }
}
