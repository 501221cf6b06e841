//! The subset of CUE that Encore's `.secrets.local.cue` uses: top-level `Name: "value"`
//! fields, `//` comments, string escapes and `"""` multi-line strings.
//!
//! Anything else (a number, a struct, interpolation) is an error naming its line, never a
//! silently skipped entry. CUE's meaning is followed where this subset meets it: definitions
//! (`#Note`) and hidden fields (`_draft`) are not exported, so they are not secrets; a field
//! given twice must have the same value (CUE unifies them), else it is an error. Errors
//! never quote any part of a value.

use secrecy::SecretString;
use zeroize::Zeroize;

/// A parse failure: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses the text of a `.secrets.local.cue` into `(name, value)` pairs, in file order.
/// Every name follows the secret naming rule.
pub fn parse(text: &str) -> Result<Vec<(String, SecretString)>, CueError> {
    let mut parser = Parser { text, pos: 0 };
    let mut fields: Vec<(String, SecretString)> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    loop {
        parser.skip_trivia();
        if parser.at_end() {
            return Ok(fields);
        }
        if parser.rest().starts_with("package")
            && parser.rest()[7..].starts_with(char::is_whitespace)
        {
            parser.skip_line();
            continue;
        }
        let line = parser.line();
        let quoted = parser.peek() == Some('"');
        let name = parser.label()?;
        // `#Name` is a definition and `_name` a hidden field: CUE does not export them.
        let exported = quoted || !(name.starts_with('#') || name.starts_with('_'));
        if exported && secret_syntax::name::validate_name(&name).is_err() {
            // A quoted name was written as a name; an unquoted word may be part of a value.
            let what = if quoted {
                format!("`{}`", crate::text::escape_control(&name))
            } else {
                "the field name".to_owned()
            };
            return Err(CueError {
                line,
                message: format!("{what} is not a valid secret name; {}", crate::NAME_RULE),
            });
        }
        parser.skip_inline_space();
        if !parser.eat(':') {
            // The name is not quoted: an unquoted word here may be part of a value pasted
            // on its own line.
            return Err(parser
                .error("expected `:` after the field name; write `Name: \"value\"`".to_owned()));
        }
        parser.skip_inline_space();
        let mut value = match parser.peek() {
            Some('"') => parser.string()?,
            _ => {
                return Err(CueError {
                    line,
                    message: format!(
                        "secret key {name} is not a string; write `{name}: \"value\"`"
                    ),
                });
            }
        };
        let secret = SecretString::from(value.as_str());
        value.zeroize();
        parser.skip_inline_space();
        parser.eat(',');
        parser.skip_inline_space();
        if parser.rest().starts_with("//") {
            parser.skip_line();
        }
        match parser.peek() {
            None | Some('\n') | Some('\r') => {}
            Some(other) => {
                let what = if other == '"' {
                    "a `\"`".to_owned()
                } else {
                    "more text".to_owned()
                };
                return Err(parser.error(format!(
                    "{what} after the value of {name}; a value is one string (write `\\\"` for a quote inside it)"
                )));
            }
        }
        if !exported {
            continue;
        }
        match fields.iter().position(|(known, _)| *known == name) {
            Some(index) => {
                use secrecy::ExposeSecret;
                if fields[index].1.expose_secret() != secret.expose_secret() {
                    return Err(CueError {
                        line,
                        message: format!(
                            "{name} is set again with a different value (first set on line {}); CUE refuses conflicting values: keep one",
                            lines[index]
                        ),
                    });
                }
            }
            None => {
                fields.push((name, secret));
                lines.push(line);
            }
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.pos += expected.len_utf8();
            true
        } else {
            false
        }
    }

    fn line(&self) -> usize {
        crate::file_error::line_of(self.text, self.pos)
    }

    fn error(&self, message: String) -> CueError {
        CueError {
            line: self.line(),
            message,
        }
    }

    fn skip_line(&mut self) {
        match self.rest().find('\n') {
            Some(at) => self.pos += at,
            None => self.pos = self.text.len(),
        }
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// Skips white space, newlines and `//` comments.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                Some(ch) if ch.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.rest().starts_with("//") => self.skip_line(),
                _ => return,
            }
        }
    }

    /// A field label: an identifier or a quoted string.
    fn label(&mut self) -> Result<String, CueError> {
        if self.peek() == Some('"') {
            if self.rest().starts_with("\"\"\"") {
                return Err(self.error("a field name cannot be a multi-line string".to_owned()));
            }
            return self.string();
        }
        let start = self.pos;
        while matches!(self.peek(), Some(ch) if ch.is_ascii_alphanumeric() || ch == '_' || ch == '$' || ch == '#')
        {
            self.bump();
        }
        if self.pos == start {
            return Err(self.error(
                "expected a field such as `GitHubAPIToken: \"value\"` on this line".to_owned(),
            ));
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    /// A string literal at the cursor: `"..."` or `"""` multi-line.
    fn string(&mut self) -> Result<String, CueError> {
        if self.rest().starts_with("\"\"\"") {
            return self.multi_line_string();
        }
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(self.error("unterminated string; close it with `\"`".to_owned()));
                }
                Some('"') => return Ok(out),
                Some('\\') => self.escape(&mut out)?,
                Some(ch) => out.push(ch),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), CueError> {
        let ch = self
            .bump()
            .ok_or_else(|| self.error("unterminated escape".to_owned()))?;
        let decoded = match ch {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            '/' => '/',
            'u' => self.hex_escape(4)?,
            'U' => self.hex_escape(8)?,
            '(' => {
                return Err(self.error(
                    "string interpolation `\\(...)` is not supported in .secrets.local.cue"
                        .to_owned(),
                ));
            }
            _ => {
                return Err(self.error(
                    "unknown escape after `\\` (the escapes are \\n \\t \\r \\\" \\\\ \\/ \\uXXXX and \\UXXXXXXXX)"
                        .to_owned(),
                ));
            }
        };
        out.push(decoded);
        Ok(())
    }

    fn hex_escape(&mut self, digits: usize) -> Result<char, CueError> {
        let hex = self
            .rest()
            .get(..digits)
            .ok_or_else(|| self.error("truncated unicode escape".to_owned()))?;
        // All hex digits: `from_str_radix` alone would accept a leading `+`.
        let code = hex
            .bytes()
            .all(|byte| byte.is_ascii_hexdigit())
            .then(|| u32::from_str_radix(hex, 16).ok())
            .flatten()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                self.error(format!(
                    "a `\\{}` escape needs {digits} hex digits naming a Unicode scalar value",
                    if digits == 4 { 'u' } else { 'U' }
                ))
            })?;
        self.pos += digits;
        Ok(code)
    }

    /// `"""` + newline, lines, then a closing `"""` whose indentation is removed from every
    /// line. The newline before the closing quotes is not part of the value.
    fn multi_line_string(&mut self) -> Result<String, CueError> {
        let open_line = self.line();
        self.pos += 3;
        self.skip_inline_space();
        if !(self.eat('\n')
            || (self.rest().starts_with("\r\n") && {
                self.pos += 2;
                true
            }))
        {
            return Err(self.error(
                "a multi-line string starts with `\"\"\"` followed by a newline".to_owned(),
            ));
        }
        let mut lines: Vec<String> = Vec::new();
        loop {
            if self.at_end() {
                return Err(CueError {
                    line: open_line,
                    message:
                        "unterminated multi-line string; close it with `\"\"\"` on its own line"
                            .to_owned(),
                });
            }
            let end = self
                .rest()
                .find('\n')
                .map_or(self.text.len(), |at| self.pos + at);
            let raw = self.text[self.pos..end].trim_end_matches('\r');
            let trimmed = raw.trim_start_matches([' ', '\t']);
            if trimmed.starts_with("\"\"\"") {
                let indent = &raw[..raw.len() - trimmed.len()];
                self.pos += raw.len() - trimmed.len() + 3;
                let mut out = String::new();
                for (index, line) in lines.iter().enumerate() {
                    if index > 0 {
                        out.push('\n');
                    }
                    let stripped = match line.strip_prefix(indent) {
                        Some(stripped) => stripped,
                        None if line.trim().is_empty() => "",
                        None => {
                            return Err(CueError {
                                line: open_line + 1 + index,
                                message: "this line is indented less than the closing `\"\"\"`"
                                    .to_owned(),
                            });
                        }
                    };
                    let mut line_parser = Parser {
                        text: stripped,
                        pos: 0,
                    };
                    while let Some(ch) = line_parser.bump() {
                        if ch == '\\' {
                            line_parser.escape(&mut out).map_err(|error| CueError {
                                line: open_line + 1 + index,
                                ..error
                            })?;
                        } else {
                            out.push(ch);
                        }
                    }
                }
                lines.zeroize();
                return Ok(out);
            }
            lines.push(raw.to_owned());
            self.pos = (end + 1).min(self.text.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn values(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|(name, value)| (name, value.expose_secret().to_owned()))
            .collect()
    }

    #[test]
    fn an_error_names_its_line() {
        let error = parse("A: \"x\"\n// a comment\nB: 12\n").unwrap_err();
        assert_eq!(error.line, 3, "{}", error.message);
    }

    #[test]
    fn fields_comments_and_escapes() {
        let text = "// local values\nGitHubAPIToken: \"tok // not a comment\" // trailing\n\n\"Quoted\": \"a\\\"b\\\\c\\n\\u00e9\\t\",\nPlain: \"x\"\n";
        assert_eq!(
            values(text),
            vec![
                ("GitHubAPIToken".into(), "tok // not a comment".into()),
                ("Quoted".into(), "a\"b\\c\né\t".into()),
                ("Plain".into(), "x".into()),
            ]
        );
    }

    #[test]
    fn multi_line_strings_drop_the_closing_indentation() {
        let text = "Key: \"\"\"\n    -----BEGIN KEY-----\n    abc\\tdef\n      indented\n    -----END KEY-----\n    \"\"\"\nNext: \"n\"\n";
        assert_eq!(
            values(text),
            vec![
                (
                    "Key".into(),
                    "-----BEGIN KEY-----\nabc\tdef\n  indented\n-----END KEY-----".into()
                ),
                ("Next".into(), "n".into()),
            ]
        );
    }

    #[test]
    fn non_string_values_name_their_line() {
        let error = parse("A: \"x\"\n// c\nPort: 8080\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert_eq!(
            error.message,
            "secret key Port is not a string; write `Port: \"value\"`"
        );
        let error = parse("A: {\n b: \"c\"\n}\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(parse("A: \"unterminated\n").is_err());
        assert_eq!(parse("A: \"\"\"\n  x\n").unwrap_err().line, 1);
        assert!(
            parse("A: \"\\(x)\"")
                .unwrap_err()
                .message
                .contains("interpolation")
        );
        assert_eq!(parse("A: \"x\" B: \"y\"").unwrap_err().line, 1);
    }

    #[test]
    fn package_clause_is_skipped() {
        assert_eq!(
            values("package secrets\n\nA: \"1\""),
            vec![("A".into(), "1".into())]
        );
    }
}
