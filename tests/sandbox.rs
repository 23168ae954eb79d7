//! The sandbox's protocol, through its library API on 127.0.0.1: routes, validation, error
//! codes, both authentication schemes, IAM tokens, inspection and embedded persistence.

mod support;

use std::time::Duration;

use reqprune::sandbox::{IamUser, MissingIds, Sandbox, SandboxConfig};
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

async fn sandbox(config: SandboxConfig) -> Sandbox {
    let config = SandboxConfig {
        tokens: vec![TOKEN.into()],
        aksk: vec![("AccessKey".into(), "SecretKey".into())],
        ..config
    }
    .with_project(PID, &[(1, 1000)])
    .with_project(PID2, &[(5000, 5009)]);
    Sandbox::start(config).await.expect("sandbox starts")
}

#[tokio::test]
async fn batch_delete_with_a_token_and_what_inspection_shows() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let response = delete_with_token(&base, PID, &[3, 1, 2]).await;
    assert_eq!(response.status(), 204);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(delete_with_token(&base, PID, &[10]).await.status(), 204);

    let stats = get_json(&format!("{base}/__sandbox/stats")).await;
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["by_status"], json!({"204": 2}));
    assert_eq!(stats["deleted"][PID], json!([3, 1, 2, 10]));
    assert_eq!(stats["deleted"][PID2], json!([]));
    assert_eq!(stats["remaining"], json!({PID: 996, PID2: 10}));
    assert_eq!(serde_json::to_value(sb.stats()).unwrap(), stats);

    let log = get_json(&format!("{base}/__sandbox/requests")).await;
    let first = &log[0];
    assert_eq!(first["method"], "DELETE");
    assert_eq!(first["path"], format!("/v4/projects/{PID}/issues"));
    assert_eq!(first["status"], 204);
    assert_eq!(first["ids"], json!([3, 1, 2]));
    assert_eq!(first["auth"], "token");
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(log.as_array().unwrap().len(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn accepts_every_json_content_type_the_sdks_send() {
    let sb = sandbox(SandboxConfig::default()).await;
    for (n, content_type) in [
        "application/json",
        "application/json;charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=utf-8",
    ]
    .into_iter()
    .enumerate()
    {
        let response = client()
            .delete(issues_url(&sb.base_url(), PID))
            .header("X-Auth-Token", TOKEN)
            .header("Content-Type", content_type)
            .body(format!("{{\"issue_ids\": [{}]}}", n + 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{content_type}");
    }
    let response = client()
        .delete(issues_url(&sb.base_url(), PID))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "text/plain")
        .body("{\"issue_ids\": [9]}")
        .send()
        .await
        .unwrap();
    assert_eq!(error(response).await.1, "PM.02152001");
    assert_eq!(sb.stats().remaining[PID], 996);
}

#[tokio::test]
async fn invalid_batches_are_rejected_whole() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let many: Vec<u64> = (1..=101).collect();
    for body in [
        json!({"issue_ids": []}).to_string(),
        json!({"issue_ids": many}).to_string(),
        json!({"issue_ids": [1, "2"]}).to_string(),
        json!({"issue_ids": [1, 2.5]}).to_string(),
        json!({"issue_ids": [1, -2]}).to_string(),
        json!({"issue_ids": [12345678901u64]}).to_string(),
        json!({"ids": [1]}).to_string(),
        "not json".to_string(),
        String::new(),
    ] {
        let response = client()
            .delete(issues_url(&base, PID))
            .header("X-Auth-Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, code, _) = error(response).await;
        assert_eq!((status, code.as_str()), (400, "PM.02152001"), "{body}");
    }
    let (status, code, body) = error(delete_with_token(&base, "not-a-project", &[1]).await).await;
    assert_eq!((status, code.as_str()), (400, "PM.02152001"));
    assert!(
        body.get("request_id").is_none(),
        "service errors have no request_id"
    );
    let unknown = "ffffffffffffffffffffffffffffffff";
    let (status, code, _) = error(delete_with_token(&base, unknown, &[1]).await).await;
    assert_eq!((status, code.as_str()), (400, "PM.02152005"));
    assert_eq!(sb.stats().deleted[PID], Vec::<u64>::new());
}

#[tokio::test]
async fn missing_ids_reject_the_batch_or_are_ignored() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let (status, code, body) = error(delete_with_token(&base, PID, &[5, 1001, 6]).await).await;
    assert_eq!((status, code.as_str()), (400, "PM.02152001"));
    assert!(body["error_msg"].as_str().unwrap().contains("1001"));
    assert_eq!(
        sb.stats().remaining[PID],
        1000,
        "nothing in a rejected batch is deleted"
    );
    assert_eq!(delete_with_token(&base, PID, &[5]).await.status(), 204);
    let (status, _, _) = error(delete_with_token(&base, PID, &[5, 6]).await).await;
    assert_eq!(status, 400, "an already deleted id is missing too");
    sb.shutdown().await;

    let sb = sandbox(SandboxConfig {
        missing_ids: MissingIds::Ignore,
        ..SandboxConfig::default()
    })
    .await;
    let response = delete_with_token(&sb.base_url(), PID, &[5, 1001, 6, 5]).await;
    assert_eq!(response.status(), 204);
    assert_eq!(sb.stats().deleted[PID], vec![5, 6]);
}

#[tokio::test]
async fn unknown_routes_are_the_gateways_404() {
    let sb = sandbox(SandboxConfig::default()).await;
    for (method, path) in [
        (Method::GET, "/".to_string()),
        (Method::PUT, format!("/v4/projects/{PID}/issues")),
        (Method::GET, "/v5/projects".to_string()),
        (Method::GET, "/__sandbox/nothing".to_string()),
    ] {
        let response = client()
            .request(method.clone(), format!("{}{path}", sb.base_url()))
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .unwrap();
        let request_id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let (status, code, body) = error(response).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "APIGW.0101"),
            "{method} {path}"
        );
        assert_eq!(body["request_id"], request_id);
    }
}

#[tokio::test]
async fn tokens_are_checked() {
    let sb = sandbox(SandboxConfig::default()).await;
    let url = issues_url(&sb.base_url(), PID);
    let body = json!({"issue_ids": [1]}).to_string();
    for token in [None, Some("wrong-token-0123456789"), Some("short")] {
        let mut request = client()
            .delete(&url)
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        let (status, code, body) = error(request.body(body.clone()).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (401, "APIGW.0301"), "{token:?}");
        assert!(body["request_id"].is_string());
    }
    assert_eq!(sb.stats().remaining[PID], 1000);
}

#[tokio::test]
async fn aksk_signatures_are_verified() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let path = format!("/v4/projects/{PID}/issues");
    let body = r#"{"issue_ids": [1, 2]}"#;
    let now = sdk_date_now();
    let keys = ("AccessKey", "SecretKey");
    let req = |body: &str, keys: (&str, &str), date: &str| {
        signed(Method::DELETE, &base, &path, &[], body, keys, date)
    };
    assert_eq!(req(body, keys, &now).send().await.unwrap().status(), 204);
    assert_eq!(sb.requests()[0].auth, "aksk");

    // Tampering with anything signed breaks the signature.
    let three = r#"{"issue_ids": [3]}"#;
    let wrong_sk = req(three, ("AccessKey", "WrongKey"), &now);
    let tampered_body = req(three, keys, &now).body(r#"{"issue_ids": [4]}"#);
    let mut tampered_header = req(three, keys, &now).build().unwrap();
    tampered_header
        .headers_mut()
        .insert("user-agent", "other".parse().unwrap());
    let old = time::OffsetDateTime::now_utc() - time::Duration::minutes(16);
    let stale = req(
        three,
        keys,
        &old.format(reqprune::auth::sign::DATE_FORMAT).unwrap(),
    );
    for (what, request) in [
        ("wrong SK", wrong_sk),
        ("body", tampered_body),
        ("date", stale),
    ] {
        let (status, code, _) = error(request.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (401, "APIGW.0301"), "{what}");
    }
    let (status, code, _) = error(client().execute(tampered_header).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "APIGW.0301"), "header");
    let request = req(body, keys, &now).build().unwrap();
    let mut moved = request.try_clone().unwrap();
    *moved.url_mut() = reqwest::Url::parse(&issues_url(&base, PID2)).unwrap();
    let (status, code, _) = error(client().execute(moved).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "APIGW.0301"), "path");
    let unknown_ak = req(body, ("OtherKey", "SecretKey"), &now);
    assert_eq!(
        error(unknown_ak.send().await.unwrap()).await.1,
        "APIGW.0301"
    );
    assert_eq!(sb.stats().deleted[PID], vec![1, 2]);
}

#[tokio::test]
async fn signed_queries_and_the_signed_headers_list_are_honoured() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let query = vec![
        ("limit".to_string(), "1".to_string()),
        ("offset".to_string(), "0".to_string()),
        ("search".to_string(), "Sandbox project".to_string()),
    ];
    let request = signed(
        Method::GET,
        &base,
        "/v4/projects",
        &query,
        "",
        ("AccessKey", "SecretKey"),
        &sdk_date_now(),
    );
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["total"], 2);

    // A Go SDK that signs only host and x-sdk-date: the verifier reads SignedHeaders.
    let host = base.trim_start_matches("http://");
    let date = sdk_date_now();
    let headers = vec![("X-Sdk-Date".to_string(), date.clone())];
    let input = reqprune::auth::sign::SignInput {
        method: "GET",
        host,
        path: "/v4/projects",
        query: &[],
        headers: &headers,
        body: b"",
    };
    let signature = reqprune::auth::sign::sign(
        "AccessKey",
        &reqprune::auth::Secret::new("SecretKey"),
        &input,
    );
    assert_eq!(signature.signed_headers, "host;x-sdk-date");
    let response = client()
        .get(format!("{base}/v4/projects"))
        .header("X-Sdk-Date", date)
        .header("Content-Type", "application/json;charset=UTF-8")
        .header("Authorization", signature.authorization)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_ak_is_locked_after_five_bad_signatures_in_a_row() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let get = |sk: &'static str| {
        signed(
            Method::GET,
            &base,
            "/v4/projects",
            &[],
            "",
            ("AccessKey", sk),
            &sdk_date_now(),
        )
    };
    for _ in 0..5 {
        assert_eq!(get("bad").send().await.unwrap().status(), 401);
    }
    let (status, code, body) = error(get("SecretKey").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "APIGW.0301"));
    assert!(body["error_msg"].as_str().unwrap().contains("locked"));
}

async fn iam_token(base: &str, user: &str, password: &str) -> reqwest::Response {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password, "domain": {"name": "acme"}}}},
        "scope": {"project": {"name": "cn-north-4"}}}});
    client()
        .post(format!("{base}/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A sandbox whose IAM knows `acme/alice:pa55word`, issuing tokens that live `ttl`.
async fn with_iam(ttl: Duration) -> Sandbox {
    sandbox(SandboxConfig {
        iam_users: vec![IamUser::new("acme", "alice", "pa55word")],
        token_ttl: ttl,
        ..SandboxConfig::default()
    })
    .await
}

fn subject_token(response: &reqwest::Response) -> String {
    response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn iam_issues_tokens_that_expire() {
    let sb = with_iam(Duration::from_secs(3600)).await;
    let base = sb.base_url();
    let wrong = iam_token(&base, "alice", "nope").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(json(wrong).await["error"]["code"], 401);

    let response = iam_token(&base, "alice", "pa55word").await;
    assert_eq!(response.status(), 201);
    let token = subject_token(&response);
    let body: Value = json(response).await;
    let expires = body["token"]["expires_at"].as_str().unwrap();
    assert_eq!(
        expires.len(),
        "2020-01-05T09:05:22.701000Z".len(),
        "{expires}"
    );
    assert_eq!(body["token"]["project"]["name"], "cn-north-4");

    let delete = |token: String| {
        client()
            .delete(issues_url(&base, PID))
            .header("X-Auth-Token", token)
            .json(&json!({"issue_ids": [7]}))
            .send()
    };
    assert_eq!(delete(token.clone()).await.unwrap().status(), 204);
    let expire = client()
        .post(format!("{base}/__sandbox/expire-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(expire.status(), 204);
    let (status, code, _) = error(delete(token).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "APIGW.0307"));
    assert_eq!(sb.requests()[1].auth, "password");
}

#[tokio::test]
async fn token_ttl_expires_issued_tokens() {
    let sb = with_iam(Duration::from_millis(300)).await;
    let response = iam_token(&sb.base_url(), "alice", "pa55word").await;
    let token = subject_token(&response);
    let get = || {
        client()
            .get(format!("{}/v4/projects", sb.base_url()))
            .header("X-Auth-Token", token.clone())
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(error(get().await.unwrap()).await.1, "APIGW.0307");
}

#[tokio::test]
async fn single_items_can_be_read_and_deleted() {
    let sb = sandbox(SandboxConfig::default()).await;
    let base = sb.base_url();
    let one = format!("{}/42", issues_url(&base, PID));
    let response = client()
        .get(&one)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let issue = json(response).await;
    assert_eq!(issue["id"], 42);
    assert_eq!(issue["project"]["project_id"], PID);
    for key in [
        "tracker",
        "status",
        "creator",
        "created_time",
        "updated_time",
    ] {
        assert!(!issue[key].is_null(), "{key}");
    }
    let deleted = client()
        .delete(&one)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for method in [Method::GET, Method::DELETE] {
        let again = client()
            .request(method, &one)
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(error(again).await.1, "PM.02152001");
    }
    let bad = client()
        .get(format!("{}/12345678901", issues_url(&base, PID)))
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(error(bad).await.1, "PM.02152001");
    assert_eq!(sb.stats().deleted[PID], vec![42]);
}

fn demo_job() -> reqprune::checked::Job {
    use reqprune::checked::{Endpoint, Job, Project};
    use reqprune::idset::IdSet;
    Job {
        name: "demo".into(),
        file: "jobs/demo.yaml".into(),
        description: None,
        endpoint: Endpoint::Sandbox,
        region: None,
        projects: vec![Project {
            id: PID.into(),
            label: None,
            token_name: "demo".into(),
            token: reqprune::job::TokenSource::Env("CODEARTS_TOKEN".into()),
            base_dir: ".".into(),
            delete: IdSet::from_range(100, 199),
            protect: IdSet::from_unsorted(vec![150, 500]),
        }],
        limits: Default::default(),
        fingerprint: "f".into(),
    }
}

#[tokio::test]
async fn embedded_mode_seeds_from_the_job_and_persists_deletions() {
    use reqprune::sandbox::embedded;
    let state = tempfile::tempdir().unwrap();
    let job = demo_job();
    let sb = embedded::start_for_job(state.path(), &job).await.unwrap();
    assert_eq!(sb.stats().remaining[PID], 101, "delete ∪ protect");
    // Any well-formed credential is accepted.
    let response = client()
        .delete(issues_url(&sb.base_url(), PID))
        .header("X-Auth-Token", "whatever-token-of-a-demo")
        .json(&json!({"issue_ids": [100, 101]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    sb.shutdown().await;
    let saved = std::fs::read_to_string(embedded::state_path(state.path(), "demo")).unwrap();
    assert!(saved.contains("\"deleted\""), "{saved}");
    assert!(saved.len() < 1000, "ranges, not ids: {saved}");

    // A second run finds them gone; ids the job adds later are seeded then.
    let mut job = job;
    job.projects[0].delete = job.projects[0]
        .delete
        .union(&reqprune::idset::IdSet::from_range(900, 909));
    let sb = embedded::start_for_job(state.path(), &job).await.unwrap();
    assert_eq!(sb.stats().remaining[PID], 109);
    assert_eq!(sb.stats().deleted[PID], vec![100, 101]);
    let (status, code, _) = error(
        client()
            .delete(issues_url(&sb.base_url(), PID))
            .header("X-Auth-Token", "whatever-token-of-a-demo")
            .json(&json!({"issue_ids": [101]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "PM.02152001"));
    sb.shutdown().await;
    let files: Vec<_> = std::fs::read_dir(state.path().join("sandbox"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1, "no temporary file left behind");
}

#[tokio::test]
async fn embedded_mode_refuses_a_corrupt_state_file() {
    let state = tempfile::tempdir().unwrap();
    let path = reqprune::sandbox::embedded::state_path(state.path(), "demo");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{not json").unwrap();
    let err = reqprune::sandbox::embedded::start_for_job(state.path(), &demo_job())
        .await
        .err()
        .expect("corrupt state refused");
    assert!(err.to_string().contains("demo.json"), "{err}");
}

#[tokio::test]
async fn bodies_over_12_mb_are_refused_by_the_gateway() {
    let sb = sandbox(SandboxConfig::default()).await;
    let response = client()
        .delete(issues_url(&sb.base_url(), PID))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 12 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    let (status, code, _) = error(response).await;
    assert_eq!((status, code.as_str()), (413, "APIGW.0201"));
}
