//! Helpers shared by the sandbox test files: a project id, a signed-request builder using the
//! crate's own signer, and JSON/response shortcuts. Only ever talks to 127.0.0.1.

#![allow(dead_code)]

use reqprune::auth::Secret;
use reqprune::auth::sign::{self, SignInput};
use serde_json::Value;

pub const PID: &str = "526cefde62004de2b62b5e8dd2c2b3af";
pub const PID2: &str = "0123456789abcdef0123456789ABCDEF";
pub const TOKEN: &str = "sandbox-test-token-0123456789";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

pub fn issues_url(base: &str, pid: &str) -> String {
    format!("{base}/v4/projects/{pid}/issues")
}

/// A batch delete with a token.
pub async fn delete_with_token(base: &str, pid: &str, ids: &[u64]) -> reqwest::Response {
    client()
        .delete(issues_url(base, pid))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json;charset=utf-8")
        .body(serde_json::json!({ "issue_ids": ids }).to_string())
        .send()
        .await
        .expect("sandbox answers")
}

/// `X-Sdk-Date` for now.
pub fn sdk_date_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(sign::DATE_FORMAT)
        .unwrap()
}

/// A request signed as the official SDK signs it (content-type, host, user-agent, x-sdk-date).
pub fn signed(
    method: reqwest::Method,
    base: &str,
    path: &str,
    query: &[(String, String)],
    body: &str,
    (ak, sk): (&str, &str),
    date: &str,
) -> reqwest::RequestBuilder {
    let host = base.trim_start_matches("http://").to_string();
    let headers = vec![
        (
            "Content-Type".to_string(),
            "application/json;charset=utf-8".to_string(),
        ),
        (
            "User-Agent".to_string(),
            "huaweicloud-usdk-python/3.0".to_string(),
        ),
        ("X-Sdk-Date".to_string(), date.to_string()),
    ];
    let input = SignInput {
        method: method.as_str(),
        host: &host,
        path,
        query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let signature = sign::sign(ak, &Secret::new(sk), &input);
    let query_string = sign::canonical_query(query);
    let url = if query_string.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query_string}")
    };
    let mut request = client().request(method, url);
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    request
        .header("Authorization", signature.authorization)
        .body(body.to_string())
}

pub async fn json(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Status, `error_code` and whether `X-Request-Id` was present.
pub async fn error(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries X-Request-Id"
    );
    let body = json(response).await;
    let code = body["error_code"].as_str().unwrap_or_default().to_string();
    (status, code, body)
}

/// `GET url` with no credentials (the inspection routes), as JSON.
pub async fn get_json(url: &str) -> Value {
    json(client().get(url).send().await.expect("sandbox answers")).await
}
