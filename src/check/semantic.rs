//! The checks the schema cannot express: versions, endpoints, references between tokens,
//! sets and projects, duplicate projects, ranges and id files. A [`JobFile`] that passes
//! becomes a [`Job`]; one that does not leaves findings at the offending nodes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use super::endpoint::{endpoint, url_endpoint, version};
use super::sets::SetResolver;
use crate::checked::{Job, Project};
use crate::diagnostic::{Diagnostic, Finding, Severity};
use crate::fingerprint::Fingerprinter;
use crate::idset::IdSet;
use crate::job::{JobFile, TokenSource};
use crate::load::SourceFile;
use crate::position::join_pointer;

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

/// Checks of a token source beyond its shape: names of environment variables must be
/// names (a pasted credential in their place is a literal secret), paths and commands must
/// not be empty.
fn token_source(source: &TokenSource, pointer: &str, findings: &mut Vec<Finding>) {
    let mut not_empty = |key: &str, value: &str| {
        if value.trim().is_empty() {
            findings.push(Finding::new(
                format!("{pointer}/{key}"),
                Diagnostic::error("invalid-value", format!("`{key}` must not be empty")),
            ));
        }
    };
    let mut env_names: Vec<(&str, &str)> = Vec::new();
    match source {
        TokenSource::Env(name) => env_names.push(("env", name)),
        TokenSource::File(path) => not_empty("file", path),
        TokenSource::Command(argv) => {
            not_empty("command/0", argv.first().map_or("", String::as_str));
            for (n, arg) in argv.iter().enumerate().skip(1) {
                if argument_holds_credential(arg) {
                    findings.push(Finding::new(
                        format!("{pointer}/command/{n}"),
                        Diagnostic::error(
                            "secret-literal",
                            "this command argument looks like a credential written into the job file",
                        )
                        .hint("let the command find the secret itself (a vault, a keyring, a file), or use `env:`"),
                    ));
                }
            }
        }
        TokenSource::Iam(iam) => {
            env_names.extend([
                ("iam/user_env", &*iam.user_env),
                ("iam/password_env", &*iam.password_env),
            ]);
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
            env_names.extend([
                ("aksk/ak_env", &*aksk.ak_env),
                ("aksk/sk_env", &*aksk.sk_env),
            ]);
            if let Some(name) = &aksk.security_token_env {
                env_names.push(("aksk/security_token_env", name));
            }
        }
    }
    for (key, name) in env_names {
        if let Some(d) = env_name_problem(key, name) {
            findings.push(Finding::new(format!("{pointer}/{key}"), d));
        }
    }
}

/// An argument that is a token or key itself: an `X-Auth-Token:` header with its value, or a
/// long run of letters and digits of mixed case (JWTs, IAM tokens, secret keys). Paths,
/// flags, names and the demo's `reqprune-demo-token` are none of these.
fn argument_holds_credential(arg: &str) -> bool {
    let lower = arg.to_ascii_lowercase();
    if let Some((_, value)) = lower.split_once("x-auth-token:") {
        return !value.trim().is_empty();
    }
    let alphanumeric = arg.chars().filter(char::is_ascii_alphanumeric).count();
    arg.len() >= 40
        && !arg.contains(char::is_whitespace)
        && alphanumeric * 10 >= arg.len() * 9
        && arg.contains(|c: char| c.is_ascii_digit())
        && arg.contains(|c: char| c.is_ascii_uppercase())
        && arg.contains(|c: char| c.is_ascii_lowercase())
}

/// What is wrong with the name of an environment variable, if anything.
fn env_name_problem(key: &str, name: &str) -> Option<Diagnostic> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return None;
    }
    let key = key.rsplit('/').next().unwrap_or(key);
    // A credential is one long word, or holds what tokens and keys hold and names do not.
    let credential = !name.contains(char::is_whitespace)
        && (name.len() >= 24 || name.contains(['.', '/', '+', '=', ':']));
    if credential {
        Some(
            Diagnostic::error(
                "secret-literal",
                format!("`{key}` must name an environment variable, but this looks like a credential"),
            )
            .hint("put the credential in an environment variable and write its name, e.g. `CODEARTS_TOKEN`"),
        )
    } else {
        Some(Diagnostic::error(
            "invalid-value",
            format!(
                "`{key}` must be the name of an environment variable (letters, digits and `_`)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_arguments_holding_credentials_are_found() {
        for arg in [
            "X-Auth-Token: abc",
            "eyJhbGciOiJSUzI1NiJ9eyJzdWIiOiJyZXFwcnVuZSJ9c2lnbmF0dXJl",
            "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY1234",
        ] {
            assert!(argument_holds_credential(arg), "{arg}");
        }
        for arg in [
            "reqprune-demo-token",
            "-field=token",
            "secret/codearts",
            "/run/secrets/codearts/production/token-for-the-req-api",
            "--header=X-Auth-Token:",
        ] {
            assert!(!argument_holds_credential(arg), "{arg}");
        }
    }

    #[test]
    fn environment_variable_names() {
        assert!(env_name_problem("env", "CODEARTS_TOKEN").is_none());
        assert!(env_name_problem("env", "_private2").is_none());
        let code = |name| env_name_problem("env", name).map(|d| d.code);
        assert_eq!(code("HW IAM USER"), Some("invalid-value"));
        assert_eq!(code("2FA"), Some("invalid-value"));
        assert_eq!(
            code("eyJhbGciOiJSUzI1NiJ9.eyJzdWIi"),
            Some("secret-literal")
        );
    }
}
