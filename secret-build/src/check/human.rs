//! The rustc-style rendering: `error[missing-secret]: ...`, `--> path:line:col`, the source
//! line, and a `help:` with the command that fixes it; then the grid and a summary.

use std::fmt::Write as _;
use std::path::Path;

use annotate_snippets::{Level, Message, Renderer, Snippet};

use super::report::{Cell, Diagnostic, Location, Report, Severity};

/// Renders `report`; source lines are read from the files under `root`. `styled` adds
/// terminal colours.
pub fn render(report: &Report, root: &Path, styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for diagnostic in &report.diagnostics {
        out.push_str(&render_one(diagnostic, root, &renderer));
        out.push_str("\n\n");
    }
    if report.environments.len() > 1 && !report.rows.is_empty() {
        out.push_str(&grid(report));
        out.push('\n');
    }
    out.push_str(&optional_unset(report));
    out.push_str(&summary(report));
    out.push('\n');
    out
}

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Note => Level::Note,
    }
}

fn render_one(diagnostic: &Diagnostic, root: &Path, renderer: &Renderer) -> String {
    // Messages hold names, scopes and recipients from files anyone can commit: no control
    // character reaches the terminal.
    let escaped = escape(diagnostic);
    let diagnostic = &escaped;
    let level = level(diagnostic.severity);
    let code = diagnostic.code.as_str();
    let mut message: Message<'_> = level.title(&diagnostic.message).id(code);
    let source = diagnostic
        .location
        .as_ref()
        .and_then(|location| source_line(location, root));
    let origin = diagnostic
        .location
        .as_ref()
        .map(|location| location.path.display().to_string())
        .unwrap_or_default();
    if let (Some((text, line, range)), Some(_)) = (&source, &diagnostic.location) {
        let mut annotation = level.span(range.clone());
        if let Some(label) = &diagnostic.label {
            annotation = annotation.label(label);
        }
        message = message.snippet(
            Snippet::source(text)
                .line_start(*line)
                .origin(&origin)
                .fold(false)
                .annotation(annotation),
        );
    }
    for note in &diagnostic.notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &diagnostic.help {
        message = message.footer(Level::Help.title(help));
    }
    let mut text = renderer.render(message).to_string();
    if source.is_none()
        && let Some(location) = &diagnostic.location
    {
        // No source line to show (a whole file): name it under the title, as rustc does.
        let mut place = location.path.display().to_string();
        if let Some(line) = location.line {
            let _ = write!(place, ":{line}");
        }
        let mut lines: Vec<&str> = text.lines().collect();
        let arrow = format!(" --> {place}");
        lines.insert(1.min(lines.len()), &arrow);
        text = lines.join("\n");
    }
    text
}

/// `diagnostic` with control characters escaped in every text it prints.
fn escape(diagnostic: &Diagnostic) -> Diagnostic {
    let escape = |text: &str| secret_core::text::escape_control(text).into_owned();
    let mut escaped = diagnostic.clone();
    escaped.message = escape(&escaped.message);
    escaped.label = escaped.label.as_deref().map(escape);
    escaped.notes = escaped.notes.iter().map(|note| escape(note)).collect();
    escaped.help = escaped.help.as_deref().map(escape);
    escaped
}

/// The line of `location` and the byte range to highlight in it.
fn source_line(
    location: &Location,
    root: &Path,
) -> Option<(String, usize, std::ops::Range<usize>)> {
    let line = location.line?;
    let text = std::fs::read_to_string(root.join(&location.path)).ok()?;
    let source = text.lines().nth(line - 1)?.to_owned();
    let byte_at = |column: usize| {
        source
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(source.len(), |(at, _)| at)
    };
    let start = byte_at(location.column.unwrap_or(1));
    let end = match location.end {
        Some((end_line, end_column)) if end_line == line => byte_at(end_column),
        Some(_) => source.len(),
        None if location.column.is_some() => {
            // Highlight the word at the column (the secret's name in the store file).
            source[start..]
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
                .map_or(source.len(), |len| start + len)
        }
        None => source.len(),
    };
    let end = if end <= start {
        (start + 1).min(source.len())
    } else {
        end
    };
    Some((source, line, start..end))
}

/// One note per environment naming the optional secrets without a value there: not a
/// problem, but worth knowing before a deploy.
fn optional_unset(report: &Report) -> String {
    let mut out = String::new();
    for (index, env) in report.environments.iter().enumerate() {
        let names: Vec<&str> = report
            .rows
            .iter()
            .filter(|row| row.cells.get(index) == Some(&Cell::OptionalUnset))
            .map(|row| row.name.as_str())
            .collect();
        if !names.is_empty() {
            out.push_str(&format!(
                "note: optional, unset for {}: {}\n",
                env.name,
                names.join(", ")
            ));
        }
    }
    out
}

/// The grid of secrets by environment.
fn grid(report: &Report) -> String {
    let mut header = vec!["secret".to_owned()];
    header.extend(report.environments.iter().map(|env| env.name.clone()));
    let mut rows = vec![header];
    for row in &report.rows {
        let mut cells = vec![row.name.clone()];
        cells.extend(row.cells.iter().map(|cell| match cell {
            Cell::Set(scope) => format!("set ({})", scope.key()),
            Cell::Refused(scope) => format!("refused ({})", scope.key()),
            Cell::Override => "override file".to_owned(),
            Cell::Missing => "missing".to_owned(),
            Cell::OptionalUnset => "optional, unset".to_owned(),
        }));
        if !row.declared {
            cells[0].push_str(" (not declared)");
        }
        rows.push(cells);
    }
    crate::table::render(&rows)
}

fn summary(report: &Report) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let declared = report.rows.iter().filter(|row| row.declared).count();
    let environments: Vec<String> = report.environments.iter().map(|e| e.to_string()).collect();
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let verdict = if errors > 0 { "failed" } else { "passed" };
    format!(
        "check-secrets {verdict}: {} declared in {} against {}: {}, {}",
        plural(declared, "secret"),
        plural(report.scan.declarations.len(), "place"),
        environments.join(", "),
        plural(errors, "error"),
        plural(warnings, "warning"),
    )
}
