//! Pruning a job with shape errors, so the semantic checks can still run on the rest.
//!
//! A file with one misspelt key should not hide a reversed range or a duplicate project. So
//! when the schema finds errors, each offending node is taken out of a copy of the job: an
//! unknown key removed, a bad element of a `delete` or `protect` list dropped, a bad set
//! replaced by an empty one, a bad token source by a harmless reference, a bad optional key
//! removed. If the copy then reads as a job, the semantic checks run on it and report what
//! they find, except what the pruning itself could have caused (a project left without a
//! token, a reference to a misspelt `sets:`, warnings). A pruned job never becomes a `Job`.

use serde_json::{Value, json};

use crate::diagnostic::{Finding, Severity};
use crate::position::split_pointer;

/// A job with its bad nodes taken out, and what was taken.
pub struct Pruned {
    pub value: Value,
    /// Pointers of the nodes removed or replaced.
    pruned: Vec<String>,
    /// Top-level keys a misspelt key was probably meant to be (`tokns` → `tokens`).
    misspelt: Vec<String>,
    /// Objects that lost a key: what they now lack is a consequence (`colum` misspelt is
    /// also `column` missing).
    lost_keys: Vec<String>,
}

/// Keys that may be removed without making the job unreadable.
const OPTIONAL_TOP: [&str; 9] = [
    "description",
    "endpoint",
    "region",
    "token",
    "tokens",
    "sets",
    "protect",
    "limits",
    "$schema",
];
const OPTIONAL_PROJECT: [&str; 3] = ["label", "token", "protect"];

/// Findings that leave the value readable as it is (a string that fails a pattern).
const HARMLESS: [&str; 2] = ["invalid-name", "invalid-project-id"];

/// What to do with the node behind a finding.
enum Cut {
    /// Remove a key from the object at the pointer's parent.
    Key(String),
    /// Drop an element of an array.
    Element(String, usize),
    /// Put this in the node's place.
    Replace(String, Value),
    /// Nothing: the value still reads.
    Keep,
}

/// The job without the nodes `findings` point at, or `None` when a required part is bad.
pub fn prune(value: &Value, findings: &[Finding]) -> Option<Pruned> {
    let mut cuts = Vec::new();
    let mut misspelt = Vec::new();
    for finding in findings {
        let segments: Vec<String> = split_pointer(&finding.pointer).collect();
        if finding.diagnostic.code == "unknown-key" {
            if segments.len() == 1
                && let Some(hint) = &finding.diagnostic.hint
                && let Some(key) = hint
                    .strip_prefix("did you mean `")
                    .and_then(|h| h.strip_suffix("`?"))
            {
                misspelt.push(key.to_string());
            }
            cuts.push(Cut::Key(finding.pointer.clone()));
            continue;
        }
        cuts.push(cut_for(&segments, finding.diagnostic.code)?);
    }
    let mut value = value.clone();
    let mut pruned = Vec::new();
    let mut lost_keys = Vec::new();
    let mut elements: Vec<(String, usize)> = Vec::new();
    for cut in cuts {
        match cut {
            Cut::Key(pointer) => {
                let (parent, key) = pointer.rsplit_once('/')?;
                let key: String = split_pointer(&format!("/{key}")).next()?;
                if let Some(Value::Object(map)) = value.pointer_mut(parent) {
                    map.remove(&key);
                }
                lost_keys.push(parent.to_string());
                pruned.push(pointer);
            }
            Cut::Replace(pointer, with) => {
                if let Some(node) = value.pointer_mut(&pointer) {
                    *node = with;
                }
                pruned.push(pointer);
            }
            Cut::Element(array, index) => {
                pruned.push(format!("{array}/{index}"));
                elements.push((array, index));
            }
            Cut::Keep => {}
        }
    }
    // Highest index first, so earlier removals do not shift later ones.
    elements.sort_by(|a, b| b.cmp(a));
    elements.dedup();
    for (array, index) in elements {
        if let Some(Value::Array(items)) = value.pointer_mut(&array)
            && index < items.len()
        {
            items.remove(index);
        }
    }
    Some(Pruned {
        value,
        pruned,
        misspelt,
        lost_keys,
    })
}

/// The smallest part around a bad node that can go without making the job unreadable.
fn cut_for(segments: &[String], code: &str) -> Option<Cut> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let pointer = |n: usize| {
        let mut out = String::new();
        for segment in &segments[..n] {
            out = crate::position::join_pointer(&out, segment);
        }
        out
    };
    Some(match s.as_slice() {
        _ if HARMLESS.contains(&code) => Cut::Keep,
        ["projects", _, "delete" | "protect", index, ..] | ["protect", index, ..] => {
            let at = if s[0] == "protect" { 1 } else { 3 };
            Cut::Element(pointer(at), index.parse().ok()?)
        }
        ["sets", _, ..] => Cut::Replace(pointer(2), json!({ "ids": [] })),
        ["tokens", _, ..] => Cut::Replace(pointer(2), json!({ "env": "PRUNED" })),
        ["limits", _, ..] => Cut::Key(pointer(2)),
        [key, ..] if OPTIONAL_TOP.contains(key) => Cut::Key(pointer(1)),
        ["projects", _, key, ..] if OPTIONAL_PROJECT.contains(key) => Cut::Key(pointer(3)),
        _ => return None,
    })
}

impl Pruned {
    /// Whether a semantic finding on the pruned job stands on its own, rather than being a
    /// consequence of what was taken out.
    pub fn keeps(&self, finding: &Finding) -> bool {
        let pruned = |p: &str| self.pruned.iter().any(|x| x == p);
        let pruned_below = |p: &str| {
            self.pruned
                .iter()
                .any(|x| x.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
        };
        let misspelt = |key: &str| self.misspelt.iter().any(|m| m == key);
        let pointer = finding.pointer.as_str();
        if finding.diagnostic.severity == Severity::Warning
            || pruned(pointer)
            || self.lost_keys.iter().any(|p| p == pointer)
        {
            return false;
        }
        match finding.diagnostic.code {
            "missing-token" => {
                !(pruned("/token")
                    || pruned(&format!("{pointer}/token"))
                    || misspelt("token")
                    || misspelt("tokens"))
            }
            "unknown-token" => !(pruned("/tokens") || misspelt("tokens")),
            "unknown-set" => !(pruned("/sets") || misspelt("sets")),
            "nothing-to-delete" => !pruned_below(pointer),
            "missing-endpoint" => {
                !(pruned("/endpoint")
                    || pruned("/region")
                    || misspelt("endpoint")
                    || misspelt("region"))
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;

    fn finding(pointer: &str, code: &'static str) -> Finding {
        Finding::new(pointer, Diagnostic::error(code, "x"))
    }

    #[test]
    fn bad_nodes_are_taken_out() {
        let job = json!({
            "name": "x", "tokns": {}, "limits": {"batch_size": 500},
            "sets": {"a": {"range": {"from": 1}}},
            "projects": [{"id": "p", "delete": [-1, "a", 5, -2], "label": 7}],
        });
        let mut unknown = finding("/tokns", "unknown-key");
        unknown.diagnostic.hint = Some("did you mean `tokens`?".into());
        let findings = vec![
            unknown,
            finding("/limits/batch_size", "invalid-value"),
            finding("/sets/a/range", "missing-key"),
            finding("/projects/0/delete/0", "id-out-of-range"),
            finding("/projects/0/delete/3", "id-out-of-range"),
            finding("/projects/0/label", "wrong-type"),
            finding("/projects/0/id", "invalid-project-id"),
        ];
        let pruned = prune(&job, &findings).unwrap();
        assert_eq!(
            pruned.value,
            json!({
                "name": "x", "limits": {}, "sets": {"a": {"ids": []}},
                "projects": [{"id": "p", "delete": ["a", 5]}],
            })
        );
        assert!(!pruned.keeps(&finding("/token", "unknown-token")));
        assert!(!pruned.keeps(&finding("/projects/0", "missing-token")));
        assert!(!pruned.keeps(&finding("/projects/0/delete", "nothing-to-delete")));
        assert!(pruned.keeps(&finding("/sets/b/range", "range-reversed")));
        // The job lost `tokns`: what the job as a whole now lacks is not reported.
        assert!(!pruned.keeps(&finding("", "missing-endpoint")));
    }

    #[test]
    fn a_bad_required_part_cannot_be_pruned() {
        let job = json!({"version": "one"});
        assert!(prune(&job, &[finding("/version", "wrong-type")]).is_none());
        assert!(prune(&job, &[finding("", "missing-key")]).is_none());
    }
}
