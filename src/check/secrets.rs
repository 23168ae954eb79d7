//! A job file may only say where a secret is (an environment variable, a file, a command),
//! never hold one. This check runs on the raw YAML value, before the schema, so a secret is
//! named as such instead of as an unknown key, and so it fires even when the rest is broken.
//!
//! It cannot fire on a valid job: the format has no key named like a secret (`password_env`,
//! `sk_env`... are names of variables), and the only `token` keys that hold strings (the job's
//! and each project's) are token-source names, flagged only when they name no token source
//! *and* look like a credential. Messages never include the value.

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Finding};
use crate::position::join_pointer;

/// Keys that hold a secret when they hold a string.
const SECRET_KEYS: [&str; 14] = [
    "password",
    "passwd",
    "pwd",
    "secret",
    "secret_key",
    "sk",
    "ak",
    "access_key",
    "api_key",
    "apikey",
    "token",
    "x-auth-token",
    "value",
    "security_token",
];

/// Findings for every literal secret in a job file.
pub fn secret_findings(value: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(root) = value.as_object() else {
        return out;
    };
    let token_names: Vec<&str> = root
        .get("tokens")
        .and_then(Value::as_object)
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // The job's and each project's `token` name a token source.
    let mut references = vec![("/token".to_string(), root.get("token"))];
    if let Some(projects) = root.get("projects").and_then(Value::as_array) {
        for (n, project) in projects.iter().enumerate() {
            references.push((format!("/projects/{n}/token"), project.get("token")));
        }
    }
    for (pointer, value) in references {
        if let Some(Value::String(s)) = value
            && !token_names.contains(&s.as_str())
            && looks_like_credential(s)
        {
            out.push(Finding::new(
                pointer,
                Diagnostic::error("secret-literal", "`token` must name a token source, but this looks like a token itself")
                    .hint("never write a token in a job file: define a source under `tokens:`, e.g. `ci: { env: CODEARTS_TOKEN }`, and write `token: ci`"),
            ));
        }
    }
    if let Some(tokens) = root.get("tokens").and_then(Value::as_object) {
        for (name, source) in tokens {
            let pointer = join_pointer("/tokens", name);
            if source.is_string() {
                out.push(Finding::new(
                    &pointer,
                    Diagnostic::error("secret-literal", format!("token source `{name}` is a literal string; a job file must not hold a credential"))
                        .hint("say where the token is: `{ env: VAR }`, `{ file: path }` or `{ command: [argv...] }`"),
                ));
            } else {
                walk(source, &pointer, &mut out);
            }
        }
    }
    for (key, value) in root {
        if key != "tokens" && key != "token" && key != "projects" {
            walk(value, &join_pointer("", key), &mut out);
        }
    }
    out
}

/// Secret-named keys holding strings, anywhere below `value`.
fn walk(value: &Value, pointer: &str, out: &mut Vec<Finding>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let at = join_pointer(pointer, key);
                if inner.is_string() && SECRET_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                    out.push(Finding::new(
                        &at,
                        Diagnostic::error("secret-literal", format!("`{key}` holds a literal secret; a job file must not hold credentials"))
                            .hint(instead(key)),
                    ));
                } else {
                    walk(inner, &at, out);
                }
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                walk(item, &format!("{pointer}/{n}"), out);
            }
        }
        _ => {}
    }
}

fn instead(key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "password" | "passwd" | "pwd" => {
            "name the environment variable that holds it: `password_env: HW_IAM_PASSWORD`".into()
        }
        "sk" | "secret_key" | "secret" => {
            "name the environment variable that holds it: `sk_env: CLOUD_SDK_SK`".into()
        }
        "ak" | "access_key" => {
            "name the environment variable that holds it: `ak_env: CLOUD_SDK_AK`".into()
        }
        "security_token" => {
            "name the environment variable that holds it: `security_token_env: VAR`".into()
        }
        _ => "say where the token is: `{ env: VAR }`, `{ file: path }` or `{ command: [argv...] }`"
            .into(),
    }
}

/// Long, or holding characters no token-source name would have: a pasted credential.
fn looks_like_credential(s: &str) -> bool {
    s.len() >= 24
        || s.chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(value: Value) -> Vec<String> {
        secret_findings(&value)
            .into_iter()
            .map(|f| f.pointer)
            .collect()
    }

    #[test]
    fn literal_secrets_are_found() {
        let job = json!({
            "token": "MIIEXAYJKoZIhvcNAQcCoIIETTCCBEkCAQExDTALBglghkgBZQMEAgEw",
            "tokens": {
                "a": "plain-string-token",
                "b": {"value": "abc"},
                "c": {"iam": {"domain": "d", "user_env": "U", "password": "hunter2"}},
                "d": {"aksk": {"ak_env": "AK", "sk": "xyz"}},
            },
            "projects": [{"token": "ci"}],
        });
        assert_eq!(
            pointers(job),
            vec![
                "/token",
                "/tokens/a",
                "/tokens/b/value",
                "/tokens/c/iam/password",
                "/tokens/d/aksk/sk"
            ]
        );
    }

    #[test]
    fn references_are_not_secrets() {
        let job = json!({
            "token": "ci",
            "tokens": {
                "ci": {"env": "CODEARTS_TOKEN"},
                "robot": {"iam": {"domain": "d", "user_env": "U", "password_env": "P"}},
                "signer": {"aksk": {"ak_env": "AK", "sk_env": "SK"}},
            },
            "projects": [{"token": "signer"}, {"token": "typo-name"}],
        });
        assert!(pointers(job).is_empty());
    }
}
