//! Credentials written into the source: the string literals of a file (plain, raw, byte and
//! C strings, wherever they stand: `const`, `static`, `let`, struct fields, `format!` and
//! call arguments) that match a rule of [`super::shapes`].
//!
//! The literals come from the same [`super::skim`] the declaration scan uses (no lexing);
//! a file the declaration scan does not skim first gets the cheaper
//! [`super::skim::any_string`] pass, and is skimmed only when one of its literals could be
//! a finding. What a literal is bound to is read from the code just before it: the `const`, `static`
//! or `let` it initialises, the struct field, the map key (`"api_key" => "..."`,
//! `insert("api_key", "...")`, `("password", "...")`), or the method it is passed to
//! (`.bearer_auth("...")`).
//!
//! Quiet: literals inside an item marked `#[cfg(test)]`, `#[test]` or `#[tokio::test]`
//! (unless asked);
//! a literal on a line holding the comment `// secret: allow-hardcoded`, or just below a
//! line holding only that comment.

use super::shapes::{self, Possible, Rule};
use super::skim::Skim;

/// The comment that allows a literal on its line or the line below.
pub const ALLOW_COMMENT: &str = "secret: allow-hardcoded";

/// A literal that matched a rule, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) rule: Rule,
    /// 1-based line and column (in characters) of the literal's first character.
    pub(crate) line: usize,
    pub(crate) column: usize,
    /// 1-based line and the column just after the literal.
    pub(crate) end_line: usize,
    pub(crate) end_column: usize,
    /// A few leading characters and `…`: never the value.
    pub(crate) preview: String,
    /// The name the literal is bound to, if the code gives one.
    pub(crate) binding: Option<String>,
}

/// A string literal of a file: where it is, its value and what it is bound to.
pub(crate) struct Literal {
    /// Byte range in the text, prefix and quotes included.
    pub(crate) range: std::ops::Range<usize>,
    /// The value the literal denotes (escapes resolved). Never printed.
    pub(crate) value: secrecy::SecretString,
    /// Whether it is a byte string (`b"..."`).
    pub(crate) bytes: bool,
    /// The name the literal is bound to, if the code gives one.
    pub(crate) binding: Option<String>,
}

/// The rule `value`, bound to `binding`, matches, with the preview to show.
pub(crate) fn judge(value: &str, binding: Option<&str>) -> Option<(Rule, String)> {
    if value.len() < 10 {
        return None;
    }
    if let Some(found) = shapes::shape(value) {
        // A name saying the value is an example or a test vector keeps it quiet.
        if binding.is_some_and(is_example_name) {
            return None;
        }
        return Some((found.rule, shapes::preview(value, found.at, found.shown)));
    }
    if binding.is_some_and(shapes::is_secret_name) && shapes::is_high_entropy(value) {
        return Some((Rule::NamedSecret, shapes::preview(value, 0, 3)));
    }
    None
}

fn is_example_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["example", "dummy", "fake", "mock", "sample", "placeholder"]
        .iter()
        .any(|word| lower.contains(word))
}

/// The findings in a file's `text` (with its skim, if already made), leaving out test items
/// unless `in_tests`. A file that does not skim cleanly gives none (the declaration scan
/// reports it).
pub(crate) fn find(text: &str, skimmed: Option<&Skim>, in_tests: bool) -> Vec<Found> {
    // Most files hold no literal worth a look: ruled out without a skim.
    if skimmed.is_none()
        && !super::skim::any_string(text, |literal| {
            let possible = if literal.len() >= 12 {
                may_match_literal(literal)
            } else {
                Possible::NONE
            };
            possible.any()
                && value_of(literal).is_some_and(|value| {
                    // What `judge` needs: a shape, or a secret's name and high entropy.
                    let start = literal.as_ptr() as usize - text.as_ptr() as usize;
                    (possible.shape && shapes::shape(&value).is_some())
                        || (possible.high_entropy
                            && may_bind_secret(text, start)
                            && shapes::is_high_entropy(&value))
                })
        })
        .unwrap_or(false)
    {
        return Vec::new();
    }
    let owned;
    let skim = match skimmed {
        Some(skim) => skim,
        None => match super::skim::skim(text) {
            Some(skim) => {
                owned = skim;
                &owned
            }
            None => return Vec::new(),
        },
    };
    let mut found = Vec::new();
    let mut tests: Option<Vec<std::ops::Range<usize>>> = None;
    for range in skim.strings(text) {
        if range.len() < 12 {
            continue;
        }
        let possible = may_match_literal(&text[range.clone()]);
        if !possible.any() {
            continue;
        }
        let Some((value, _)) = decode(&text[range.clone()]) else {
            continue;
        };
        // What `judge` needs: a shape, or a secret's name and high entropy.
        let shaped = possible.shape && shapes::shape(&value).is_some();
        if !shaped && !possible.high_entropy {
            continue;
        }
        let binding = binding(text, skim, range.start);
        if !shaped && !binding.as_deref().is_some_and(names_a_secret) {
            continue;
        }
        let Some((rule, preview)) = judge(&value, binding.as_deref()) else {
            continue;
        };
        let tests = tests.get_or_insert_with(|| match in_tests {
            true => Vec::new(),
            false => test_items(text, skim),
        });
        if tests.iter().any(|item| item.contains(&range.start)) || allowed(text, range.start) {
            continue;
        }
        let (line, column) = line_column(text, range.start);
        let (end_line, end_column) = line_column(text, range.end);
        found.push(Found {
            rule,
            line,
            column,
            end_line,
            end_column,
            preview,
            binding,
        });
    }
    found
}

/// Every string literal starting on the 1-based `line` of `text`, with its value and
/// binding, for `secret adopt`.
pub(crate) fn literals_on_line(text: &str, line: usize) -> Vec<Literal> {
    let Some(skim) = super::skim::skim(text) else {
        return Vec::new();
    };
    skim.strings(text)
        .filter(|range| line_column(text, range.start).0 == line)
        .filter_map(|range| {
            let (value, bytes) = decode(&text[range.clone()])?;
            let binding = binding(text, &skim, range.start);
            Some(Literal {
                range,
                value: value.into(),
                bytes,
                binding,
            })
        })
        .collect()
}

/// 1-based line and column (in characters) of the byte offset `at`.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |at| at + 1);
    (line, text[line_start..at].chars().count() + 1)
}

/// The value of the string literal `literal`, borrowed when it has no escape.
fn value_of(literal: &str) -> Option<std::borrow::Cow<'_, str>> {
    let (inner, raw) = literal_text(literal)?;
    if raw || !inner.contains('\\') {
        return Some(std::borrow::Cow::Borrowed(inner));
    }
    decode(literal).map(|(value, _)| std::borrow::Cow::Owned(value))
}

/// The text between the quotes of the string literal `literal` (prefix and quotes
/// included), and whether it is a raw string.
fn literal_text(literal: &str) -> Option<(&str, bool)> {
    let bytes = literal.as_bytes();
    let mut prefix = 0;
    let mut raw = false;
    while let Some(&c @ (b'b' | b'c' | b'r')) = bytes.get(prefix) {
        raw |= c == b'r';
        prefix += 1;
    }
    let hashes = bytes[prefix..].iter().take_while(|&&b| b == b'#').count();
    let inner = literal.get(prefix + hashes + 1..literal.len().checked_sub(hashes + 1)?)?;
    Some((inner, raw))
}

/// [`shapes::may_match`] of the value of the string literal `literal`, most often without
/// decoding it. A text whose escapes are only `\n`, `\r`, `\t`, `\0`, `\\`, `\"` and `\'`
/// stands for its value: the characters these stand for are in no shape's prefix, so every
/// prefix the value holds, the text holds too (it may hold more: `\npm_` holds `npm_`, and
/// the caller looks closer at the value), and a value holding one is never of high entropy.
/// Other escapes (`\x`, `\u`, a line continuation) are decoded first.
fn may_match_literal(literal: &str) -> Possible {
    let Some((text, raw)) = literal_text(literal) else {
        return Possible::NONE;
    };
    let bytes = text.as_bytes();
    if raw || memchr::memchr(b'\\', bytes).is_none() {
        return shapes::may_match(text);
    }
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', &bytes[from..]) {
        match bytes.get(from + at + 1) {
            Some(b'n' | b'r' | b't' | b'0' | b'\\' | b'"' | b'\'') => from += at + 2,
            _ => {
                return value_of(literal).map_or(Possible::NONE, |value| shapes::may_match(&value));
            }
        }
    }
    Possible {
        high_entropy: false,
        ..shapes::may_match(text)
    }
}

/// The value of the string literal `literal` (prefix and quotes included) and whether it
/// is a byte string; `None` for a value that is not text.
pub(crate) fn decode(literal: &str) -> Option<(String, bool)> {
    let mut rest = literal;
    let bytes = rest.starts_with('b');
    if rest.starts_with(['b', 'c']) {
        rest = &rest[1..];
    }
    if let Some(raw) = rest.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw.get(hashes + 1..raw.len().checked_sub(hashes + 1)?)?;
        return Some((inner.to_owned(), bytes));
    }
    let inner = rest.strip_prefix('"')?.strip_suffix('"')?;
    // The text between escapes is copied as it is, one run at a time.
    let mut value = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        value.push_str(&rest[..at]);
        let mut chars = rest[at + 1..].chars();
        match chars.next()? {
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            '0' => value.push('\0'),
            '\\' => value.push('\\'),
            '"' => value.push('"'),
            '\'' => value.push('\''),
            'x' => {
                // The (at most) two characters after `\x`, read in place.
                let after = chars.as_str();
                let end = after
                    .char_indices()
                    .nth(2)
                    .map_or(after.len(), |(at, _)| at);
                value.push(char::from(u8::from_str_radix(&after[..end], 16).ok()?));
                chars = after[end..].chars();
            }
            'u' => {
                let braced = chars.as_str().strip_prefix('{')?;
                let (hex, after) = braced.split_once('}').unwrap_or((braced, ""));
                value.push(char::from_u32(
                    u32::from_str_radix(&hex.replace('_', ""), 16).ok()?,
                )?);
                rest = after;
                continue;
            }
            '\n' => {
                // A line continuation: the break and the next line's leading whitespace go.
                rest = chars.as_str().trim_start_matches(char::is_whitespace);
                continue;
            }
            _ => return None,
        }
        rest = chars.as_str();
    }
    value.push_str(rest);
    Some((value, bytes))
}

/// Whether the literal at `at` is allowed by the comment on its line or alone on the line
/// above.
fn allowed(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |end| at + end);
    let marks = |line: &str| {
        line.find("//")
            .is_some_and(|comment| line[comment..].contains(ALLOW_COMMENT))
    };
    if marks(&text[line_start..line_end]) {
        return true;
    }
    let Some(above_end) = line_start.checked_sub(1) else {
        return false;
    };
    let above_start = text[..above_end].rfind('\n').map_or(0, |at| at + 1);
    let above = text[above_start..above_end].trim_start();
    above.starts_with("//") && marks(above)
}

/// The byte ranges of the items marked as tests: `#[cfg(test)]` (also inside `any`/`all`,
/// not under `not`), `#[test]` and `#[<runtime>::test]`, from the attribute to the end of
/// the item.
fn test_items(text: &str, skim: &Skim) -> Vec<std::ops::Range<usize>> {
    let mut items = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("#[") {
        if !skim.in_code(at)
            || items
                .iter()
                .any(|item: &std::ops::Range<usize>| item.contains(&at))
        {
            continue;
        }
        let Some(close) = matching(bytes, skim, at + 1) else {
            continue;
        };
        let attribute: String = text[at + 2..close]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let test = attribute == "test"
            || attribute.ends_with("::test")
            || (attribute.starts_with("cfg(")
                && !attribute.contains("not(test")
                && attribute
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == "test"));
        if !test {
            continue;
        }
        // The item: up to its first `;` or its body's closing `}` at the attribute's depth.
        let mut depth = 0usize;
        let mut i = close + 1;
        let end = loop {
            let Some(&b) = bytes.get(i) else { break None };
            if skim.in_code(i) {
                match b {
                    b'(' | b'[' => depth += 1,
                    b')' | b']' => depth = depth.saturating_sub(1),
                    b';' if depth == 0 => break Some(i + 1),
                    b'{' if depth == 0 => break matching(bytes, skim, i).map(|end| end + 1),
                    b'}' if depth == 0 => break Some(i),
                    _ => {}
                }
            }
            i += 1;
        };
        items.push(at..end.unwrap_or(text.len()));
    }
    items
}

/// The offset of the delimiter closing the one at `open`, in code.
fn matching(bytes: &[u8], skim: &Skim, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if !matches!(b, b'(' | b'[' | b'{' | b')' | b']' | b'}') || !skim.in_code(i) {
            continue;
        }
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            _ => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
        }
    }
    None
}

/// What the code just before `start` binds the literal there to: the `const`, `static`
/// or `let` name, the struct field, the map key, or the method it is an argument of.
fn binding(text: &str, skim: &Skim, start: usize) -> Option<String> {
    binding_at(text, start, 0, &|end| previous_key(text, skim, end))
}

/// Whether the literal at `start` may be bound to a secret's name: `false` only when
/// [`binding`] gives no such name, told from the text alone, without a skim. A key that is
/// a string literal is read back to the `"` before it; one that this cannot read (a raw
/// string, an escape) counts as a secret's name.
fn may_bind_secret(text: &str, start: usize) -> bool {
    let key = |end: usize| {
        let before = &text[..end];
        let unread = || Some("secret".to_owned());
        if let Some(inner) = before.strip_suffix('"') {
            return match inner.rfind('"') {
                Some(open) if !inner[open + 1..].contains('\\') => {
                    Some(inner[open + 1..].to_owned())
                }
                _ => unread(),
            };
        }
        if before.ends_with('#') {
            return unread();
        }
        last_identifier(before)
    };
    binding_at(text, start, 0, &key).is_some_and(|name| names_a_secret(&name))
}

/// [`shapes::is_secret_name`], ruling out first the names without any of its words.
fn names_a_secret(name: &str) -> bool {
    // Every secret's name holds one of these, in any case.
    let lower = name.to_ascii_lowercase();
    (!name.is_ascii()
        || [
            "tok", "secret", "pass", "pwd", "cred", "auth", "bearer", "key",
        ]
        .iter()
        .any(|word| lower.contains(word)))
        && shapes::is_secret_name(name)
}

/// [`binding`], reading a map or tuple key that ends at an offset with `key`.
fn binding_at(
    text: &str,
    start: usize,
    depth: usize,
    key: &dyn Fn(usize) -> Option<String>,
) -> Option<String> {
    if depth > 4 {
        return None;
    }
    let before = text[..start].trim_end();
    if let Some(rest) = before.strip_suffix("=>") {
        // `"api_key" => "..."` or `API_KEY => "..."`.
        return key(rest.trim_end().len());
    }
    if let Some(rest) = before.strip_suffix('=') {
        if rest.ends_with(['=', '!', '<', '>']) {
            return None;
        }
        let line_start = rest
            .rfind(['\n', ';', '{', '}', '(', ','])
            .map_or(0, |at| at + 1);
        let statement = &rest[line_start..];
        // `NAME: &str =`: the name before the type; `let mut name =`, `self.name =`: the last.
        let colon = statement
            .match_indices(':')
            .map(|(at, _)| at)
            .find(|&at| !statement[at..].starts_with("::") && !statement[..at].ends_with(':'));
        let head = match colon {
            Some(at) => &statement[..at],
            None => statement,
        };
        return last_identifier(head);
    }
    if let Some(rest) = before.strip_suffix(':') {
        if rest.ends_with(':') {
            return None;
        }
        return last_identifier(rest);
    }
    if let Some(rest) = before.strip_suffix(',') {
        return key(rest.trim_end().len());
    }
    if let Some(rest) = before.strip_suffix(['(', '[']) {
        // An argument: the method or function it is passed to, if its name is telling
        // (`.bearer_auth("...")`); else what the call is bound to.
        let rest = rest.trim_end();
        let rest = rest.strip_suffix('!').unwrap_or(rest);
        let callee_start = rest
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '.'))
            .map_or(0, |at| at + c_len(rest, at));
        let callee = &rest[callee_start..];
        let last = callee.rsplit([':', '.']).next().unwrap_or_default();
        if last == "secret" {
            return None;
        }
        if shapes::is_secret_name(last) {
            return Some(last.to_owned());
        }
        return binding_at(text, callee_start, depth + 1, key);
    }
    None
}

/// The key just before offset `end`: a short string literal ending there, or an
/// identifier.
fn previous_key(text: &str, skim: &Skim, end: usize) -> Option<String> {
    if let Some(range) = skim.quiet_ending_at(end) {
        let (key, _) = decode(&text[range])?;
        let keyish = key.len() <= 64
            && !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
        return keyish.then_some(key);
    }
    last_identifier(&text[..end])
}

/// The identifier `text` ends with (after trimming), if it ends with one.
fn last_identifier(text: &str) -> Option<String> {
    let text = text.trim_end();
    let start = text
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |at| at + c_len(text, at));
    let ident = &text[start..];
    (!ident.is_empty() && !ident.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| ident.to_owned())
}

/// The length in bytes of the character at `at` in `text`.
fn c_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings(text: &str) -> Vec<Option<String>> {
        let skim = crate::scan::skim::skim(text).unwrap();
        skim.strings(text)
            .map(|range| binding(text, &skim, range.start))
            .collect()
    }

    #[test]
    fn the_binding_of_a_literal_is_read_from_the_code_before_it() {
        let text = r#"
const GITHUB_TOKEN: &str = "a";
static PASSWORD: &'static str = "b";
fn f() {
    let mut api_key = String::from("c");
    let c = Config { client_secret: "d", other: 1 };
    map.insert("x-api-key", "e");
    m = hashmap! { "auth_token" => "f" };
    req.bearer_auth("g");
    let u = secret!("Name");
}
"#;
        let found = bindings(text);
        let names: Vec<Option<&str>> = found.iter().map(Option::as_deref).collect();
        assert_eq!(
            names,
            [
                Some("GITHUB_TOKEN"),
                Some("PASSWORD"),
                Some("api_key"),
                Some("client_secret"),
                None,
                Some("x-api-key"),
                None,
                Some("auth_token"),
                Some("bearer_auth"),
                None,
            ]
        );
    }

    #[test]
    fn a_literal_without_escapes_is_borrowed() {
        for literal in [
            r#""abc""#,
            r##"r#"a"b"#"##,
            r#"b"ab""#,
            r#"br"x""#,
            r#""a\nb""#,
        ] {
            assert_eq!(
                value_of(literal).as_deref(),
                decode(literal).map(|(value, _)| value).as_deref(),
                "{literal}"
            );
        }
    }

    #[test]
    fn escapes_are_resolved_and_raw_strings_kept() {
        assert_eq!(decode(r#""a\nb\x41\u{42}""#).unwrap().0, "a\nbAB");
        assert_eq!(decode(r###"r#"a"b"#"###).unwrap().0, "a\"b");
        assert_eq!(decode(r#"b"ab""#).unwrap(), ("ab".to_owned(), true));
    }
}
