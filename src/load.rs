//! Reading job files: bytes from disk, then YAML into a JSON value the schema can judge.
//!
//! This is the first step of the pipeline (`discover` → `load` → `schema` → `check`). It turns
//! every way a file can be unusable (missing, unreadable, too large, not UTF-8, empty, broken
//! YAML, duplicate keys) into a [`Diagnostic`] with a position, never a panic. YAML is read by
//! serde_yaml straight into a `serde_json::Value` through [`StrictValue`], which refuses
//! duplicate keys (serde_json's own `Value` would silently keep the last one) and keeps
//! numbers exact. Positions are only computed later, and only when something is wrong.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Diagnostic, Location};

/// Job files larger than this are refused: a job of a million ids is about 10 MB.
pub const MAX_JOB_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Id files larger than this are refused (ten million ids of ten digits).
pub const MAX_ID_FILE_BYTES: u64 = 128 * 1024 * 1024;

/// A file read whole, as bytes (for the fingerprint) and text (for parsing and rendering).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl SourceFile {
    /// The text; only call on files that [`read_text`] accepted.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or("")
    }
}

/// Reads a file of at most `max` bytes that must be UTF-8 text; `what` names it in messages.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<SourceFile, Diagnostic> {
    let at_start = || Some(Location::start(path));
    let unreadable = |e: std::io::Error| {
        let code = if e.kind() == std::io::ErrorKind::NotFound {
            "file-not-found"
        } else {
            "file-unreadable"
        };
        Diagnostic::error(code, format!("cannot read {what} {}: {e}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    if len > max {
        return Err(Diagnostic::error(
            "file-too-large",
            format!(
                "{what} is {} MiB; the most reqprune reads is {} MiB",
                len / (1024 * 1024),
                max / (1024 * 1024)
            ),
        )
        .at(at_start())
        .hint("split the ids into several id files or several jobs"));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows between the size check and the read.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    text_from_bytes(path, bytes, max, what)
}

/// Bytes as read from `path`, checked to be at most `max` long and UTF-8.
pub fn text_from_bytes(
    path: &Path,
    bytes: Vec<u8>,
    max: u64,
    what: &str,
) -> Result<SourceFile, Diagnostic> {
    if bytes.len() as u64 > max {
        return Err(Diagnostic::error(
            "file-too-large",
            format!(
                "{what} is over {} MiB, the most reqprune reads",
                max / (1024 * 1024)
            ),
        )
        .at(Some(Location::start(path))));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        let (line, column) = line_column(&bytes[..e.valid_up_to()]);
        return Err(Diagnostic::error(
            "not-utf8",
            format!(
                "{what} is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
        .at(Some(Location {
            file: path.to_path_buf(),
            line,
            column,
        }))
        .hint("job and id files must be UTF-8 text; is this the right file?"));
    }
    Ok(SourceFile {
        path: path.to_path_buf(),
        bytes,
    })
}

/// 1-based line and column (in characters) just after `prefix`.
fn line_column(prefix: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(prefix);
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses a job file's YAML into a JSON value, or says where and why it cannot.
pub fn parse_yaml(source: &SourceFile) -> Result<Value, Diagnostic> {
    let text = source.text();
    let path = &source.path;
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Diagnostic::error("empty-file", "the job file is empty")
            .at(Some(Location::start(path)))
            .hint("a job needs at least `version: 1`, `name`, an endpoint and `projects`"));
    }
    if let Some((line, column)) = too_deep(text) {
        return Err(Diagnostic::error(
            "yaml-syntax",
            format!("invalid YAML: nested more than {MAX_DEPTH} levels deep"),
        )
        .at(Some(Location {
            file: path.clone(),
            line,
            column,
        }))
        .hint("a job file is a few levels deep; is this the right file?"));
    }
    let deserializer = serde_yaml::Deserializer::from_str(text);
    match StrictValue::deserialize_from(deserializer) {
        Ok(value) => Ok(value),
        Err(error) => Err(yaml_error(source, &error)),
    }
}

/// Deeper flow nesting (`[[[[...`) than any job file has. The YAML parser slows down
/// quadratically with depth, so it is refused before parsing.
const MAX_DEPTH: usize = 64;

/// Where flow collections (`[`, `{`) first nest deeper than [`MAX_DEPTH`], outside quotes
/// and comments. A rough scan, but a job file is never anywhere near the limit.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some((n + 1, column + 1));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    None
}

/// Turns a serde_yaml error into a diagnostic at its position, with a code and hint.
fn yaml_error(source: &SourceFile, error: &serde_yaml::Error) -> Diagnostic {
    let text = source.text();
    let full = error.to_string();
    // serde_yaml appends " at line L column C" (and prefixes a path); positions go to the
    // location instead, so the message reads the same in every output format.
    let message = full
        .split(" at line ")
        .next()
        .unwrap_or(&full)
        .trim_end()
        .to_string();
    let location = error.location().map(|l| Location {
        file: source.path.clone(),
        line: l.line(),
        column: l.column(),
    });
    if let Some((_, key)) = message.split_once(DUPLICATE_KEY) {
        return crate::position::duplicate_key(source).unwrap_or_else(|| {
            Diagnostic::error(
                "duplicate-key",
                format!("key {key} appears twice in the same mapping"),
            )
            .at(location)
        });
    }
    if let Some(tab) = leading_tab(text, location.as_ref().map_or(0, |l| l.line)) {
        return Diagnostic::error("yaml-tab", "a tab character is used for indentation")
            .at(Some(Location {
                file: source.path.clone(),
                line: tab,
                column: 1,
            }))
            .hint("YAML indentation must use spaces, never tabs");
    }
    let code = if message.starts_with("unknown anchor") {
        "yaml-unknown-anchor"
    } else {
        "yaml-syntax"
    };
    let message = match message.split_once(": ") {
        // Drop serde_yaml's path prefix (`projects[0]: ...`): the position says it better.
        Some((path, rest)) if !path.contains(' ') && !rest.is_empty() => rest.to_string(),
        _ => message,
    };
    Diagnostic::error(code, format!("invalid YAML: {message}"))
        .at(location.or_else(|| Some(Location::start(&source.path))))
}

/// The first line up to `until` (or anywhere, when 0) indented with a tab.
fn leading_tab(text: &str, until: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .take(if until == 0 { usize::MAX } else { until })
        .find(|(_, line)| {
            let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            indent.contains('\t') && line.trim_start().chars().next().is_some_and(|c| c != '#')
        })
        .map(|(n, _)| n + 1)
}

const DUPLICATE_KEY: &str = "duplicate key ";

/// Deserializes any YAML into a `serde_json::Value`, refusing duplicate keys and non-finite
/// floats (JSON has no such things and a job has no use for them).
struct StrictValue;

impl StrictValue {
    fn deserialize_from<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictValue)
    }
}

struct Seed;

impl<'de> de::DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_from(deserializer)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Err(E::custom(format!("the number {v} is too large")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Err(E::custom(format!("the number {v} is too large")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("infinite and NaN numbers are not allowed"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_from(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_from(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(Seed)? {
            out.push(item);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Seed)? {
            let key = match key {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_string(),
                _ => return Err(de::Error::custom("mapping keys must be plain scalars")),
            };
            let value = map.next_value_seed(Seed)?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_KEY}`{key}`")));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Value, A::Error> {
        Err(de::Error::custom(
            "YAML tags (`!name`) are not allowed in job files",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Value, Diagnostic> {
        parse_yaml(&SourceFile {
            path: "job.yaml".into(),
            bytes: text.as_bytes().to_vec(),
        })
    }

    #[test]
    fn parses_plain_yaml_into_json() {
        let v = parse("a: 1\nb: [x, 2]\nc: {d: null}\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": ["x", 2], "c": {"d": null}})
        );
    }

    #[test]
    fn refuses_duplicate_keys_with_their_position() {
        let d = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(d.code, "duplicate-key");
        let at = d.location.unwrap();
        assert_eq!((at.line, at.column), (3, 1));
    }

    #[test]
    fn tab_indentation_is_named() {
        let d = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(d.code, "yaml-tab");
        assert_eq!(d.location.unwrap().line, 2);
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let d = parse(&deep).unwrap_err();
        assert_eq!((d.code, d.location.unwrap().column), ("yaml-syntax", 68));
        assert!(parse("a: [[[1]], {b: '[[[['}] # [[[[\n").is_ok());
    }

    #[test]
    fn empty_and_comment_only_files_are_empty() {
        assert_eq!(parse("").unwrap_err().code, "empty-file");
        assert_eq!(parse("# nothing\n\n").unwrap_err().code, "empty-file");
    }

    #[test]
    fn unknown_anchor_is_a_syntax_error_with_position() {
        let d = parse("a: *nowhere\n").unwrap_err();
        assert_eq!(d.code, "yaml-unknown-anchor");
        assert_eq!(d.location.unwrap().line, 1);
    }
}
