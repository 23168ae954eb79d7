//! No secret in any log line, at any level, from any crate: every source kind is used with a
//! recognisable secret, successfully and unsuccessfully, while a global subscriber records
//! everything at TRACE (reqwest's and hyper's own `log` records included); then every byte
//! logged, every error's Display and Debug, and the request log are searched for the secrets.
//!
//! The complete version of this test, a whole `apply` run with all five sources, greps the
//! binary's stdout, stderr, state folder and report; this one covers the client and sources.

use std::io::{Read, Seek};
use std::sync::Mutex;
use std::time::Duration;

use reqprune::auth::AuthContext;
use reqprune::job::{AkskSource, IamSource, TokenSource};
use reqprune::sandbox::{IamUser, SandboxConfig};

use super::{PROJECT, client, client_with, context, sandbox, set_env};

const ENV: &str = "LEAKCANARY-env-5b1f0e";
const FILE: &str = "LEAKCANARY-file-9c2d47";
const COMMAND: &str = "LEAKCANARY-command-3e8a10";
const COMMAND_STDOUT: &str = "LEAKCANARY-command-stdout-77ad02";
const IAM_PASSWORD: &str = "LEAKCANARY-iam-password-c40b9e";
const WRONG_PASSWORD: &str = "LEAKCANARY-wrong-password-11fe3a";
const SK: &str = "LEAKCANARY-sk-6d93aa";
const SECURITY_TOKEN: &str = "LEAKCANARY-sts-0f7e21";
const REJECTED_TOKEN: &str = "LEAKCANARY-rejected-token-a9c3b8";

#[tokio::test]
async fn no_secret_reaches_any_log_line_or_error() {
    let mut log = tempfile::tempfile().unwrap();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(Mutex::new(log.try_clone().unwrap()))
        .with_ansi(false)
        .try_init()
        .expect("the only global subscriber of this test binary");

    let sandbox = sandbox(SandboxConfig {
        tokens: vec![ENV.into(), FILE.into(), COMMAND.into()],
        aksk: vec![("AK-LEAK".into(), SK.into())],
        iam_users: vec![IamUser::new("leak-account", "robot", IAM_PASSWORD)],
        token_ttl: Duration::from_secs(3600),
        ..SandboxConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut outcomes = Vec::new();

    set_env("RQP_LEAK_ENV", ENV);
    outcomes.push(format!(
        "{:?}",
        client(&sandbox, TokenSource::Env("RQP_LEAK_ENV".into()))
            .batch_delete(PROJECT, &[1])
            .await
    ));

    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{FILE}\n")).unwrap();
    let file = TokenSource::File(token_file.display().to_string());
    outcomes.push(format!(
        "{:?}",
        client(&sandbox, file).batch_delete(PROJECT, &[2]).await
    ));

    let command = TokenSource::Command(vec!["echo".into(), COMMAND.into()]);
    outcomes.push(format!(
        "{:?}",
        client(&sandbox, command).batch_delete(PROJECT, &[3]).await
    ));

    set_env("RQP_LEAK_USER", "robot");
    set_env("RQP_LEAK_PASSWORD", IAM_PASSWORD);
    set_env("RQP_LEAK_WRONG_PASSWORD", WRONG_PASSWORD);
    let iam = |password_env: &str| {
        TokenSource::Iam(IamSource {
            domain: "leak-account".into(),
            user_env: "RQP_LEAK_USER".into(),
            password_env: password_env.into(),
            scope_project: None,
            scope_domain: Some("leak-account".into()),
            endpoint: None,
        })
    };
    let cached = AuthContext {
        state_dir: Some(state.clone()),
        ..context(&sandbox)
    };
    let iam_client = client_with(&sandbox, iam("RQP_LEAK_PASSWORD"), cached);
    outcomes.push(format!(
        "{:?}",
        iam_client.batch_delete(PROJECT, &[4]).await
    ));
    sandbox.expire_tokens();
    outcomes.push(format!(
        "{:?}",
        iam_client.batch_delete(PROJECT, &[5]).await
    ));
    outcomes.push(format!(
        "{:?}",
        client(&sandbox, iam("RQP_LEAK_WRONG_PASSWORD"))
            .get_issue(PROJECT, 1)
            .await
    ));

    set_env("RQP_LEAK_AK", "AK-LEAK");
    set_env("RQP_LEAK_SK", SK);
    set_env("RQP_LEAK_STS", SECURITY_TOKEN);
    let aksk = TokenSource::Aksk(AkskSource {
        ak_env: "RQP_LEAK_AK".into(),
        sk_env: "RQP_LEAK_SK".into(),
        security_token_env: Some("RQP_LEAK_STS".into()),
        project_id: None,
    });
    outcomes.push(format!(
        "{:?}",
        client(&sandbox, aksk).batch_delete(PROJECT, &[6]).await
    ));

    set_env("RQP_LEAK_REJECTED", REJECTED_TOKEN);
    let rejected = client(&sandbox, TokenSource::Env("RQP_LEAK_REJECTED".into()));
    for _ in 0..4 {
        let error = rejected.batch_delete(PROJECT, &[7]).await.unwrap_err();
        outcomes.push(format!("{error} {error:?}"));
    }
    let failing = TokenSource::Command(vec![
        "sh".into(),
        "-c".into(),
        format!("echo {COMMAND_STDOUT}; echo 'token service unavailable' >&2; exit 2"),
    ]);
    let error = client(&sandbox, failing)
        .batch_delete(PROJECT, &[8])
        .await
        .unwrap_err();
    outcomes.push(format!("{error} {error:?}"));

    let deleted = sandbox.stats().deleted[PROJECT].clone();
    assert_eq!(
        deleted,
        [1, 2, 3, 4, 5, 6],
        "every good source worked: {outcomes:#?}"
    );
    let requests = serde_json::to_string(&sandbox.requests()).unwrap();
    sandbox.shutdown().await;

    // The token IAM issued is a secret too; only its 0600 cache file may hold it.
    let cache_dir = state.join("auth");
    let cache_file = std::fs::read_dir(&cache_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let cache: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cache_file).unwrap()).unwrap();
    let issued = cache["token"].as_str().unwrap().to_string();

    let mut logs = String::new();
    log.rewind().unwrap();
    log.read_to_string(&mut logs).unwrap();
    assert!(logs.contains("TRACE"), "trace-level lines were captured");
    assert!(
        logs.contains("reqwest") || logs.contains("hyper"),
        "the HTTP stack's own logs were captured"
    );
    assert!(logs.contains("credential rejected"), "failures were logged");
    let everything = format!("{logs}\n{}\n{requests}", outcomes.join("\n"));
    assert!(
        everything.contains("token service unavailable"),
        "stderr of a failing command is shown"
    );
    for secret in [
        ENV,
        FILE,
        COMMAND,
        COMMAND_STDOUT,
        IAM_PASSWORD,
        WRONG_PASSWORD,
        SK,
        SECURITY_TOKEN,
        REJECTED_TOKEN,
        &issued,
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}
