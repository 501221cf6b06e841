//! Builds age files piece by piece from the primitives alone (no code of `secret-age`), for
//! the crafted-file tests and the differential fuzz target (`fuzz/fuzz_targets/age_decrypt.rs`
//! includes this file): any list of stanzas — one wrapping any file key to any recipient, a
//! low-order share, a malformed X25519 stanza, a stanza of another type — a header MAC made
//! with any file key, and a payload sealed with any file key. [`Outcome`] puts what
//! `secret-age` and the `age` crate answer for a file side by side.

#![allow(dead_code, unreachable_pub)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::montgomery::MontgomeryPoint;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The Montgomery u-coordinates whose X25519 result is all zero for every secret key (the
/// points of order 1, 2, 4 and 8, and the non-canonical encodings of some), little endian.
pub const LOW_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    {
        let mut one = [0; 32];
        one[0] = 1;
        one
    },
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    p_plus(-1),
    p_plus(0),
    p_plus(1),
];

/// 2^255 - 19 + `delta`, little endian.
const fn p_plus(delta: i8) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[31] = 0x7f;
    bytes[0] = (0xed + delta as i16) as u8;
    bytes
}

/// One recipient stanza, as it appears in the header.
#[derive(Debug, Clone)]
pub struct Stanza {
    pub tag: String,
    pub args: Vec<String>,
    pub body: Vec<u8>,
}

impl Stanza {
    /// An X25519 stanza wrapping `file_key` to `recipient` (its 32 public bytes), made with
    /// the ephemeral secret `ephemeral`, as age makes it.
    pub fn x25519(ephemeral: [u8; 32], recipient: &[u8; 32], file_key: &[u8; 16]) -> Self {
        let share = MontgomeryPoint::mul_base_clamped(ephemeral).to_bytes();
        let shared = MontgomeryPoint(*recipient)
            .mul_clamped(ephemeral)
            .to_bytes();
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&share);
        salt[32..].copy_from_slice(recipient);
        let wrap_key = hkdf(&salt, &shared, b"age-encryption.org/v1/X25519");
        let body = ChaCha20Poly1305::new(Key::from_slice(&wrap_key))
            .encrypt(&Nonce::default(), &file_key[..])
            .unwrap();
        Self::x25519_raw(&share, body)
    }

    /// An X25519 stanza with any share (a low-order point, a short one) and any body.
    pub fn x25519_raw(share: &[u8], body: Vec<u8>) -> Self {
        Self {
            tag: "X25519".to_owned(),
            args: vec![STANDARD_NO_PAD.encode(share)],
            body,
        }
    }

    /// A stanza of any type with any arguments.
    pub fn other(tag: &str, args: &[&str], body: Vec<u8>) -> Self {
        Self {
            tag: tag.to_owned(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            body,
        }
    }
}

/// HKDF-SHA-256 with 32 bytes of output.
pub fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm)
        .unwrap();
    okm
}

/// The header: version line, stanzas (bodies in 64-column lines, the last one shorter),
/// and the MAC line with the MAC made with `mac_file_key`.
pub fn header(stanzas: &[Stanza], mac_file_key: &[u8; 16]) -> Vec<u8> {
    let mut out = b"age-encryption.org/v1\n".to_vec();
    for stanza in stanzas {
        out.extend_from_slice(b"->");
        for arg in std::iter::once(&stanza.tag).chain(&stanza.args) {
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.push(b'\n');
        let body = STANDARD_NO_PAD.encode(&stanza.body);
        let mut lines = body.as_bytes().chunks(64).peekable();
        loop {
            let line = lines.next().unwrap_or_default();
            out.extend_from_slice(line);
            out.push(b'\n');
            if line.len() < 64 && lines.peek().is_none() {
                break;
            }
        }
    }
    out.extend_from_slice(b"---");
    let mac_key = hkdf(&[], mac_file_key, b"header");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&mac_key).unwrap();
    mac.update(&out);
    out.push(b' ');
    out.extend_from_slice(
        STANDARD_NO_PAD
            .encode(mac.finalize().into_bytes())
            .as_bytes(),
    );
    out.push(b'\n');
    out
}

/// The payload: `nonce`, then `plaintext` sealed in 64 KiB chunks with the payload key of
/// `file_key` (an empty plaintext is one empty final chunk).
pub fn payload(nonce: [u8; 16], file_key: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let key = hkdf(&nonce, file_key, b"payload");
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    let mut out = nonce.to_vec();
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(64 * 1024).collect()
    };
    for (index, chunk) in chunks.iter().enumerate() {
        let mut chunk_nonce = [0u8; 12];
        chunk_nonce[3..11].copy_from_slice(&(index as u64).to_be_bytes());
        chunk_nonce[11] = u8::from(index + 1 == chunks.len());
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&chunk_nonce),
                Payload {
                    msg: chunk,
                    aad: &[],
                },
            )
            .unwrap();
        out.extend_from_slice(&sealed);
    }
    out
}

/// A whole file: `stanzas`, the MAC made with `mac_file_key`, and `plaintext` sealed with
/// `payload_file_key` under a fixed nonce.
pub fn file(
    stanzas: &[Stanza],
    mac_file_key: &[u8; 16],
    payload_file_key: &[u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = header(stanzas, mac_file_key);
    out.extend_from_slice(&payload([7; 16], payload_file_key, plaintext));
    out
}

/// What a decryption answered, in the test kit's classes: the plaintext, or the kind of
/// failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Plaintext(Vec<u8>),
    /// The input is not valid armor (nor a binary file).
    ArmorFailure,
    /// The version line, the header's grammar or an X25519 stanza's form (or share) is
    /// wrong, or the payload nonce is missing.
    HeaderFailure,
    NoMatch,
    HmacFailure,
    PayloadFailure,
}

impl Outcome {
    /// `secret_age::decrypt`'s answer.
    pub fn of_ours(result: Result<impl AsRef<[u8]>, secret_age::Error>) -> Self {
        use secret_age::Error;
        match result {
            Ok(plaintext) => Self::Plaintext(plaintext.as_ref().to_vec()),
            Err(Error::BadArmor { .. }) => Self::ArmorFailure,
            Err(Error::UnsupportedVersion { .. } | Error::MalformedHeader { .. }) => {
                Self::HeaderFailure
            }
            Err(Error::NoMatchingKeys) => Self::NoMatch,
            Err(Error::BadHeaderMac) => Self::HmacFailure,
            Err(Error::Payload { .. }) => Self::PayloadFailure,
            Err(other) => panic!("decrypt cannot fail with {other:?}"),
        }
    }

    /// The `age` crate's answer for `file` (binary or armored) with `identities`
    /// (`AGE-SECRET-KEY-1...` strings), tried in that order.
    ///
    /// Whitespace before the armor is removed first: the age crate reads such a file as
    /// binary, where the specification and the test kit (`armor_whitespace_outside`) allow it.
    pub fn of_age(identities: &[&str], file: &[u8]) -> Self {
        use std::io::Read;
        let start = file
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(file.len());
        let file = if file[start..].starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            &file[start..]
        } else {
            file
        };
        let identities: Vec<age::x25519::Identity> = identities
            .iter()
            .map(|identity| identity.parse().unwrap())
            .collect();
        let decryptor = match age::Decryptor::new_buffered(age::armor::ArmoredReader::new(file)) {
            Ok(decryptor) => decryptor,
            Err(error) => return Self::of_age_error(&error),
        };
        let mut reader = match decryptor.decrypt(
            identities
                .iter()
                .map(|identity| identity as &dyn age::Identity),
        ) {
            Ok(reader) => reader,
            Err(error) => return Self::of_age_error(&error),
        };
        let mut plaintext = Vec::new();
        match reader.read_to_end(&mut plaintext) {
            Ok(_) => Self::Plaintext(plaintext),
            Err(error) if is_armor_error(&error) => Self::ArmorFailure,
            Err(_) => Self::PayloadFailure,
        }
    }

    /// Whether `self` (secret-age's answer for `file`) and `age` (the age crate's) agree:
    /// they are equal, but for two differences of reading, not of verdict.
    ///
    /// - A bad armor: secret-age decodes all of it before anything else, the age crate as it
    ///   reads, so it may fail first for what it read before the damage (a header it
    ///   cannot parse, no matching key). Both must fail.
    /// - The age crate reads a stanza whose body does not end with a short line (the legacy
    ///   form; the test kit's `stanza_missing_body` and `stanza_missing_final_line`, both
    ///   `header failure`), as rage's own kit test notes; secret-age follows the kit.
    pub fn agrees_with_age(&self, age: &Self, file: &[u8]) -> bool {
        match self {
            _ if self == age => true,
            Self::ArmorFailure => !matches!(age, Self::Plaintext(_)),
            Self::HeaderFailure => has_legacy_stanza(file),
            _ => false,
        }
    }

    fn of_age_error(error: &age::DecryptError) -> Self {
        use age::DecryptError;
        match error {
            DecryptError::NoMatchingKeys => Self::NoMatch,
            DecryptError::InvalidMac => Self::HmacFailure,
            DecryptError::Io(error) if is_armor_error(error) => Self::ArmorFailure,
            DecryptError::InvalidHeader
            | DecryptError::UnknownFormat
            | DecryptError::ExcessiveWork { .. }
            | DecryptError::Io(_) => Self::HeaderFailure,
            other => panic!("age cannot fail with {other:?} on X25519 identities"),
        }
    }
}

/// `file` in age's ASCII armor: the begin line, padded base64 in 64-column lines, the end
/// line.
pub fn armor(file: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(file);
    let mut out = b"-----BEGIN AGE ENCRYPTED FILE-----\n".to_vec();
    for line in encoded.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END AGE ENCRYPTED FILE-----\n");
    out
}

/// Whether an I/O error of the age crate is its armor reader's.
fn is_armor_error(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<age::armor::ArmoredReadError>())
}

/// Whether the header of `file` (binary, or armored as the age crate reads armor) has a
/// stanza whose body is not ended by a line shorter than 64 columns: no body line before the
/// next stanza or the MAC line, or a full last line.
pub fn has_legacy_stanza(file: &[u8]) -> bool {
    use std::io::Read;
    let mut binary = Vec::new();
    if age::armor::ArmoredReader::new(file)
        .take(1 << 20)
        .read_to_end(&mut binary)
        .is_err()
    {
        return false;
    }
    let mut in_body = false;
    for line in binary.split(|&b| b == b'\n').skip(1) {
        let next_stanza = line.starts_with(b"-> ");
        let mac = line.starts_with(b"---");
        if (next_stanza || mac) && in_body {
            return true;
        }
        if mac {
            return false;
        }
        in_body = next_stanza || (in_body && line.len() == 64);
    }
    false
}
