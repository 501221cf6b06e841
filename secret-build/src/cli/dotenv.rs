//! Parsing dotenv files for `secret import`: `NAME=value` lines, `#` comments, blank lines,
//! an optional `export ` prefix, values in double quotes (with `\n`, `\t`, `\"`, `\\`
//! escapes) or single quotes (literal), both possibly spanning lines, or bare (trimmed,
//! ` #` starts a comment). After a closing quote only a comment may follow, and a value
//! may not be empty. Errors name the file and line and never show a value.

use std::path::Path;

use secrecy::SecretString;
use secret_core::FileError;
use zeroize::Zeroizing;

use super::Failure;

/// One `NAME=value` of the file (`Debug` shows the name only; the value is redacted).
#[derive(Debug)]
pub(crate) struct Pair {
    pub(crate) name: String,
    pub(crate) value: SecretString,
}

pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<Pair>, Failure> {
    let error = |line: usize, message: String| {
        Failure::from_file(FileError {
            path: path.to_owned(),
            line: Some(line),
            message,
            help: Some(
                "a dotenv file has `NAME=value` lines; NAME follows the secret naming rule"
                    .to_owned(),
            ),
        })
    };
    let mut pairs: Vec<Pair> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let trimmed = trimmed.strip_prefix("export ").unwrap_or(trimmed);
        let Some((name, rest)) = trimmed.split_once('=') else {
            return Err(error(number, "this line has no `=`".to_owned()));
        };
        let name = name.trim();
        secret_syntax::validate_name(name)
            .map_err(|problem| error(number, format!("invalid secret name `{name}`: {problem}")))?;
        if pairs.iter().any(|pair| pair.name == name) {
            return Err(error(number, format!("`{name}` is set twice")));
        }
        let rest = rest.trim_start();
        let mut value = Zeroizing::new(String::new());
        if let Some(body) = rest.strip_prefix('"') {
            let mut current = Zeroizing::new(body.to_owned());
            loop {
                if let Some(end) = closing_quote(&current) {
                    unescape(&current[..end], &mut value);
                    after_closing_quote(&current[end + 1..], name, '"')
                        .map_err(|message| error(number, message))?;
                    break;
                }
                let Some((_, next)) = lines.next() else {
                    return Err(error(
                        number,
                        format!("the value of `{name}` has no closing `\"`"),
                    ));
                };
                current.push('\n');
                current.push_str(next);
            }
        } else if let Some(body) = rest.strip_prefix('\'') {
            let mut current = Zeroizing::new(body.to_owned());
            loop {
                if let Some(end) = current.find('\'') {
                    value.push_str(&current[..end]);
                    after_closing_quote(&current[end + 1..], name, '\'')
                        .map_err(|message| error(number, message))?;
                    break;
                }
                let Some((_, next)) = lines.next() else {
                    return Err(error(
                        number,
                        format!("the value of `{name}` has no closing `'`"),
                    ));
                };
                current.push('\n');
                current.push_str(next);
            }
        } else {
            let bare = rest.split(" #").next().unwrap_or_default().trim_end();
            value.push_str(bare);
        }
        if value.is_empty() {
            return Err(error(
                number,
                format!(
                    "`{name}` has an empty value; give it a value, or leave the line out and \
                     set the secret later with `secret set {name}`"
                ),
            ));
        }
        pairs.push(Pair {
            name: name.to_owned(),
            value: SecretString::from(value.as_str()),
        });
    }
    Ok(pairs)
}

/// After a quoted value only blanks and a `#` comment may follow: anything else would be
/// silently dropped (`"abc" junk` is not `abc`). The message never shows the text.
fn after_closing_quote(rest: &str, name: &str, quote: char) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "text follows the closing `{quote}` of the value of `{name}`; put the whole value \
             inside the quotes (escape a `\"` inside double quotes as `\\\"`), or start a \
             comment with ` #`"
        ))
    }
}

fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, ch) in text.char_indices() {
        match ch {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(at),
            _ => {}
        }
    }
    None
}

fn unescape(text: &str, out: &mut String) {
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn dotenv_forms() {
        let text = "# c\nexport A=1 # note\nB=\"x\\ny\"\nC='lit\\n'\nD=\"multi\nline\"\nE='two\nlines'\n\n";
        let pairs = parse(Path::new(".env"), text).unwrap();
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|pair| (pair.name.as_str(), pair.value.expose_secret()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "1"),
                ("B", "x\ny"),
                ("C", "lit\\n"),
                ("D", "multi\nline"),
                ("E", "two\nlines")
            ]
        );
        let failure = parse(Path::new(".env"), "A=1\n9x=2\n").unwrap_err();
        assert!(failure.message.contains(".env:2"), "{}", failure.message);
        let failure = parse(Path::new(".env"), "A=\"hunter2\n").unwrap_err();
        assert!(!failure.message.contains("hunter2"));
    }

    #[test]
    fn text_after_a_closing_quote_and_empty_values_are_refused() {
        for (text, wanted) in [
            (
                "A=1\nB=\"abc\" junk-x9\n",
                ".env:2: text follows the closing `\"` of the value of `B`",
            ),
            (
                "B='abc'junk-x9\n",
                ".env:1: text follows the closing `'` of the value of `B`",
            ),
            ("A=1\nB=\n", ".env:2: `B` has an empty value"),
            ("B=\"\"\n", ".env:1: `B` has an empty value"),
            ("B=''  # nothing\n", ".env:1: `B` has an empty value"),
        ] {
            let failure = parse(Path::new(".env"), text).unwrap_err();
            assert!(
                failure.message.contains(wanted),
                "{text:?}: {}",
                failure.message
            );
            assert!(!failure.message.contains("junk-x9") && !failure.message.contains("abc"));
        }
        // A comment after the closing quote is fine.
        let pairs = parse(Path::new(".env"), "B=\"a b\"  # note\nC='x' #n\n").unwrap();
        assert_eq!(pairs[0].value.expose_secret(), "a b");
        assert_eq!(pairs[1].value.expose_secret(), "x");
    }
}
