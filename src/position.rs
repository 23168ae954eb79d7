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
        let parse =
            |text: &str| marked_yaml::parse_yaml_with_options(0, text, LoaderOptions::default());
        // marked-yaml refuses anchors and aliases: without them (same length, so every
        // position stays put) an alias is a plain scalar, located where it is written.
        let root = parse(text).or_else(|_| parse(&without_anchors(text))).ok();
        PositionIndex { root }
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
/// `text` with each anchor (`&name`) blanked and each alias (`*name`) turned into a plain
/// scalar (`_name`), outside quotes and comments. Only used to find positions.
fn without_anchors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        let mut blanking = false;
        let mut comment = false;
        for c in line.chars() {
            let starts_node = previous.is_whitespace() || matches!(previous, '[' | '{' | ',');
            let mut put = c;
            if comment {
            } else if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
            } else if blanking && (c.is_whitespace() || matches!(c, ',' | ']' | '}')) {
                blanking = false;
            } else if blanking {
                put = ' ';
            } else {
                match c {
                    '"' | '\'' if starts_node => quote = Some(c),
                    '#' if previous.is_whitespace() => comment = true,
                    '&' if starts_node => {
                        blanking = true;
                        put = ' ';
                    }
                    '*' if starts_node => put = '_',
                    _ => {}
                }
            }
            out.push(put);
            previous = c;
        }
    }
    out
}

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
    let parse = |text: &str| {
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        marked_yaml::parse_yaml_with_options(0, text, options)
    };
    let result = match parse(source.text()) {
        Err(marked_yaml::LoadError::UnexpectedAnchor(_)) => parse(&without_anchors(source.text())),
        other => other,
    };
    match result {
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
    fn files_with_anchors_still_have_positions() {
        let text = "sets:\n  d: &d { ids: [1] }\nprojects:\n  - delete: [*d, nope]  # *x &y\n";
        let index = PositionIndex::build(text);
        assert_eq!(index.locate("/projects/0/delete/1", false), Some((4, 18)));
        assert_eq!(index.locate("/projects/0/delete/0", false), Some((4, 14)));
        assert_eq!(index.locate("/sets/d/ids/0", false), Some((2, 17)));
    }

    #[test]
    fn pointers_escape_and_unescape() {
        let p = join_pointer("/sets", "a/b~c");
        assert_eq!(p, "/sets/a~1b~0c");
        assert_eq!(split_pointer(&p).collect::<Vec<_>>(), vec!["sets", "a/b~c"]);
    }
}
