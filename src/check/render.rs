//! Printing diagnostics: codespan-style for people (`path:line:col`, the source line, a caret,
//! the hint) and a JSON array for programs.
//!
//! Lines that hold a literal secret are masked before they are shown, so reporting a leaked
//! credential never prints it again.

use std::io::Write;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as Level};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, termcolor::Ansi};
use serde::Serialize;

use super::Checked;
use crate::diagnostic::{Diagnostic, Severity};

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
        let mut files = SimpleFiles::new();
        let ids: Vec<usize> = self
            .sources
            .iter()
            .map(|s| files.add(s.path.display().to_string(), self.masked(s)))
            .collect();
        let config = Config::default();
        for diagnostic in &self.diagnostics {
            let report = self.report(diagnostic, &ids, &files);
            let result = if color {
                term::emit_to_write_style(&mut Ansi::new(&mut *out), &config, &files, &report)
            } else {
                term::emit_to_io_write(&mut *out, &config, &files, &report)
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

    fn report(
        &self,
        diagnostic: &Diagnostic,
        ids: &[usize],
        files: &SimpleFiles<String, String>,
    ) -> Report<usize> {
        let level = match diagnostic.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        let mut report = Report::new(level)
            .with_code(diagnostic.code)
            .with_message(&diagnostic.message);
        let mut notes = Vec::new();
        if let Some(location) = &diagnostic.location {
            let source = self.sources.iter().position(|s| s.path == location.file);
            match source.and_then(|n| files.get(ids[n]).ok().map(|f| (ids[n], f))) {
                Some((id, file)) => {
                    let range = span(file.source(), location.line, location.column);
                    report = report.with_labels(vec![Label::primary(id, range)]);
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
        report.with_notes(notes)
    }

    /// The source of a file with every line holding a literal secret masked from the secret
    /// on (same length, so positions stay right).
    fn masked(&self, source: &super::Source) -> String {
        let lines: Vec<(usize, usize)> = self
            .diagnostics
            .iter()
            .filter(|d| d.code == "secret-literal")
            .filter_map(|d| d.location.as_ref())
            .filter(|l| l.file == source.path)
            .map(|l| (l.line, l.column))
            .collect();
        if lines.is_empty() {
            return source.text.clone();
        }
        let mut out = String::with_capacity(source.text.len());
        for (n, line) in source.text.split_inclusive('\n').enumerate() {
            match lines.iter().find(|(l, _)| *l == n + 1) {
                Some((_, column)) => out.push_str(&mask_from(line, *column)),
                None => out.push_str(line),
            }
        }
        out
    }
}

/// `line` with the scalar starting at `column` (1-based, in characters) replaced by `*`s:
/// up to its closing quote when quoted, else up to `,`, `]`, `}`, ` #` or the line's end.
fn mask_from(line: &str, column: usize) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote = None;
    let mut done = false;
    for (i, c) in line.chars().enumerate() {
        let inside = i + 1 >= column && !done;
        if !inside {
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
            None => {
                matches!(c, ',' | ']' | '}' | '\n' | '\r')
                    || (c == '#' && line[..].chars().nth(i.wrapping_sub(1)) == Some(' '))
            }
        };
        if end {
            done = true;
            out.push(c);
        } else {
            out.push(if c.is_whitespace() { c } else { '*' });
        }
    }
    out
}

/// The byte range of the token at a 1-based line and column (in characters): up to the next
/// space or YAML punctuation, at least one character.
fn span(text: &str, line: usize, column: usize) -> std::ops::Range<usize> {
    let mut start = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let offset: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            let begin = start + offset;
            let rest = &text[begin..];
            let len: usize = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}' | ':' | '#'))
                .map(char::len_utf8)
                .sum();
            let len = if len == 0 {
                rest.chars()
                    .next()
                    .map_or(0, char::len_utf8)
                    .max(if rest.is_empty() { 0 } else { 1 })
            } else {
                len
            };
            return begin..begin + len;
        }
        start += l.len();
    }
    text.len()..text.len()
}
