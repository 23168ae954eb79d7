//! "Did you mean": the closest known name to a misspelt one, for keys, set names, token
//! names and regions alike.

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

/// `` `a`, `b` ``: names as a message lists them.
pub fn list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
