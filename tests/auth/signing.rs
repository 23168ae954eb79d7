//! Hand-crafted signed requests: signed exactly as the SDK does they are accepted; any byte
//! changed after signing (body, path, query, date, a signed header) is rejected with 401
//! `APIGW.0301`, and a stale date is rejected however well it is signed.

use reqprune::auth::{Secret, sign};
use reqprune::sandbox::SandboxConfig;

use super::{PROJECT, issues_path, sandbox};

const OTHER_PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// A request as signed, and as sent.
#[derive(Clone)]
struct Parts {
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn delete(ids: &str, date: time::OffsetDateTime) -> Parts {
    Parts {
        method: "DELETE",
        path: issues_path(),
        query: Vec::new(),
        headers: vec![
            (
                "Content-Type".into(),
                "application/json;charset=utf-8".into(),
            ),
            ("User-Agent".into(), "huaweicloud-usdk-python/3.0".into()),
            ("X-Sdk-Date".into(), date.format(sign::DATE_FORMAT).unwrap()),
        ],
        body: format!("{{\"issue_ids\": [{ids}]}}").into_bytes(),
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Sign `signed` with (ak, sk), send `sent` with that signature; (status, error code).
async fn send(
    base: &str,
    ak: &str,
    sk: &str,
    signed: &Parts,
    sent: &Parts,
) -> (u16, Option<String>) {
    let host = base.trim_start_matches("http://").to_string();
    let signature = sign::sign(
        ak,
        &Secret::new(sk),
        &sign::SignInput {
            method: signed.method,
            host: &host,
            path: &signed.path,
            query: &signed.query,
            headers: &signed.headers,
            body: &signed.body,
        },
    );
    let query = sign::canonical_query(&sent.query);
    let mut url = format!("{base}{}", sent.path);
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    let method = reqwest::Method::from_bytes(sent.method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("Authorization", signature.authorization)
        .body(sent.body.clone());
    for (name, value) in &sent.headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error_code"].as_str().map(str::to_string))
}

#[tokio::test]
async fn signed_batch_delete_is_accepted_and_every_tampering_rejected() {
    let keys: Vec<(String, String)> = (0..8)
        .map(|i| (format!("AK{i}"), format!("SK-{i}")))
        .collect();
    let sandbox = sandbox(
        SandboxConfig {
            aksk: keys.clone(),
            ..SandboxConfig::default()
        }
        .with_project(OTHER_PROJECT, &[(1, 1000)]),
    )
    .await;
    let base = sandbox.base_url();
    let key = |i: usize| (keys[i].0.as_str(), keys[i].1.as_str());
    let rejected = (401, Some("APIGW.0301".to_string()));

    let good = delete("1, 2", now());
    let (ak, sk) = key(0);
    assert_eq!(send(&base, ak, sk, &good, &good).await, (204, None));

    let (ak, sk) = key(1);
    let other_body = Parts {
        body: br#"{"issue_ids": [3, 4]}"#.to_vec(),
        ..good.clone()
    };
    assert_eq!(
        send(&base, ak, sk, &good, &other_body).await,
        rejected,
        "body"
    );

    let (ak, sk) = key(2);
    let other_path = Parts {
        path: format!("/v4/projects/{OTHER_PROJECT}/issues"),
        ..good.clone()
    };
    assert_eq!(
        send(&base, ak, sk, &good, &other_path).await,
        rejected,
        "path"
    );

    let (ak, sk) = key(3);
    let with_query = Parts {
        query: vec![("force".into(), "0".into())],
        ..delete("5", now())
    };
    let other_query = Parts {
        query: vec![("force".into(), "1".into())],
        ..with_query.clone()
    };
    assert_eq!(
        send(&base, ak, sk, &with_query, &other_query).await,
        rejected,
        "query"
    );

    let (ak, sk) = key(4);
    let mut other_date = good.clone();
    other_date.headers[2].1 = (now() + time::Duration::seconds(1))
        .format(sign::DATE_FORMAT)
        .unwrap();
    assert_eq!(
        send(&base, ak, sk, &good, &other_date).await,
        rejected,
        "date"
    );

    let (ak, sk) = key(5);
    let mut other_agent = good.clone();
    other_agent.headers[1].1 = "huaweicloud-usdk-python/3.1".into();
    assert_eq!(
        send(&base, ak, sk, &good, &other_agent).await,
        rejected,
        "header"
    );

    let (ak, sk) = key(6);
    let stale = delete("6", now() - time::Duration::minutes(20));
    assert_eq!(
        send(&base, ak, sk, &stale, &stale).await,
        rejected,
        "stale date"
    );

    // Some Go SDK versions leave content-type unsigned: the verifier follows SignedHeaders.
    let (ak, sk) = key(7);
    let full = delete("7", now());
    let without_type = Parts {
        headers: full.headers[1..].to_vec(),
        ..full.clone()
    };
    assert_eq!(
        send(&base, ak, sk, &without_type, &full).await,
        (204, None),
        "go-style"
    );

    // Wrong key entirely.
    let (ak, _) = key(0);
    assert_eq!(
        send(&base, ak, "not-the-sk", &good, &good).await,
        rejected,
        "wrong sk"
    );

    let stats = sandbox.stats();
    assert_eq!(stats.deleted.get(PROJECT), Some(&vec![1, 2, 7]));
    assert!(stats.deleted.get(OTHER_PROJECT).is_none_or(Vec::is_empty));
    sandbox.shutdown().await;
}
