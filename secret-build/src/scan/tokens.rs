//! Finding `secret!` invocations in one file's tokens.
//!
//! The file is lexed into a [`proc_macro2::TokenStream`] (the same lexer syn uses) and the
//! tree is walked looking for `path ! (group)` where the path's last segment is `secret` or
//! a name `secret` was imported as. Walking tokens rather than syn's AST is deliberate: the
//! bodies of other macros and of `macro_rules!` are token streams to syn too, a file with a
//! syntax error is scanned exactly like a valid one, and comments and string literals are
//! never mistaken for code. The tokens between the delimiters go to
//! [`secret_syntax::parse_invocation`], the grammar the proc macro uses.

use std::collections::BTreeSet;

use proc_macro2::{Delimiter, Group, Punct, Spacing, Span, TokenStream, TokenTree};

use super::skim::Origin;

/// An invocation found in a file, before it is attached to a package.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    /// A valid declaration.
    Declaration {
        name: String,
        line: usize,
        column: usize,
        end_line: usize,
        end_column: usize,
        description: Option<String>,
        optional: bool,
        env: Option<String>,
    },
    /// An invocation the grammar rejects.
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
}

/// The result of scanning one file's text.
#[derive(Debug, Default)]
pub(crate) struct FileScan {
    /// Invocations, in source order.
    pub(crate) found: Vec<Found>,
    /// Names `secret` is imported as (`use secret_runtime::secret as declare;`).
    pub(crate) aliases: BTreeSet<String>,
}

/// Whether `text` may hold an invocation of one of `names` or a renamed import of `secret`:
/// some `name` directly followed (after whitespace) by `!`, or `secret` followed by `as`.
/// Cheap and conservative; files failing it are never lexed.
pub(crate) fn may_declare(text: &str, names: &BTreeSet<String>) -> bool {
    !candidates(text, names).is_empty()
}

/// The offsets where [`may_declare`] sees a possible invocation or renamed import.
pub(crate) fn candidates(text: &str, names: &BTreeSet<String>) -> Vec<usize> {
    let mut positions = Vec::new();
    static SECRET: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("secret"));
    for name in names {
        let other;
        let finder = if name == "secret" {
            &*SECRET
        } else {
            other = memchr::memmem::Finder::new(name.as_bytes());
            &other
        };
        positions.extend(
            finder
                .find_iter(text.as_bytes())
                .filter(|&at| is_candidate(text, name, at)),
        );
    }
    positions
}

/// Whether `name`, found at `at` in `text`, may be an invocation (`name!`) or, for
/// `secret`, a renamed import (`secret as`): what [`candidates`] keeps.
pub(crate) fn is_candidate(text: &str, name: &str, at: usize) -> bool {
    let before_ok = text[..at]
        .chars()
        .next_back()
        .is_none_or(|ch| !is_ident_char(ch));
    let rest = text[at + name.len()..].trim_start();
    before_ok
        && (rest.starts_with('!')
            || (name == "secret"
                && rest.starts_with("as")
                && rest[2..].starts_with(char::is_whitespace)))
}

fn is_ident_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Lexes `text` and collects the invocations of `names` and the aliases of `secret`.
/// Returns the lexer's message when the file does not even lex (unbalanced delimiters, an
/// unterminated string).
///
/// Only the top-level items holding a [`candidates`] position outside comments and
/// literals are lexed, each run of them on its own (see [`super::skim`]): an invocation, its item's doc comment and a `use`
/// renaming `secret` all sit in one item. A file that does not skim cleanly, or whose kept
/// items do not lex, is lexed whole.
///
/// When the whole file does not lex, each invocation is lexed on its own (see [`recover`]):
/// the error then carries the message and what was recovered.
pub(crate) fn scan_text(
    text: &str,
    names: &BTreeSet<String>,
) -> Result<FileScan, (String, FileScan)> {
    scan_skimmed(text, names, None)
}

/// [`scan_text`], given the [`super::skim::skim`] of `text` when the caller has it (for a
/// text without a `#!` line).
pub(crate) fn scan_skimmed(
    text: &str,
    names: &BTreeSet<String>,
    skimmed: Option<&super::skim::Skim>,
) -> Result<FileScan, (String, FileScan)> {
    if let Some(skimmed) = skimmed
        && let Some(scan) = scan_items(text, skimmed, names)
    {
        return Ok(scan);
    }
    let text = strip_shebang(text);
    if skimmed.is_none()
        && let Some(skimmed) = super::skim::skim(&text)
        && let Some(scan) = scan_items(&text, &skimmed, names)
    {
        return Ok(scan);
    }
    match text.parse::<TokenStream>() {
        Ok(stream) => Ok(walk(stream, names, Origin::default())),
        Err(error) => {
            let start = error.span().start();
            let message = if start.line > 0 {
                format!("{} (at {}:{})", error, start.line, start.column + 1)
            } else {
                error.to_string()
            };
            Err((message, recover(&text, names)))
        }
    }
}

/// The invocations in the items of `text` that hold a candidate in code (not in a comment
/// or a literal), or `None` when one of them does not lex.
fn scan_items(
    text: &str,
    skimmed: &super::skim::Skim,
    names: &BTreeSet<String>,
) -> Option<FileScan> {
    let mut positions = candidates(text, names);
    positions.retain(|&at| skimmed.in_code(at));
    let ranges = super::skim::kept(&skimmed.ends, &positions);
    let mut scan = FileScan::default();
    for (range, origin) in ranges.iter().zip(Origin::of(text, &ranges)) {
        let stream = text[range.clone()].parse::<TokenStream>().ok()?;
        let found = walk(stream, names, origin);
        scan.found.extend(found.found);
        scan.aliases.extend(found.aliases);
    }
    Some(scan)
}

/// The invocations of a file that does not lex as a whole (an unfinished edit elsewhere in
/// it): each `name!` candidate's delimited arguments, when they balance, are lexed alone,
/// at their own line and column (everything before them blanked, line breaks kept).
/// Renamed imports and doc comments are not recovered.
fn recover(text: &str, names: &BTreeSet<String>) -> FileScan {
    let mut scan = FileScan::default();
    let mut positions = candidates(text, names);
    positions.sort_unstable();
    positions.dedup();
    for start in positions {
        let Some(end) = invocation_end(text, start) else {
            continue;
        };
        let mut masked = String::with_capacity(end);
        masked.extend(
            text[..start]
                .chars()
                .map(|ch| if ch == '\n' { '\n' } else { ' ' }),
        );
        masked.push_str(&text[start..end]);
        if let Ok(stream) = masked.parse::<TokenStream>() {
            let found = walk(stream, names, Origin::default());
            scan.found.extend(found.found);
        }
    }
    scan
}

/// For a candidate `name !` at `start`: the offset just after the delimiter closing its
/// arguments, following nesting, comments and string literals; `None` when they do not
/// balance.
fn invocation_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
        i += 1;
    }
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    i = skip_space(i);
    if bytes.get(i) != Some(&b'!') {
        return None;
    }
    i = skip_space(i + 1);
    let mut stack = Vec::new();
    match bytes.get(i)? {
        open @ (b'(' | b'[' | b'{') => stack.push(*open),
        _ => return None,
    }
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => stack.push(bytes[i]),
            close @ (b')' | b']' | b'}') => {
                let open = stack.pop()?;
                if !matches!((open, close), (b'(', b')') | (b'[', b']') | (b'{', b'}')) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            b'"' => {
                // A string (a raw one's `r#` was skipped as an identifier; its `\` is
                // literal, rare in a name): to the closing quote.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map(|at| i + 2 + at + 1)?;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The invocations in `stream`, lexed from text starting at `origin` in the file.
fn walk(stream: TokenStream, names: &BTreeSet<String>, origin: Origin) -> FileScan {
    let mut scan = FileScan::default();
    let mut walker = Walker {
        names,
        scan: &mut scan,
        levels: Vec::new(),
        origin,
    };
    walker.walk(stream, false, false);
    scan
}

/// Blanks a leading `#!` interpreter line, keeping line numbers (but not `#![attr]`).
fn strip_shebang(text: &str) -> std::borrow::Cow<'_, str> {
    if let Some(rest) = text.strip_prefix("#!")
        && !rest.trim_start().starts_with('[')
    {
        let end = text.find('\n').unwrap_or(text.len());
        return format!("{}{}", " ".repeat(end), &text[end..]).into();
    }
    text.into()
}

/// What the tokens seen so far at one nesting level say about the item being written.
#[derive(Debug, Default)]
struct Level {
    /// Doc comment lines of the current item.
    docs: Vec<String>,
    /// Whether the current item is a `static` or `const` (its docs describe a secret).
    value_item: bool,
    /// Whether an item keyword was seen (later `const`/`static` do not start a value item).
    keyword_seen: bool,
}

/// Keywords that start an item (or a `let`) other than a `static` or `const`.
const ITEM_KEYWORDS: [&str; 11] = [
    "fn",
    "struct",
    "enum",
    "union",
    "impl",
    "trait",
    "mod",
    "type",
    "let",
    "macro_rules",
    "extern",
];

struct Walker<'a> {
    names: &'a BTreeSet<String>,
    scan: &'a mut FileScan,
    levels: Vec<Level>,
    /// Where the lexed text starts in the file.
    origin: Origin,
}

impl Walker<'_> {
    /// Walks one token stream. `in_use` is set inside the braces of a `use` tree;
    /// `in_macro_rules` inside a `macro_rules!` body, where `$` fragments are not names.
    fn walk(&mut self, stream: TokenStream, in_use: bool, in_macro_rules: bool) {
        let mut tokens: Vec<TokenTree> = stream.into_iter().collect();
        self.levels.push(Level::default());
        let mut in_use_statement = in_use;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Ident(ident) => {
                    // Compared in place: most identifiers are none of these, and turning
                    // each into a `String` would allocate.
                    if ident == "use" {
                        in_use_statement = true;
                    } else if ident == "static" || ident == "const" {
                        let level = self.level();
                        if !level.keyword_seen {
                            level.value_item = true;
                            level.keyword_seen = true;
                        }
                    } else if ITEM_KEYWORDS.iter().any(|keyword| ident == keyword) {
                        let level = self.level();
                        level.value_item = false;
                        level.keyword_seen = true;
                    }
                    if in_use_statement
                        && ident == "secret"
                        && is_ident(tokens.get(i + 1), "as")
                        && let Some(TokenTree::Ident(alias)) = tokens.get(i + 2)
                    {
                        let alias = alias.to_string();
                        if alias != "_" {
                            self.scan.aliases.insert(alias);
                        }
                    }
                    if is_punct(tokens.get(i + 1), '!')
                        && self.names.iter().any(|name| ident == name)
                        && let Some(TokenTree::Group(group)) = tokens.get(i + 2)
                        && group.delimiter() != Delimiter::None
                    {
                        let start = path_start(&tokens, i);
                        self.invocation(tokens[start].span(), group, in_macro_rules);
                        i += 3;
                        continue;
                    }
                }
                TokenTree::Punct(punct) => match punct.as_char() {
                    ';' => {
                        *self.level() = Level::default();
                        in_use_statement = in_use;
                    }
                    '#' => {
                        if let Some(TokenTree::Group(group)) = tokens.get(i + 1)
                            && group.delimiter() == Delimiter::Bracket
                        {
                            if let Some(line) = doc_line(group) {
                                self.level().docs.push(line);
                            }
                            i += 2;
                            continue;
                        }
                    }
                    _ => {}
                },
                TokenTree::Group(group) => {
                    let is_macro_rules_body = i >= 2 && is_ident(tokens.get(i - 2), "macro_rules")
                        || (i >= 3
                            && is_punct(tokens.get(i - 2), '!')
                            && is_ident(tokens.get(i - 3), "macro_rules"));
                    let delimiter = group.delimiter();
                    let nested_use = in_use_statement && delimiter == Delimiter::Brace;
                    // Walk the group's tokens without copying them: a stream shared with
                    // its group is copied, token by token, when iterated. Nothing looks at
                    // a group behind it again, so a plain `.` takes its place.
                    let stream = match std::mem::replace(
                        &mut tokens[i],
                        TokenTree::Punct(Punct::new('.', Spacing::Alone)),
                    ) {
                        TokenTree::Group(group) => group.stream(),
                        _ => TokenStream::new(),
                    };
                    self.walk(stream, nested_use, in_macro_rules || is_macro_rules_body);
                    if delimiter == Delimiter::Brace && !self.level().value_item {
                        *self.level() = Level::default();
                        in_use_statement = in_use;
                    }
                }
                TokenTree::Literal(_) => {}
            }
            i += 1;
        }
        self.levels.pop();
    }

    fn level(&mut self) -> &mut Level {
        self.levels.last_mut().expect("walk pushes a level first")
    }

    /// Records the invocation whose path starts at `at` and whose arguments are `group`.
    fn invocation(&mut self, at: Span, group: &Group, in_macro_rules: bool) {
        let (line, column) = self.origin.place(at.start());
        let column = column + 1;
        if in_macro_rules && has_metavariable(group.stream()) {
            // `secret!($name)` in a `macro_rules!` body: the name is only known where the
            // macro is used, which a token scan cannot follow.
            return;
        }
        match secret_syntax::parse_invocation(group.stream()) {
            Ok(invocation) => {
                let description = self.description();
                let (end_line, end_column) = self.origin.place(group.span_close().end());
                self.scan.found.push(Found::Declaration {
                    name: invocation.name,
                    line,
                    column,
                    end_line,
                    end_column: end_column + 1,
                    description,
                    optional: invocation.optional,
                    env: invocation.env,
                });
            }
            Err(error) => {
                let at = error.span().start();
                let (line, column) = if at.line > 0 {
                    let (line, column) = self.origin.place(at);
                    (line, column + 1)
                } else {
                    (line, column)
                };
                self.scan.found.push(Found::Invalid {
                    line,
                    column,
                    message: error.to_string(),
                });
            }
        }
    }

    /// The doc comment of the innermost enclosing `static` or `const` item, if any.
    fn description(&self) -> Option<String> {
        let level = self.levels.iter().rev().find(|level| level.value_item)?;
        let text = level
            .docs
            .iter()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n");
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

/// The index where the path ending at `tokens[last]` starts: `a::b::secret`,
/// `::secret_runtime::secret` and `$crate::secret` are followed back to their first token.
fn path_start(tokens: &[TokenTree], last: usize) -> usize {
    let mut start = last;
    loop {
        // Expect `::` before the segment at `start`.
        if start >= 2 && is_joint_colon(&tokens[start - 2]) && is_punct(tokens.get(start - 1), ':')
        {
            let colons = start - 2;
            match colons.checked_sub(1).map(|i| &tokens[i]) {
                Some(TokenTree::Ident(_)) => {
                    start = colons - 1;
                    if start >= 1 && is_punct(tokens.get(start - 1), '$') {
                        return start - 1;
                    }
                }
                _ => return colons,
            }
        } else {
            return start;
        }
    }
}

fn is_joint_colon(tree: &TokenTree) -> bool {
    matches!(tree, TokenTree::Punct(punct) if punct.as_char() == ':' && punct.spacing() == proc_macro2::Spacing::Joint)
}

fn is_ident(tree: Option<&TokenTree>, text: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(ident)) if ident == text)
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(punct)) if punct.as_char() == ch)
}

fn has_metavariable(stream: TokenStream) -> bool {
    stream.into_iter().any(|tree| match tree {
        TokenTree::Punct(punct) => punct.as_char() == '$',
        TokenTree::Group(group) => has_metavariable(group.stream()),
        _ => false,
    })
}

/// The text of a `#[doc = "..."]` attribute (what `///` and `/** */` lex to).
fn doc_line(group: &Group) -> Option<String> {
    let mut inner = group.stream().into_iter();
    match (inner.next(), inner.next(), inner.next(), inner.next()) {
        (
            Some(TokenTree::Ident(doc)),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Literal(lit)),
            None,
        ) if doc == "doc" && eq.as_char() == '=' => match syn::Lit::new(lit) {
            syn::Lit::Str(lit) => Some(lit.value()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> BTreeSet<String> {
        ["secret".to_owned()].into()
    }

    fn found(text: &str) -> Vec<(String, usize, usize, Option<String>)> {
        scan_text(text, &names())
            .unwrap()
            .found
            .into_iter()
            .map(|found| match found {
                Found::Declaration {
                    name,
                    line,
                    column,
                    description,
                    ..
                } => (name, line, column, description),
                Found::Invalid {
                    line,
                    column,
                    message,
                } => (format!("invalid: {message}"), line, column, None),
            })
            .collect()
    }

    #[test]
    fn finds_paths_and_docs() {
        let text = "/// Personal access token\n/// for deploys\nstatic GITHUB_TOKEN: Secret = secret!(\"GitHubAPIToken\");\nfn f() { ::secret_runtime::secret!(\"B\"); }\n";
        assert_eq!(
            found(text),
            vec![
                (
                    "GitHubAPIToken".into(),
                    3,
                    31,
                    Some("Personal access token\nfor deploys".into())
                ),
                ("B".into(), 4, 10, None),
            ]
        );
    }

    #[test]
    fn ignores_comments_strings_and_metavariables() {
        let text = "// secret!(\"A\")\nconst S: &str = \"secret!(\\\"B\\\")\";\nmacro_rules! m { ($n:literal) => { secret!($n) }; () => { secret!(\"C\") } }\n";
        assert_eq!(found(text), vec![("C".into(), 3, 59, None)]);
    }

    #[test]
    fn aliases_only_in_use() {
        let scan = scan_text(
            "use secret_runtime::{secret as declare, Secret};\nfn f() { let n = secret as u8; }",
            &names(),
        )
        .unwrap();
        assert_eq!(scan.aliases, ["declare".to_owned()].into());
    }

    #[test]
    fn prefilter() {
        assert!(may_declare("x = secret !(\"A\")", &names()));
        assert!(may_declare("use a::secret as b;", &names()));
        assert!(!may_declare("let my_secret = 1; Secret::new()", &names()));
    }
}
