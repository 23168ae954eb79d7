//! Every token source through `api::Client` against the sandbox: success, the 401 refresh
//! path, IAM issue / renewal / refresh / cache / wrong password, and the cap of three failed
//! authentications in a row (also under concurrency).

use std::time::Duration;

use reqprune::api::ApiError;
use reqprune::auth::{AuthContext, AuthError};
use reqprune::job::{AkskSource, IamSource, TokenSource};
use reqprune::sandbox::{IamUser, SandboxConfig};

use super::{PROJECT, client, client_with, context, issues_path, sandbox, set_env, statuses};

const GOOD_TOKEN: &str = "good-token-0123456789";

fn tokens_config() -> SandboxConfig {
    SandboxConfig {
        tokens: vec![GOOD_TOKEN.into()],
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn env_file_and_aksk_sources_are_accepted() {
    let sandbox = sandbox(SandboxConfig {
        aksk: vec![("AK-SOURCES".into(), "sk-sources".into())],
        ..tokens_config()
    })
    .await;
    set_env("RQP_IT_ENV_TOKEN", GOOD_TOKEN);
    let reply = client(&sandbox, TokenSource::Env("RQP_IT_ENV_TOKEN".into()))
        .batch_delete(PROJECT, &[1, 2])
        .await
        .unwrap();
    assert_eq!(reply.status, 204);
    assert!(reply.request_id.is_some());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{GOOD_TOKEN}\n")).unwrap();
    let file = TokenSource::File(dir.path().join("token").display().to_string());
    let reply = client(&sandbox, file)
        .batch_delete(PROJECT, &[3])
        .await
        .unwrap();
    assert_eq!(reply.status, 204);

    set_env("RQP_IT_AK", "AK-SOURCES");
    set_env("RQP_IT_SK", "sk-sources");
    set_env("RQP_IT_STS", "sts-token-for-temporary-keys");
    let aksk = TokenSource::Aksk(AkskSource {
        ak_env: "RQP_IT_AK".into(),
        sk_env: "RQP_IT_SK".into(),
        security_token_env: Some("RQP_IT_STS".into()),
        project_id: Some("0123456789abcdef0123456789abcdef".into()),
    });
    let client = client(&sandbox, aksk);
    assert_eq!(
        client.batch_delete(PROJECT, &[4, 5]).await.unwrap().status,
        204
    );
    assert_eq!(client.get_issue(PROJECT, 6).await.unwrap().status, 200);

    assert_eq!(sandbox.stats().deleted[PROJECT], vec![1, 2, 3, 4, 5]);
    let schemes: Vec<String> = sandbox.requests().into_iter().map(|r| r.auth).collect();
    assert_eq!(schemes, ["token", "token", "aksk", "aksk"]);
    sandbox.shutdown().await;
}

/// A command that prints `bad-token-...` on its first run and the good token afterwards.
fn rotating_command(dir: &std::path::Path) -> TokenSource {
    let script = format!(
        "cd {} && if [ -e ran ]; then echo {GOOD_TOKEN}; else touch ran; echo bad-token-0123456789; fi",
        dir.display()
    );
    TokenSource::Command(vec!["sh".into(), "-c".into(), script])
}

#[tokio::test]
async fn a_401_makes_a_command_source_fetch_again_and_the_request_retry_once() {
    let sandbox = sandbox(tokens_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let client = client(&sandbox, rotating_command(dir.path()));
    let reply = client.batch_delete(PROJECT, &[10, 11]).await.unwrap();
    assert_eq!(reply.status, 204);
    assert_eq!(statuses(&sandbox, &issues_path()), [Some(401), Some(204)]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_second_401_is_unauthorized_and_the_fourth_attempt_is_never_sent() {
    let sandbox = sandbox(tokens_config()).await;
    let always_bad = TokenSource::Command(vec!["echo".into(), "bad-token-0123456789".into()]);
    let client = client(&sandbox, always_bad);
    let first = client.batch_delete(PROJECT, &[1]).await.unwrap_err();
    assert!(
        matches!(&first, ApiError::Unauthorized { code: Some(code), request_id: Some(_), .. } if code == "APIGW.0301"),
        "{first:?}"
    );
    let second = client.batch_delete(PROJECT, &[1]).await.unwrap_err();
    assert!(
        matches!(
            second,
            ApiError::Auth(AuthError::TooManyFailures { failures: 3, .. })
        ),
        "{second:?}"
    );
    assert_eq!(statuses(&sandbox, &issues_path()), [Some(401); 3]);
    assert!(client.get_issue(PROJECT, 1).await.is_err());
    assert_eq!(sandbox.requests().len(), 3, "nothing more is sent");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_sk_fails_at_most_three_times_even_with_sixteen_requests_at_once() {
    let sandbox = sandbox(SandboxConfig {
        aksk: vec![("AK-CONCURRENT".into(), "right-sk".into())],
        ..SandboxConfig::default()
    })
    .await;
    set_env("RQP_IT_AK_C", "AK-CONCURRENT");
    set_env("RQP_IT_SK_C", "wrong-sk");
    let aksk = TokenSource::Aksk(AkskSource {
        ak_env: "RQP_IT_AK_C".into(),
        sk_env: "RQP_IT_SK_C".into(),
        security_token_env: None,
        project_id: None,
    });
    let client = client(&sandbox, aksk);
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.batch_delete(PROJECT, &[i + 1]).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_err());
    }
    assert_eq!(statuses(&sandbox, &issues_path()), [Some(401); 3]);
    sandbox.shutdown().await;
}

fn iam_config(ttl: Duration) -> SandboxConfig {
    SandboxConfig {
        iam_users: vec![IamUser::new("example-account", "robot", "iam-password-1")],
        token_ttl: ttl,
        ..SandboxConfig::default()
    }
}

fn iam_source(user_env: &str, password_env: &str) -> TokenSource {
    TokenSource::Iam(IamSource {
        domain: "example-account".into(),
        user_env: user_env.into(),
        password_env: password_env.into(),
        scope_project: Some("cn-north-4".into()),
        scope_domain: None,
        endpoint: Some("https://iam.invalid".into()),
    })
}

const IAM: &str = "/v3/auth/tokens";

#[tokio::test]
async fn iam_tokens_are_issued_once_renewed_before_expiry_and_refreshed_after_a_401() {
    let sandbox = sandbox(iam_config(Duration::from_secs(2))).await;
    set_env("RQP_IT_IAM_USER", "robot");
    set_env("RQP_IT_IAM_PASSWORD", "iam-password-1");
    let client = client(
        &sandbox,
        iam_source("RQP_IT_IAM_USER", "RQP_IT_IAM_PASSWORD"),
    );
    for id in 1..=3 {
        assert_eq!(client.get_issue(PROJECT, id).await.unwrap().status, 200);
    }
    assert_eq!(
        statuses(&sandbox, IAM),
        [Some(201)],
        "one token for the run"
    );

    // Past half its 2-second life the token is renewed before use, with no failed request.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(client.get_issue(PROJECT, 4).await.unwrap().status, 200);
    assert_eq!(statuses(&sandbox, IAM), [Some(201), Some(201)]);

    // Revoked early: the service says 0307, the client fetches a new token and retries.
    sandbox.expire_tokens();
    assert_eq!(
        client.batch_delete(PROJECT, &[5]).await.unwrap().status,
        204
    );
    assert_eq!(statuses(&sandbox, IAM), [Some(201); 3]);
    let api: Vec<_> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == super::issues_path())
        .map(|r| (r.status, r.error_code))
        .collect();
    assert_eq!(
        api,
        [(Some(401), Some("APIGW.0307".into())), (Some(204), None)]
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_iam_password_is_a_clear_error_without_the_password() {
    let sandbox = sandbox(iam_config(Duration::from_secs(3600))).await;
    set_env("RQP_IT_IAM_USER_W", "robot");
    set_env("RQP_IT_IAM_PASSWORD_W", "wrong-password-xyz");
    let client = client(
        &sandbox,
        iam_source("RQP_IT_IAM_USER_W", "RQP_IT_IAM_PASSWORD_W"),
    );
    let error = client.batch_delete(PROJECT, &[1]).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ApiError::Auth(AuthError::IamRejected { status: 401, .. })
        ),
        "{error:?}"
    );
    let text = format!("{error} {error:?}");
    assert!(text.contains("RQP_IT_IAM_USER_W"), "{text}");
    assert!(
        text.contains("The username or password is wrong."),
        "{text}"
    );
    assert!(!text.contains("wrong-password-xyz"), "{text}");
    // The failure is remembered: IAM is asked once per run, not once per batch.
    assert!(client.batch_delete(PROJECT, &[2]).await.is_err());
    assert_eq!(statuses(&sandbox, IAM), [Some(401)]);
    assert!(statuses(&sandbox, &issues_path()).is_empty());
    sandbox.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn iam_tokens_are_cached_in_the_state_folder_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = sandbox(iam_config(Duration::from_secs(3600))).await;
    set_env("RQP_IT_IAM_USER_C", "robot");
    set_env("RQP_IT_IAM_PASSWORD_C", "iam-password-1");
    let state = tempfile::tempdir().unwrap();
    let ctx = AuthContext {
        state_dir: Some(state.path().to_path_buf()),
        ..context(&sandbox)
    };
    let source = iam_source("RQP_IT_IAM_USER_C", "RQP_IT_IAM_PASSWORD_C");
    for _run in 0..2 {
        let client = client_with(&sandbox, source.clone(), ctx.clone());
        assert_eq!(client.get_issue(PROJECT, 1).await.unwrap().status, 200);
    }
    assert_eq!(
        statuses(&sandbox, IAM),
        [Some(201)],
        "the second run used the cache"
    );
    let cached: Vec<_> = std::fs::read_dir(state.path().join("auth"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1);
    let mode = std::fs::metadata(&cached[0]).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(state.path().join("auth"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let text = std::fs::read_to_string(&cached[0]).unwrap();
    assert!(
        !text.contains("iam-password-1"),
        "the password is never cached"
    );

    // A cached token the service no longer accepts is replaced after one 401.
    sandbox.expire_tokens();
    let client = client_with(&sandbox, source, ctx);
    assert_eq!(client.get_issue(PROJECT, 2).await.unwrap().status, 200);
    assert_eq!(statuses(&sandbox, IAM), [Some(201); 2]);
    assert_ne!(
        std::fs::read_to_string(&cached[0]).unwrap(),
        text,
        "cache rewritten"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_iam_is_an_error_naming_it() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    set_env("RQP_IT_IAM_USER_U", "robot");
    set_env("RQP_IT_IAM_PASSWORD_U", "pw");
    let ctx = AuthContext {
        iam_endpoint_override: Some("http://127.0.0.1:1".into()),
        ..context(&sandbox)
    };
    let client = client_with(
        &sandbox,
        iam_source("RQP_IT_IAM_USER_U", "RQP_IT_IAM_PASSWORD_U"),
        ctx,
    );
    let error = client.get_issue(PROJECT, 1).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Auth(AuthError::IamTransport { endpoint, .. }) if endpoint == "http://127.0.0.1:1"),
        "{error:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_iam_token_revoked_under_sixteen_requests_is_refreshed_once_and_all_succeed() {
    let sandbox = sandbox(iam_config(Duration::from_secs(3600))).await;
    set_env("RQP_IT_IAM_USER_16", "robot");
    set_env("RQP_IT_IAM_PASSWORD_16", "iam-password-1");
    let client = client(
        &sandbox,
        iam_source("RQP_IT_IAM_USER_16", "RQP_IT_IAM_PASSWORD_16"),
    );
    assert_eq!(client.get_issue(PROJECT, 1).await.unwrap().status, 200);
    sandbox.expire_tokens();
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.batch_delete(PROJECT, &[i * 10 + 1]).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 204);
    }
    assert_eq!(statuses(&sandbox, IAM), [Some(201); 2], "one refresh");
    assert_eq!(sandbox.stats().deleted[PROJECT].len(), 16);
    sandbox.shutdown().await;
}
