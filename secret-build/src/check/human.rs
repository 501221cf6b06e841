//! The rustc-style rendering: `error[missing-secret]: ...`, `--> path:line:col`, the source
//! line, and a `help:` with the command that fixes it; then the grid and a summary.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
    let mut files = Files::default();
    // Credentials written into the source are never shown, on any line displayed.
    for found in &report.scan.hardcoded {
        files
            .redactions
            .entry(root.join(&found.path))
            .or_default()
            .push(Redaction {
                line: found.line,
                column: found.column,
                end: (found.end_line, found.end_column),
                shown: format!("\"{}\"", found.preview),
            });
    }
    for diagnostic in &report.diagnostics {
        out.push_str(&render_one(diagnostic, root, &renderer, &mut files));
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

/// The text of each file a diagnostic shows a line of, read once per rendering (`None`: it
/// cannot be read).
#[derive(Default)]
struct Files {
    texts: HashMap<PathBuf, Option<String>>,
    /// The literals to hide in each file's lines.
    redactions: HashMap<PathBuf, Vec<Redaction>>,
}

/// A literal the human output never shows: where it is, and what stands in its place.
struct Redaction {
    line: usize,
    column: usize,
    end: (usize, usize),
    shown: String,
}

fn render_one(
    diagnostic: &Diagnostic,
    root: &Path,
    renderer: &Renderer,
    files: &mut Files,
) -> String {
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
        .and_then(|location| source_line(location, root, files));
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

/// The line of `location` and the byte range to highlight in it, control characters
/// escaped (the range moved with them).
fn source_line(
    location: &Location,
    root: &Path,
    files: &mut Files,
) -> Option<(String, usize, std::ops::Range<usize>)> {
    let line = location.line?;
    let path = root.join(&location.path);
    let text = files
        .texts
        .entry(path.clone())
        .or_insert_with_key(|path| std::fs::read_to_string(path).ok())
        .as_deref()?;
    let source = text.lines().nth(line - 1)?;
    let byte_at = |column: usize| {
        source
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(source.len(), |(at, _)| at)
    };
    let hidden: Vec<(std::ops::Range<usize>, &str)> = files
        .redactions
        .get(&path)
        .into_iter()
        .flatten()
        .filter(|redaction| redaction.line <= line && redaction.end.0 >= line)
        .map(|redaction| {
            let start = if redaction.line == line {
                byte_at(redaction.column)
            } else {
                0
            };
            let end = if redaction.end.0 == line {
                byte_at(redaction.end.1)
            } else {
                source.len()
            };
            (start..end.max(start), redaction.shown.as_str())
        })
        .collect();
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
        // One character (whole: the line may hold multi-byte ones).
        source[start..]
            .chars()
            .next()
            .map_or(start, |ch| start + ch.len_utf8())
    } else {
        end
    };
    let (source, start, end) = redact(source, start, end, &hidden);
    let escape = secret_core::text::escape_control;
    let before = escape(&source[..start]);
    let marked = escape(&source[start..end]);
    let range = before.len()..before.len() + marked.len();
    let escaped = format!("{before}{marked}{}", escape(&source[end..]));
    Some((escaped, line, range))
}

/// `source` with each of `hidden` (byte ranges of it, and their stand-ins) replaced, and
/// the highlight `start..end` moved with the text (onto a stand-in it overlaps).
fn redact(
    source: &str,
    mut start: usize,
    mut end: usize,
    hidden: &[(std::ops::Range<usize>, &str)],
) -> (String, usize, usize) {
    let mut hidden: Vec<&(std::ops::Range<usize>, &str)> = hidden.iter().collect();
    hidden.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut text = source.to_owned();
    let mut previous_start = usize::MAX;
    for (range, shown) in hidden {
        if range.end > previous_start || range.end > text.len() {
            continue;
        }
        previous_start = range.start;
        let moved = |at: usize, is_end: bool| {
            if at >= range.end && !(is_end && at == range.end && range.is_empty()) {
                at - range.len() + shown.len()
            } else if at > range.start {
                if is_end {
                    range.start + shown.len()
                } else {
                    range.start
                }
            } else {
                at
            }
        };
        start = moved(start, false);
        end = moved(end, true);
        text.replace_range(range.clone(), shown);
    }
    (text, start, end.max(start))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize, end: Option<(usize, usize)>) -> Location {
        Location {
            path: "src/main.rs".into(),
            line: Some(line),
            column: Some(column),
            end,
        }
    }

    /// A source line is file text: its control characters are escaped, and the highlight
    /// moves with them onto the same characters.
    #[test]
    fn a_source_line_is_shown_escaped_with_its_highlight_in_place() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("src")).unwrap();
        std::fs::write(
            root.path().join("src/main.rs"),
            "fn x() {}\nlet a = \"\u{1b}[2J\"; secret!(\"Token\");\n",
        )
        .unwrap();
        let mut files = Files::default();
        let (text, line, range) =
            source_line(&at(2, 17, Some((2, 33))), root.path(), &mut files).unwrap();
        assert_eq!(line, 2);
        assert_eq!(text, "let a = \"\\u{1b}[2J\"; secret!(\"Token\");");
        assert_eq!(&text[range], "secret!(\"Token\")");
        // Read once: a second diagnostic in the file uses the same text.
        std::fs::remove_file(root.path().join("src/main.rs")).unwrap();
        assert!(source_line(&at(1, 1, None), root.path(), &mut files).is_some());
    }

    /// A one-character highlight on a multi-byte character covers the whole character.
    /// A credential the scanner found is never shown: on its own diagnostic's line and on
    /// any other diagnostic's, a stand-in with its preview takes its place.
    #[test]
    fn a_hardcoded_literal_is_replaced_in_every_line_shown() {
        let (text, start, end) = redact(
            r#"call(secret!("A"), "ghp_0123456789");"#,
            5,
            17,
            &[(19..35, "\"ghp_…\"")],
        );
        assert_eq!(text, r#"call(secret!("A"), "ghp_…");"#);
        assert_eq!(&text[start..end], r#"secret!("A")"#);
        let (text, start, end) = redact(
            r#"let t = "ghp_0123456789";"#,
            8,
            24,
            &[(8..24, "\"ghp_…\"")],
        );
        assert_eq!(&text[start..end], "\"ghp_…\"");
    }

    #[test]
    fn a_highlight_on_a_multi_byte_character_takes_all_of_it() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/main.rs"), "a = \"é\"\n").unwrap();
        let (text, _, range) =
            source_line(&at(1, 6, Some((1, 6))), root.path(), &mut Files::default()).unwrap();
        assert_eq!(&text[range], "é");
    }
}
