//! The server: shared state, the listening task, and the pipeline every request goes through.
//!
//! Pipeline, in the order the API gateway and the service would apply it: route (unknown →
//! 404 `APIGW.0101`) → throttle (`/v4` only) → injected latency (counted from the request's
//! arrival) → authentication → an injected failure before the handler → the handler → an
//! injected failure or a dropped connection after it. Each step records into the request
//! log. `/__sandbox/*` bypasses all of it and is not logged.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body as HttpBody, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::json;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::conn::{Conn, KillableListener};
use super::faults::{self, Faults};
use super::inspect::{Entry, Log, Stats, runs};
use super::reply::{Reply, code};
use super::routes::{self, Route};
use super::store::Store;
use super::verify::{Scheme, Verifier};
use super::{MissingIds, SandboxConfig, SandboxError, iam};

/// The gateway refuses bodies over 12 MB.
const BODY_LIMIT: usize = 12 * 1024 * 1024;

/// Everything the handlers share.
pub(crate) struct App {
    pub store: Mutex<Store>,
    pub verifier: Verifier,
    pub faults: Faults,
    pub log: Log,
    pub seed: u64,
    pub missing_ids: MissingIds,
    seq: AtomicU64,
    /// Signalled after every change to the items (embedded mode saves them).
    pub changed: Notify,
}

impl App {
    pub fn new(config: &SandboxConfig, store: Store) -> Result<App, SandboxError> {
        Ok(App {
            store: Mutex::new(store),
            verifier: Verifier::new(config),
            faults: Faults::new(config)?,
            log: Log::new(rand::random()),
            seed: config.seed,
            missing_ids: config.missing_ids,
            seq: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    pub fn stats(&self) -> Stats {
        let (requests, by_status) = self.log.counters();
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        Stats {
            requests,
            by_status,
            deleted: store
                .projects
                .iter()
                .map(|(id, p)| (id.clone(), p.deleted_in_order()))
                .collect(),
            remaining: store
                .projects
                .iter()
                .map(|(id, p)| (id.clone(), p.remaining()))
                .collect(),
        }
    }
}

/// Bind and spawn the server; returns the bound address, the stop switch and the task.
pub(crate) async fn serve(
    listen: SocketAddr,
    app: Arc<App>,
) -> Result<(SocketAddr, oneshot::Sender<()>, JoinHandle<()>), SandboxError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: listen,
        source,
    })?;
    let router = Router::new().fallback(handle).with_state(app);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = axum::serve(
        KillableListener(listener),
        router.into_make_service_with_connect_info::<Conn>(),
    )
    .with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let task = tokio::spawn(async move {
        let _ = server.await;
    });
    Ok((addr, stop, task))
}

/// What the pipeline decided for one request.
enum Outcome {
    Reply(Reply),
    /// Close the connection with no answer.
    Drop,
}

async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    if let Some(what) = request.uri().path().strip_prefix("/__sandbox/") {
        return inspect(&app, request.method(), what);
    }
    // Injected latency counts from here, as a real service's would from the request's arrival.
    let arrival = Instant::now();
    let time = SystemTime::now();
    let seq = app.seq.fetch_add(1, Ordering::Relaxed);
    let request_id = app.log.request_id(seq);
    let (parts, body) = request.into_parts();
    let mut entry = Entry {
        seq,
        time,
        method: parts.method.clone(),
        path: parts.uri.path().into(),
        status: None,
        error_code: None,
        ids: Vec::new(),
        auth: Scheme::None.as_str(),
        fault: None,
    };
    let outcome = match to_bytes(body, BODY_LIMIT).await {
        Ok(body) => pipeline(&app, seq, arrival, &parts, &body, &mut entry).await,
        Err(_) => Outcome::Reply(Reply::gateway(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::BAD_REQUEST_GW,
            "The request body exceeds 12 MB or could not be read",
        )),
    };
    match outcome {
        Outcome::Reply(reply) => {
            entry.status = Some(reply.status.as_u16());
            entry.error_code = reply.error_code();
            app.log.push(entry);
            reply.render(request_id)
        }
        Outcome::Drop => {
            conn.kill();
            app.log.push(entry);
            // Never sent: the connection fails on its first write.
            Response::new(HttpBody::empty())
        }
    }
}

async fn pipeline(
    app: &App,
    seq: u64,
    arrival: Instant,
    parts: &axum::http::request::Parts,
    body: &[u8],
    entry: &mut Entry,
) -> Outcome {
    let Some(route) = Route::parse(&parts.method, parts.uri.path()) else {
        return Outcome::Reply(Reply::gateway(
            StatusCode::NOT_FOUND,
            code::NO_API,
            "The API does not exist or has not been published in the environment",
        ));
    };
    if route == Route::IamTokens {
        entry.auth = Scheme::Password.as_str();
        return Outcome::Reply(iam::serve(&app.verifier, body));
    }
    let ids = routes::named_ids(route, body);
    if let Some(ids) = &ids {
        entry.ids = runs(ids);
    }
    if let Some(reply) = app.faults.throttle() {
        entry.fault = Some("throttle");
        return Outcome::Reply(reply);
    }
    let draw = app.faults.draw(seq);
    if !draw.latency.is_zero() {
        // Until `latency` after arrival, not `latency` more: reading the body and the steps
        // before are part of the service's time, not added to it.
        faults::wait_until(arrival + draw.latency).await;
    }
    let (scheme, verdict) = app.verifier.verify(parts, body);
    entry.auth = scheme.as_str();
    if let Err(reply) = verdict {
        return Outcome::Reply(reply);
    }
    if let Some(fail) = draw.fail
        && !fail.after
    {
        entry.fault = Some("fail-before");
        return Outcome::Reply(faults::fail_reply(fail.status));
    }
    let reply = routes::serve(app, route, parts, ids.as_deref(), body);
    if reply.status == StatusCode::NO_CONTENT {
        app.changed.notify_one();
    }
    if let Some(fail) = draw.fail {
        entry.fault = Some("fail-after");
        return Outcome::Reply(faults::fail_reply(fail.status));
    }
    if draw.drop {
        entry.fault = Some("drop");
        return Outcome::Drop;
    }
    Outcome::Reply(reply)
}

/// `/__sandbox/stats`, `/__sandbox/requests`, `/__sandbox/expire-tokens`.
fn inspect(app: &App, method: &Method, what: &str) -> Response {
    let reply = match (method, what) {
        (&Method::GET, "stats") => Reply::json(StatusCode::OK, json!(app.stats())),
        (&Method::GET, "requests") => Reply::json(StatusCode::OK, json!(app.log.records())),
        (&Method::POST, "expire-tokens") => {
            app.verifier.expire_issued();
            Reply::no_content()
        }
        _ => Reply::gateway(
            StatusCode::NOT_FOUND,
            code::NO_API,
            "No such sandbox inspection route",
        ),
    };
    reply.render("sandbox-inspection".to_string())
}
