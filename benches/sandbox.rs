//! Benchmark: how many batch deletes per second the sandbox answers on loopback, no latency.
//!
//! Target (issue 4): at least 20,000 batch-delete requests per second on 2 cores, so the
//! sandbox is never the bottleneck of another benchmark. The load comes from a minimal
//! HTTP/1.1 keep-alive client written here (many connections, each sending 100 consecutive
//! ids per request and checking every answer is a 204), in the same process and on the same
//! cores as the sandbox: the figure is conservative. Runs with `X-Auth-Token`, then with
//! AK/SK signing (the client signs every request with `reqprune::auth::sign`).
//!
//! `cargo bench --bench sandbox` (env `SANDBOX_BENCH_SECS`, default 5, `SANDBOX_BENCH_CONNS`,
//! default 64).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqprune::auth::Secret;
use reqprune::auth::sign::{self, SignInput};
use reqprune::sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PID: &str = "526cefde62004de2b62b5e8dd2c2b3af";
const TOKEN: &str = "bench-token-0123456789";
const BATCH: u64 = 100;
/// Ids each connection may use: far more than it can delete in a run.
const BLOCK: u64 = 100_000_000;

#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Token,
    Aksk,
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let secs = env_or("SANDBOX_BENCH_SECS", 5);
    let conns = env_or("SANDBOX_BENCH_CONNS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "sandbox bench: {conns} keep-alive connections, {BATCH} ids per DELETE, {secs} s per run, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for auth in [Auth::Token, Auth::Aksk] {
        let (rate, errors) = runtime.block_on(run(auth, conns, Duration::from_secs(secs)));
        let name = if auth == Auth::Token {
            "X-Auth-Token"
        } else {
            "AK/SK"
        };
        println!(
            "  {name:<12} {rate:>9.0} batch deletes/s ({:.0} ids/s), {errors} non-204 answers",
            rate * BATCH as f64
        );
        if auth == Auth::Token && rate < 20_000.0 {
            println!("  BELOW TARGET: 20,000 batch deletes/s");
        }
    }
    println!("  peak RSS {} MiB", peak_rss_kib() / 1024);
}

async fn run(auth: Auth, conns: u64, duration: Duration) -> (f64, u64) {
    let config = SandboxConfig {
        tokens: vec![TOKEN.into()],
        aksk: vec![("BenchAK".into(), "BenchSK".into())],
        ..SandboxConfig::default()
    }
    .with_project(PID, &[(1, conns * BLOCK)]);
    let sandbox = Sandbox::start(config).await.unwrap();
    let addr = sandbox.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..conns {
        let (stop, done, errors) = (stop.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let host = addr.to_string();
            let mut buf = Vec::with_capacity(4096);
            let (mut body, mut request) = (Vec::with_capacity(1200), Vec::with_capacity(2048));
            let mut next = n * BLOCK + 1;
            while !stop.load(Ordering::Relaxed) {
                build(auth, &host, next, &mut body, &mut request);
                next += BATCH;
                stream.write_all(&request).await.unwrap();
                match read_response(&mut stream, &mut buf).await {
                    Some(204) => done.fetch_add(1, Ordering::Relaxed),
                    _ => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    // Warm up, then count over `duration`.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start_count = done.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    let count = done.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    // The sandbox's own record agrees with the client's count.
    let stats = sandbox.stats();
    assert_eq!(
        stats.by_status.get("204").copied().unwrap_or(0),
        done.load(Ordering::Relaxed)
    );
    sandbox.shutdown().await;
    (count as f64 / elapsed, errors.load(Ordering::Relaxed))
}

/// One batch delete of ids `first..first+BATCH`, as raw HTTP/1.1 bytes in `out`. Written
/// without per-id allocations: the client shares the cores with the sandbox it measures.
fn build(auth: Auth, host: &str, first: u64, body: &mut Vec<u8>, out: &mut Vec<u8>) {
    use std::io::Write;
    body.clear();
    body.extend_from_slice(b"{\"issue_ids\": [");
    for id in first..first + BATCH {
        if id != first {
            body.extend_from_slice(b", ");
        }
        write!(body, "{id}").unwrap();
    }
    body.extend_from_slice(b"]}");
    let path = format!("/v4/projects/{PID}/issues");
    let content_type = "application/json;charset=utf-8";
    out.clear();
    write!(out, "DELETE {path} HTTP/1.1\r\nHost: {host}\r\n").unwrap();
    match auth {
        Auth::Token => write!(out, "X-Auth-Token: {TOKEN}\r\n").unwrap(),
        Auth::Aksk => {
            let date = time::OffsetDateTime::now_utc()
                .format(sign::DATE_FORMAT)
                .unwrap();
            let headers = vec![
                ("Content-Type".to_string(), content_type.to_string()),
                ("X-Sdk-Date".to_string(), date.clone()),
            ];
            let input = SignInput {
                method: "DELETE",
                host,
                path: &path,
                query: &[],
                headers: &headers,
                body,
            };
            let signature = sign::sign("BenchAK", &Secret::new("BenchSK"), &input);
            let authorization = signature.authorization;
            write!(
                out,
                "X-Sdk-Date: {date}\r\nAuthorization: {authorization}\r\n"
            )
            .unwrap();
        }
    }
    write!(
        out,
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    out.extend_from_slice(body);
}

/// Read one response; its status, or `None` when the connection failed.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let status: u16 = head.get(9..12)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(status)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
