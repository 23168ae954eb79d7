//! Printing diagnostics: codespan-style for people (`path:line:col`, the source line, a caret,
//! the hint) and a JSON array for programs.
//!
//! Each diagnostic is drawn from a one-line [`Snippet`] of its file: only that line (cut to
//! a window around the column when it is very long, as in a single-line list of a million
//! ids), with the real line and column in the header. Lines that hold a literal secret are
//! masked before they are shown, so reporting a leaked credential never prints it again.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as Level};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, Config, termcolor::Ansi};
use serde::Serialize;

use super::Checked;
use crate::diagnostic::{Location, Severity};

/// One diagnostic as `--format json` prints it.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    code: &'a str,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl Checked {
    /// Every diagnostic, codespan-style; `color` adds ANSI colours.
    pub fn render_human(&self, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
        let config = Config::default();
        let mut line_starts: Vec<Option<Vec<usize>>> = vec![None; self.sources.len()];
        for diagnostic in &self.diagnostics {
            let mut notes = Vec::new();
            let mut snippet = None;
            if let Some(location) = &diagnostic.location {
                match self.sources.iter().position(|s| s.path == location.file) {
                    Some(n) => {
                        let source = &self.sources[n];
                        let starts = line_starts[n].get_or_insert_with(|| starts_of(&source.text));
                        snippet = Some(Snippet::new(self, source, starts, location));
                    }
                    None => notes.push(format!(
                        "at {}:{}:{}",
                        location.file.display(),
                        location.line,
                        location.column
                    )),
                }
            }
            if let Some(hint) = &diagnostic.hint {
                notes.push(format!("hint: {hint}"));
            }
            let level = match diagnostic.severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            };
            let mut report = Report::new(level)
                .with_code(diagnostic.code)
                .with_message(&diagnostic.message)
                .with_notes(notes);
            let empty = Snippet::default();
            if let Some(snippet) = &snippet {
                report = report.with_labels(vec![Label::primary((), snippet.label.clone())]);
            }
            let files = snippet.as_ref().unwrap_or(&empty);
            let result = if color {
                term::emit_to_write_style(&mut Ansi::new(&mut *out), &config, files, &report)
            } else {
                term::emit_to_io_write(&mut *out, &config, files, &report)
            };
            result.map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Every diagnostic as a JSON array of `{file, line, column, code, severity, message, hint?}`.
    pub fn render_json(&self) -> String {
        let list: Vec<JsonDiagnostic> = self
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                file: d.location.as_ref().map(|l| l.file.display().to_string()),
                line: d.location.as_ref().map(|l| l.line),
                column: d.location.as_ref().map(|l| l.column),
                code: d.code,
                severity: d.severity,
                message: &d.message,
                hint: d.hint.as_deref(),
            })
            .collect();
        serde_json::to_string_pretty(&list).expect("diagnostics serialize")
    }

    /// Whether a literal secret was reported on this line of this file.
    fn secret_column(&self, location: &Location) -> Option<usize> {
        self.diagnostics
            .iter()
            .filter(|d| d.code == "secret-literal")
            .filter_map(|d| d.location.as_ref())
            .find(|l| l.file == location.file && l.line == location.line)
            .map(|l| l.column)
    }
}

/// Byte offsets at which the lines of `text` start.
fn starts_of(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Characters shown around the column on a line longer than [`LONG_LINE`].
const WINDOW: usize = 60;
const LONG_LINE: usize = 160;

/// One line of a file, as codespan's only "file": what a diagnostic shows.
#[derive(Default)]
struct Snippet {
    name: String,
    text: String,
    line: usize,
    column: usize,
    label: std::ops::Range<usize>,
}

impl Snippet {
    fn new(checked: &Checked, source: &super::Source, starts: &[usize], at: &Location) -> Snippet {
        let text = &source.text;
        let line_range = match starts.get(at.line.saturating_sub(1)) {
            Some(&start) => {
                let end = starts.get(at.line).map_or(text.len(), |&next| next);
                start..end
            }
            None => text.len()..text.len(),
        };
        let line = text[line_range].trim_end_matches(['\n', '\r']);
        let mut column = at.column.max(1);
        let mut shown: String = line.to_string();
        if let Some(secret) = checked.secret_column(at) {
            shown = mask_from(&shown, secret);
        }
        // A very long line is cut to a window around the column, marked with `…`.
        let length = shown.chars().count();
        if length > LONG_LINE {
            let first = column.saturating_sub(WINDOW + 1);
            let last = (column + WINDOW).min(length);
            let mut window: String = shown.chars().skip(first).take(last - first).collect();
            if first > 0 {
                window.insert(0, '…');
                column = column - first + 1;
            }
            if last < length {
                window.push('…');
            }
            shown = window;
        }
        let label = span(&shown, column);
        Snippet {
            name: at.file.display().to_string(),
            text: shown,
            line: at.line,
            column: at.column,
            label,
        }
    }
}

impl<'a> Files<'a> for Snippet {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, _: ()) -> Result<&'a str, FilesError> {
        Ok(&self.name)
    }
    fn source(&'a self, _: ()) -> Result<&'a str, FilesError> {
        Ok(&self.text)
    }
    fn line_index(&'a self, _: (), _: usize) -> Result<usize, FilesError> {
        Ok(0)
    }
    fn line_number(&'a self, _: (), _: usize) -> Result<usize, FilesError> {
        Ok(self.line)
    }
    fn column_number(&'a self, _: (), _: usize, _: usize) -> Result<usize, FilesError> {
        Ok(self.column)
    }
    fn line_range(&'a self, _: (), _: usize) -> Result<std::ops::Range<usize>, FilesError> {
        Ok(0..self.text.len())
    }
}

/// `line` with the scalar starting at `column` (1-based, in characters) replaced by `*`s:
/// up to its closing quote when quoted, else up to `,`, `]`, `}`, ` #` or the line's end.
fn mask_from(line: &str, column: usize) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote = None;
    let mut done = false;
    let mut previous = ' ';
    for (i, c) in line.chars().enumerate() {
        let before = std::mem::replace(&mut previous, c);
        if i + 1 < column || done {
            out.push(c);
            continue;
        }
        if i + 1 == column && (c == '"' || c == '\'') {
            quote = Some(c);
            out.push(c);
            continue;
        }
        let end = match quote {
            Some(q) => c == q,
            None => matches!(c, ',' | ']' | '}' | '\n' | '\r') || (c == '#' && before == ' '),
        };
        done = end;
        out.push(if end || c.is_whitespace() { c } else { '*' });
    }
    out
}

/// The byte range of the token at a column (1-based, in characters) of `line`: a quoted
/// scalar whole, else up to the next space or YAML punctuation; at least one character.
fn span(line: &str, column: usize) -> std::ops::Range<usize> {
    let begin: usize = line
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let rest = &line[begin..];
    let len: usize = match rest.chars().next() {
        // A quoted scalar: up to its closing quote.
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(rest.len(), |end| end + 2),
        _ => rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}' | ':' | '#'))
            .map(char::len_utf8)
            .sum(),
    };
    let len = if len == 0 {
        rest.chars().next().map_or(0, char::len_utf8)
    } else {
        len
    };
    begin..begin + len
}
