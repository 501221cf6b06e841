//! Reading Rust text for the rules: comments and literals blanked (lines and offsets
//! kept), test modules left out, words found where they are not part of a longer name.

use super::*;

/// `text` with every comment blanked (and every string, char and byte literal's contents
/// too unless `keep_strings`); lines and byte offsets are kept, so a position in the
/// result is the same position in `text`.
pub(super) fn blank(text: &str, keep_strings: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let wipe = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = memchr_newline(bytes, i);
            wipe(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            wipe(&mut out, i, j);
            i = j;
        } else if let Some((open, hashes)) = raw_string_start(bytes, i) {
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = open;
            let end = find(bytes, body, &close).map_or(bytes.len(), |at| at + close.len());
            if !keep_strings {
                wipe(&mut out, body, end - close.len().min(end - body));
            }
            i = end;
        } else if bytes[i] == b'"' || starts_byte_string(bytes, i) {
            let start = if bytes[i] == b'b' { i + 2 } else { i + 1 };
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            if !keep_strings {
                wipe(&mut out, start, j.min(bytes.len()));
            }
            i = j + 1;
        } else if bytes[i] == b'\'' {
            // A char literal ('a', '\n', '\'', '\u{1b}', 'é') or a lifetime ('a, 'static).
            let j = i + 1;
            let end = if bytes.get(j) == Some(&b'\\') {
                find(bytes, j + 2, b"'").map(|at| at + 1)
            } else {
                let width = text[j..].chars().next().map_or(1, char::len_utf8);
                (bytes.get(j + width) == Some(&b'\'')).then_some(j + width + 1)
            };
            match end {
                Some(end) => {
                    if !keep_strings {
                        wipe(&mut out, j, end - 1);
                    }
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |at| from + at)
}

pub(super) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

pub(super) fn is_ident_byte(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// `r"`, `r#"`, `br##"`… at `i` (not inside an identifier): where the body starts and the
/// number of `#`.
pub(super) fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if is_ident_byte(bytes, i.wrapping_sub(1)) {
        return None;
    }
    let mut j = i;
    if bytes.get(j) == Some(&b'b') {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    (bytes.get(j) == Some(&b'"')).then_some((j + 1, hashes))
}

pub(super) fn starts_byte_string(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&b'b')
        && bytes.get(i + 1) == Some(&b'"')
        && !is_ident_byte(bytes, i.wrapping_sub(1))
}

/// `code` (comments and literals already blanked) without the items marked
/// `#[cfg(test)]`: unit tests may do what the crate itself must not.
pub(super) fn without_tests(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = find(bytes, from, b"#[cfg(test)]") {
        // The item after the attribute (and any further attributes) ends at its `;` or at
        // the brace that closes its first `{`.
        let mut j = at + "#[cfg(test)]".len();
        let mut depth = 0usize;
        while j < bytes.len() {
            match bytes[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for byte in &mut out[at..j.min(bytes.len())] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
        from = j;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The line (from 1) of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Every place in `code` where one of `words` starts and is not part of a longer
/// identifier (`print!` does not match inside `eprint!`, `rand::` not inside `operand::`).
pub(super) fn occurrences<'w>(code: &str, words: &[&'w str]) -> Vec<(usize, &'w str)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for word in words {
        let mut from = 0;
        while let Some(at) = find(bytes, from, word.as_bytes()) {
            let starts_word = word.starts_with(|c: char| !c.is_alphanumeric() && c != '_')
                || !is_ident_byte(bytes, at.wrapping_sub(1));
            if starts_word {
                found.push((at, *word));
            }
            from = at + word.len();
        }
    }
    found.sort();
    found
}

/// Violations for each of `words` found in the code (comments and literals left out) of
/// the Rust files `applies` accepts.
pub(super) fn forbidden_in_code(
    files: &[SourceFile],
    applies: impl Fn(&str) -> bool,
    skip_tests: bool,
    words: &[&str],
    why: &str,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for file in files {
        if !file.path.ends_with(".rs") || is_tidy(&file.path) || !applies(&file.path) {
            continue;
        }
        let mut code = blank(&file.text, false);
        if skip_tests {
            code = without_tests(&code);
        }
        for (at, word) in occurrences(&code, words) {
            violations.push(Violation {
                path: file.path.clone(),
                line: line_of(&code, at),
                message: format!("`{word}`: {why}"),
            });
        }
    }
    violations
}

/// Whether `path` is a library crate's source (`secret-*/src/`, its binaries excluded).
pub(super) fn is_library_source(path: &str) -> bool {
    path.starts_with("secret-")
        && path.split('/').nth(1) == Some("src")
        && !path.split('/').any(|part| part == "bin")
}
