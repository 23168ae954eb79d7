//! The sandbox's faults on demand, seen from a client on 127.0.0.1: throttling both ways,
//! 5xx before and after the deletion, dropped connections, latency; and the query API.

mod support;

use std::time::{Duration, Instant};

use reqprune::sandbox::{Sandbox, SandboxConfig, ThrottleAs};
use serde_json::json;
use support::*;

async fn sandbox(config: SandboxConfig) -> Sandbox {
    let config = SandboxConfig {
        tokens: vec![TOKEN.into()],
        ..config
    }
    .with_project(PID, &[(1, 100_000)]);
    Sandbox::start(config).await.expect("sandbox starts")
}

#[tokio::test]
async fn throttles_as_the_gateway_or_as_the_service() {
    for (throttle_as, status, code) in [
        (ThrottleAs::Gateway429, 429, "APIGW.0308"),
        (ThrottleAs::Pm400, 400, "PM.02153001"),
    ] {
        let sb = sandbox(SandboxConfig {
            rate_limit: Some(5.0),
            throttle_as,
            ..SandboxConfig::default()
        })
        .await;
        let mut throttled = 0;
        for id in 1..=10u64 {
            let response = delete_with_token(&sb.base_url(), PID, &[id]).await;
            if response.status() != 204 {
                let (got_status, got_code, body) = error(response).await;
                assert_eq!((got_status, got_code.as_str()), (status, code));
                assert_eq!(body.get("request_id").is_some(), status == 429);
                throttled += 1;
            }
        }
        // A bucket of one request refilled every 200 ms: at most two of ten rapid requests pass.
        assert!(throttled >= 8, "{throttled} throttled");
        let stats = sb.stats();
        assert_eq!(stats.by_status[&status.to_string()], throttled);
        assert_eq!(stats.deleted[PID].len() as u64, 10 - throttled);
        assert!(
            sb.requests()
                .iter()
                .any(|r| r.fault.as_deref() == Some("throttle"))
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(
            delete_with_token(&sb.base_url(), PID, &[50]).await.status(),
            204
        );
    }
}

#[tokio::test]
async fn failures_come_before_or_after_the_deletion() {
    let sb = sandbox(SandboxConfig {
        fail_rate: 0.3,
        seed: 7,
        ..SandboxConfig::default()
    })
    .await;
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for id in 1..=200u64 {
        let response = delete_with_token(&sb.base_url(), PID, &[id]).await;
        let status = response.status().as_u16();
        if status == 204 {
            continue;
        }
        assert!([500, 502, 503].contains(&status), "{status}");
        let (_, code, body) = error(response).await;
        assert!(code.starts_with("APIGW."), "{code}");
        assert!(body["request_id"].is_string());
        let record = sb
            .requests()
            .into_iter()
            .find(|r| r.ids == vec![id])
            .unwrap();
        match record.fault.as_deref() {
            Some("fail-before") => before.push(id),
            Some("fail-after") => after.push(id),
            other => panic!("unexpected fault {other:?}"),
        }
    }
    assert!(
        !before.is_empty() && !after.is_empty(),
        "{before:?} {after:?}"
    );
    let deleted = &sb.stats().deleted[PID];
    assert!(
        after.iter().all(|id| deleted.contains(id)),
        "applied, then failed"
    );
    assert!(
        before.iter().all(|id| !deleted.contains(id)),
        "failed, not applied"
    );
    assert_eq!(deleted.len(), 200 - before.len());
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sb = sandbox(SandboxConfig {
            fail_rate: 0.2,
            drop_rate: 0.1,
            seed: 42,
            ..SandboxConfig::default()
        })
        .await;
        let mut outcomes = Vec::new();
        for id in 1..=60u64 {
            // 0 stands for a dropped connection.
            let outcome = delete_with_token_result(&sb.base_url(), &[id]).await;
            outcomes.push(outcome.unwrap_or(0));
        }
        runs.push(outcomes);
        sb.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&0) && runs[0].iter().any(|s| *s >= 500));
}

/// Like `delete_with_token`, but a connection error is a value, not a panic.
async fn delete_with_token_result(base: &str, ids: &[u64]) -> Result<u16, reqwest::Error> {
    client()
        .delete(issues_url(base, PID))
        .header("X-Auth-Token", TOKEN)
        .json(&json!({ "issue_ids": ids }))
        .send()
        .await
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn dropped_connections_get_no_answer_but_the_deletion_happens() {
    let sb = sandbox(SandboxConfig {
        drop_rate: 0.5,
        seed: 3,
        ..SandboxConfig::default()
    })
    .await;
    let mut dropped = Vec::new();
    for id in 1..=40u64 {
        match delete_with_token_result(&sb.base_url(), &[id]).await {
            Ok(status) => assert_eq!(status, 204),
            Err(e) => {
                // A transport error (connection closed before a response), never a status.
                assert!(e.status().is_none(), "{e}");
                let mut chain = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    chain.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                assert!(
                    chain.contains("connection closed before message completed"),
                    "{chain}"
                );
                dropped.push(id);
            }
        }
    }
    assert!(dropped.len() >= 10, "{dropped:?}");
    let stats = sb.stats();
    assert_eq!(stats.by_status["dropped"], dropped.len() as u64);
    assert_eq!(
        stats.deleted[PID],
        (1..=40).collect::<Vec<u64>>(),
        "drops happen after applying"
    );
    let records = sb.requests();
    let record = records.iter().find(|r| r.ids == vec![dropped[0]]).unwrap();
    assert_eq!(
        (record.status, record.fault.as_deref()),
        (None, Some("drop"))
    );
}

#[tokio::test]
async fn latency_is_added_to_each_request() {
    let sb = sandbox(SandboxConfig {
        latency: Some((Duration::from_millis(60), Duration::from_millis(80))),
        ..SandboxConfig::default()
    })
    .await;
    for id in 1..=3u64 {
        let started = Instant::now();
        assert_eq!(
            delete_with_token(&sb.base_url(), PID, &[id]).await.status(),
            204
        );
        assert!(
            started.elapsed() >= Duration::from_millis(60),
            "{:?}",
            started.elapsed()
        );
    }
    // Inspection is never delayed.
    let started = Instant::now();
    get_json(&format!("{}/__sandbox/stats", sb.base_url())).await;
    assert!(started.elapsed() < Duration::from_millis(60));
}

async fn query(base: &str, body: serde_json::Value) -> reqwest::Response {
    client()
        .post(issues_url(base, PID))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_query_api_pages_and_filters() {
    let sb = Sandbox::start(
        SandboxConfig {
            tokens: vec![TOKEN.into()],
            ..SandboxConfig::default()
        }
        .with_project(PID, &[(1, 250)]),
    )
    .await
    .unwrap();
    let base = sb.base_url();
    let page = json(query(&base, json!({"offset": 100, "limit": 100})).await).await;
    assert_eq!(page["total"], 250);
    let ids: Vec<u64> = page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (101..=200).collect::<Vec<u64>>());
    assert_eq!(
        delete_with_token(&base, PID, &[1, 2, 3]).await.status(),
        204
    );
    let first = json(query(&base, json!({"limit": 5})).await).await;
    assert_eq!(first["total"], 247);
    assert_eq!(first["issues"][0]["id"], 4, "deletions shift pages");

    let bugs = json(query(&base, json!({"tracker_ids": [3], "limit": 100})).await).await;
    let n = bugs["total"].as_u64().unwrap();
    assert!(n > 20 && n < 247, "{n}");
    assert!(
        bugs["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["tracker"]["id"] == 3)
    );
    let closed = json(
        query(
            &base,
            json!({"status_ids": [5], "closed_time_interval": "0,"}),
        )
        .await,
    )
    .await;
    assert!(
        closed["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"]["id"] == 5 && i["closed_time"] != "")
    );
    // 2024-07-01 splits the items' creation year.
    let early = json(
        query(
            &base,
            json!({"created_time_interval": ",1719792000000", "limit": 100}),
        )
        .await,
    )
    .await;
    let late = json(
        query(
            &base,
            json!({"created_time_interval": "1719792000001,", "limit": 100}),
        )
        .await,
    )
    .await;
    assert_eq!(
        early["total"].as_u64().unwrap() + late["total"].as_u64().unwrap(),
        247
    );
    assert!(
        early["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["created_time"].as_str().unwrap() < "2024-07-01")
    );
    let by_id = json(query(&base, json!({"issue_ids": [2, 4, 999]})).await).await;
    assert_eq!(by_id["total"], 1);
    let with_deleted =
        json(query(&base, json!({"issue_ids": [2, 4], "include_deleted": true})).await).await;
    assert_eq!(with_deleted["issues"][0]["deleted"], true);
    let listed = client()
        .get(format!(
            "{}?offset=10&limit=10&tracker_id=7",
            issues_url(&base, PID)
        ))
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .unwrap();
    let listed = json(listed).await;
    assert!(
        listed["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["tracker"]["id"] == 7)
    );

    for (body, code) in [
        (json!({"offset": 5, "limit": 10}), "PM.02174103"),
        (json!({"limit": 101}), "PM.02152001"),
        (json!({"limit": 0}), "PM.02152001"),
        (json!({"created_time_interval": "yesterday"}), "PM.02152001"),
        (json!({"tracker_ids": "3"}), "PM.02152001"),
    ] {
        assert_eq!(
            error(query(&base, body.clone()).await).await.1,
            code,
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_project_list_pages() {
    let mut config = SandboxConfig {
        tokens: vec![TOKEN.into()],
        ..SandboxConfig::default()
    };
    for n in 0..25 {
        config = config.with_project(format!("{n:032}"), &[(1, 1)]);
    }
    let sb = Sandbox::start(config).await.unwrap();
    let get = |q: &str| {
        client()
            .get(format!("{}/v4/projects?{q}", sb.base_url()))
            .header("X-Auth-Token", TOKEN)
            .send()
    };
    let page = json(get("offset=20&limit=10").await.unwrap()).await;
    assert_eq!(page["total"], 25);
    assert_eq!(page["projects"].as_array().unwrap().len(), 5);
    assert_eq!(page["projects"][0]["project_id"], format!("{:032}", 20));
    assert_eq!(
        error(get("offset=3&limit=10").await.unwrap()).await.1,
        "PM.02174103"
    );
    assert_eq!(
        error(get("limit=1001").await.unwrap()).await.1,
        "PM.02152001"
    );
}
