//! A cheap pass over a file's text that finds where its top-level items end, so that only
//! the items a text search points at are lexed.
//!
//! Lexing with proc-macro2 allocates a token tree for the whole file; for a large file with
//! one `secret!` (or one `mod name;`) most of that work is thrown away. This pass only
//! follows comments, string, raw string and character literals and delimiter depth, and
//! splits the file after each `;` or `}` that closes back to the top level (a `}` directly
//! followed by `;` ends its item at the `;`). It also notes where the comments and literals
//! are: a text match there is never a token the scan looks for, so its item is not lexed.
//! [`kept`] gives the items to lex (adjacent ones merged); each is lexed on its own, and
//! [`Origin`] moves the lines and columns the lexer reports to the file's.
//!
//! When the text does not skim cleanly (unbalanced delimiters, an unterminated literal or
//! comment) [`skim`] returns `None` and callers lex the whole file, which reports the
//! problem as before.

/// What [`skim`] finds in a file's text.
#[derive(Debug)]
pub(crate) struct Skim {
    /// The offsets just after the end of each top-level item, ascending; the last is the
    /// text's length.
    pub(crate) ends: Vec<usize>,
    /// The comments and literals (string, raw string, character, byte), ascending.
    quiet: Vec<std::ops::Range<usize>>,
}

impl Skim {
    /// The code of `text[range]` (a range of the text skimmed) with each comment replaced
    /// by a space: what the lexer makes of it, without doc comments, which the lexer turns
    /// into attributes, at a cost, and module discovery does not need.
    pub(crate) fn without_comments<'a>(
        &self,
        text: &'a str,
        range: std::ops::Range<usize>,
    ) -> std::borrow::Cow<'a, str> {
        let first = self.quiet.partition_point(|quiet| quiet.end <= range.start);
        let comments = self.quiet[first..]
            .iter()
            .take_while(|quiet| quiet.start < range.end)
            .filter(|quiet| text.as_bytes()[quiet.start] == b'/');
        let mut code = String::new();
        let mut at = range.start;
        for comment in comments {
            code.push_str(&text[at..comment.start.max(at)]);
            code.push(' ');
            at = comment.end.min(range.end);
        }
        if at == range.start {
            return std::borrow::Cow::Borrowed(&text[range]);
        }
        code.push_str(&text[at..range.end]);
        std::borrow::Cow::Owned(code)
    }

    /// The string literals (plain, raw, byte and C strings, with their prefixes and
    /// quotes), ascending.
    pub(crate) fn strings<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
        let bytes = text.as_bytes();
        self.quiet
            .iter()
            .filter(move |range| match bytes[range.start] {
                b'"' | b'r' => true,
                b'b' | b'c' => matches!(bytes.get(range.start + 1), Some(b'"' | b'r')),
                _ => false,
            })
            .cloned()
    }

    /// The comment or literal that ends at `end`, if one does.
    pub(crate) fn quiet_ending_at(&self, end: usize) -> Option<std::ops::Range<usize>> {
        let at = self.quiet.partition_point(|range| range.end < end);
        self.quiet.get(at).filter(|range| range.end == end).cloned()
    }

    /// Whether `position` is in code: not in a comment or a literal, where the lexer never
    /// sees an identifier (a `secret!` in a doc comment or a string is not an invocation).
    pub(crate) fn in_code(&self, position: usize) -> bool {
        let at = self.quiet.partition_point(|range| range.end <= position);
        self.quiet
            .get(at)
            .is_none_or(|range| range.start > position)
    }
}

/// The top-level items of `text`, and where its comments and literals are. `None` when the
/// text is not balanced.
pub(crate) fn skim(text: &str) -> Option<Skim> {
    skim_until(text, text.len())
}

/// What a byte does to the delimiter depth in [`skim_until`]: `(`, `[`, `{` open and `)`,
/// `]`, `}` close (one depth for all three kinds).
const DEPTH: [i8; 256] = {
    let mut table = [0; 256];
    table[b'(' as usize] = 1;
    table[b'[' as usize] = 1;
    table[b'{' as usize] = 1;
    table[b')' as usize] = -1;
    table[b']' as usize] = -1;
    table[b'}' as usize] = -1;
    table
};

/// How many bytes [`skim_until`] looks at together.
const BLOCK: usize = 8;

/// What a byte adds to the sum of a block in [`skim_until`]: one opening delimiter (bits 0
/// to 7), one closing delimiter (bits 8 to 15), one `;` (bits 16 to 23) or one byte that
/// may start a comment or literal (from bit 24). A block of [`BLOCK`] bytes fills no
/// field.
const CLASS: [u32; 256] = {
    let mut table = [0; 256];
    table[b'(' as usize] = 1;
    table[b'[' as usize] = 1;
    table[b'{' as usize] = 1;
    table[b')' as usize] = 1 << 8;
    table[b']' as usize] = 1 << 8;
    table[b'}' as usize] = 1 << 8;
    table[b';' as usize] = 1 << 16;
    table[b'/' as usize] = 1 << 24;
    table[b'"' as usize] = 1 << 24;
    table[b'\'' as usize] = 1 << 24;
    table
};

/// The bytes [`skim_until`] stops at between items: where a comment or literal may start,
/// and `;` and `}`, which may end an item.
const STOPS_AT_TOP: [bool; 256] = {
    let mut table = QUIET_START;
    table[b';' as usize] = true;
    table[b'}' as usize] = true;
    table
};

/// Bytes that may start a comment or a literal: inside an item, the only bytes
/// [`skim_until`] stops at.
const QUIET_START: [bool; 256] = {
    let mut table = [false; 256];
    table[b'/' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table
};

/// [`skim`] of the items up to the one holding the offset `until - 1` (the whole text when
/// `until` is its length): what lies after is not looked at, so its balance is not checked.
///
/// Most of a file is inside items, where only comments and literals matter besides the
/// depth. The text is read [`BLOCK`] bytes at a time: a block where no comment or literal
/// may start and no item can end (the depth stays above zero, or at zero without a `;` or
/// closing delimiter) only moves the depth, without a branch for each delimiter, whose
/// places a processor cannot guess. The bytes of other blocks are looked at one by one.
pub(crate) fn skim_until(text: &str, until: usize) -> Option<Skim> {
    let bytes = text.as_bytes();
    // Room for what a file of this size usually holds (a comment or literal every hundred
    // bytes, an item every few hundred), so that the lists rarely grow a step at a time.
    let mut ends = Vec::with_capacity(until.min(bytes.len()) / 256);
    let mut quiet = Vec::with_capacity(until.min(bytes.len()) / 64);
    let mut depth: isize = 0;
    let mut i = 0;
    // Bytes before this offset are looked at one by one.
    let mut single_until = 0;
    while let Some(&b) = bytes.get(i) {
        if i >= single_until {
            match bytes.get(i..i + BLOCK) {
                Some(block) => {
                    let sum: u32 = block.iter().map(|&b| CLASS[usize::from(b)]).sum();
                    let closing = ((sum >> 8) & 0xff) as isize;
                    // No comment or literal starts in the block, and no item ends there.
                    let fast = sum >> 24 == 0
                        && (depth > closing || (depth == 0 && sum & 0x00ff_ff00 == 0));
                    if fast {
                        depth += (sum & 0xff) as isize - closing;
                        i += BLOCK;
                        continue;
                    }
                    single_until = i + BLOCK;
                }
                None => single_until = bytes.len(),
            }
        }
        depth += isize::from(DEPTH[usize::from(b)]);
        let stops = match depth {
            1.. => QUIET_START[usize::from(b)],
            0 => STOPS_AT_TOP[usize::from(b)],
            _ => true,
        };
        if !stops {
            i += 1;
            continue;
        }
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr_newline(bytes, i);
                quiet.push(i..end);
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(bytes, i)?;
                quiet.push(i..end);
                i = end;
                continue;
            }
            b'"' => {
                let (start, end) = string_at(bytes, i)?;
                quiet.push(start..end);
                i = end;
                continue;
            }
            b'\'' => {
                // `b'x'`: a byte literal; else a character literal, a lifetime or a label.
                let byte = i > 0 && bytes[i - 1] == b'b' && starts_token(bytes, i - 1);
                let (start, end) = if byte {
                    (i - 1, byte_char_end(bytes, i)?)
                } else {
                    (i, quote_end(text, i)?)
                };
                quiet.push(start..end);
                i = end;
                continue;
            }
            // A delimiter closed that was never opened.
            _ if depth < 0 => return None,
            // The `}` that closed an item, or a `;` between items.
            b'}' | b';' if depth == 0 => {
                if b == b'}' && next_non_space(bytes, i + 1) == Some(b';') {
                    i += 1;
                    continue;
                }
                ends.push(i + 1);
                if i + 1 >= until {
                    return Some(Skim { ends, quiet });
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return None;
    }
    if ends.last() != Some(&bytes.len()) {
        ends.push(bytes.len());
    }
    Some(Skim { ends, quiet })
}

/// Whether some string literal of `text` satisfies `wanted`, looking only at the string
/// literals: a cheaper pass than [`skim`] for the many files in which no literal matters.
/// `wanted` gets the literal with its prefix and quotes; `None` when a literal, or a block
/// comment before the last literal, does not end.
///
/// It jumps from one `"` to the next (one `memchr` iterator over the text), so comments
/// and code without a quote cost one vector search, not a visit each. Whether a `"` opens
/// a literal is decided from the code since the end of the previous literal, which holds
/// no `"` (and is looked at only when a `/` stands in it): a block comment starts at the
/// first `/*` there that no `//` before it on its line puts in a line comment, and the `"`
/// itself is in a comment when such a block comment is still open or a `//` precedes it on
/// its line. `'"'` and `'\"'` are character literals. The literal ends at the next `"` of
/// the same iterator that is not escaped (an even run of `\` before it) or, for a raw
/// string, that its `#`s follow.
pub(crate) fn any_string<'a>(
    text: &'a str,
    mut wanted: impl FnMut(&'a str) -> bool,
) -> Option<bool> {
    static BLOCK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("/*"));
    let bytes = text.as_bytes();
    // Whether a `//` starts on the line of `at`, at or after `from` and before `end`.
    let line_comment = |from: usize, at: usize, end: usize| {
        let line = memchr::memrchr(b'\n', &bytes[from..at]).map_or(from, |nl| from + nl + 1);
        let line = &bytes[line..end.min(bytes.len())];
        memchr::memchr_iter(b'/', line).any(|at| line.get(at + 1) == Some(&b'/'))
    };
    // Every `"` and every `/`, in order, each found once by one vector search. A quote
    // with no `/` between the end of the previous literal and itself is in no line
    // comment, without a look at its line (most quotes).
    let mut quotes = memchr::memchr_iter(b'"', bytes);
    let mut next_slash = memchr::memchr(b'/', bytes).unwrap_or(bytes.len());
    let mut i = 0;
    // A quote to look at again, after the block comment before it.
    let mut again = None;
    'quotes: while let Some(quote) = again.take().or_else(|| quotes.next()) {
        if quote < i {
            continue;
        }
        if next_slash < i {
            next_slash = memchr::memchr(b'/', &bytes[i..]).map_or(bytes.len(), |at| i + at);
        }
        if next_slash < quote {
            // Block comments opening between the previous literal and this quote (`//*`
            // is a line comment): looked for only where a `/` stands, so a file without
            // comments between its literals is never searched for them.
            let mut from = next_slash;
            while let Some(at) = BLOCK.find(&bytes[from..quote]) {
                let open = from + at;
                if line_comment(i, open, open + 1) {
                    from = open + 2;
                    continue;
                }
                i = block_comment_end(bytes, open)?;
                again = Some(quote);
                continue 'quotes;
            }
            if line_comment(i, quote, quote) {
                i = memchr_newline(bytes, quote);
                continue;
            }
        }
        let char_literal = bytes.get(quote + 1) == Some(&b'\'')
            && ((quote > 0 && bytes[quote - 1] == b'\'')
                || (quote > 1 && &bytes[quote - 2..quote] == b"'\\"));
        if char_literal {
            i = quote + 2;
            continue;
        }
        // The closing quote is a later `"`: for a raw string, the first followed by its
        // `#`s; else the first after an even run of `\` (an odd one escapes it).
        let (start, raw_hashes) = string_start(bytes, quote);
        let end = loop {
            let close = quotes.next()?;
            let closes = match raw_hashes {
                Some(hashes) => bytes[close + 1..]
                    .get(..hashes)
                    .is_some_and(|after| after.iter().all(|&b| b == b'#')),
                None => {
                    let run = bytes[quote + 1..close]
                        .iter()
                        .rev()
                        .take_while(|&&b| b == b'\\')
                        .count();
                    run % 2 == 0
                }
            };
            if closes {
                break close + 1 + raw_hashes.unwrap_or(0);
            }
        };
        if wanted(&text[start..end]) {
            return Some(true);
        }
        i = end;
    }
    Some(false)
}

/// Whether the byte at `at` starts a token: no identifier byte right before it.
fn starts_token(bytes: &[u8], at: usize) -> bool {
    at == 0 || !is_ident_byte(bytes[at - 1])
}

/// The string literal whose `"` is at `at`, with its prefix if any (`b"`, `c"`, `r"`,
/// `r#"`, `br##"`, `cr"`): where it starts and the offset after it.
fn string_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    match string_start(bytes, at) {
        (start, Some(hashes)) => raw_string_end(bytes, at + 1, hashes).map(|end| (start, end)),
        (start, None) => string_end(bytes, at + 1).map(|end| (start, end)),
    }
}

/// For the `"` at `at` opening a string literal: where the literal starts (its prefix)
/// and, for a raw string, how many `#`s close it.
fn string_start(bytes: &[u8], at: usize) -> (usize, Option<usize>) {
    let mut start = at;
    while start > 0 && bytes[start - 1] == b'#' {
        start -= 1;
    }
    let hashes = at - start;
    if start > 0 && bytes[start - 1] == b'r' {
        let r = start - 1;
        let prefix = if starts_token(bytes, r) {
            Some(r)
        } else if matches!(bytes[r - 1], b'b' | b'c') && starts_token(bytes, r - 1) {
            Some(r - 1)
        } else {
            None
        };
        if let Some(prefix) = prefix {
            return (prefix, Some(hashes));
        }
    }
    let start = if at > 0 && matches!(bytes[at - 1], b'b' | b'c') && starts_token(bytes, at - 1) {
        at - 1
    } else {
        at
    };
    (start, None)
}

/// The offset after a raw string whose text starts at `from`, closed by `"` and `hashes`
/// `#`s.
fn raw_string_end(bytes: &[u8], from: usize, hashes: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += memchr::memchr(b'"', &bytes[i..])?;
        let closing = &bytes[i + 1..];
        if closing.len() >= hashes && closing[..hashes].iter().all(|&b| b == b'#') {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
}

/// The byte ranges of the top-level items holding one of `positions` (items next to each
/// other merged into one range), ascending: what is lexed, each range on its own (see
/// [`Origin`] for its positions in the file).
pub(crate) fn kept(ends: &[usize], positions: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut keep = vec![false; ends.len()];
    for &position in positions {
        let item = ends.partition_point(|&end| end <= position);
        if let Some(slot) = keep.get_mut(item) {
            *slot = true;
        }
    }
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    for (&end, &keep) in ends.iter().zip(&keep) {
        if keep {
            match ranges.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => ranges.push(start..end),
            }
        }
        start = end;
    }
    ranges
}

/// Where a range of a file's text starts: lines and columns the lexer reports for the range
/// alone, moved to the file's.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Origin {
    /// Line breaks before the range.
    line: usize,
    /// Characters between the last line break and the range.
    column: usize,
}

impl Origin {
    /// The origin of each of `ranges` (ascending) in `text`.
    pub(crate) fn of(text: &str, ranges: &[std::ops::Range<usize>]) -> Vec<Origin> {
        let mut line = 0;
        let mut counted = 0;
        ranges
            .iter()
            .map(|range| {
                line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..range.start]).count();
                counted = range.start;
                let line_start =
                    memchr::memrchr(b'\n', &text.as_bytes()[..range.start]).map_or(0, |at| at + 1);
                let column = text[line_start..range.start].chars().count();
                Origin { line, column }
            })
            .collect()
    }

    /// The 1-based line and 0-based character column in the file of what the lexer placed
    /// at `at` in the range.
    pub(crate) fn place(&self, at: proc_macro2::LineColumn) -> (usize, usize) {
        if at.line == 1 {
            (self.line + 1, self.column + at.column)
        } else {
            (self.line + at.line, at.column)
        }
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |at| from + at)
}

fn next_non_space(bytes: &[u8], from: usize) -> Option<u8> {
    bytes[from..]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// The offset after the (nested) block comment starting at `at`.
fn block_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i + 1 < bytes.len() {
        if !matches!(bytes[i], b'/' | b'*') {
            i += memchr::memchr2(b'/', b'*', &bytes[i..])?;
            continue;
        }
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The offset after the closing `"` of a string whose contents start at `from`.
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        i += memchr::memchr2(b'\\', b'"', &bytes[i..])?;
        match bytes[i] {
            b'\\' => i += 2,
            _ => return Some(i + 1),
        }
    }
    None
}

/// After a `'` at `at`: the end of a character literal, or just past the `'` of a
/// lifetime or label.
fn quote_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match bytes.get(at + 1) {
        Some(b'\\') => {
            // An escape: up to the closing quote (`'\n'`, `'\''`, `'\u{1F600}'`).
            let mut i = at + 3;
            while i < bytes.len() && bytes[i] != b'\'' {
                if bytes[i] == b'\n' {
                    return None;
                }
                i += 1;
            }
            (i < bytes.len()).then_some(i + 1)
        }
        Some(_) => {
            let ch = text[at + 1..].chars().next()?;
            let after = at + 1 + ch.len_utf8();
            if bytes.get(after) == Some(&b'\'') {
                Some(after + 1)
            } else {
                Some(at + 1)
            }
        }
        None => Some(at + 1),
    }
}

/// The offset after a byte character literal whose `'` is at `at`.
fn byte_char_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    if bytes.get(i) == Some(&b'\\') {
        i += 2;
    } else {
        i += 1;
    }
    while i < bytes.len() && bytes[i] != b'\'' {
        i += 1;
    }
    (i < bytes.len()).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cheap pass over literals sees exactly the string literals the skim does, in the
    /// same order, past comments, lifetimes, character and byte literals.
    #[test]
    fn the_literal_pass_sees_the_strings_the_skim_sees() {
        let text = r###"
/// A doc comment with "a quote" and a 'quote
fn f<'a>(x: &'a str) -> char { let c = '"'; let b = b'"'; /* "not" /* nested "no" */ */
    let s = "one \" still one"; let r = r#"raw "two""#; let y = br##"three"##;
    let c2 = c"four"; x.len(); '\''; "five" }
"###;
        let skim = skim(text).unwrap();
        let seen: Vec<&str> = skim.strings(text).map(|range| &text[range]).collect();
        let mut passed = Vec::new();
        assert_eq!(
            any_string(text, |literal| {
                passed.push(literal);
                false
            }),
            Some(false)
        );
        assert_eq!(passed, seen);
        assert_eq!(seen.len(), 5, "{seen:?}");
    }

    fn items(text: &str) -> Vec<&str> {
        let ends = skim(text).unwrap().ends;
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                let item = text[start..end].trim();
                start = end;
                item
            })
            .collect()
    }

    #[test]
    fn splits_top_level_items() {
        let text = "use a::b;\n/// doc\nstatic S: T = T { a: 1 };\nfn f() { let x = 1; }\nmod m { mod n; }\n";
        assert_eq!(
            items(text),
            vec![
                "use a::b;",
                "/// doc\nstatic S: T = T { a: 1 };",
                "fn f() { let x = 1; }",
                "mod m { mod n; }",
                ""
            ]
        );
    }

    #[test]
    fn skips_comments_literals_and_lifetimes() {
        let text = "const A: &str = \"};\\\"\"; // };\nconst B: &str = r#\"}\"#; /* } /* ; */ */\nfn f<'a>(x: &'a u8) -> char { let _ = b'}'; '}' }\nconst C: char = '\\'';\n";
        assert_eq!(items(text).len(), 5);
    }

    /// The skim reads whole blocks where it can: wherever the text falls in them, it finds
    /// the same items, comments and literals, and the same imbalance.
    #[test]
    fn the_same_items_wherever_the_blocks_fall() {
        let text = "use a::{b, c};\nstruct S { a: [u8; 4] }\nimpl S { fn f(&self) -> u8 { \
                    if self.a[0] > 1 { (((2))) } else { [3][0] } } }\nmacro_rules! m { () => {}; }\n\
                    m!{}; const X: (u8, u8) = (1, 2); fn g<'a>(x: &'a str) -> &'a str { x } \
                    // }\nstatic T: &str = \"};\"; /* ; */ mod n;";
        let broken = ["fn f() }", "fn f() { (a]; } }", "const A: u8 = 1; )"];
        let expected = skim(text).expect("balanced");
        for pad in 0..=2 * BLOCK {
            let padded = format!("{}{text}", " ".repeat(pad));
            let skimmed = skim(&padded).expect("balanced");
            let shifted = |ranges: &[std::ops::Range<usize>]| -> Vec<std::ops::Range<usize>> {
                ranges.iter().map(|r| r.start + pad..r.end + pad).collect()
            };
            let ends: Vec<usize> = expected.ends.iter().map(|end| end + pad).collect();
            assert_eq!(skimmed.ends, ends, "padded by {pad}");
            assert_eq!(skimmed.quiet, shifted(&expected.quiet), "padded by {pad}");
            for text in broken {
                let padded = format!("{}{text}", " ".repeat(pad));
                assert!(skim(&padded).is_none(), "{padded:?}");
            }
        }
        assert_eq!(items(text).len(), 9, "{:?}", items(text));
    }

    #[test]
    fn unbalanced_is_none() {
        assert!(skim("fn f() {").is_none());
        assert!(skim("const A: &str = \"open;").is_none());
        assert!(skim("fn f() }").is_none());
    }

    #[test]
    fn kept_items_and_their_places_in_the_file() {
        let text = "fn a() {}\nconst é: u8 = 1; static T: u8 = 2;\n/// doc\nstatic S: Secret = secret!(\"A\");\nfn b() {}\n";
        let ends = skim(text).unwrap().ends;
        let ranges = kept(
            &ends,
            &[text.find("secret!").unwrap(), text.find("T:").unwrap()],
        );
        // `static T` and `static S` are next to each other: one range.
        let kept: Vec<&str> = ranges.iter().map(|range| &text[range.clone()]).collect();
        assert_eq!(
            kept,
            [" static T: u8 = 2;\n/// doc\nstatic S: Secret = secret!(\"A\");"]
        );
        let origin = Origin::of(text, &ranges)[0];
        // The range starts on line 2 after `const é: u8 = 1;` (16 characters).
        let at = |line, column| proc_macro2::LineColumn { line, column };
        assert_eq!(origin.place(at(1, 1)), (2, 17), "`static T`");
        assert_eq!(
            origin.place(at(3, 19)),
            (4, 19),
            "`secret!` on a later line"
        );
    }

    #[test]
    fn comments_and_literals_are_not_code() {
        let text = "/// secret!(\"Doc\")\nstatic S: Secret = secret!(\"A\"); // secret!\nconst B: &str = r#\"secret!\"#; const C: char = 's'; /* secret! */ fn f<'a>() {}\n";
        let skimmed = skim(text).unwrap();
        let code: Vec<usize> = text
            .match_indices("secret!")
            .map(|(at, _)| at)
            .filter(|&at| skimmed.in_code(at))
            .collect();
        assert_eq!(code, [text.find("secret!(\"A\")").unwrap()]);
        assert!(
            skimmed.in_code(text.find("fn f").unwrap()),
            "after a lifetime"
        );
    }

    #[test]
    fn without_comments_keeps_code_and_literals() {
        let text = "//! Crate docs\n/// Item docs\nmod a; /* note */ const S: &str = \"// not a comment\";\nfn f() {} // end\n";
        let skimmed = skim(text).unwrap();
        assert_eq!(
            skimmed.without_comments(text, 0..text.len()),
            " \n \nmod a;   const S: &str = \"// not a comment\";\nfn f() {}  \n"
        );
        let code = text.find("fn f").unwrap();
        assert_eq!(skimmed.without_comments(text, code..code + 9), "fn f() {}");
    }
}
