//! `Reply`: what the service answered to one request, reduced to what the executor decides
//! on (status, error code and message, request id, `Retry-After`).
//!
//! Bodies are read up to a cap, so a misbehaving server cannot make the client buffer
//! gigabytes; an error body is `{"error_code", "error_msg"}` (gateway errors add
//! `request_id`), and the `X-Request-Id` header wins over the body's id.

use std::time::{Duration, SystemTime};

use super::ApiError;
use super::transport;

/// The most of a response body the client reads; error bodies are a few hundred bytes.
const BODY_CAP: usize = 256 * 1024;

/// One response of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// `X-Request-Id`, or the body's `request_id`: worth logging and journaling.
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    /// `Retry-After`, given in seconds or as an HTTP date.
    pub retry_after: Option<Duration>,
}

impl Reply {
    /// A 2xx answer.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Read a response, its body up to the cap. A connection that fails mid-body is a
    /// transport error like any other.
    pub(crate) async fn read(mut response: reqwest::Response) -> Result<Reply, ApiError> {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let header_request_id = header("x-request-id");
        let retry_after =
            header("retry-after").and_then(|value| parse_retry_after(&value, SystemTime::now()));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| ApiError::Transport {
            kind: transport::classify(&e),
            message: transport::describe(&e),
        })? {
            let room = BODY_CAP.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(|v| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
        };
        Ok(Reply {
            status,
            request_id: header_request_id.or_else(|| field("request_id")),
            error_code: field("error_code"),
            error_msg: field("error_msg").map(|m| m.chars().take(1000).collect()),
            retry_after,
        })
    }
}

/// `Retry-After: 120` or `Retry-After: Fri, 04 Dec 2026 20:00:00 GMT` (a past date is zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Fri, 04 Dec 2026 20:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Fri, 04 Dec 2026 20:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Fri, 04 Dec 2026 19:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
