//! The one place the control-plane commands write to the terminal: results to stdout (a
//! table or text for people, JSON with `--json`), errors and warnings to stderr. Nothing
//! written here ever includes a secret, except the one value a command exists to show once
//! (a new API key, a generated master key).

use std::io::Write as _;

use serde::Serialize;

use super::CommandError;

/// Where a command's result goes, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// `value` as JSON with `--json`, else whatever `human` prints.
    pub fn show<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&Self) -> Result<(), CommandError>,
    ) -> Result<(), CommandError> {
        if self.json {
            self.json(value)
        } else {
            human(self)
        }
    }

    /// Pretty JSON and a newline.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), CommandError> {
        let text = serde_json::to_string_pretty(value).map_err(|e| CommandError::Output(e.into()))?;
        self.text(&text)
    }

    /// `text` and a newline.
    pub fn text(&self, text: &str) -> Result<(), CommandError> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}").and_then(|()| stdout.flush()).map_err(CommandError::Output)
    }

    /// Left-aligned columns under upper-case headers; `empty` when there are no rows.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>], empty: &str) -> Result<(), CommandError> {
        if rows.is_empty() {
            return self.text(empty);
        }
        self.text(&render_table(headers, rows))
    }
}

/// The table as text, without a trailing newline.
pub fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        let cells = rows.iter().filter_map(|row| row.get(i)).map(|cell| cell.chars().count());
        cells.chain([headers[i].chars().count()]).max().unwrap_or(0)
    };
    let widths: Vec<usize> = (0..headers.len()).map(width).collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![line(headers.to_vec())];
    lines.extend(rows.iter().map(|row| line(row.iter().map(String::as_str).collect())));
    lines.join("\n")
}

/// `error: …` on stderr. Best effort: there is nowhere left to report a failure to write it.
pub fn error(err: &CommandError) {
    let _ = writeln!(std::io::stderr().lock(), "error: {err}");
}

/// `warning: …` on stderr.
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
}

/// A prompt on stderr (stdout stays clean for the result).
pub fn prompt(text: &str) -> Result<(), CommandError> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "{text}").and_then(|()| stderr.flush()).map_err(CommandError::Output)
}

/// A Unix time in milliseconds as `YYYY-MM-DD HH:MM` UTC.
pub fn utc(ms: i64) -> String {
    let full = crate::support::time::format_rfc3339(ms);
    full.get(..16).unwrap_or(&full).replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_line_up_by_characters_not_bytes() {
        let rows = vec![vec!["openai-prod".into(), "sk-…a1b2".into()], vec!["a".into(), "…".into()]];
        let table = render_table(&["SLUG", "KEY"], &rows);
        assert_eq!(table, "SLUG         KEY\nopenai-prod  sk-…a1b2\na            …");
    }

    #[test]
    fn utc_formats_unix_milliseconds() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_709_251_200_000 + 3_723_000), "2024-03-01 01:02");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00");
    }
}
