//! A cheap pass over a file's text that finds where its top-level items end, so that only
//! the items a text search points at are lexed.
//!
//! Lexing with proc-macro2 allocates a token tree for the whole file; for a large file with
//! one `secret!` (or one `mod name;`) most of that work is thrown away. This pass only
//! follows comments, string, raw string and character literals and delimiter depth, and
//! splits the file after each `;` or `}` that closes back to the top level (a `}` directly
//! followed by `;` ends its item at the `;`). [`mask`] then blanks every item but the chosen
//! ones, keeping line breaks and character columns, so positions reported from the masked
//! text are the positions in the file.
//!
//! When the text does not skim cleanly (unbalanced delimiters, an unterminated literal or
//! comment) [`item_ends`] returns `None` and callers lex the whole file, which reports the
//! problem as before.

/// The offsets just after the end of each top-level item, ascending; the last is the text's
/// length. `None` when the text is not balanced.
pub(crate) fn item_ends(text: &str) -> Option<Vec<usize>> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr_newline(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i)?;
                continue;
            }
            b'"' => {
                i = string_end(bytes, i + 1)?;
                continue;
            }
            b'\'' => {
                i = quote_end(text, i)?;
                continue;
            }
            b'r' | b'b' | b'c' if i == 0 || !is_ident_byte(bytes[i - 1]) => {
                if let Some(end) = prefixed_literal_end(bytes, i)? {
                    i = end;
                    continue;
                }
                // An identifier: skip it whole, so its letters start nothing.
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.checked_sub(1)?,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 && next_non_space(bytes, i + 1) != Some(b';') {
                    ends.push(i + 1);
                }
            }
            b';' if depth == 0 => ends.push(i + 1),
            _ if is_ident_byte(b) => {
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                continue;
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
    Some(ends)
}

/// `text` with every top-level item blanked except those holding one of `positions`: a
/// blanked item keeps only its line breaks and, after the last, a space per character, so
/// every kept character has its original line and character column.
pub(crate) fn mask(text: &str, ends: &[usize], positions: &[usize]) -> String {
    let mut keep = vec![false; ends.len()];
    for &position in positions {
        let item = ends.partition_point(|&end| end <= position);
        if let Some(slot) = keep.get_mut(item) {
            *slot = true;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (&end, &keep) in ends.iter().zip(&keep) {
        let item = &text[start..end];
        if keep {
            out.push_str(item);
        } else {
            // Only what positions the kept items: its line breaks, and a space for each
            // character after its last one (on the line the next item may start on). Every
            // kept character keeps its line and column; the lexer sees a much shorter text.
            let newlines = memchr::memchr_iter(b'\n', item.as_bytes()).count();
            out.extend(std::iter::repeat_n('\n', newlines));
            let tail = item.rfind('\n').map_or(item, |at| &item[at + 1..]);
            out.extend(std::iter::repeat_n(' ', tail.chars().count()));
        }
        start = end;
    }
    out
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
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
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

/// A literal starting with a prefix at `at` (`b"`, `b'`, `c"`, `r"`, `r#"`, `br#"`, `cr"`):
/// the offset after it, `Ok(None)` when `at` starts an identifier instead.
fn prefixed_literal_end(bytes: &[u8], at: usize) -> Option<Option<usize>> {
    let mut i = at;
    if matches!(bytes[i], b'b' | b'c') {
        i += 1;
        match bytes.get(i) {
            Some(b'"') => return string_end(bytes, i + 1).map(Some),
            Some(b'\'') if bytes[at] == b'b' => return byte_char_end(bytes, i).map(Some),
            Some(b'r') => {}
            _ => return Some(None),
        }
    }
    if bytes.get(i) != Some(&b'r') {
        return Some(None);
    }
    i += 1;
    let hashes_start = i;
    while bytes.get(i) == Some(&b'#') {
        i += 1;
    }
    let hashes = i - hashes_start;
    if bytes.get(i) != Some(&b'"') {
        return Some(None);
    }
    i += 1;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return Some(Some(i + 1 + hashes));
        }
        i += 1;
    }
    None
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

    fn items(text: &str) -> Vec<&str> {
        let ends = item_ends(text).unwrap();
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

    #[test]
    fn unbalanced_is_none() {
        assert!(item_ends("fn f() {").is_none());
        assert!(item_ends("const A: &str = \"open;").is_none());
        assert!(item_ends("fn f() }").is_none());
    }

    #[test]
    fn mask_keeps_lines_and_columns() {
        let text = "fn a() {}\nconst é: u8 = 1;\nstatic S: Secret = secret!(\"A\");\n";
        let ends = item_ends(text).unwrap();
        let masked = mask(text, &ends, &[text.find("secret!").unwrap()]);
        assert_eq!(
            masked,
            "         \n                \nstatic S: Secret = secret!(\"A\");\n"
        );
        // A blanked item spanning lines shrinks to its line breaks and its last line.
        let text = "fn a() {\n    body();\n} static S: Secret = secret!(\"A\");\n";
        let ends = item_ends(text).unwrap();
        let masked = mask(text, &ends, &[text.find("secret!").unwrap()]);
        assert_eq!(masked, "\n\n  static S: Secret = secret!(\"A\");\n");
    }
}
