//! Reading the TOML files (`secrets.toml`, `secrets.enc.toml`, `.secrets.local.toml`) with
//! the position of every key and value, so that each error names its line. The parser is
//! `toml-span`: no serde, every key and value carries its byte span.

use std::path::Path;

pub(crate) use toml_span::Spanned;
pub(crate) use toml_span::value::{Key, Table, Value, ValueInner};

use crate::file_error::{FileError, did_you_mean};

/// Parses `text` (read from `path`) into its top-level table; a syntax error names its line.
/// A string value's span starts at its opening quote, where the value is written (for a
/// `"""` string, not on the next line where its text starts).
pub(crate) fn parse<'a>(path: &Path, text: &'a str) -> Result<Table<'a>, FileError> {
    let mut root = toml_span::parse(text)
        .map_err(|error| FileError::at(path, text, Some(error.span.start), error.to_string()))?;
    widen_strings(text, &mut root);
    Ok(match root.take() {
        ValueInner::Table(table) => table,
        _ => Table::new(),
    })
}

/// Moves the start of every string value's span (toml-span's spans cover the text between
/// the quotes) back to its opening quote.
fn widen_strings(text: &str, value: &mut Value<'_>) {
    match value.take() {
        ValueInner::String(string) => {
            value.span.start = opening_quote(text, value.span.start);
            value.set(ValueInner::String(string));
        }
        ValueInner::Array(mut items) => {
            for item in &mut items {
                widen_strings(text, item);
            }
            value.set(ValueInner::Array(items));
        }
        ValueInner::Table(mut table) => {
            for item in table.values_mut() {
                widen_strings(text, item);
            }
            value.set(ValueInner::Table(table));
        }
        other => value.set(other),
    }
}

/// Where the quotes before the string text starting at `start` begin: `"` or `'`, or `"""`
/// or `'''` and the line break a multi-line string drops.
fn opening_quote(text: &str, start: usize) -> usize {
    let before = &text.as_bytes()[..start.min(text.len())];
    let before = match before.strip_suffix(b"\n") {
        Some(rest) => rest.strip_suffix(b"\r").unwrap_or(rest),
        None => before,
    };
    for quote in [&b"\"\"\""[..], b"'''", b"\"", b"'"] {
        if before.ends_with(quote) {
            return before.len() - quote.len();
        }
    }
    start
}

/// The entries of `table` in the order they are written in the file.
pub(crate) fn in_file_order<'a>(table: Table<'a>) -> Vec<(Key<'a>, Value<'a>)> {
    let mut entries: Vec<_> = table.into_iter().collect();
    entries.sort_by_key(|(key, _)| key.span.start);
    entries
}

/// `value` as a string with its span; otherwise an error at the value naming `key` and the
/// kind found.
pub(crate) fn string(
    path: &Path,
    text: &str,
    key: &str,
    value: &mut Value<'_>,
) -> Result<Spanned<String>, FileError> {
    let span = value.span;
    match value.take() {
        ValueInner::String(string) => Ok(Spanned::with_span(string.into_owned(), span)),
        other => Err(FileError::at(
            path,
            text,
            Some(span.start),
            format!(
                "`{key}` should be a string, not {}",
                article(other.type_str())
            ),
        )),
    }
}

/// `a string`, `an integer`.
pub(crate) fn article(kind: &str) -> String {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}

/// `value`, the value of `key`, as a table; else an error at its line whose help shows the
/// table's header followed by `then` (what its lines hold).
pub(crate) fn table_value<'a>(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    mut value: Value<'a>,
    then: &str,
) -> Result<Table<'a>, FileError> {
    match value.take() {
        ValueInner::Table(table) => Ok(table),
        other => Err(FileError::at(
            path,
            text,
            Some(value.span.start),
            format!(
                "`{}` should be a table, not {}",
                key.name,
                article(other.type_str())
            ),
        )
        .with_help(format!(
            "write it as a table: a `[{}]` line, then {then}",
            key.name
        ))),
    }
}

/// An unknown key in `what` (`secrets.toml`, `[backend]`), whose keys are `known`: the
/// error at its line, with the closest known key or the list of them.
pub(crate) fn unknown_key(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    known: &[&str],
    what: &str,
) -> FileError {
    let help = match did_you_mean(&key.name, known.iter().copied()) {
        Some(known) => format!("did you mean `{known}`?"),
        None => format!("the keys of {what} are {}", known.join(", ")),
    };
    FileError::at(
        path,
        text,
        Some(key.span.start),
        format!("unknown key `{}`", crate::text::escape_control(&key.name)),
    )
    .with_help(help)
}

/// `value` written back as canonical TOML when it is a string, an integer or a boolean:
/// strings in basic quotes ([`crate::toml_write::basic`]). `None` for arrays, tables and the rest.
pub(crate) fn canonical_scalar(value: &Value<'_>) -> Option<String> {
    match value.as_ref() {
        ValueInner::String(text) => Some(crate::toml_write::basic(text)),
        ValueInner::Integer(number) => Some(number.to_string()),
        ValueInner::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_their_line() {
        for (text, line, message) in [
            ("\nA = \"x\"\nA = \"y\"\n", 3, "duplicate key: `A`"),
            (
                "[environments\n",
                1,
                "expected a right bracket, found a newline",
            ),
            (
                "\nA = \"unterminated\n",
                2,
                "invalid character in string: `\\n`",
            ),
            ("[a]\nb = 1\n[a]\nc = 2\n", 3, "redefinition of table `a`"),
            ("A = 1979-05-27\n", 1, "invalid number"),
        ] {
            let error = parse(Path::new("f.toml"), text).unwrap_err();
            assert_eq!(
                (error.line, error.message.as_str()),
                (Some(line), message),
                "{text:?}"
            );
        }
        let deep = format!("x = {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let error = parse(Path::new("f.toml"), &deep).unwrap_err();
        assert_eq!(
            error.message,
            "input exceeds the maximum allowed nesting depth"
        );
    }

    #[test]
    fn a_string_starts_at_its_opening_quote() {
        let text = "a = \"x\"\nb = \"\"\"\nline\n\"\"\"\nc = '''\r\nline'''\nd = [\"\", 'y']\n";
        let table = parse(Path::new("f.toml"), text).unwrap();
        let start = |key: &str| table.get(key).unwrap().span.start;
        assert!(text[start("a")..].starts_with("\"x\"\n"));
        assert!(text[start("b")..].starts_with("\"\"\"\nline"));
        assert!(text[start("c")..].starts_with("'''\r\nline"));
        let d = table.get("d").unwrap().as_array().unwrap();
        assert!(text[d[0].span.start..].starts_with("\"\", 'y'"));
        assert!(text[d[1].span.start..].starts_with("'y']"));
    }

    #[test]
    fn entries_in_file_order() {
        let table = parse(Path::new("f.toml"), "b = 1\na = 2\nc = 3\n").unwrap();
        let keys: Vec<String> = in_file_order(table)
            .into_iter()
            .map(|(key, _)| key.name.into_owned())
            .collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }
}
