//! Conformance with the official client: the Huawei Cloud Python SDK (`huaweicloudsdkprojectman`
//! 3.1.219, pinned) drives the sandbox on 127.0.0.1 with AK/SK signing.
//!
//! `tests/sdk/venv.sh` builds the virtual environment under the target folder once (pip from
//! PyPI); this test always runs it and fails, never skips, when Python or the SDK is missing.
//! What the SDK saw (`tests/sdk/conformance.py` prints it) is checked against the sandbox's
//! own record.

mod support;

use std::path::Path;

use reqprune::sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};
use support::*;

const AK: &str = "AK-example";
const SK: &str = "SK-example";

/// The venv's python, bootstrapped by `tests/sdk/venv.sh`.
async fn sdk_python() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/venv.sh");
    let output = tokio::process::Command::new("bash")
        .arg(&script)
        .output()
        .await
        .expect("bash runs tests/sdk/venv.sh");
    assert!(
        output.status.success(),
        "tests/sdk/venv.sh failed (python3 with venv and PyPI access are required):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn the_official_python_sdk_talks_to_the_sandbox() {
    let python = sdk_python().await;
    let sb = Sandbox::start(
        SandboxConfig {
            aksk: vec![(AK.into(), SK.into())],
            ..SandboxConfig::default()
        }
        .with_project(PID, &[(1, 250)]),
    )
    .await
    .unwrap();
    // The SDK writes ~/.huaweicloud on first use: give it a home of its own.
    let home = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/conformance.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .args([&sb.base_url(), PID, AK, SK])
        .env("HOME", home.path())
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "conformance.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seen["batch_delete"]["status_code"], 204);
    let records = sb.requests();
    let first = &records[0];
    assert_eq!((first.auth.as_str(), first.status), ("aksk", Some(204)));
    assert_eq!(first.ids, (1..=100).collect::<Vec<u64>>());

    let wrong = &seen["wrong_sk"];
    assert_eq!(
        (wrong["status_code"].clone(), wrong["error_code"].clone()),
        (json!(401), json!("APIGW.0301"))
    );
    assert_eq!(
        wrong["request_id"],
        json!(records[1].request_id),
        "X-Request-Id reaches the SDK"
    );
    assert_eq!(seen["unknown_project"]["error_code"], "PM.02152005");
    assert_eq!(seen["unknown_project"]["status_code"], 400);
    assert_eq!(seen["missing_ids"]["error_code"], "PM.02152001");

    let paging = &seen["paging"];
    let ids: Vec<u64> = serde_json::from_value(paging["ids"].clone()).unwrap();
    assert_eq!(
        ids,
        (101..=250).collect::<Vec<u64>>(),
        "every remaining item, once, in order"
    );
    assert_eq!(paging["pages"], 4);
    assert!(
        paging["totals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t == 150)
    );

    let bugs = &seen["bugs"];
    assert_eq!(bugs["trackers"], json!([3]));
    let total = bugs["total"].as_u64().unwrap();
    assert!(total > 0 && total < 150, "{total}");
    assert_eq!(bugs["first"]["project"]["project_id"], PID);
    assert!(
        bugs["first"]["created_time"]
            .as_str()
            .unwrap()
            .starts_with("2024-")
    );
    assert_eq!(seen["bad_paging"]["error_code"], "PM.02174103");

    let stats = sb.stats();
    assert_eq!(stats.deleted[PID], (1..=100).collect::<Vec<u64>>());
    assert_eq!(stats.remaining[PID], 150);
    assert!(sb.requests().iter().all(|r| r.auth == "aksk"));
}
