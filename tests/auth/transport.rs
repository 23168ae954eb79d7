//! The transport rules: `User-Agent: reqprune/VERSION` and an exact `Host`, no redirect
//! followed (it would carry the token elsewhere), plain http only to loopback, `Retry-After`
//! and error bodies read into the `Reply`, and each transport failure classified.

use std::time::Duration;

use reqprune::api::{ApiError, Client, ClientOptions, TransportKind};
use reqprune::job::TokenSource;
use reqprune::sandbox::SandboxConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{PROJECT, client, sandbox, set_env};

/// A one-shot HTTP server: answers the first request with `response` and returns its head.
async fn one_shot(response: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.ok();
        String::from_utf8_lossy(&head).into_owned()
    });
    (base, task)
}

fn token_client(base: &str, env: &str) -> Client {
    set_env(env, "transport-token-0123456789");
    let auth = reqprune::auth::Authenticator::new(
        &TokenSource::Env(env.into()),
        std::path::Path::new("."),
        reqprune::auth::AuthContext::new(base),
    );
    Client::new(base, std::sync::Arc::new(auth), ClientOptions::default()).unwrap()
}

#[tokio::test]
async fn sends_its_user_agent_and_host_and_reads_retry_after() {
    let (base, server) = one_shot(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nX-Request-Id: req-42\r\n\
         Content-Type: application/json\r\nContent-Length: 62\r\nConnection: close\r\n\r\n\
         {\"error_code\":\"APIGW.0308\",\"error_msg\":\"throttled, slow down\"}",
    )
    .await;
    let reply = token_client(&base, "RQP_IT_T_UA")
        .get_issue(PROJECT, 7)
        .await
        .unwrap();
    assert_eq!(reply.status, 429);
    assert_eq!(reply.retry_after, Some(Duration::from_secs(3)));
    assert_eq!(reply.request_id.as_deref(), Some("req-42"));
    assert_eq!(reply.error_code.as_deref(), Some("APIGW.0308"));
    assert_eq!(reply.error_msg.as_deref(), Some("throttled, slow down"));
    let head = server.await.unwrap().to_ascii_lowercase();
    assert!(
        head.starts_with(&format!("get /v4/projects/{PROJECT}/issues/7 http/1.1")),
        "{head}"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        head.contains(&format!("user-agent: reqprune/{version}\r\n")),
        "{head}"
    );
    let host = base.trim_start_matches("http://");
    assert!(head.contains(&format!("host: {host}\r\n")), "{head}");
}

#[tokio::test]
async fn never_follows_a_redirect() {
    let (elsewhere, target) = one_shot("HTTP/1.1 204 No Content\r\n\r\n").await;
    let response: &'static str = Box::leak(
        format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere}/steal\r\nContent-Length: 0\r\n\r\n")
            .into_boxed_str(),
    );
    let (base, _server) = one_shot(response).await;
    let reply = token_client(&base, "RQP_IT_T_REDIRECT")
        .batch_delete(PROJECT, &[1])
        .await
        .unwrap();
    assert_eq!(reply.status, 307);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!target.is_finished(), "the redirect target was contacted");
    target.abort();
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    for bad in [
        "http://10.0.0.1:8080",
        "http://projectman-ext.cn-north-4.myhuaweicloud.com",
    ] {
        let auth = reqprune::auth::Authenticator::new(
            &TokenSource::Env("UNUSED".into()),
            std::path::Path::new("."),
            reqprune::auth::AuthContext::new(bad),
        );
        let error = Client::new(bad, std::sync::Arc::new(auth), ClientOptions::default()).err();
        assert!(
            matches!(error, Some(ApiError::InvalidEndpoint(_))),
            "{bad}: {error:?}"
        );
    }
}

fn kind(error: &ApiError) -> Option<TransportKind> {
    match error {
        ApiError::Transport { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[tokio::test]
async fn transport_failures_are_classified() {
    // Nothing listens on port 1.
    let error = token_client("http://127.0.0.1:1", "RQP_IT_T_CONNECT")
        .get_issue(PROJECT, 1)
        .await
        .unwrap_err();
    assert_eq!(kind(&error), Some(TransportKind::Connect), "{error:?}");

    set_env("RQP_IT_T_DROP", "good-token-0123456789");
    let dropping = sandbox(SandboxConfig {
        tokens: vec!["good-token-0123456789".into()],
        drop_rate: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let error = client(&dropping, TokenSource::Env("RQP_IT_T_DROP".into()))
        .batch_delete(PROJECT, &[1])
        .await
        .unwrap_err();
    assert_eq!(kind(&error), Some(TransportKind::Reset), "{error:?}");
    dropping.shutdown().await;

    let slow = sandbox(SandboxConfig {
        tokens: vec!["good-token-0123456789".into()],
        latency: Some((Duration::from_secs(3), Duration::from_secs(3))),
        ..SandboxConfig::default()
    })
    .await;
    let auth = reqprune::auth::Authenticator::new(
        &TokenSource::Env("RQP_IT_T_DROP".into()),
        std::path::Path::new("."),
        super::context(&slow),
    );
    let options = ClientOptions {
        request_timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    };
    let client = Client::new(&slow.base_url(), std::sync::Arc::new(auth), options).unwrap();
    let error = client.get_issue(PROJECT, 1).await.unwrap_err();
    assert_eq!(kind(&error), Some(TransportKind::Timeout), "{error:?}");
}
