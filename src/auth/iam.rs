//! IAM password tokens: `POST /v3/auth/tokens`, the token from `X-Subject-Token`, kept until
//! shortly before `expires_at`, optionally cached on disk in the state folder (mode 0600).
//!
//! The endpoint is, in order: the run's override (the sandbox), the source's `endpoint`, or
//! `https://iam.{region}.myhuaweicloud.com` with the region from the job (or read from its
//! `projectman-ext.{region}...` endpoint). The user name and password come from environment
//! variables; the password goes into the request body and nowhere else. The cache holds the
//! issued token (never the password) and is keyed by a hash of endpoint, domain, user and
//! scope; anything wrong with it is a warning and a fresh fetch, never an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::source::{checked_token, env_value};
use super::{AuthContext, AuthError, Secret};
use crate::api::transport;
use crate::job::IamSource;

/// Renew a token this long before it expires (or halfway through a shorter lifetime).
const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A token IAM issued.
#[derive(Debug, Clone)]
pub struct IamToken {
    pub token: Secret,
    pub expires_at: OffsetDateTime,
    /// When it was fetched (or loaded from the cache): with `expires_at`, its lifetime.
    pub obtained_at: OffsetDateTime,
}

impl IamToken {
    /// When to fetch a new one: five minutes before expiry, or halfway for short lifetimes.
    pub fn renew_at(&self) -> OffsetDateTime {
        let lifetime = self.expires_at - self.obtained_at;
        let margin = time::Duration::try_from(RENEW_MARGIN)
            .unwrap_or(time::Duration::ZERO)
            .min(lifetime / 2);
        self.expires_at - margin
    }

    fn is_fresh(&self) -> bool {
        OffsetDateTime::now_utc() < self.renew_at()
    }
}

/// A valid token for `source`: from the cache unless `bypass_cache`, else from IAM (then
/// cached).
pub async fn token(
    source: &IamSource,
    ctx: &AuthContext,
    bypass_cache: bool,
) -> Result<IamToken, AuthError> {
    let endpoint = endpoint(source, ctx)?;
    let user = env_value(&source.user_env, "an IAM user name")?;
    let cache = ctx
        .state_dir
        .as_deref()
        .map(|dir| cache_path(dir, &endpoint, source, &user));
    if !bypass_cache
        && let Some(path) = &cache
        && let Some(token) = load_cached(path).filter(IamToken::is_fresh)
    {
        tracing::debug!(path = %path.display(), "IAM token from cache");
        return Ok(token);
    }
    let password = Secret::new(env_value(&source.password_env, "an IAM password")?);
    let token = fetch(&endpoint, source, &user, &password).await?;
    if let Some(path) = &cache {
        store_cached(path, &token);
    }
    Ok(token)
}

/// Where IAM is for this source and run.
pub fn endpoint(source: &IamSource, ctx: &AuthContext) -> Result<String, AuthError> {
    let chosen = ctx
        .iam_endpoint_override
        .clone()
        .or_else(|| source.endpoint.clone())
        .or_else(|| {
            ctx.region
                .clone()
                .or_else(|| region_of(&ctx.api_endpoint))
                .map(|region| format!("https://iam.{region}.myhuaweicloud.com"))
        })
        .ok_or_else(|| {
            AuthError::IamEndpoint(
                "give the iam source an `endpoint`, or the job a `region`".to_string(),
            )
        })?;
    transport::check_endpoint(&chosen).map_err(AuthError::IamEndpoint)?;
    Ok(chosen.trim_end_matches('/').to_string())
}

/// `https://projectman-ext.cn-north-4.myhuaweicloud.com` → `cn-north-4`.
fn region_of(api_endpoint: &str) -> Option<String> {
    let rest = api_endpoint.split("://").nth(1)?;
    let host = rest.split(['/', ':']).next()?;
    let region = host
        .strip_prefix("projectman-ext.")?
        .strip_suffix(".myhuaweicloud.com")?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_string())
}

async fn fetch(
    endpoint: &str,
    source: &IamSource,
    user: &str,
    password: &Secret,
) -> Result<IamToken, AuthError> {
    let transport_error = |message: String| AuthError::IamTransport {
        endpoint: endpoint.to_string(),
        message,
    };
    let bad_answer = |message: &str| AuthError::IamResponse {
        endpoint: endpoint.to_string(),
        message: message.to_string(),
    };
    let scope = match (&source.scope_project, &source.scope_domain) {
        (Some(project), _) => serde_json::json!({"project": {"name": project}}),
        (None, Some(domain)) => serde_json::json!({"domain": {"name": domain}}),
        (None, None) => serde_json::json!({"domain": {"name": source.domain}}),
    };
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "password": password.expose(), "domain": {"name": source.domain}}}},
        "scope": scope}});
    let http = transport::http_client(endpoint, &transport::ClientOptions::default())
        .map_err(|e| transport_error(e.to_string()))?;
    let obtained_at = OffsetDateTime::now_utc();
    let response = http
        .post(format!("{endpoint}/v3/auth/tokens"))
        .header("Content-Type", "application/json;charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| transport_error(transport::describe(&e)))?;
    let status = response.status().as_u16();
    let header = response
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response
        .text()
        .await
        .map_err(|e| transport_error(transport::describe(&e)))?;
    let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if status != 201 && status != 200 {
        return Err(AuthError::IamRejected {
            endpoint: endpoint.to_string(),
            user_env: source.user_env.clone(),
            status,
            message: json.as_ref().and_then(error_message),
        });
    }
    let token = header.ok_or_else(|| bad_answer("no X-Subject-Token header"))?;
    let token = checked_token(token, "IAM's X-Subject-Token")?;
    let expires_at = json
        .as_ref()
        .and_then(|j| j.pointer("/token/expires_at"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| bad_answer("no token.expires_at in the body"))?;
    let expires_at = OffsetDateTime::parse(expires_at, &Rfc3339)
        .map_err(|_| bad_answer("token.expires_at is not an RFC 3339 time"))?;
    tracing::info!(endpoint, %expires_at, "IAM token obtained");
    Ok(IamToken {
        token,
        expires_at,
        obtained_at,
    })
}

/// `{"error": {"message": ...}}` (IAM) or `{"error_msg": ...}` (the gateway), shortened.
fn error_message(json: &serde_json::Value) -> Option<String> {
    let message = json
        .pointer("/error/message")
        .or_else(|| json.get("error_msg"))?
        .as_str()?;
    Some(message.chars().take(300).collect())
}

fn cache_path(state_dir: &Path, endpoint: &str, source: &IamSource, user: &str) -> PathBuf {
    let scope = format!("{:?}/{:?}", source.scope_project, source.scope_domain);
    let key = [endpoint, &source.domain, user, &scope].join("\0");
    let hash = super::sign::hex_sha256(key.as_bytes());
    state_dir
        .join("auth")
        .join(format!("iam-{}.json", &hash[..16]))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CacheFile {
    format_version: u32,
    expires_at: String,
    obtained_at: String,
    token: String,
}

fn load_cached(path: &Path) -> Option<IamToken> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable IAM token cache");
            return None;
        }
    };
    let parsed = serde_json::from_str::<CacheFile>(&text)
        .ok()
        .and_then(|file| {
            Some(IamToken {
                token: checked_token(file.token, "the IAM token cache").ok()?,
                expires_at: OffsetDateTime::parse(&file.expires_at, &Rfc3339).ok()?,
                obtained_at: OffsetDateTime::parse(&file.obtained_at, &Rfc3339).ok()?,
            })
        });
    if parsed.is_none() {
        tracing::warn!(path = %path.display(), "ignoring malformed IAM token cache");
    }
    parsed
}

/// Write the cache atomically (see [`crate::atomic_file`]): a 0600 file in a 0700 folder.
fn store_cached(path: &Path, token: &IamToken) {
    let result = (|| -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        let file = CacheFile {
            format_version: 1,
            expires_at: token.expires_at.format(&Rfc3339).unwrap_or_default(),
            obtained_at: token.obtained_at.format(&Rfc3339).unwrap_or_default(),
            token: token.token.expose().to_string(),
        };
        // tempfile creates its files with mode 0600, and the rename keeps it.
        crate::atomic_file::replace(path, |out| Ok(serde_json::to_writer(out, &file)?)).map_err(
            |e| std::io::Error::other(format!("{} the cache: {}", e.step.action(), e.source)),
        )
    })();
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "could not cache the IAM token");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_is_read_from_the_regional_endpoint() {
        assert_eq!(
            region_of("https://projectman-ext.cn-north-4.myhuaweicloud.com").as_deref(),
            Some("cn-north-4")
        );
        assert_eq!(region_of("http://127.0.0.1:8080"), None);
    }

    #[test]
    fn short_lifetimes_renew_halfway() {
        let now = OffsetDateTime::now_utc();
        let long = IamToken {
            token: Secret::new("t"),
            expires_at: now + time::Duration::hours(24),
            obtained_at: now,
        };
        assert_eq!(
            long.renew_at(),
            long.expires_at - time::Duration::minutes(5)
        );
        let short = IamToken {
            expires_at: now + time::Duration::seconds(4),
            ..long
        };
        assert_eq!(short.renew_at(), now + time::Duration::seconds(2));
    }
}
