//! Credentials: a job's token source turned into authenticated requests, lazily and safely.
//!
//! A job names where a credential comes from (`crate::job::TokenSource`); an [`Authenticator`]
//! turns that reference into a [`Credential`] the first time `api::Client` needs one, once per
//! run and source, and hands it to each request as a [`Lease`]. It owns the two rules that keep
//! an account safe: a refreshable source (file, command, IAM) fetches again when the service
//! says the credential is bad, and no more than [`MAX_FAILURES`] authentications fail in a row
//! (the gateway locks an AK for five minutes after five). While a credential has not yet been
//! accepted by the service, requests go one at a time, so a wrong key cannot fail 16 times at
//! once through concurrency. `source` reads env/file/command, `iam` fetches password tokens,
//! `credential` attaches a credential to a request (token header or SDK-HMAC-SHA256 signature).
//! Every secret lives in a [`Secret`]; errors name the source, never a value.

pub mod credential;
mod error;
mod failures;
pub mod iam;
pub mod secret;
pub mod sign;
pub mod source;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::checked::describe_token;
use crate::job::TokenSource;

pub use credential::{AkSk, Credential};
pub use error::AuthError;
pub use secret::Secret;

/// Failed authentications in a row after which an [`Authenticator`] refuses to send more.
/// The gateway locks an AK for 5 minutes after 5; stopping at 3 leaves a margin for a person
/// retrying by hand with the same key.
pub const MAX_FAILURES: u32 = 3;

/// How long to keep using a token whose renewal failed before trying to renew it again.
const RENEW_RETRY: time::Duration = time::Duration::seconds(30);

/// How long a `command` token source may run before it is killed.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What an [`Authenticator`] needs to know about the run besides the source itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    /// The job's region, used to derive the IAM endpoint.
    pub region: Option<String>,
    /// The API base URL (`https://projectman-ext.{region}...`); the region is read from it
    /// when the job gave an endpoint instead of a region.
    pub api_endpoint: String,
    /// The state folder: IAM tokens are cached under `auth/` there (mode 0600) when set.
    pub state_dir: Option<PathBuf>,
    /// IAM endpoint that wins over everything else (the sandbox, so a rehearsal never talks
    /// to the real IAM).
    pub iam_endpoint_override: Option<String>,
    /// Timeout of a `command` source.
    pub command_timeout: Duration,
}

impl AuthContext {
    /// A context for `api_endpoint` with no region, no cache and the default timeout.
    pub fn new(api_endpoint: impl Into<String>) -> Self {
        AuthContext {
            region: None,
            api_endpoint: api_endpoint.into(),
            state_dir: None,
            iam_endpoint_override: None,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }
}

/// One token source of one run: resolves it lazily, once, and refreshes it when told to.
/// `Send + Sync`; share it behind an `Arc` between every request that uses the source.
pub struct Authenticator {
    source: TokenSource,
    base_dir: PathBuf,
    ctx: AuthContext,
    /// How logs and errors name this source (`env CODEARTS_TOKEN`), never a value.
    label: String,
    state: Mutex<State>,
    /// Held by the one request allowed in flight while the credential is unproven.
    probe: Arc<Mutex<()>>,
    /// The current credential has been accepted by the service at least once.
    verified: AtomicBool,
    /// Failures in a row for token sources; AK/SK sources share a counter per AK.
    token_failures: Arc<AtomicU32>,
    generations: AtomicU64,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Resolved>>,
    /// A resolution that failed is not retried within the run: every request gets the same
    /// error instead of, say, running a failing command once per batch.
    error: Option<AuthError>,
}

/// A credential with the bookkeeping around it.
struct Resolved {
    credential: Credential,
    generation: u64,
    /// When to fetch again before using it (IAM tokens, a few minutes before they expire).
    renew_at: Option<OffsetDateTime>,
    /// When the service stops accepting it, if known.
    expires_at: Option<OffsetDateTime>,
    failures: Arc<AtomicU32>,
    /// The service has rejected this credential at least once.
    rejected: AtomicBool,
}

/// The credential one request is sent with. Dropping it lets the next unproven request go.
pub struct Lease {
    resolved: Arc<Resolved>,
    /// Held when the credential was unproven: this request went alone.
    probe: Option<OwnedMutexGuard<()>>,
}

impl Lease {
    pub fn credential(&self) -> &Credential {
        &self.resolved.credential
    }
}

/// Shows the source's description only: never a credential.
impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("source", &self.label)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(source: &TokenSource, base_dir: &Path, ctx: AuthContext) -> Self {
        Authenticator {
            label: describe_token(source),
            source: source.clone(),
            base_dir: base_dir.to_path_buf(),
            ctx,
            state: Mutex::new(State::default()),
            probe: Arc::new(Mutex::new(())),
            verified: AtomicBool::new(false),
            token_failures: Arc::new(AtomicU32::new(0)),
            generations: AtomicU64::new(0),
        }
    }

    /// How this source is named in messages: `env CODEARTS_TOKEN`, `aksk (AK from ...)`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether a credential the service rejected can be fetched again (file, command, IAM);
    /// environment variables cannot change under a running process.
    pub fn is_refreshable(&self) -> bool {
        matches!(
            self.source,
            TokenSource::File(_) | TokenSource::Command(_) | TokenSource::Iam(_)
        )
    }

    /// The credential for one request, resolving the source on first use. Refuses once
    /// [`MAX_FAILURES`] authentications failed in a row, and serialises requests until the
    /// service has accepted the credential once.
    pub async fn acquire(&self) -> Result<Lease, AuthError> {
        let probe = if self.verified.load(Ordering::Acquire) {
            None
        } else {
            let guard = self.probe.clone().lock_owned().await;
            // Accepted while this request waited: no need to go one at a time any more
            // (else every request queued at the start would still run one by one).
            (!self.verified.load(Ordering::Acquire)).then_some(guard)
        };
        let resolved = self.current().await?;
        let failures = resolved.failures.load(Ordering::Acquire);
        if failures >= MAX_FAILURES {
            return Err(AuthError::TooManyFailures {
                source_label: self.label.clone(),
                failures,
            });
        }
        Ok(Lease { resolved, probe })
    }

    /// The service accepted the leased credential: the failure streak ends.
    pub fn accepted(&self, lease: &Lease) {
        lease.resolved.failures.store(0, Ordering::Release);
        self.verified.store(true, Ordering::Release);
    }

    /// The service rejected the leased credential (a 401). Counts towards [`MAX_FAILURES`]
    /// and makes requests go one at a time again. Requests that were already in flight
    /// together with a proven credential count once between them: when a token expires under
    /// 16 concurrent requests, that is one failure followed by one refresh, not 16 failures.
    pub fn rejected(&self, lease: &Lease) {
        let resolved = &lease.resolved;
        let first = !resolved.rejected.swap(true, Ordering::AcqRel);
        if self.generations.load(Ordering::Acquire) == resolved.generation {
            self.verified.store(false, Ordering::Release);
        }
        if lease.probe.is_some() || first {
            let failures = resolved.failures.fetch_add(1, Ordering::AcqRel) + 1;
            tracing::warn!(source = %self.label, failures, "credential rejected by the service");
        } else {
            tracing::debug!(source = %self.label, "credential rejected again by a request already in flight");
        }
    }

    /// Fetch the source again after the service rejected `lease`'s credential. Concurrent
    /// callers holding the same stale credential cause one fetch, not one each. Returns
    /// `false` when the source cannot be refreshed.
    pub async fn refresh(&self, lease: &Lease) -> Result<bool, AuthError> {
        if !self.is_refreshable() {
            return Ok(false);
        }
        let mut state = self.state.lock().await;
        if let Some(error) = &state.error {
            return Err(error.clone());
        }
        if let Some(current) = &state.current
            && current.generation != lease.resolved.generation
        {
            return Ok(true);
        }
        tracing::info!(source = %self.label, "fetching the credential again");
        self.resolve_into(&mut state, true).await.map(|_| true)
    }

    async fn current(&self) -> Result<Arc<Resolved>, AuthError> {
        let mut state = self.state.lock().await;
        if let Some(error) = &state.error {
            return Err(error.clone());
        }
        let Some(current) = state.current.clone() else {
            return self.resolve_into(&mut state, false).await;
        };
        let now = OffsetDateTime::now_utc();
        if current.renew_at.is_none_or(|at| now < at) {
            return Ok(current);
        }
        tracing::info!(source = %self.label, "credential about to expire; renewing");
        match self.resolve(false).await {
            Ok(resolved) => {
                let resolved = Arc::new(resolved);
                state.current = Some(resolved.clone());
                Ok(resolved)
            }
            // IAM may be briefly unavailable: the old token still works until it expires,
            // so keep it and try again in a while instead of failing every request.
            Err(error) if current.expires_at.is_some_and(|at| now < at) => {
                tracing::warn!(source = %self.label, %error, "could not renew; using the current token a little longer");
                let retry_at = now + RENEW_RETRY;
                let kept = Arc::new(Resolved {
                    credential: current.credential.clone(),
                    generation: current.generation,
                    renew_at: current.expires_at.map(|at| at.min(retry_at)),
                    expires_at: current.expires_at,
                    failures: current.failures.clone(),
                    rejected: AtomicBool::new(current.rejected.load(Ordering::Acquire)),
                });
                state.current = Some(kept.clone());
                Ok(kept)
            }
            Err(error) => {
                state.error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn resolve_into(
        &self,
        state: &mut State,
        bypass_cache: bool,
    ) -> Result<Arc<Resolved>, AuthError> {
        match self.resolve(bypass_cache).await {
            Ok(resolved) => {
                let resolved = Arc::new(resolved);
                state.current = Some(resolved.clone());
                state.error = None;
                Ok(resolved)
            }
            Err(error) => {
                state.error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn resolve(&self, bypass_cache: bool) -> Result<Resolved, AuthError> {
        let (credential, renew_at, expires_at) = match &self.source {
            TokenSource::Env(name) => (Credential::Token(source::env_token(name)?), None, None),
            TokenSource::File(path) => {
                let path = self.base_dir.join(path);
                (Credential::Token(source::file_token(&path)?), None, None)
            }
            TokenSource::Command(argv) => {
                let token =
                    source::command_token(argv, &self.base_dir, self.ctx.command_timeout).await?;
                (Credential::Token(token), None, None)
            }
            TokenSource::Iam(iam) => {
                let token = iam::token(iam, &self.ctx, bypass_cache).await?;
                let renew_at = token.renew_at();
                (
                    Credential::Token(token.token),
                    Some(renew_at),
                    Some(token.expires_at),
                )
            }
            TokenSource::Aksk(aksk) => (Credential::Aksk(source::aksk(aksk)?), None, None),
        };
        let failures = match &credential {
            Credential::Aksk(keys) => failures::for_ak(&keys.ak),
            Credential::Token(_) => self.token_failures.clone(),
        };
        let generation = self.generations.fetch_add(1, Ordering::AcqRel) + 1;
        tracing::debug!(source = %self.label, generation, "credential resolved");
        Ok(Resolved {
            credential,
            generation,
            renew_at,
            expires_at,
            failures,
            rejected: AtomicBool::new(false),
        })
    }
}

#[cfg(test)]
mod tests;
