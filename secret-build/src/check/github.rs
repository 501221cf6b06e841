//! The GitHub Actions rendering: one workflow command per diagnostic
//! (`::error file=src/main.rs,line=12,col=31,title=missing-secret::...`), which the runner
//! shows as an annotation on the line.

use std::fmt::Write as _;

use super::json::path_text;
use super::report::{Report, Severity};

/// Renders `report` as workflow commands, one per line, then a plain summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for diagnostic in &report.diagnostics {
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut properties = Vec::new();
        if let Some(location) = &diagnostic.location {
            properties.push(format!("file={}", property(&path_text(&location.path))));
            if let Some(line) = location.line {
                properties.push(format!("line={line}"));
            }
            if let Some(column) = location.column {
                properties.push(format!("col={column}"));
            }
            if let Some((end_line, end_column)) = location.end {
                properties.push(format!("endLine={end_line}"));
                properties.push(format!("endColumn={end_column}"));
            }
        }
        properties.push(format!(
            "title={}",
            property(&format!("{}[{}]", command, diagnostic.code.as_str()))
        ));
        let mut message = diagnostic.message.clone();
        for note in &diagnostic.notes {
            let _ = write!(message, "\nnote: {note}");
        }
        if let Some(help) = &diagnostic.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(
            out,
            "::{command} {}::{}",
            properties.join(","),
            data(&message)
        );
    }
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let _ = writeln!(
        out,
        "check-secrets: {}, {}",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning")
    );
    out
}

/// Escapes a workflow command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
