//! Schema errors turned into findings a person can act on.
//!
//! The `jsonschema` validator reports every violation with the JSON pointer of the offending
//! node. This file words each one (without echoing values, which could be secrets), gives it a
//! stable code, adds "did you mean" hints for misspelt keys, and untangles `anyOf`/`oneOf`
//! failures (sets, set references, token sources): when one alternative clearly fits the
//! shape the user wrote, its own errors are reported; otherwise one message says which
//! shapes are allowed.

use std::sync::OnceLock;

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Finding};
use crate::position::{join_pointer, split_pointer};

/// Every schema violation in `value`, worded.
pub fn shape_findings(value: &Value) -> Vec<Finding> {
    let validator = crate::schema::validator();
    if validator.is_valid(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        convert(&error, &mut out);
    }
    // `projets` misspelt is also `projects` missing: the suggestion says both.
    let suggested: Vec<(String, String)> = out
        .iter()
        .filter(|f| f.diagnostic.code == "unknown-key")
        .filter_map(|f| {
            let hint = f.diagnostic.hint.as_deref()?;
            let key = hint.strip_prefix("did you mean `")?.strip_suffix("`?")?;
            let parent = f.pointer.rsplit_once('/').map_or("", |(p, _)| p);
            Some((parent.to_string(), key.to_string()))
        })
        .collect();
    out.retain(|f| {
        f.diagnostic.code != "missing-key"
            || !suggested.iter().any(|(parent, key)| {
                *parent == f.pointer && f.diagnostic.message.contains(&format!("`{key}`"))
            })
    });
    out
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(crate::schema::job_schema)
}

fn convert(error: &ValidationError, out: &mut Vec<Finding>) {
    let pointer = error.instance_path().as_str();
    let schema_path = error.schema_path().as_str();
    let at = human_path(pointer);
    match error.kind() {
        Kind::AdditionalProperties { unexpected } => {
            let parent = schema_path.trim_end_matches("/additionalProperties");
            let allowed = allowed_keys(parent);
            for key in unexpected {
                let mut d =
                    Diagnostic::error("unknown-key", format!("unknown key `{key}` in {at}"));
                d = match did_you_mean(key, &allowed) {
                    Some(best) => d.hint(format!("did you mean `{best}`?")),
                    None if !allowed.is_empty() => {
                        d.hint(format!("the keys allowed here are {}", list(&allowed)))
                    }
                    None => d,
                };
                out.push(Finding::at_key(join_pointer(pointer, key), d));
            }
        }
        Kind::Required { property } => {
            let key = property.as_str().unwrap_or("?");
            out.push(Finding::new(
                pointer,
                Diagnostic::error(
                    "missing-key",
                    format!("{at} has no `{key}`, which is required"),
                ),
            ));
        }
        Kind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(ts) => {
                    // An optional key may be null, but nobody means to write that.
                    let names: Vec<String> = ts
                        .into_iter()
                        .map(|t| t.to_string())
                        .filter(|t| t != "null")
                        .map(|t| article(&t))
                        .collect();
                    names.join(" or ")
                }
            };
            let found = describe_type(error.instance());
            let mut d = Diagnostic::error(
                "wrong-type",
                format!("{at} must be {expected}, not {found}"),
            );
            let numeric = error
                .instance()
                .as_str()
                .is_some_and(|s| s.trim().parse::<f64>().is_ok());
            if expected.contains("integer") && numeric {
                d = d.hint("write ids and numbers without quotes");
            }
            if expected.contains("array") && !error.instance().is_array() {
                d = d.hint("write a list as `[a, b]` or as lines starting with `- `");
            }
            out.push(Finding::new(pointer, d));
        }
        Kind::Minimum { limit } | Kind::Maximum { limit } => {
            let d = if schema_path.contains("/$defs/Id/") {
                Diagnostic::error(
                    "id-out-of-range",
                    format!(
                        "{at} is not a work-item id: ids are whole numbers from 1 to 9999999999"
                    ),
                )
            } else if matches!(error.kind(), Kind::Minimum { .. }) {
                Diagnostic::error("invalid-value", format!("{at} must be at least {limit}"))
            } else {
                Diagnostic::error("invalid-value", format!("{at} must be at most {limit}"))
            };
            out.push(Finding::new(pointer, d));
        }
        Kind::Pattern { .. } => {
            let d = if schema_path.contains("ProjectSpec/properties/id") {
                Diagnostic::error(
                    "invalid-project-id",
                    format!(
                        "{at} is not a CodeArts project id: it must be exactly 32 letters or digits"
                    ),
                )
                .hint("copy the id from the project's URL in CodeArts")
            } else {
                Diagnostic::error(
                    "invalid-name",
                    format!(
                        "{at} must start with a letter or digit and hold only letters, digits, `.`, `_` and `-` (at most 128)"
                    ),
                )
            };
            out.push(Finding::new(pointer, d));
        }
        Kind::MinItems { .. } => out.push(Finding::new(
            pointer,
            Diagnostic::error("invalid-value", format!("{at} must not be empty")),
        )),
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } => {
            let fitting: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|branch| fits(branch, pointer))
                .collect();
            if let [branch] = fitting.as_slice() {
                for inner in branch.iter() {
                    convert(inner, out);
                }
            } else {
                out.push(Finding::new(
                    pointer,
                    alternatives(schema_path, &at, error.instance()),
                ));
            }
        }
        _ => out.push(Finding::new(
            pointer,
            Diagnostic::error(
                "invalid-value",
                format!("{at} is not valid here ({})", error.kind().keyword()),
            ),
        )),
    }
}

/// Whether an alternative of an `anyOf`/`oneOf` has the shape of the value at `pointer`:
/// none of its errors says the value itself is of the wrong type or lacks the alternative's
/// required key. Extra keys do not count against it: `{ file: x.csv, colum: id }` is a file
/// set with a misspelt key, best reported as such.
fn fits(branch: &[ValidationError], pointer: &str) -> bool {
    !branch.iter().any(|e| {
        e.instance_path().as_str() == pointer
            && match e.kind() {
                Kind::Type { .. } | Kind::Required { .. } => true,
                Kind::AnyOf { context } | Kind::OneOfNotValid { context } => {
                    !context.iter().any(|b| fits(b, pointer))
                }
                _ => false,
            }
    })
}

/// One message for a value that fits none of the allowed shapes.
fn alternatives(schema_path: &str, at: &str, instance: &Value) -> Diagnostic {
    let keys: Vec<String> = instance
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let found = if keys.is_empty() {
        article(type_name(instance))
    } else {
        format!("keys {}", list(&keys))
    };
    if schema_path.contains("TokenSource") {
        let allowed = ["env", "file", "command", "iam", "aksk"].map(String::from);
        let d = Diagnostic::error(
            "invalid-token-source",
            format!(
                "token source {at} must have exactly one of the keys {}; found {found}",
                list(&allowed)
            ),
        );
        match keys.iter().find_map(|k| did_you_mean(k, &allowed)) {
            Some(best) if !keys.iter().any(|k| allowed.contains(k)) => {
                d.hint(format!("did you mean `{best}`?"))
            }
            _ => d.hint(
                "for example `{ env: CODEARTS_TOKEN }` or `{ file: /run/secrets/codearts-token }`",
            ),
        }
    } else {
        let what = if schema_path.contains("SetRef") {
            "an id, a set name, or a set: "
        } else {
            ""
        };
        let allowed = ["ids", "range", "file"].map(String::from);
        let d = Diagnostic::error(
            "invalid-set",
            format!(
                "{at} must be {what}exactly one of `{{ ids: [...] }}`, `{{ range: {{ from, to }} }}` or `{{ file: path }}`; found {found}"
            ),
        );
        match keys.iter().find_map(|k| did_you_mean(k, &allowed)) {
            Some(best) if !keys.iter().any(|k| allowed.contains(k)) => {
                d.hint(format!("did you mean `{best}`?"))
            }
            _ if instance.is_string() => d.hint("to read ids from a file write `{ file: path }`"),
            _ => d,
        }
    }
}

/// The property names the schema object at `schema_pointer` allows.
fn allowed_keys(schema_pointer: &str) -> Vec<String> {
    let pointer = if schema_pointer.is_empty() {
        ""
    } else {
        schema_pointer
    };
    schema()
        .pointer(pointer)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The closest allowed key to a misspelt one, when close enough to be a typo.
pub fn did_you_mean(key: &str, allowed: &[String]) -> Option<String> {
    let key_lower = key.to_lowercase();
    allowed
        .iter()
        .map(|a| (edit_distance(&key_lower, a), a))
        .filter(|(d, a)| *d <= (a.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a.clone())
}

/// A hint for a name that names nothing: the closest known name, `when_none` when there are
/// no names at all, or the list of names (`what` says what they are).
pub fn name_hint(name: &str, names: &[String], what: &str, when_none: &str) -> String {
    match did_you_mean(name, names) {
        Some(best) => format!("did you mean `{best}`?"),
        None if names.is_empty() => when_none.to_string(),
        None => format!("the {what} are {}", list(names)),
    }
}

/// Levenshtein distance, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// `/projects/0/delete/1` → `` `projects[0].delete[1]` ``; the root is "the job".
pub fn human_path(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the job".to_string();
    }
    let mut out = String::new();
    for segment in split_pointer(pointer) {
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    format!("`{out}`")
}

fn list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    quoted.join(", ")
}

/// `a string`, `a list`...: how a value's type is named in messages (never the value).
pub fn describe_type(value: &Value) -> String {
    article(type_name(value))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn article(name: &str) -> String {
    match name {
        "null" => "empty (null)".to_string(),
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "integer" => "an integer".to_string(),
        other => format!("a {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(value: Value) -> Vec<(String, &'static str)> {
        shape_findings(&value)
            .into_iter()
            .map(|f| (f.pointer, f.diagnostic.code))
            .collect()
    }

    #[test]
    fn misspelt_keys_get_a_suggestion() {
        let found = shape_findings(&json!({"version": 1, "name": "x", "projets": []}));
        let unknown = found
            .iter()
            .find(|f| f.diagnostic.code == "unknown-key")
            .unwrap();
        assert_eq!(unknown.pointer, "/projets");
        assert_eq!(
            unknown.diagnostic.hint.as_deref(),
            Some("did you mean `projects`?")
        );
    }

    #[test]
    fn alternatives_report_the_fitting_branch() {
        let job = json!({"version": 1, "name": "x", "projects": [{"id": "a".repeat(32),
            "delete": [-5, {"ids": ["1"]}, {"range": {"from": 1}}, {"idz": [1]}]}]});
        assert_eq!(
            codes(job),
            vec![
                ("/projects/0/delete/0".to_string(), "id-out-of-range"),
                ("/projects/0/delete/1/ids/0".to_string(), "wrong-type"),
                ("/projects/0/delete/2/range".to_string(), "missing-key"),
                ("/projects/0/delete/3".to_string(), "invalid-set"),
            ]
        );
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("projets", "projects"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("batchsize", &["batch_size".into()]),
            Some("batch_size".into())
        );
        assert_eq!(did_you_mean("zzz", &["batch_size".into()]), None);
    }
}
