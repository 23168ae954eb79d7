//! A resolved credential, and the headers that authenticate one request with it.
//!
//! A token goes in `X-Auth-Token`; AK/SK keys sign the request with `SDK-HMAC-SHA256`
//! exactly as the official SDKs do (`sign`): `X-Sdk-Date` now in UTC, `Host` with the port
//! when it is not the scheme's default, and `content-type`, `user-agent`, `x-project-id` and
//! `x-security-token` signed when sent. Every header holding a secret is marked sensitive, so
//! the HTTP stack's own `Debug` output shows `Sensitive` instead of the value.

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;

use super::sign::{self, SignInput};
use super::{AuthError, Secret};

/// What an [`super::Authenticator`] resolves a token source to.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An IAM token, sent as `X-Auth-Token`.
    Token(Secret),
    /// Keys that sign each request.
    Aksk(AkSk),
}

/// AK/SK keys: the AK identifies, the SK signs, the security token marks temporary keys.
#[derive(Debug, Clone)]
pub struct AkSk {
    pub ak: String,
    pub sk: Secret,
    pub security_token: Option<Secret>,
    /// The IAM region project id, sent and signed as `X-Project-Id` when given.
    pub project_id: Option<String>,
}

/// The parts of a request that authentication covers.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub method: &'a str,
    pub url: &'a Url,
    pub content_type: Option<&'a str>,
    pub user_agent: &'a str,
    pub body: &'a [u8],
}

impl Credential {
    /// Every header to send with `request`: `Host`, `Content-Type` and `User-Agent` (set here
    /// because a signature covers them) plus the authentication headers.
    pub fn headers(
        &self,
        request: &Outgoing<'_>,
        now: OffsetDateTime,
    ) -> Result<HeaderMap, AuthError> {
        let host = host_header(request.url);
        let mut plain: Vec<(&'static str, String)> = vec![
            ("Host", host.clone()),
            ("User-Agent", request.user_agent.to_string()),
        ];
        if let Some(content_type) = request.content_type {
            plain.push(("Content-Type", content_type.to_string()));
        }
        let mut headers = HeaderMap::new();
        match self {
            Credential::Token(token) => {
                headers.insert("x-auth-token", sensitive(token.expose())?);
            }
            Credential::Aksk(keys) => {
                let date = now
                    .to_offset(time::UtcOffset::UTC)
                    .format(sign::DATE_FORMAT)
                    .unwrap_or_default();
                plain.push(("X-Sdk-Date", date));
                if let Some(project_id) = &keys.project_id {
                    plain.push(("X-Project-Id", project_id.clone()));
                }
                let mut signed: Vec<(String, String)> = plain
                    .iter()
                    .filter(|(name, _)| *name != "Host")
                    .map(|(name, value)| (name.to_string(), value.clone()))
                    .collect();
                if let Some(token) = &keys.security_token {
                    signed.push(("X-Security-Token".into(), token.expose().to_string()));
                    headers.insert("x-security-token", sensitive(token.expose())?);
                }
                let query: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let signature = sign::sign(
                    &keys.ak,
                    &keys.sk,
                    &SignInput {
                        method: request.method,
                        host: &host,
                        path: request.url.path(),
                        query: &query,
                        headers: &signed,
                        body: request.body,
                    },
                );
                headers.insert(AUTHORIZATION, sensitive(&signature.authorization)?);
            }
        }
        for (name, value) in plain {
            let name = match name {
                "Host" => HOST,
                "Content-Type" => CONTENT_TYPE,
                other => HeaderName::from_bytes(other.as_bytes()).map_err(|_| bad_header())?,
            };
            headers.insert(
                name,
                HeaderValue::from_str(&value).map_err(|_| bad_header())?,
            );
        }
        Ok(headers)
    }
}

/// `host[:port]` as the `Host` header carries it: the port only when it is not the scheme's
/// default (the URL parser already drops a default port).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn sensitive(value: &str) -> Result<HeaderValue, AuthError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| bad_header())?;
    value.set_sensitive(true);
    Ok(value)
}

fn bad_header() -> AuthError {
    AuthError::InvalidToken {
        source_label: "a request header".into(),
        reason: "it cannot be sent in an HTTP header",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's signing path reproduces the official SDK's batch-delete vector: the
    /// same headers, host with port, body and date give the same Authorization header.
    #[test]
    fn signs_the_batch_delete_vector_exactly() {
        let keys = Credential::Aksk(AkSk {
            ak: "AccessKey".into(),
            sk: Secret::new("SecretKey"),
            security_token: None,
            project_id: None,
        });
        let url: Url = "http://127.0.0.1:8080/v4/projects/526cefde62004de2b62b5e8dd2c2b3af/issues"
            .parse()
            .unwrap();
        let request = Outgoing {
            method: "DELETE",
            url: &url,
            content_type: Some("application/json;charset=utf-8"),
            user_agent: "huaweicloud-usdk-python/3.0",
            body: br#"{"issue_ids": [1660084, 1660085]}"#,
        };
        let now = time::macros::datetime!(2024-01-01 00:00:00 UTC);
        let headers = keys.headers(&request, now).unwrap();
        assert_eq!(headers["host"], "127.0.0.1:8080");
        assert_eq!(headers["x-sdk-date"], "20240101T000000Z");
        assert_eq!(
            headers["authorization"],
            "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;user-agent;x-sdk-date, \
             Signature=edeface0dfbfc1ff11457402ad1f0eb2631dc5bc3a9779ac125810d5b6979d57"
        );
        assert!(headers["authorization"].is_sensitive());
        assert!(!format!("{headers:?}").contains("edeface0"));
    }

    #[test]
    fn tokens_and_security_tokens_are_sensitive_headers() {
        let url: Url = "https://example.com:8443/v4/x".parse().unwrap();
        let request = Outgoing {
            method: "GET",
            url: &url,
            content_type: None,
            user_agent: "reqprune/test",
            body: b"",
        };
        let now = OffsetDateTime::now_utc();
        let headers = Credential::Token(Secret::new("tok-secret"))
            .headers(&request, now)
            .unwrap();
        assert_eq!(headers["host"], "example.com:8443");
        assert!(headers["x-auth-token"].is_sensitive());
        assert!(!format!("{headers:?}").contains("tok-secret"));
        let temporary = Credential::Aksk(AkSk {
            ak: "AK".into(),
            sk: Secret::new("sk"),
            security_token: Some(Secret::new("sts-secret")),
            project_id: Some("p1".into()),
        });
        let headers = temporary.headers(&request, now).unwrap();
        assert!(headers["x-security-token"].is_sensitive());
        let auth = headers["authorization"].to_str().unwrap();
        assert!(
            auth.contains("SignedHeaders=host;user-agent;x-project-id;x-sdk-date;x-security-token"),
            "{auth}"
        );
        assert!(!format!("{headers:?}").contains("sts-secret"));
    }
}
