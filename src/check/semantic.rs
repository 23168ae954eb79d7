//! The checks the schema cannot express: versions, endpoints, references between tokens,
//! sets and projects, duplicate projects, ranges and id files. A [`JobFile`] that passes
//! becomes a [`Job`]; one that does not leaves findings at the offending nodes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::sets::SetResolver;
use crate::checked::{Endpoint, Job, Project};
use crate::diagnostic::{Diagnostic, Finding, Severity};
use crate::fingerprint::Fingerprinter;
use crate::idset::IdSet;
use crate::job::{JobFile, TokenSource};
use crate::load::SourceFile;
use crate::position::join_pointer;

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

/// What checking one job file found.
pub struct JobCheck {
    /// The job, when the file has no error.
    pub job: Option<Job>,
    pub findings: Vec<Finding>,
    /// Diagnostics located in id files.
    pub id_file_diagnostics: Vec<Diagnostic>,
    pub id_sources: Vec<SourceFile>,
}

/// Checks a job file that has the schema's shape. `skip` names pointers already reported
/// (literal secrets), so they are not reported twice.
pub fn check_job(source: &SourceFile, file: JobFile, skip: &BTreeSet<String>) -> JobCheck {
    let path = &source.path;
    let base_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut findings = Vec::new();

    version(u64::from(file.version), &mut findings);
    let endpoint = endpoint(
        file.endpoint.as_deref(),
        file.region.as_deref(),
        &mut findings,
    );

    // Token references: the job's default and each project's.
    let mut tokens_used = BTreeSet::new();
    if let Some(name) = &file.token
        && !skip.contains("/token")
    {
        check_token_name(name, &file, "/token", &mut findings);
        tokens_used.insert(name.clone());
    }
    for (name, source) in &file.tokens {
        token_source(source, &join_pointer("/tokens", name), &mut findings);
    }

    let mut fingerprint = Fingerprinter::new();
    let file_name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    fingerprint.add(&file_name, &source.bytes);
    let mut sets = SetResolver::new(&base_dir, &file.sets, fingerprint);
    sets.resolve_all_named();

    let mut job_protect = Vec::new();
    let job_protect_ok = sets.add_refs(&file.protect, "/protect", &mut job_protect);
    let job_protect = IdSet::from_unsorted(job_protect);

    let mut projects = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (n, spec) in file.projects.iter().enumerate() {
        let at = format!("/projects/{n}");
        if let Some(first) = seen.insert(spec.id.as_str(), n) {
            findings.push(Finding::new(
                format!("{at}/id"),
                Diagnostic::error(
                    "duplicate-project",
                    format!(
                        "project {} is listed twice (also as project {first})",
                        spec.id
                    ),
                )
                .hint("merge the two entries: list every set under one `delete`"),
            ));
        }
        let token_name = match (&spec.token, &file.token) {
            (Some(name), _) => {
                let pointer = format!("{at}/token");
                if !skip.contains(&pointer) {
                    check_token_name(name, &file, &pointer, &mut findings);
                }
                tokens_used.insert(name.clone());
                Some(name.clone())
            }
            (None, Some(name)) => Some(name.clone()),
            (None, None) => {
                findings.push(Finding::new(
                    &at,
                    Diagnostic::error(
                        "missing-token",
                        "this project has no `token` and the job has no default `token`",
                    )
                    .hint("add `token: NAME` to the job (or the project), naming one of `tokens`"),
                ));
                None
            }
        };
        if spec.delete.is_empty() {
            findings.push(Finding::new(
                format!("{at}/delete"),
                Diagnostic::error(
                    "nothing-to-delete",
                    "`delete` is empty: this project would delete nothing",
                )
                .hint("name at least one set, or remove the project"),
            ));
        }
        let mut delete = Vec::new();
        let delete_ok = sets.add_refs(&spec.delete, &format!("{at}/delete"), &mut delete);
        let mut protect = Vec::new();
        let protect_ok = sets.add_refs(&spec.protect, &format!("{at}/protect"), &mut protect);
        let token = token_name.as_ref().and_then(|name| file.tokens.get(name));
        if let (true, true, Some(token_name), Some(token)) =
            (delete_ok, protect_ok, token_name.clone(), token)
        {
            projects.push(Project {
                id: spec.id.clone(),
                label: spec.label.clone(),
                token_name,
                token: token.clone(),
                base_dir: base_dir.clone(),
                delete: IdSet::from_unsorted(delete),
                protect: IdSet::from_unsorted(protect).union(&job_protect),
            });
        }
    }

    for name in file.tokens.keys().filter(|n| !tokens_used.contains(*n)) {
        findings.push(Finding::at_key(
            join_pointer("/tokens", name),
            Diagnostic::warning(
                "unused-token",
                format!("token source `{name}` is not used by any project"),
            ),
        ));
    }
    for name in file.sets.keys().filter(|n| !sets.used.contains(*n)) {
        findings.push(Finding::at_key(
            join_pointer("/sets", name),
            Diagnostic::warning(
                "unused-set",
                format!("set `{name}` is not used by any `delete` or `protect`"),
            ),
        ));
    }

    findings.append(&mut sets.findings);
    let has_error = findings
        .iter()
        .any(|f| f.diagnostic.severity == Severity::Error)
        || !sets.id_file_diagnostics.is_empty()
        || !job_protect_ok;
    let job = match endpoint {
        Some(endpoint) if !has_error && projects.len() == file.projects.len() => Some(Job {
            name: file.name,
            file: path.clone(),
            description: file.description,
            endpoint,
            region: file.region,
            projects,
            limits: file.limits,
            fingerprint: sets.fingerprint.finish(),
        }),
        _ => None,
    };
    JobCheck {
        job,
        findings,
        id_file_diagnostics: sets.id_file_diagnostics,
        id_sources: sets.id_sources,
    }
}

fn check_token_name(name: &str, file: &JobFile, pointer: &str, findings: &mut Vec<Finding>) {
    if file.tokens.contains_key(name) {
        return;
    }
    let names: Vec<String> = file.tokens.keys().cloned().collect();
    let d = Diagnostic::error(
        "unknown-token",
        format!("no token source is named `{name}`"),
    );
    let d = d.hint(super::shape::name_hint(
        name,
        &names,
        "token sources",
        "define it under `tokens:`, e.g. `tokens: { ci: { env: CODEARTS_TOKEN } }`",
    ));
    findings.push(Finding::new(pointer, d));
}

/// Checks of a token source beyond its shape.
fn token_source(source: &TokenSource, pointer: &str, findings: &mut Vec<Finding>) {
    let mut empty = |key: &str, value: &str| {
        if value.trim().is_empty() {
            findings.push(Finding::new(
                format!("{pointer}/{key}"),
                Diagnostic::error("invalid-value", format!("`{key}` must not be empty")),
            ));
        }
    };
    match source {
        TokenSource::Env(name) => empty("env", name),
        TokenSource::File(path) => empty("file", path),
        TokenSource::Command(argv) => empty("command", argv.first().map_or("", String::as_str)),
        TokenSource::Iam(iam) => {
            empty("iam/user_env", &iam.user_env);
            empty("iam/password_env", &iam.password_env);
            if iam.scope_project.is_some() == iam.scope_domain.is_some() {
                findings.push(Finding::new(
                    format!("{pointer}/iam"),
                    Diagnostic::error(
                        "invalid-value",
                        "an IAM token source needs exactly one of `scope_project` and `scope_domain`",
                    )
                    .hint("`scope_project: cn-north-4` for a token scoped to the region's project"),
                ));
            }
            if let Some(url) = &iam.endpoint
                && let Err(d) = url_endpoint(url)
            {
                findings.push(Finding::new(format!("{pointer}/iam/endpoint"), d));
            }
        }
        TokenSource::Aksk(aksk) => {
            empty("aksk/ak_env", &aksk.ak_env);
            empty("aksk/sk_env", &aksk.sk_env);
        }
    }
}

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

fn version(version: u64, findings: &mut Vec<Finding>) {
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
fn endpoint(
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
            let d = match super::shape::did_you_mean(region, &known) {
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
