//! Where things are in a YAML file: JSON pointers (as the schema and the checks speak) mapped
//! back to the line and column of the YAML node they name.
//!
//! The fast path (`load`) reads YAML without positions. Only when a file has something to
//! report does `check` build a [`PositionIndex`] with marked-yaml, which keeps a span for
//! every node and key. marked-yaml refuses anchors; a file that uses them still gets its
//! diagnostics, placed at the nearest position that can be found (the file's start at worst).

use marked_yaml::{LoaderOptions, Node};

use crate::diagnostic::{Diagnostic, Location};
use crate::load::SourceFile;

/// The positions of every node of one YAML file.
pub struct PositionIndex {
    root: Option<Node>,
}

impl PositionIndex {
    pub fn build(text: &str) -> PositionIndex {
        let options = LoaderOptions::default();
        PositionIndex {
            root: marked_yaml::parse_yaml_with_options(0, text, options).ok(),
        }
    }

    /// Line and column (1-based) of the node at `pointer`, or of its key when `key` is set
    /// (an unknown key is best shown at the key, a wrong value at the value). When the pointer
    /// leads nowhere (e.g. a missing key), the deepest node reached.
    pub fn locate(&self, pointer: &str, key: bool) -> Option<(usize, usize)> {
        let mut node = self.root.as_ref()?;
        let mut best = start_of(node);
        let segments: Vec<String> = split_pointer(pointer).collect();
        for (n, segment) in segments.iter().enumerate() {
            let last = n + 1 == segments.len();
            match node {
                Node::Mapping(map) => {
                    let Some((k, v)) = map.iter().find(|(k, _)| k.as_str() == segment) else {
                        return best;
                    };
                    if last && key {
                        return k.span().start().map(|m| (m.line(), m.column())).or(best);
                    }
                    node = v;
                }
                Node::Sequence(seq) => {
                    let Some(item) = segment.parse::<usize>().ok().and_then(|i| seq.get(i)) else {
                        return best;
                    };
                    node = item;
                }
                Node::Scalar(_) => return best,
            }
            best = start_of(node).or(best);
        }
        best
    }
}

/// Where a node starts. A block mapping's own span starts at its first `:`, so a mapping is
/// shown at its first key instead.
fn start_of(node: &Node) -> Option<(usize, usize)> {
    let first_key = node
        .as_mapping()
        .and_then(|m| m.keys().next())
        .and_then(|k| k.span().start());
    first_key
        .or_else(|| node.span().start())
        .map(|m| (m.line(), m.column()))
}

/// The segments of a JSON pointer (`/projects/0/id`), unescaped (`~1` is `/`, `~0` is `~`).
pub fn split_pointer(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
}

/// Appends one segment to a JSON pointer, escaped.
pub fn join_pointer(pointer: &str, segment: &str) -> String {
    format!(
        "{pointer}/{}",
        segment.replace('~', "~0").replace('/', "~1")
    )
}

/// A duplicate-key diagnostic at the second occurrence, naming the line of the first, or
/// `None` when marked-yaml cannot place it (a file with anchors, say).
pub fn duplicate_key(source: &SourceFile) -> Option<Diagnostic> {
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    match marked_yaml::parse_yaml_with_options(0, source.text(), options) {
        Err(marked_yaml::LoadError::DuplicateKey(inner)) => {
            let first = inner.prev_key.span().start()?;
            let second = inner.key.span().start()?;
            Some(
                Diagnostic::error(
                    "duplicate-key",
                    format!(
                        "key `{}` appears twice in the same mapping (first on line {})",
                        inner.key.as_str(),
                        first.line()
                    ),
                )
                .at(Some(Location {
                    file: source.path.clone(),
                    line: second.line(),
                    column: second.column(),
                }))
                .hint("merge the two, or remove one: a key may appear only once in a mapping"),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version: 1\nprojects:\n  - id: abc\n    delete: [a, { ids: [1, 2] }]\n";

    #[test]
    fn finds_values_keys_and_list_items() {
        let index = PositionIndex::build(TEXT);
        assert_eq!(index.locate("/version", false), Some((1, 10)));
        assert_eq!(index.locate("/projects/0/id", true), Some((3, 5)));
        assert_eq!(index.locate("/projects/0/id", false), Some((3, 9)));
        assert_eq!(
            index.locate("/projects/0/delete/1/ids/1", false),
            Some((4, 28))
        );
    }

    #[test]
    fn missing_nodes_fall_back_to_the_deepest_found() {
        let index = PositionIndex::build(TEXT);
        assert_eq!(index.locate("/projects/0/nope", false), Some((3, 5)));
        assert_eq!(index.locate("/projects/7", false), Some((3, 3)));
    }

    #[test]
    fn pointers_escape_and_unescape() {
        let p = join_pointer("/sets", "a/b~c");
        assert_eq!(p, "/sets/a~1b~0c");
        assert_eq!(split_pointer(&p).collect::<Vec<_>>(), vec!["sets", "a/b~c"]);
    }
}
