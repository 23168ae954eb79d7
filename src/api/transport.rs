//! The HTTP transport under the API client and the IAM fetch: one place that builds a
//! reqwest client (rustls, timeouts, no redirects, `User-Agent: reqprune/VERSION`), checks
//! that an endpoint may carry credentials, and classifies transport failures.
//!
//! Plain `http://` is refused except to loopback hosts (the sandbox), so a token can only
//! cross a network encrypted. Redirects are never followed: reqwest would carry our
//! `X-Auth-Token` header to wherever a redirect points.

use std::error::Error as _;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;

use super::ApiError;

/// `reqprune/0.1.0`: how the service's logs name this tool.
pub const USER_AGENT: &str = concat!("reqprune/", env!("CARGO_PKG_VERSION"));

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// A whole request, from sending to the end of the response body.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What kind of transport failure happened: the executor decides on retries from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// No connection could be made (refused, unreachable, DNS, TLS handshake).
    Connect,
    /// Connecting or the request took longer than its timeout.
    Timeout,
    /// The connection was reset or closed before a complete response arrived; the request
    /// may or may not have been applied.
    Reset,
    Other,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection",
            TransportKind::Timeout => "timeout",
            TransportKind::Reset => "connection reset",
            TransportKind::Other => "transport",
        })
    }
}

/// Check that `url` may receive credentials: `https://`, or `http://` to a loopback host
/// (127.0.0.0/8, ::1, localhost); no user info, query or fragment. The message never repeats
/// the URL, which could hold a password in its user info or a token in its query.
pub fn check_endpoint(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| {
        // Echo it only when it cannot hold user info (and so a password).
        let shown = if url.contains('@') {
            "the endpoint"
        } else {
            url
        };
        format!("`{shown}` is not a valid URL ({e})")
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the endpoint URL must not contain a user name or password".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("the endpoint URL must not have a query or fragment".into());
    }
    let host = parsed.host_str().unwrap_or_default().to_string();
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(format!(
            "`http://{host}` would send credentials unencrypted; use https:// \
             (plain http is allowed only to 127.0.0.1, ::1 or localhost)"
        )),
        scheme => Err(format!("unsupported URL scheme `{scheme}`; use https://")),
    }
}

/// Whether `url` points at this machine.
pub fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// A reqwest client for requests to `endpoint`.
pub fn http_client(endpoint: &str, options: &ClientOptions) -> Result<reqwest::Client, ApiError> {
    let url = check_endpoint(endpoint).map_err(ApiError::InvalidEndpoint)?;
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .https_only(!is_loopback(&url))
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .tcp_nodelay(true);
    if is_loopback(&url) {
        // A proxy from the environment must not see sandbox traffic (or its tokens).
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| ApiError::InvalidEndpoint(format!("cannot build the HTTP client: {e}")))
}

/// Classify a reqwest failure.
pub fn classify(error: &reqwest::Error) -> TransportKind {
    if error.is_timeout() {
        return TransportKind::Timeout;
    }
    if error.is_connect() {
        return TransportKind::Connect;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return TransportKind::Reset;
            }
            if io.kind() == TimedOut {
                return TransportKind::Timeout;
            }
        }
        let text = cause.to_string().to_ascii_lowercase();
        if text.contains("connection closed")
            || text.contains("connection reset")
            || text.contains("incomplete")
            || text.contains("broken pipe")
        {
            return TransportKind::Reset;
        }
        source = cause.source();
    }
    TransportKind::Other
}

/// A failure with its causes (`error sending request: connection closed before message
/// completed`). reqwest errors name the URL, which holds no credential.
pub fn describe(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_endpoint("https://projectman-ext.cn-north-4.myhuaweicloud.com").is_ok());
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://[::1]:9",
            "http://localhost:1",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://127.0.0.1",
            "http://[::2]",
            "nonsense",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_info_is_refused_without_echoing_it() {
        let error = check_endpoint("https://user:hunter2@example.com").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        let error = check_endpoint("https://example.com/?token=hunter2").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
