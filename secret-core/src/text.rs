//! Text that reaches a terminal or a shell: control characters escaped, words shell-quoted.
//!
//! Names, scopes and recipients come from committed files anyone can edit; every human
//! message shows them through [`escape_control`], and every `help:` command a user may paste
//! quotes its interpolated words with [`shell_quote`].

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with control characters (and other invisible format characters) written as
/// `\n`, `\t`, `\u{1b}`; anything else unchanged.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if needs_escape(ch) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(ch));
            }
            ch => out.push(ch),
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_control`], but keeps line breaks: for messages made of several lines,
/// where each line's interpolated parts were escaped already.
pub fn escape_control_keep_lines(text: &str) -> String {
    text.split('\n')
        .map(escape_control)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether [`escape_control`] writes `ch` escaped: control characters, and the invisible
/// ones that can make text read differently from what it is: bidirectional controls
/// (U+061C, U+200E/F, U+202A-E, U+2066-9), zero-width and other format characters (U+00AD,
/// U+180E, U+200B-D, U+2060-4, U+206A-F, U+FEFF, U+FFF9-B, tags U+E0000-7F), line and
/// paragraph separators, and the blank fillers (U+034F, U+115F/60, U+17B4/5, U+3164,
/// U+FFA0).
pub(crate) fn needs_escape(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{ad}'
                | '\u{34f}'
                | '\u{61c}'
                | '\u{115f}'..='\u{1160}'
                | '\u{17b4}'..='\u{17b5}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{3164}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `word` as one POSIX shell word: unchanged when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside written as `'\''`). Control characters,
/// which no quoting makes visible, are escaped as by [`escape_control`], so the command
/// shown is what the user sees and pastes.
pub fn shell_quote(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word.bytes().all(|byte| {
            byte.is_ascii_alphanumeric()
                || matches!(
                    byte,
                    b'-' | b'_' | b'.' | b',' | b'/' | b':' | b'=' | b'@' | b'+'
                )
        });
    if plain {
        return Cow::Borrowed(word);
    }
    let escaped = escape_control(word);
    Cow::Owned(format!("'{}'", escaped.replace('\'', "'\\''")))
}

/// Every word of `words` through [`shell_quote`], joined with spaces: a command line to
/// paste.
pub fn shell_words<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("plain name"), "plain name");
        assert_eq!(
            escape_control("a\u{1b}[2Jb\nc\u{202e}"),
            "a\\u{1b}[2Jb\\nc\\u{202e}"
        );
        for invisible in [
            '\u{61c}',
            '\u{2028}',
            '\u{2060}',
            '\u{ad}',
            '\u{e0041}',
            '\u{3164}',
        ] {
            assert_eq!(
                escape_control(&format!("a{invisible}b")),
                format!("a\\u{{{:x}}}b", u32::from(invisible))
            );
        }
    }

    #[test]
    fn words_are_quoted_for_a_posix_shell() {
        assert_eq!(shell_quote("staging"), "staging");
        assert_eq!(shell_quote("dev,local"), "dev,local");
        assert_eq!(shell_quote("x $(touch p) #"), "'x $(touch p) #'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("pr-*"), "'pr-*'");
        assert_eq!(shell_quote("a\nb"), "'a\\nb'");
    }
}
