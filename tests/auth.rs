//! Authentication end to end against the sandbox on 127.0.0.1: every token source through
//! `api::Client`, the SDK-HMAC-SHA256 signature accepted and every tampering rejected, IAM
//! tokens issued, renewed and refreshed, the 401 refresh path, the three-failures cap, the
//! transport rules (User-Agent, no redirects, loopback-only http), and no secret in any log.
//!
//! `signing` crafts requests by hand with `auth::sign`; `sources` drives the client; `leak`
//! captures every log line at trace level, reqwest's own included; `apply_leak` runs a whole
//! `reqprune apply` with all five source kinds at trace level and greps every byte it wrote;
//! `no_resolution` checks that `validate` and `plan` resolve no credential.

#[path = "auth/apply_leak.rs"]
mod apply_leak;
#[path = "auth/leak.rs"]
mod leak;
#[path = "auth/no_resolution.rs"]
mod no_resolution;
#[path = "auth/signing.rs"]
mod signing;
#[path = "auth/sources.rs"]
mod sources;
#[path = "auth/transport.rs"]
mod transport;

use std::path::Path;
use std::sync::Arc;

use reqprune::api::{Client, ClientOptions};
use reqprune::auth::{AuthContext, Authenticator};
use reqprune::job::TokenSource;
use reqprune::sandbox::{Sandbox, SandboxConfig};

pub const PROJECT: &str = "526cefde62004de2b62b5e8dd2c2b3af";

/// A sandbox holding work items 1..=1000 in [`PROJECT`].
pub async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config.with_project(PROJECT, &[(1, 1000)]))
        .await
        .expect("sandbox starts")
}

/// The context a run against `sandbox` gets: IAM goes to the sandbox too.
pub fn context(sandbox: &Sandbox) -> AuthContext {
    AuthContext {
        iam_endpoint_override: Some(sandbox.base_url()),
        ..AuthContext::new(sandbox.base_url())
    }
}

pub fn client_with(sandbox: &Sandbox, source: TokenSource, ctx: AuthContext) -> Client {
    let auth = Arc::new(Authenticator::new(&source, Path::new("."), ctx));
    Client::new(&sandbox.base_url(), auth, ClientOptions::default()).expect("client")
}

pub fn client(sandbox: &Sandbox, source: TokenSource) -> Client {
    client_with(sandbox, source, context(sandbox))
}

/// Set a variable for a test. Each test uses its own names, so parallel tests never see each
/// other's values.
pub fn set_env(name: &str, value: &str) {
    // SAFETY: std serialises its own environment access; the names are unique to one test.
    unsafe { std::env::set_var(name, value) }
}

/// Requests the sandbox saw on a path, with their statuses.
pub fn statuses(sandbox: &Sandbox, path: &str) -> Vec<Option<u16>> {
    sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect()
}

pub fn issues_path() -> String {
    format!("/v4/projects/{PROJECT}/issues")
}
