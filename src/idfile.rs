//! Id files: the `{ file: path }` sets, in `.txt`, `.json` or `.csv`.
//!
//! `check` reads the bytes (so they go into the job's fingerprint) and hands the text here.
//! Every bad line is reported at its own `file:line:column` in the id file, up to a cap so a
//! wrong file (a CSV given as text, say) does not print a million errors.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Location};

/// The largest work-item id (ten digits).
pub const MAX_ID: u64 = 9_999_999_999;

/// Bad lines reported per id file before the rest are summed up.
const MAX_REPORTED: usize = 20;

/// The id-file formats, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

impl Format {
    /// The format of `path` by its extension, or `None` for any other.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "txt" => Some(Format::Text),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The ids in an id file, with a diagnostic for each bad line or value.
pub fn parse_ids(
    path: &Path,
    text: &str,
    format: Format,
    column: Option<&str>,
) -> (Vec<u64>, Vec<Diagnostic>) {
    let mut problems = Problems::new(path);
    let ids = match format {
        Format::Text => text_ids(text, &mut problems),
        Format::Json => json_ids(text, &mut problems),
        Format::Csv => csv_ids(text, column.unwrap_or(""), &mut problems),
    };
    (ids, problems.finish())
}

/// A work-item id from its text, or why not.
pub fn parse_id(token: &str) -> Result<u64, String> {
    match token.parse::<u64>() {
        Ok(id) if (1..=MAX_ID).contains(&id) => Ok(id),
        Ok(0) => Err("is not a work-item id: ids start at 1".into()),
        Ok(_) => Err("is not a work-item id: ids have at most 10 digits".into()),
        Err(_) if token.starts_with('-') && token[1..].bytes().all(|b| b.is_ascii_digit()) => {
            Err("is not a work-item id: ids are positive".into())
        }
        Err(_) if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) => {
            Err("is not a work-item id: ids have at most 10 digits".into())
        }
        Err(_) => Err("is not a work-item id (a whole number from 1 to 9999999999)".into()),
    }
}

fn text_ids(text: &str, problems: &mut Problems) -> Vec<u64> {
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let token = content.trim();
        if token.is_empty() {
            continue;
        }
        match parse_id(token) {
            Ok(id) => ids.push(id),
            Err(why) => {
                let column = content.len() - content.trim_start().len() + 1;
                problems.push(n + 1, column, format!("`{}` {why}", shorten(token)));
            }
        }
    }
    ids
}

fn json_ids(text: &str, problems: &mut Problems) -> Vec<u64> {
    match serde_json::from_str::<Vec<serde_json::Value>>(text) {
        Ok(values) => {
            let mut ids = Vec::with_capacity(values.len());
            let mut bad = Vec::new();
            for (n, value) in values.iter().enumerate() {
                match value.as_u64().filter(|id| (1..=MAX_ID).contains(id)) {
                    Some(id) => ids.push(id),
                    None => bad.push(n),
                }
            }
            // One scan places the reported elements; the rest are only counted.
            let shown = &bad[..bad.len().min(MAX_REPORTED)];
            let positions = element_positions(text, shown);
            for (n, (line, column)) in shown.iter().zip(positions) {
                problems.push(
                    line,
                    column,
                    format!("element {n} is not a work-item id (a whole number from 1 to 9999999999, without quotes)"),
                );
            }
            problems.more += bad.len() - shown.len();
            ids
        }
        Err(e) => {
            problems.push(
                e.line().max(1),
                e.column().max(1),
                format!(
                    "not a JSON array of ids: {}",
                    strip_position(&e.to_string())
                ),
            );
            Vec::new()
        }
    }
}

/// Lines and columns of the elements numbered `wanted` (ascending) of a top-level JSON array
/// that parsed: commas are counted outside strings and nested values.
fn element_positions(text: &str, wanted: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(wanted.len());
    let (mut depth, mut index, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    let (mut line, mut column) = (1usize, 0usize);
    let mut waiting = false;
    for c in text.chars() {
        if out.len() == wanted.len() {
            break;
        }
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
        }
        if waiting && !c.is_whitespace() {
            out.push((line, column));
            waiting = false;
        }
        if in_string {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                waiting |= depth == 1 && wanted.get(out.len()) == Some(&0);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => {
                index += 1;
                waiting = wanted.get(out.len()) == Some(&index);
            }
            _ => {}
        }
    }
    out.resize(wanted.len(), (1, 1));
    out
}

fn csv_ids(text: &str, column: &str, problems: &mut Problems) -> Vec<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(e) => {
            problems.push(1, 1, format!("not a CSV file: {e}"));
            return Vec::new();
        }
    };
    let Some(index) = headers.iter().position(|h| h == column) else {
        let names: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
        problems.push(
            1,
            1,
            format!(
                "the CSV header has no column `{column}` (it has {})",
                names.join(", ")
            ),
        );
        return Vec::new();
    };
    let mut ids = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(1, |p| p.line() as usize);
                match record.get(index) {
                    Some(field) => match parse_id(field) {
                        Ok(id) => ids.push(id),
                        Err(why) => problems.push(
                            line,
                            1,
                            format!("`{column}` value `{}` {why}", shorten(field)),
                        ),
                    },
                    None => problems.push(line, 1, format!("this row has no `{column}` field")),
                }
            }
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line() as usize);
                problems.push(line, 1, format!("unreadable CSV row: {e}"));
            }
        }
    }
    ids
}

/// At most 40 characters of a bad token: a whole wrong line can be long.
fn shorten(token: &str) -> String {
    if token.chars().count() > 40 {
        format!("{}…", token.chars().take(40).collect::<String>())
    } else {
        token.to_string()
    }
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// The diagnostics of one id file, capped.
struct Problems<'a> {
    path: &'a Path,
    found: Vec<Diagnostic>,
    more: usize,
}

impl<'a> Problems<'a> {
    fn new(path: &'a Path) -> Self {
        Problems {
            path,
            found: Vec::new(),
            more: 0,
        }
    }

    fn push(&mut self, line: usize, column: usize, message: String) {
        if self.found.len() == MAX_REPORTED {
            self.more += 1;
            return;
        }
        self.found.push(
            Diagnostic::error("id-file-syntax", message).at(Some(Location {
                file: self.path.to_path_buf(),
                line,
                column,
            })),
        );
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.more > 0 {
            self.found.push(
                Diagnostic::error(
                    "more-problems",
                    format!(
                        "and {} more bad lines in this id file, not shown",
                        self.more
                    ),
                )
                .at(Some(Location::start(self.path))),
            );
        }
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: Format, column: Option<&str>) -> (Vec<u64>, Vec<(usize, usize)>) {
        let (ids, problems) = parse_ids(Path::new("ids"), text, format, column);
        let at = problems
            .iter()
            .map(|d| d.location.as_ref().map_or((0, 0), |l| (l.line, l.column)))
            .collect();
        (ids, at)
    }

    #[test]
    fn text_files_skip_comments_and_report_bad_lines() {
        let (ids, bad) = parse(
            "# header\n1660084\n  1660085 # dup\n\nabc\n12345678901\n",
            Format::Text,
            None,
        );
        assert_eq!(ids, vec![1660084, 1660085]);
        assert_eq!(bad, vec![(5, 1), (6, 1)]);
    }

    #[test]
    fn json_files_are_arrays_of_ids() {
        assert_eq!(
            parse("[1, 2,\n 3]", Format::Json, None),
            (vec![1, 2, 3], vec![])
        );
        let (ids, bad) = parse("[1,\n \"2\", 3]", Format::Json, None);
        assert_eq!((ids, bad), (vec![1, 3], vec![(2, 2)]));
        assert_eq!(parse("[1, 2", Format::Json, None).1.len(), 1);
    }

    #[test]
    fn csv_files_read_the_named_column() {
        let text = "id,title\n1660084,a\n1660085,b\nx,c\n";
        let (ids, bad) = parse(text, Format::Csv, Some("id"));
        assert_eq!((ids, bad), (vec![1660084, 1660085], vec![(4, 1)]));
        assert_eq!(parse(text, Format::Csv, Some("ID")).1, vec![(1, 1)]);
    }

    #[test]
    fn ids_are_one_to_ten_digits() {
        assert_eq!(parse_id("9999999999"), Ok(9_999_999_999));
        assert!(parse_id("0").is_err());
        assert!(parse_id("-3").unwrap_err().contains("positive"));
        assert!(parse_id("12345678901").unwrap_err().contains("10 digits"));
    }
}
