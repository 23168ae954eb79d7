//! Where the API is, and which version of the format: the checks of a job that need no
//! other part of it. They run even when the schema found errors elsewhere in the file, so a
//! wrong version or region is not hidden behind an unrelated typo.

use super::shape::did_you_mean;
use crate::checked::Endpoint;
use crate::diagnostic::{Diagnostic, Finding};

/// The regions CodeArts Req is offered in.
pub const REGIONS: [&str; 9] = [
    "cn-north-4",
    "cn-north-1",
    "cn-east-2",
    "cn-south-1",
    "cn-southwest-2",
    "cn-east-3",
    "ap-southeast-3",
    "la-north-2",
    "sa-brazil-1",
];

/// The checks that need no other part of the job, run even when the schema found errors
/// elsewhere (so a wrong version or region is not hidden behind a typo).
pub fn standalone_findings(value: &serde_json::Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(v) = value.get("version").and_then(serde_json::Value::as_u64) {
        version(v, &mut findings);
    }
    let text = |key: &str| match value.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(()),
    };
    if let (Ok(endpoint_value), Ok(region)) = (text("endpoint"), text("region"))
        && value.is_object()
    {
        endpoint(endpoint_value, region, &mut findings);
    }
    findings
}

pub fn version(version: u64, findings: &mut Vec<Finding>) {
    if version != 1 {
        findings.push(Finding::new(
            "/version",
            Diagnostic::error(
                "unsupported-version",
                format!("version {version} is not supported: this reqprune reads version 1"),
            )
            .hint("write `version: 1`"),
        ));
    }
}

/// The job's endpoint from `endpoint` or `region`, exactly one of them.
pub fn endpoint(
    endpoint: Option<&str>,
    region: Option<&str>,
    findings: &mut Vec<Finding>,
) -> Option<Endpoint> {
    match (endpoint, region) {
        (Some(_), Some(_)) => {
            findings.push(Finding::at_key(
                "/region",
                Diagnostic::error("endpoint-conflict", "give `endpoint` or `region`, not both")
                    .hint("`region: cn-north-4` is short for its `https://projectman-ext.cn-north-4.myhuaweicloud.com` endpoint"),
            ));
            None
        }
        (None, None) => {
            findings.push(Finding::new(
                "",
                Diagnostic::error("missing-endpoint", "the job has neither `endpoint` nor `region`")
                    .hint("add `region: cn-north-4` (or your region), or `endpoint: sandbox` to try it locally"),
            ));
            None
        }
        (None, Some(region)) if REGIONS.contains(&region) => Some(Endpoint::Url(format!(
            "https://projectman-ext.{region}.myhuaweicloud.com"
        ))),
        (None, Some(region)) => {
            let known: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();
            let d = Diagnostic::error(
                "unknown-region",
                format!("CodeArts Req is not offered in region `{region}`"),
            );
            let d = match did_you_mean(region, &known) {
                Some(best) => d.hint(format!("did you mean `{best}`?")),
                None => d.hint(format!("the regions are {}", REGIONS.join(", "))),
            };
            findings.push(Finding::new("/region", d));
            None
        }
        (Some("sandbox"), None) => Some(Endpoint::Sandbox),
        (Some(url), None) => match url_endpoint(url) {
            Ok(url) => Some(Endpoint::Url(url)),
            Err(d) => {
                findings.push(Finding::new("/endpoint", d));
                None
            }
        },
    }
}

/// An `https://` URL, or `http://` to a loopback host, without its trailing `/`.
pub fn url_endpoint(url: &str) -> Result<String, Diagnostic> {
    let invalid = |why: &str| {
        Diagnostic::error("invalid-endpoint", format!("the endpoint {why}")).hint(
            "write e.g. `https://projectman-ext.cn-north-4.myhuaweicloud.com`, or use `region:`",
        )
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("is not a URL (no `https://`)"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rsplit_once('@') {
        Some(_) => return Err(invalid("must not hold a user name or password")),
        None => authority,
    };
    let host_only = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    if host_only.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(invalid("has no host name"));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid("must not have a query or fragment"));
    }
    match scheme {
        "https" => {}
        "http" if is_loopback(host_only) => {}
        "http" => {
            return Err(Diagnostic::error(
                "invalid-endpoint",
                "plain `http://` is only allowed to a loopback host (localhost, 127.0.0.1, ::1): tokens would cross the network unencrypted",
            )
            .hint("use `https://`"));
        }
        _ => return Err(invalid(&format!("has scheme `{scheme}`; use `https://`"))),
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::url_endpoint;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        assert_eq!(
            url_endpoint("https://example.com/").unwrap(),
            "https://example.com"
        );
        assert_eq!(
            url_endpoint("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(url_endpoint("http://[::1]:80/").unwrap(), "http://[::1]:80");
        assert!(url_endpoint("http://example.com").is_err());
        assert!(url_endpoint("ftp://example.com").is_err());
        assert!(url_endpoint("https://user:pw@example.com").is_err());
        assert!(url_endpoint("example.com").is_err());
    }
}
