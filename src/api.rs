//! The CodeArts Req API client: authenticated requests over reqwest + rustls.
//!
//! A [`Client`] is cheap to clone and shared by every task of a run that uses one token
//! source. It handles authentication fully: it asks the [`Authenticator`] for a credential,
//! attaches it (token header or SDK-HMAC-SHA256 signature), and on a 401 `APIGW.0301` /
//! `APIGW.0307` has a refreshable source fetch again and retries once; a second 401 is
//! [`ApiError::Unauthorized`]. Everything else (throttling, 5xx, transport failures) comes
//! back as a [`Reply`] or [`ApiError::Transport`] for the executor's retry policy: the client
//! never retries those itself. `transport` builds the HTTP client and classifies failures,
//! `reply` reads responses.

pub mod reply;
pub mod transport;

use std::sync::Arc;
use std::time::Instant;

use reqwest::{Method, Url};
use time::OffsetDateTime;

use crate::auth::credential::Outgoing;
use crate::auth::{AuthError, Authenticator};

pub use reply::Reply;
pub use transport::{ClientOptions, TransportKind};

/// The API accepts at most this many ids per batch delete.
pub const MAX_BATCH: usize = 100;
const JSON: &str = "application/json;charset=utf-8";

/// Failures talking to the service. None holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{kind} error talking to the service: {message}")]
    Transport {
        kind: TransportKind,
        message: String,
    },
    #[error(
        "the service rejected the credential{}{}{}",
        code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        request_id.as_deref().map(|r| format!(" [request id {r}]")).unwrap_or_default()
    )]
    Unauthorized {
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
    },
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("invalid API endpoint: {0}")]
    InvalidEndpoint(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// A client for one API endpoint and one token source.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The base URL; API paths are appended to `prefix`, its path without a trailing `/`.
    base: Arc<Url>,
    prefix: Arc<str>,
    auth: Arc<Authenticator>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Refuses `http://` except to loopback hosts.
    pub fn new(
        base_url: &str,
        auth: Arc<Authenticator>,
        options: ClientOptions,
    ) -> Result<Client, ApiError> {
        let http = transport::http_client(base_url, &options)?;
        let mut base = transport::check_endpoint(base_url).map_err(ApiError::InvalidEndpoint)?;
        let prefix = base.path().trim_end_matches('/').into();
        base.set_path("");
        Ok(Client {
            http,
            base: Arc::new(base),
            prefix,
            auth,
        })
    }

    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.auth
    }

    /// `DELETE /v4/projects/{project_id}/issues` with `{"issue_ids": [...]}`: 1 to 100 ids.
    pub async fn batch_delete(&self, project_id: &str, ids: &[u64]) -> Result<Reply, ApiError> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(ApiError::InvalidRequest(format!(
                "a batch delete takes 1 to {MAX_BATCH} ids, not {}",
                ids.len()
            )));
        }
        let body = serde_json::json!({ "issue_ids": ids }).to_string();
        let path = format!("/v4/projects/{}/issues", checked_project(project_id)?);
        self.send(Method::DELETE, &path, Some(body.into_bytes()))
            .await
    }

    /// `GET /v4/projects/{project_id}/issues/{id}`: does this work item exist?
    pub async fn get_issue(&self, project_id: &str, id: u64) -> Result<Reply, ApiError> {
        let path = format!("/v4/projects/{}/issues/{id}", checked_project(project_id)?);
        self.send(Method::GET, &path, None).await
    }

    /// Send with authentication: one refresh and retry on a 401, nothing more.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, ApiError> {
        let url = self.url(path);
        let mut refreshed = false;
        loop {
            let lease = self.auth.acquire().await?;
            let reply = self
                .send_once(&lease, &method, &url, body.as_deref())
                .await?;
            if reply.status != 401 {
                // 429 and 5xx may come before the gateway checked the credential: they
                // neither prove nor disprove it.
                if reply.status < 500 && reply.status != 429 {
                    self.auth.accepted(&lease);
                }
                return Ok(reply);
            }
            self.auth.rejected(&lease);
            let renewable = matches!(
                reply.error_code.as_deref(),
                None | Some("APIGW.0301") | Some("APIGW.0307")
            );
            if !refreshed && renewable && self.auth.refresh(&lease).await? {
                refreshed = true;
                // The lease (and the probe slot it may hold) goes before asking again.
                drop(lease);
                continue;
            }
            return Err(ApiError::Unauthorized {
                code: reply.error_code,
                message: reply.error_msg,
                request_id: reply.request_id,
            });
        }
    }

    async fn send_once(
        &self,
        lease: &crate::auth::Lease,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Reply, ApiError> {
        let outgoing = Outgoing {
            method: method.as_str(),
            url,
            content_type: body.map(|_| JSON),
            user_agent: transport::USER_AGENT,
            body: body.unwrap_or_default(),
        };
        let headers = lease
            .credential()
            .headers(&outgoing, OffsetDateTime::now_utc())?;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .headers(headers);
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|e| ApiError::Transport {
            kind: transport::classify(&e),
            message: transport::describe(&e),
        })?;
        let reply = Reply::read(response).await?;
        tracing::debug!(
            method = %method,
            path = url.path(),
            status = reply.status,
            request_id = reply.request_id.as_deref().unwrap_or(""),
            error_code = reply.error_code.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "api request"
        );
        Ok(reply)
    }

    fn url(&self, path: &str) -> Url {
        let mut url = (*self.base).clone();
        url.set_path(&format!("{}{path}", self.prefix));
        url
    }
}

/// A project id goes into the path: only letters and digits, so it cannot change the path.
fn checked_project(project_id: &str) -> Result<&str, ApiError> {
    if !project_id.is_empty() && project_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(project_id)
    } else {
        Err(ApiError::InvalidRequest(format!(
            "project id `{project_id}` must be letters and digits only"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthContext;
    use crate::job::TokenSource;

    fn client(base: &str) -> Client {
        let auth = Authenticator::new(
            &TokenSource::Env("UNUSED".into()),
            std::path::Path::new("."),
            AuthContext::new(base),
        );
        Client::new(base, Arc::new(auth), ClientOptions::default()).unwrap()
    }

    #[test]
    fn paths_join_the_base_url_with_exactly_one_slash() {
        let url = client("http://127.0.0.1:8080").url("/v4/projects/p/issues");
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/v4/projects/p/issues");
        let url = client("https://gateway.example.com/prefix/").url("/v4/projects");
        assert_eq!(
            url.as_str(),
            "https://gateway.example.com/prefix/v4/projects"
        );
    }

    #[test]
    fn project_ids_cannot_change_the_path() {
        assert!(checked_project("526cefde62004de2b62b5e8dd2c2b3af").is_ok());
        for bad in ["", "../admin", "a/b", "a?b", "a%2F"] {
            assert!(checked_project(bad).is_err(), "{bad}");
        }
    }
}
