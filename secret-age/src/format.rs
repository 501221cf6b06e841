//! The age v1 header (version line, recipient stanzas, MAC) and the ASCII armor.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::error::Error;

/// The binary file's first line, without its line feed.
pub(crate) const VERSION_LINE: &str = "age-encryption.org/v1";
/// The length of the file key every stanza wraps.
#[cfg(feature = "decrypt")]
pub(crate) const FILE_KEY_LEN: usize = 16;
/// What every binary age file starts with, whatever its version.
pub(crate) const INTRO: &str = "age-encryption.org/";
const STANZA_PREFIX: &str = "-> ";
const MAC_PREFIX: &str = "---";
/// Base64 columns per line, in stanza bodies and in the armor.
const COLUMNS: usize = 64;
/// Bytes one full line of base64 holds.
const BYTES_PER_LINE: usize = COLUMNS / 4 * 3;

pub(crate) const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";
/// How much whitespace the armor tolerates before and after itself, as age does.
const MAX_WHITESPACE: usize = 1024;

/// One recipient stanza of an age header: a type, its arguments and a binary body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    pub(crate) tag: String,
    pub(crate) args: Vec<String>,
    pub(crate) body: Vec<u8>,
}

impl Stanza {
    /// The stanza type, for example `X25519` or `scrypt` (case-sensitive).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The arguments after the type.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The decoded body (for `X25519`, the wrapped file key).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// A parsed age v1 header: its recipient stanzas and MAC, read without any key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub(crate) stanzas: Vec<Stanza>,
    pub(crate) mac: [u8; 32],
    /// The header bytes the MAC covers: from the version line up to and including `---`.
    pub(crate) mac_input_len: usize,
    /// Where the payload (nonce, then chunks) starts.
    pub(crate) payload_start: usize,
}

impl Header {
    /// The recipient stanzas, in file order.
    pub fn stanzas(&self) -> &[Stanza] {
        &self.stanzas
    }

    /// How many stanzas have this type, for example `header.count("X25519")`.
    pub fn count(&self, tag: &str) -> usize {
        self.stanzas
            .iter()
            .filter(|stanza| stanza.tag == tag)
            .count()
    }
}

/// Writes a header for these stanzas; `mac` computes the MAC over the bytes it is given.
#[cfg(feature = "encrypt")]
pub(crate) fn write_header(stanzas: &[Stanza], mac: impl FnOnce(&[u8]) -> [u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + stanzas.len() * 128);
    out.extend_from_slice(VERSION_LINE.as_bytes());
    out.push(b'\n');
    for stanza in stanzas {
        out.extend_from_slice(STANZA_PREFIX.as_bytes());
        out.extend_from_slice(stanza.tag.as_bytes());
        for arg in &stanza.args {
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.push(b'\n');
        let body = STANDARD_NO_PAD.encode(&stanza.body);
        // Full 64-column lines, then a short (possibly empty) final line.
        let mut rest = body.as_bytes();
        loop {
            let take = rest.len().min(COLUMNS);
            out.extend_from_slice(&rest[..take]);
            out.push(b'\n');
            rest = &rest[take..];
            if take < COLUMNS {
                break;
            }
        }
    }
    out.extend_from_slice(MAC_PREFIX.as_bytes());
    let tag = mac(&out);
    out.push(b' ');
    out.extend_from_slice(STANDARD_NO_PAD.encode(tag).as_bytes());
    out.push(b'\n');
    out
}

/// Reads lines ending in `\n` from the binary input, counting them for error messages.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    /// The next line without its `\n`, or an error naming what was expected.
    fn next(&mut self, expected: &str) -> Result<&'a [u8], Error> {
        let rest = &self.input[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Error::header(format!(
                "the header ends at line {} where {expected} was expected (the file is truncated \
                 or not an age file)",
                self.line + 1
            )));
        };
        self.pos += end + 1;
        self.line += 1;
        Ok(&rest[..end])
    }
}

/// The binary file: `input` itself, or its armor decoded.
///
/// Like age, anything that does not start with the binary version prefix
/// (`age-encryption.org/`) is read as armor, so a damaged armor reports an armor error. An empty
/// input is read as an (empty, invalid) binary file.
pub(crate) fn binary(input: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    if input.is_empty() || input.starts_with(INTRO.as_bytes()) {
        Ok(Cow::Borrowed(input))
    } else {
        Ok(Cow::Owned(dearmor(input)?))
    }
}

/// Reads the header of an age file, binary or armored, without any key: its stanzas (type,
/// arguments, body) and MAC. The MAC is not checked (that needs the file key).
///
/// # Errors
///
/// [`Error::BadArmor`], [`Error::UnsupportedVersion`] or [`Error::MalformedHeader`].
pub fn parse_header(input: &[u8]) -> Result<Header, Error> {
    parse_binary_header(&binary(input)?)
}

/// Parses the header of a binary age file.
pub(crate) fn parse_binary_header(input: &[u8]) -> Result<Header, Error> {
    if !input.starts_with(INTRO.as_bytes()) {
        return Err(Error::header(
            "the input does not start with the age version line `age-encryption.org/v1`",
        ));
    }
    let mut lines = Lines {
        input,
        pos: 0,
        line: 0,
    };
    let version = lines.next("the version line")?;
    if version != VERSION_LINE.as_bytes() {
        return Err(Error::UnsupportedVersion {
            found: printable(version),
        });
    }
    let mut stanzas = Vec::new();
    loop {
        let line_start = lines.pos;
        let line = lines.next("a recipient stanza or the MAC line")?;
        let at = lines.line;
        if let Some(rest) = line.strip_prefix(STANZA_PREFIX.as_bytes()) {
            let mut words = Vec::new();
            for word in rest.split(|&b| b == b' ') {
                if word.is_empty() || !word.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
                    return Err(Error::header(format!(
                        "line {at}: a stanza argument is empty or holds a character outside \
                         printable ASCII"
                    )));
                }
                // Checked above: printable ASCII.
                words.push(String::from_utf8_lossy(word).into_owned());
            }
            let tag = words.remove(0);
            let body = read_body(&mut lines)?;
            stanzas.push(Stanza {
                tag,
                args: words,
                body,
            });
        } else if line.starts_with(MAC_PREFIX.as_bytes()) {
            let encoded = line
                .strip_prefix(b"--- ")
                .filter(|mac| !mac.is_empty() && !mac.contains(&b' '))
                .ok_or_else(|| {
                    Error::header(format!("line {at}: the MAC line is not `--- ` and one MAC"))
                })?;
            let mac = STANDARD_NO_PAD
                .decode(encoded)
                .ok()
                .and_then(|mac| <[u8; 32]>::try_from(mac).ok())
                .ok_or_else(|| {
                    Error::header(format!(
                        "line {at}: the MAC is not 32 bytes of canonical unpadded base64"
                    ))
                })?;
            if stanzas.is_empty() {
                return Err(Error::header("the header has no recipient stanza"));
            }
            return Ok(Header {
                stanzas,
                mac,
                mac_input_len: line_start + MAC_PREFIX.len(),
                payload_start: lines.pos,
            });
        } else {
            return Err(Error::header(format!(
                "line {at}: expected a stanza (`-> `) or the MAC line (`--- `)"
            )));
        }
    }
}

/// Reads a stanza body: full 64-column lines of canonical unpadded base64, ended by a shorter
/// (possibly empty) line.
fn read_body(lines: &mut Lines<'_>) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        let line = lines.next("a stanza body line")?;
        let at = lines.line;
        if line.len() > COLUMNS {
            return Err(Error::header(format!(
                "line {at}: a stanza body line exceeds 64 columns"
            )));
        }
        let decoded = STANDARD_NO_PAD.decode(line).map_err(|_| {
            Error::header(format!(
                "line {at}: a stanza body line is not canonical unpadded base64"
            ))
        })?;
        body.extend_from_slice(&decoded);
        if line.len() < COLUMNS {
            return Ok(body);
        }
    }
}

/// A line shortened to 40 characters with anything unprintable escaped, for messages.
fn printable(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        short.push('…');
    }
    short
}

/// Encodes a binary age file in age's ASCII armor: PEM with 64-column lines.
#[cfg(feature = "encrypt")]
pub(crate) fn armor(binary: &[u8]) -> String {
    let encoded = STANDARD.encode(binary);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / COLUMNS + 80);
    out.push_str(ARMOR_BEGIN);
    out.push('\n');
    for line in encoded.as_bytes().chunks(COLUMNS) {
        // Base64 output is ASCII.
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(ARMOR_END);
    out.push('\n');
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Decodes age's ASCII armor, as strictly as age does: optional whitespace before and after,
/// the exact BEGIN and END lines, lines of canonical padded base64 ending in LF or CRLF, every
/// line but the last holding 64 columns.
pub(crate) fn dearmor(input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut pos = 0;
    let mut line_no = 0;
    // One line without its `\n` and an optional `\r`; `None` at the end of the input.
    let next_line = |pos: &mut usize, line_no: &mut usize| -> Option<&[u8]> {
        if *pos >= input.len() {
            return None;
        }
        let rest = &input[*pos..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        *pos += (end + 1).min(rest.len());
        *line_no += 1;
        let line = &rest[..end];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    };
    // Whitespace-only lines before the BEGIN line.
    let mut skipped = 0;
    loop {
        let Some(line) = next_line(&mut pos, &mut line_no) else {
            return Err(Error::armor("the input is empty or only whitespace"));
        };
        if line.iter().all(|&b| is_space(b)) {
            skipped += line.len() + 1;
            if skipped > MAX_WHITESPACE {
                return Err(Error::armor("too much whitespace before the BEGIN line"));
            }
            continue;
        }
        if line != ARMOR_BEGIN.as_bytes() {
            return Err(Error::armor(format!(
                "the first line is not `{ARMOR_BEGIN}` (and the input is not a binary age file, \
                 which starts with `{VERSION_LINE}`)"
            )));
        }
        break;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    loop {
        let Some(line) = next_line(&mut pos, &mut line_no) else {
            return Err(Error::armor(format!("the `{ARMOR_END}` line is missing")));
        };
        if line == ARMOR_END.as_bytes() {
            break;
        }
        let at = line_no;
        if line.is_empty() {
            return Err(Error::armor(format!("line {at} is empty")));
        }
        if line.len() > COLUMNS {
            return Err(Error::armor(format!("line {at} exceeds 64 columns")));
        }
        let decoded = STANDARD
            .decode(line)
            .map_err(|_| Error::armor(format!("line {at} is not canonical padded base64")))?;
        out.extend_from_slice(&decoded);
        if decoded.len() < BYTES_PER_LINE {
            // A short line is the last one: the END line must follow.
            let end = next_line(&mut pos, &mut line_no);
            if end != Some(ARMOR_END.as_bytes()) {
                return Err(Error::armor(format!(
                    "line {at} is shorter than 64 columns but is not followed by `{ARMOR_END}`"
                )));
            }
            break;
        }
    }
    let trailing = &input[pos.min(input.len())..];
    if !trailing.iter().all(|&b| is_space(b)) {
        return Err(Error::armor(format!(
            "there is data after the `{ARMOR_END}` line"
        )));
    }
    if trailing.len() >= MAX_WHITESPACE {
        return Err(Error::armor(format!(
            "too much whitespace after the `{ARMOR_END}` line"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_round_trips_at_every_line_boundary() {
        for len in [0, 1, 47, 48, 49, 96, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let armored = armor(&data);
            assert!(armored.lines().all(|line| line.len() <= 64), "{armored}");
            assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
            assert!(!armored.contains("\n\n"), "no empty line: {armored}");
            assert_eq!(dearmor(armored.as_bytes()).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn a_short_line_before_more_data_is_rejected() {
        let input = format!("{ARMOR_BEGIN}\nYQ==\nYQ==\n{ARMOR_END}\n");
        let err = dearmor(input.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid age armor: line 2 is shorter than 64 columns but is not followed by \
             `-----END AGE ENCRYPTED FILE-----`"
        );
    }
}
