//! A faithful local stand-in of the CodeArts Req service, for tests, benchmarks and demos.
//!
//! It speaks the protocol of `shared/docs/codearts-api.md`: the `/v4` work-item routes, the
//! IAM token route, both authentication schemes, the service's validation and error bodies,
//! and misbehaves on demand (latency, throttling, 5xx, dropped connections), deterministically
//! from a seed. The `reqprune-sandbox` binary ([`cli`]) and `apply`'s embedded mode
//! ([`embedded`]) both start it through [`Sandbox::start`].
//!
//! The request pipeline lives in `server` (route → throttle → latency → auth → faults →
//! handler); `routes` holds the work-item handlers, `iam` the token route, `verify` the
//! credential checks, `store` the work items, `faults` the misbehaviour and `inspect` the
//! `/__sandbox/*` routes that tests read.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Secret;

mod attrs;
pub mod cli;
mod conn;
pub mod embedded;
mod faults;
mod iam;
mod inspect;
mod projects;
mod query;
mod reply;
mod routes;
pub mod seed;
mod server;
mod store;
mod verify;

pub use inspect::{RequestRecord, Stats};

/// An IAM user the sandbox's `POST /v3/auth/tokens` accepts.
#[derive(Debug, Clone)]
pub struct IamUser {
    pub domain: String,
    pub user: String,
    pub password: Secret,
}

impl IamUser {
    pub fn new(domain: impl Into<String>, user: impl Into<String>, password: &str) -> Self {
        IamUser {
            domain: domain.into(),
            user: user.into(),
            password: Secret::new(password),
        }
    }
}

/// What a batch delete naming an id that does not exist does. Unknown for the real service,
/// so the sandbox can play either behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MissingIds {
    /// The whole batch is rejected with 400 `PM.02152001`; nothing in it is deleted.
    #[default]
    Reject,
    /// Missing ids are skipped; the others are deleted; 204.
    Ignore,
}

/// How throttled requests are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ThrottleAs {
    /// The API gateway's 429 `APIGW.0308`.
    #[default]
    #[value(name = "gateway")]
    Gateway429,
    /// The service's own 400 `PM.02153001`.
    #[value(name = "pm")]
    Pm400,
}

/// Everything a sandbox is started with. `Default`: 127.0.0.1 on a free port, no
/// credentials, no projects, seed 0, no faults. Its `Debug` shows no token and no SK.
#[derive(Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    /// Accepted `X-Auth-Token` values; they never expire.
    pub tokens: Vec<String>,
    /// Accepted (AK, SK) pairs for `SDK-HMAC-SHA256`.
    pub aksk: Vec<(String, String)>,
    /// Users the IAM route issues tokens to.
    pub iam_users: Vec<IamUser>,
    /// Lifetime of IAM-issued tokens (the real IAM: 24 hours).
    pub token_ttl: Duration,
    /// Accept any well-formed credential (the embedded demo only).
    pub open_auth: bool,
    /// Project id → inclusive ranges of the work-item ids it holds.
    pub projects: BTreeMap<String, Vec<(u64, u64)>>,
    /// Seeds the items' attributes and every fault draw.
    pub seed: u64,
    pub missing_ids: MissingIds,
    /// Added latency per API request, uniform in `[min, max]`.
    pub latency: Option<(Duration, Duration)>,
    /// Requests per second allowed on the `/v4` API (token bucket).
    pub rate_limit: Option<f64>,
    pub throttle_as: ThrottleAs,
    /// Fraction of `/v4` requests answered 500/502/503 (half of them after applying).
    pub fail_rate: f64,
    /// Fraction of `/v4` requests whose connection is closed with no answer, after applying.
    pub drop_rate: f64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tokens: Vec::new(),
            aksk: Vec::new(),
            iam_users: Vec::new(),
            token_ttl: Duration::from_secs(24 * 3600),
            open_auth: false,
            projects: BTreeMap::new(),
            seed: 0,
            missing_ids: MissingIds::Reject,
            latency: None,
            rate_limit: None,
            throttle_as: ThrottleAs::Gateway429,
            fail_rate: 0.0,
            drop_rate: 0.0,
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    /// Every field but the accepted tokens and secret keys, which are only counted (the
    /// access key ids are identifiers, shown): a logged config must not hand out credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let access_keys: Vec<&str> = self.aksk.iter().map(|(ak, _)| ak.as_str()).collect();
        f.debug_struct("SandboxConfig")
            .field("listen", &self.listen)
            .field("tokens", &format_args!("({} redacted)", self.tokens.len()))
            .field(
                "aksk",
                &format_args!("{access_keys:?} (secret keys redacted)"),
            )
            .field("iam_users", &self.iam_users)
            .field("token_ttl", &self.token_ttl)
            .field("open_auth", &self.open_auth)
            .field("projects", &self.projects)
            .field("seed", &self.seed)
            .field("missing_ids", &self.missing_ids)
            .field("latency", &self.latency)
            .field("rate_limit", &self.rate_limit)
            .field("throttle_as", &self.throttle_as)
            .field("fail_rate", &self.fail_rate)
            .field("drop_rate", &self.drop_rate)
            .finish()
    }
}

impl SandboxConfig {
    /// Add a project holding the inclusive id ranges `ranges` (builder style, for tests).
    pub fn with_project(mut self, id: impl Into<String>, ranges: &[(u64, u64)]) -> Self {
        self.projects
            .entry(id.into())
            .or_default()
            .extend_from_slice(ranges);
        self
    }
}

/// Failures starting or running the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("sandbox: invalid configuration: {0}")]
    Config(String),
    #[error("sandbox: {path}:{line}: {message}")]
    SeedFile {
        path: String,
        line: usize,
        message: String,
    },
    #[error("sandbox: {context} {path}: {source}")]
    Io {
        context: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("sandbox: {path} is not a sandbox state file: {message}")]
    Corrupt { path: String, message: String },
}

/// A running sandbox. Stop it with [`Sandbox::shutdown`]; dropping it leaves the server
/// running until the runtime ends.
pub struct Sandbox {
    addr: SocketAddr,
    app: Arc<server::App>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    saver: Option<embedded::Saver>,
}

impl Sandbox {
    /// Bind, seed and start serving. Returns once the port is listening.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let store = store::Store::from_config(&config.projects)?;
        Sandbox::start_with_store(config, store).await
    }

    pub(crate) async fn start_with_store(
        config: SandboxConfig,
        store: store::Store,
    ) -> Result<Sandbox, SandboxError> {
        let app = Arc::new(server::App::new(&config, store)?);
        let (addr, stop, task) = server::serve(config.listen, app.clone()).await?;
        Ok(Sandbox {
            addr,
            app,
            stop,
            task,
            saver: None,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing `/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same data as `GET /__sandbox/stats`.
    pub fn stats(&self) -> Stats {
        self.app.stats()
    }

    /// Every request seen so far, as `GET /__sandbox/requests` returns them.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.log.records()
    }

    /// Make every IAM-issued token expired now (tests of token renewal).
    pub fn expire_tokens(&self) {
        self.app.verifier.expire_issued();
    }

    /// Stop accepting, finish the requests in flight (for up to 5 seconds), and (embedded
    /// mode) save the items.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        if let Some(saver) = self.saver {
            saver.finish(&self.app).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SandboxConfig;

    #[test]
    fn debug_shows_no_token_and_no_secret_key() {
        let config = SandboxConfig {
            tokens: vec!["token-value-123".into()],
            aksk: vec![("AK-SHOWN".into(), "sk-value-456".into())],
            ..SandboxConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            shown.contains("AK-SHOWN") && shown.contains("(1 redacted)"),
            "{shown}"
        );
        assert!(!shown.contains("token-value-123") && !shown.contains("sk-value-456"));
    }
}
