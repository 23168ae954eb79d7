//! Benchmark: what authentication costs per request, so it is never what limits `apply`.
//!
//! No target is set by issue 5; `apply`'s (16 requests in flight at 20 ms each, 800 requests
//! per second) says the client must be far faster than that. Measures (1) the
//! SDK-HMAC-SHA256 signer alone, and (2) `api::Client::batch_delete` end to end (credential
//! lease, signing or token header, reqwest, the response read) against the sandbox on
//! loopback with no latency, 16 requests in flight, with `X-Auth-Token` and with AK/SK. The
//! sandbox runs in the same process on the same cores: the client figure is conservative.
//!
//! `cargo bench --bench auth` (env `AUTH_BENCH_SECS`, default 5).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqprune::api::{Client, ClientOptions};
use reqprune::auth::sign::{self, SignInput};
use reqprune::auth::{AuthContext, Authenticator, Secret};
use reqprune::job::{AkskSource, TokenSource};
use reqprune::sandbox::{Sandbox, SandboxConfig};

const PID: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const TOKEN: &str = "bench-token-0123456789";
const IN_FLIGHT: u64 = 16;
/// Ids each task may use: far more than it can delete in a run.
const BLOCK: u64 = 100_000_000;

fn main() {
    let secs = std::env::var("AUTH_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5u64);
    println!(
        "auth bench: {secs} s per run, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    signer(Duration::from_secs(secs));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // SAFETY: set before any other thread of this process reads the environment.
    unsafe {
        std::env::set_var("AUTH_BENCH_TOKEN", TOKEN);
        std::env::set_var("AUTH_BENCH_AK", "AK-BENCH");
        std::env::set_var("AUTH_BENCH_SK", "sk-bench");
    }
    let token = TokenSource::Env("AUTH_BENCH_TOKEN".into());
    let aksk = TokenSource::Aksk(AkskSource {
        ak_env: "AUTH_BENCH_AK".into(),
        sk_env: "AUTH_BENCH_SK".into(),
        security_token_env: None,
        project_id: None,
    });
    for (name, source) in [("X-Auth-Token", token), ("AK/SK", aksk)] {
        let (rate, errors) = runtime.block_on(client(source, Duration::from_secs(secs)));
        println!(
            "api::Client batch_delete, {name}: {rate:.0} requests/s ({IN_FLIGHT} in flight, 100 ids each), {errors} errors"
        );
    }
}

fn signer(run_for: Duration) {
    let headers = vec![
        (
            "Content-Type".to_string(),
            "application/json;charset=utf-8".to_string(),
        ),
        ("User-Agent".to_string(), "reqprune/bench".to_string()),
        ("X-Sdk-Date".to_string(), "20240101T000000Z".to_string()),
    ];
    let body = serde_json::json!({ "issue_ids": (1..=100u64).collect::<Vec<_>>() }).to_string();
    let path = format!("/v4/projects/{PID}/issues");
    let sk = Secret::new("sk-bench");
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < run_for {
        for _ in 0..1000 {
            let signature = sign::sign(
                "AK-BENCH",
                &sk,
                &SignInput {
                    method: "DELETE",
                    host: "127.0.0.1:8080",
                    path: &path,
                    query: &[],
                    headers: &headers,
                    body: body.as_bytes(),
                },
            );
            std::hint::black_box(signature);
        }
        count += 1000;
    }
    let per_second = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "sign (DELETE, 100 ids): {per_second:.0} signatures/s, {:.1} us each",
        1e6 / per_second
    );
}

async fn client(source: TokenSource, run_for: Duration) -> (f64, u64) {
    let config = SandboxConfig {
        tokens: vec![TOKEN.into()],
        aksk: vec![("AK-BENCH".into(), "sk-bench".into())],
        ..SandboxConfig::default()
    }
    .with_project(PID, &[(1, IN_FLIGHT * BLOCK)]);
    let sandbox = Sandbox::start(config).await.unwrap();
    let auth = Arc::new(Authenticator::new(
        &source,
        Path::new("."),
        AuthContext::new(sandbox.base_url()),
    ));
    let client = Client::new(&sandbox.base_url(), auth, ClientOptions::default()).unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|task| {
            let (client, done, errors) = (client.clone(), done.clone(), errors.clone());
            tokio::spawn(async move {
                let mut next = task * BLOCK + 1;
                while started.elapsed() < run_for {
                    let ids: Vec<u64> = (next..next + 100).collect();
                    next += 100;
                    match client.batch_delete(PID, &ids).await {
                        Ok(reply) if reply.status == 204 => done.fetch_add(1, Ordering::Relaxed),
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    sandbox.shutdown().await;
    (rate, errors.load(Ordering::Relaxed))
}
