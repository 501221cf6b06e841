//! Writing TOML strings and keys so that they read back as the same text: every string the
//! store writes goes through [`basic`], [`multi_line`] or [`key`]. The tests read each
//! result back with the parser the files are read with ([`crate::toml_file`]), for every
//! Unicode scalar value and every short run of the characters TOML treats specially.

use std::fmt::Write;

/// `text` as a TOML basic string, quotes included: `"..."` on one line.
pub(crate) fn basic(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    escape(&mut out, text, false);
    out.push('"');
    out
}

/// `text` as a TOML multi-line basic string, quotes included: `"""`, a line break (which
/// TOML drops), the text with its line feeds written as line breaks, `"""`. Everything else
/// a multi-line string would read differently is escaped: a carriage return (a raw one
/// before a line feed would be read as part of the line break), quotes (so no `"""` closes
/// early), backslashes and the other control characters.
pub(crate) fn multi_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 7);
    out.push_str("\"\"\"\n");
    escape(&mut out, text, true);
    out.push_str("\"\"\"");
    out
}

/// `name` as a TOML key: bare when it is only ASCII letters, digits, `_` and `-`, else a
/// basic string.
pub(crate) fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if bare { name.to_owned() } else { basic(name) }
}

/// Appends `text` escaped for the inside of a basic string (`multi_line`: line feeds kept).
fn escape(out: &mut String, text: &str, multi_line: bool) {
    for ch in text.chars() {
        match ch {
            '\n' if multi_line => out.push('\n'),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if ch.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::toml_file::{self, ValueInner};

    /// The string the parser reads from `value = <written>` (and `[<key>]` for a key).
    fn read_back(written: &str) -> Result<String, String> {
        let text = format!("value = {written}\n");
        let mut table = toml_file::parse(Path::new("t.toml"), &text).map_err(|e| e.message)?;
        match table.remove("value").map(|mut value| value.take()) {
            Some(ValueInner::String(string)) => Ok(string.into_owned()),
            other => Err(format!("not a string: {other:?}")),
        }
    }

    fn read_key(written: &str) -> Result<String, String> {
        let text = format!("[{written}]\n");
        let table = toml_file::parse(Path::new("t.toml"), &text).map_err(|e| e.message)?;
        let keys: Vec<String> = table.keys().map(|key| key.name.to_string()).collect();
        match &keys[..] {
            [one] => Ok(one.clone()),
            _ => Err(format!("keys {keys:?}")),
        }
    }

    fn assert_round_trip(text: &str) {
        assert_eq!(
            read_back(&basic(text)).as_deref(),
            Ok(text),
            "basic {text:?}"
        );
        assert_eq!(
            read_back(&multi_line(text)).as_deref(),
            Ok(text),
            "multi-line {text:?}"
        );
        assert_eq!(read_key(&key(text)).as_deref(), Ok(text), "key {text:?}");
    }

    /// All of them in one string; alone, at the start and end of a string, those below
    /// U+3000 (every control, quote and white space character; above them the writer and
    /// the parser treat every character alike).
    #[test]
    fn every_unicode_scalar_value_reads_back() {
        let all: String = (0..=0x10FFFF).filter_map(char::from_u32).collect();
        assert_round_trip(&all);
        for ch in all.chars().take_while(|&ch| ch < '\u{3000}') {
            let text = ch.to_string();
            assert_eq!(read_back(&basic(&text)).as_deref(), Ok(&text[..]));
            assert_eq!(read_back(&multi_line(&text)).as_deref(), Ok(&text[..]));
        }
    }

    /// Every string of up to five characters from those TOML reads specially (quotes,
    /// backslash, line breaks, white space, `#`, `=`, brackets) and a plain letter: where
    /// one character next to another could close a string early, join a line break or start
    /// an escape.
    #[test]
    fn every_short_run_of_special_characters_reads_back() {
        let alphabet = [
            '"', '\'', '\\', '\r', '\n', '\t', ' ', '#', '=', '[', ']', 'a', '\u{7f}', '\u{0}',
        ];
        let mut runs = vec![String::new()];
        let mut count = 0;
        for _ in 0..4 {
            let mut longer = Vec::with_capacity(runs.len() * alphabet.len());
            for run in &runs {
                assert_round_trip(run);
                count += 1;
                for ch in alphabet {
                    let mut next = run.clone();
                    next.push(ch);
                    longer.push(next);
                }
            }
            runs = longer;
        }
        for run in &runs {
            assert_round_trip(run);
            count += 1;
        }
        assert_eq!(count, (0..=4).map(|n| alphabet.len().pow(n)).sum::<usize>());
        // A fifth character only where runs of quotes and backslashes get long enough to
        // matter (`"""` closes a multi-line string, `""""` and `"""""` end it with quotes).
        for run in &runs {
            for ch in ['"', '\\', '\n'] {
                assert_round_trip(&format!("{run}{ch}"));
            }
        }
    }

    #[test]
    fn plain_text_is_written_as_it_is() {
        assert_eq!(basic("age1qyqszqgpqyqs"), "\"age1qyqszqgpqyqs\"");
        assert_eq!(
            multi_line("-----BEGIN-----\nYWJj\n-----END-----\n"),
            "\"\"\"\n-----BEGIN-----\nYWJj\n-----END-----\n\"\"\""
        );
        assert_eq!(key("GitHubAPIToken"), "GitHubAPIToken");
        assert_eq!(key("type:development"), "\"type:development\"");
        assert_eq!(key(""), "\"\"");
        assert_eq!(basic("a\"b\\c\r\n\u{1b}"), "\"a\\\"b\\\\c\\r\\n\\u001B\"");
    }
}
