//! Id lists are checked before the schema, element by element, and bad elements taken out.
//!
//! A list of a hundred thousand ids written in quotes is one systematic mistake; left to the
//! JSON schema it is a hundred thousand `anyOf` failures, each with its alternatives, which
//! takes seconds and megabytes to build. Here each bad element costs one cheap finding
//! (worded exactly as the schema step would), and the schema then sees only good ids.

use serde_json::Value;

use super::shape::human_path;
use crate::diagnostic::{Diagnostic, Finding};
use crate::idfile::MAX_ID;

/// The bad elements of a job's id lists: a finding for each of the first `limit`, a count
/// of the others (building a million findings to show a hundred would cost seconds).
#[derive(Default)]
pub struct BadIds {
    pub findings: Vec<Finding>,
    pub not_shown: usize,
    limit: usize,
}

/// The elements of `ids:` lists that are not ids, which are removed from `value`. Lists are
/// those of named sets and of inline sets in `delete` and `protect`.
pub fn take_bad_ids(value: &mut Value, limit: usize) -> BadIds {
    let mut findings = BadIds {
        limit,
        ..BadIds::default()
    };
    let Some(root) = value.as_object_mut() else {
        return findings;
    };
    if let Some(Value::Object(sets)) = root.get_mut("sets") {
        for (name, set) in sets.iter_mut() {
            let pointer = crate::position::join_pointer("/sets", name);
            clean_set(set, &pointer, &mut findings);
        }
    }
    if let Some(Value::Array(refs)) = root.get_mut("protect") {
        clean_refs(refs, "/protect", &mut findings);
    }
    if let Some(Value::Array(projects)) = root.get_mut("projects") {
        for (n, project) in projects.iter_mut().enumerate() {
            for key in ["delete", "protect"] {
                if let Some(Value::Array(refs)) = project.get_mut(key) {
                    clean_refs(refs, &format!("/projects/{n}/{key}"), &mut findings);
                }
            }
        }
    }
    findings
}

fn clean_refs(refs: &mut [Value], pointer: &str, findings: &mut BadIds) {
    for (n, set) in refs.iter_mut().enumerate() {
        clean_set(set, &format!("{pointer}/{n}"), findings);
    }
}

fn clean_set(set: &mut Value, pointer: &str, findings: &mut BadIds) {
    let Some(Value::Array(ids)) = set.get_mut("ids") else {
        return;
    };
    if ids.iter().all(is_id) {
        return;
    }
    let mut n = 0;
    ids.retain(|id| {
        n += 1;
        if is_id(id) {
            return true;
        }
        if findings.findings.len() < findings.limit {
            let at = format!("{pointer}/ids/{}", n - 1);
            let diagnostic = problem(id, &at);
            findings.findings.push(Finding::new(at, diagnostic));
        } else {
            findings.not_shown += 1;
        }
        false
    });
}

fn is_id(value: &Value) -> bool {
    value.as_u64().is_some_and(|id| (1..=MAX_ID).contains(&id))
}

/// What is wrong with one element of an id list, worded as the schema step words it.
fn problem(value: &Value, pointer: &str) -> Diagnostic {
    let at = human_path(pointer);
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Diagnostic::error(
            "id-out-of-range",
            format!("{at} is not a work-item id: ids are whole numbers from 1 to 9999999999"),
        ),
        Value::String(s) if s.trim().parse::<f64>().is_ok() => Diagnostic::error(
            "wrong-type",
            format!("{at} must be an integer, not a string"),
        )
        .hint("write ids and numbers without quotes"),
        other => Diagnostic::error(
            "wrong-type",
            format!(
                "{at} must be an integer, not {}",
                super::shape::describe_type(other)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_ids_are_reported_and_removed() {
        let mut job = json!({
            "sets": {"a": {"ids": [1, "2", 0, 3]}},
            "projects": [{"delete": ["a", {"ids": [-1, 4]}], "protect": [{"ids": [true]}]}],
        });
        let bad = take_bad_ids(&mut job, 100);
        assert_eq!(bad.not_shown, 0);
        let found: Vec<(String, &str)> = bad
            .findings
            .into_iter()
            .map(|f| (f.pointer, f.diagnostic.code))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/sets/a/ids/1".to_string(), "wrong-type"),
                ("/sets/a/ids/2".to_string(), "id-out-of-range"),
                ("/projects/0/delete/1/ids/0".to_string(), "id-out-of-range"),
                ("/projects/0/protect/0/ids/0".to_string(), "wrong-type"),
            ]
        );
        assert_eq!(job["sets"]["a"]["ids"], json!([1, 3]));
        assert_eq!(job["projects"][0]["delete"][1]["ids"], json!([4]));
        let mut many = json!({"sets": {"a": {"ids": ["1", "2", "3"]}}});
        let bad = take_bad_ids(&mut many, 2);
        assert_eq!((bad.findings.len(), bad.not_shown), (2, 1));
    }
}
