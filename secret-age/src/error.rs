//! The errors of this crate. No message ever includes plaintext or secret key material.

use std::fmt;

/// Why an age file could not be read, or could not be written.
///
/// The variants follow the failure classes of the age specification: a bad armor, a header that
/// does not parse, no identity that unwraps the file key, a header MAC that does not match, and a
/// payload that fails authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input looks armored (it does not start with the binary age version line) but the
    /// ASCII armor is invalid.
    BadArmor {
        /// What is wrong with the armor.
        what: String,
    },
    /// The file starts with `age-encryption.org/` but names a version other than `v1`.
    UnsupportedVersion {
        /// The version line found, shortened and escaped.
        found: String,
    },
    /// The header does not follow the age v1 grammar, or a recipient stanza this crate reads
    /// (`X25519`) is malformed.
    MalformedHeader {
        /// What is wrong, with the header line where it applies.
        what: String,
    },
    /// None of the given identities unwraps the file key of any recipient stanza.
    NoMatchingKeys,
    /// A file key was unwrapped but the header MAC does not match: the header was modified.
    BadHeaderMac,
    /// The encrypted payload fails authentication, is truncated, or has data after its final
    /// chunk.
    Payload {
        /// What is wrong, with the chunk number where it applies.
        what: String,
    },
    /// `encrypt` was given no recipients: nobody could decrypt the file.
    NoRecipients,
}

#[cfg(feature = "header")]
impl Error {
    pub(crate) fn armor(what: impl Into<String>) -> Self {
        Error::BadArmor { what: what.into() }
    }

    pub(crate) fn header(what: impl Into<String>) -> Self {
        Error::MalformedHeader { what: what.into() }
    }
}

#[cfg(feature = "decrypt")]
impl Error {
    pub(crate) fn payload(what: impl Into<String>) -> Self {
        Error::Payload { what: what.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadArmor { what } => write!(f, "invalid age armor: {what}"),
            Error::UnsupportedVersion { found } => write!(
                f,
                "unsupported age format version {found:?}: only age-encryption.org/v1 is supported"
            ),
            Error::MalformedHeader { what } => write!(f, "malformed age header: {what}"),
            Error::NoMatchingKeys => f.write_str(
                "no identity matches any recipient of the file: it was not encrypted to these keys",
            ),
            Error::BadHeaderMac => f.write_str(
                "the age header MAC does not match: the header was modified or corrupted",
            ),
            Error::Payload { what } => write!(f, "age payload rejected: {what}"),
            Error::NoRecipients => {
                f.write_str("no recipients given: nobody could decrypt the file")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Why a key string (`age1...` or `AGE-SECRET-KEY-1...`) could not be parsed.
///
/// The message names the problem and never repeats the key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The string is not Bech32: a character outside the Bech32 alphabet, no `1` separator, or
    /// nothing after it.
    NotBech32,
    /// The string mixes upper and lower case; age keys are all one case.
    MixedCase,
    /// The Bech32 checksum does not match: a character was mistyped or the key was cut.
    BadChecksum,
    /// The prefix is not the one of this kind of key.
    WrongPrefix {
        /// The prefix expected, for example `age`.
        expected: &'static str,
        /// The prefix found, lowercase.
        found: String,
    },
    /// The key does not encode exactly 32 bytes.
    WrongLength {
        /// The number of bytes decoded.
        found: usize,
    },
    /// The recipient is a low-order point: encrypting to it would give a shared secret that
    /// anyone can compute.
    LowOrderPoint,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotBech32 => f.write_str("not a Bech32 string"),
            KeyError::MixedCase => f.write_str("the key mixes upper and lower case"),
            KeyError::BadChecksum => {
                f.write_str("bad Bech32 checksum: the key was mistyped or truncated")
            }
            KeyError::WrongPrefix { expected, found } => {
                write!(f, "wrong prefix {found:?}: expected {expected:?}")
            }
            KeyError::WrongLength { found } => {
                write!(f, "wrong length: the key holds {found} bytes instead of 32")
            }
            KeyError::LowOrderPoint => {
                f.write_str("the recipient is a low-order X25519 point and cannot be encrypted to")
            }
        }
    }
}

impl std::error::Error for KeyError {}
