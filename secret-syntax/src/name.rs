//! The secret name grammar, once for every crate: the `secret!` macro, the scanner, the
//! store, the override files and the run time (through `secret-core`).

use std::fmt;

/// The longest secret name accepted, in bytes (names are ASCII, so also in characters).
pub const MAX_NAME_LEN: usize = 128;

/// The rule a secret name follows, as printed in every error about a name.
pub const NAME_RULE: &str = "a secret name starts with an ASCII letter, then ASCII letters, digits or `_`, at most 128 characters";

/// Why a string is not a valid secret name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is the empty string.
    Empty,
    /// The first character is not an ASCII letter.
    BadStart(char),
    /// A later character is not an ASCII letter, digit or `_`.
    BadChar {
        /// The offending character.
        ch: char,
        /// Its position, counted in characters from 0.
        position: usize,
    },
    /// The name has more than [`MAX_NAME_LEN`] characters.
    TooLong(usize),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the secret name is empty; {NAME_RULE}"),
            Self::BadStart(ch) => {
                write!(
                    f,
                    "the secret name starts with {}; {NAME_RULE}",
                    describe_char(*ch)
                )
            }
            Self::BadChar { ch, position } => write!(
                f,
                "the secret name has {} at position {}; {NAME_RULE}",
                describe_char(*ch),
                position + 1
            ),
            Self::TooLong(len) => {
                write!(f, "the secret name is {len} characters long; {NAME_RULE}")
            }
        }
    }
}

impl std::error::Error for NameError {}

fn describe_char(ch: char) -> String {
    match ch {
        ' ' => "a space".to_owned(),
        c if c.is_ascii_digit() => format!("the digit `{c}`"),
        c if c.is_control() || c.is_whitespace() => format!("the character {c:?}"),
        c => format!("`{c}`"),
    }
}

/// Checks `name` against the naming rule: an ASCII letter, then ASCII letters, digits or
/// `_`, at most [`MAX_NAME_LEN`] characters.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(NameError::Empty);
    };
    if !first.is_ascii_alphabetic() {
        return Err(NameError::BadStart(first));
    }
    for (position, ch) in name.chars().enumerate().skip(1) {
        if !(ch.is_ascii_alphanumeric() || ch == '_') {
            return Err(NameError::BadChar { ch, position });
        }
    }
    let len = name.chars().count();
    if len > MAX_NAME_LEN {
        return Err(NameError::TooLong(len));
    }
    Ok(())
}
