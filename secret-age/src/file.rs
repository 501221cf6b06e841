//! Age files: encryption to X25519 recipients, the header MAC, decryption (whole or chunk
//! by chunk), and the HKDF-SHA-256 derivations of the format.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

#[cfg(feature = "encrypt")]
use curve25519_dalek::montgomery::MontgomeryPoint;

use crate::error::Error;
#[cfg(feature = "encrypt")]
use crate::format::Stanza;
use crate::format::{self, FILE_KEY_LEN, Header};
use crate::keys::Identity;
#[cfg(feature = "encrypt")]
use crate::keys::Recipient;
#[cfg(feature = "encrypt")]
use crate::random::fill_random;
#[cfg(feature = "scrypt")]
use crate::scrypt;
use crate::stream;

const X25519_TAG: &str = "X25519";
const X25519_INFO: &[u8] = b"age-encryption.org/v1/X25519";
const NONCE_LEN: usize = 16;

/// HKDF-SHA-256 (RFC 5869) with 32 bytes of output, the only length age uses. An empty salt
/// is HMAC's empty key, which equals the RFC's default of 32 zero bytes.
pub(crate) fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut okm[..])
        .expect("32 bytes is a valid HKDF-SHA-256 output length");
    okm
}

fn header_mac(file_key: &[u8; FILE_KEY_LEN]) -> Hmac<Sha256> {
    let key = hkdf(&[], file_key, b"header");
    <Hmac<Sha256> as Mac>::new_from_slice(&key[..]).expect("HMAC takes a key of any length")
}

#[cfg(feature = "encrypt")]
/// Wraps the file key for one recipient: a fresh ephemeral key, its share, and the wrapped key.
fn wrap(file_key: &[u8; FILE_KEY_LEN], recipient: &Recipient) -> Stanza {
    let mut ephemeral = Zeroizing::new([0u8; 32]);
    fill_random(&mut ephemeral[..]);
    let share = MontgomeryPoint::mul_base_clamped(*ephemeral).to_bytes();
    let shared = Zeroizing::new(
        MontgomeryPoint(*recipient.as_bytes())
            .mul_clamped(*ephemeral)
            .to_bytes(),
    );
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(&share);
    salt[32..].copy_from_slice(recipient.as_bytes());
    let wrap_key = hkdf(&salt, &shared[..], X25519_INFO);
    let body = ChaCha20Poly1305::new(Key::from_slice(&wrap_key[..]))
        .encrypt(&Nonce::default(), &file_key[..])
        .expect("ChaCha20-Poly1305 encrypts 16 bytes");
    Stanza {
        tag: X25519_TAG.to_owned(),
        args: vec![STANDARD_NO_PAD.encode(share)],
        body,
    }
}

/// Encrypts `plaintext` to every recipient, as a binary age file.
///
/// # Errors
///
/// [`Error::NoRecipients`] for an empty list.
///
/// # Panics
///
/// If the operating system's random number generator fails.
#[cfg(feature = "encrypt")]
pub fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }
    let mut file_key = Zeroizing::new([0u8; FILE_KEY_LEN]);
    fill_random(&mut file_key[..]);
    let stanzas: Vec<Stanza> = recipients.iter().map(|r| wrap(&file_key, r)).collect();
    let mut out = format::write_header(&stanzas, |bytes| {
        let mut mac = header_mac(&file_key);
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    });
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce);
    out.extend_from_slice(&nonce);
    let payload_key = hkdf(&nonce, &file_key[..], b"payload");
    stream::seal(&payload_key, plaintext, &mut out);
    Ok(out)
}

/// Encrypts `plaintext` to every recipient, in the ASCII armor age writes: a
/// `-----BEGIN AGE ENCRYPTED FILE-----` line, 64-column lines of padded base64, and a
/// `-----END AGE ENCRYPTED FILE-----` line, each ending in `\n`.
///
/// # Errors
///
/// [`Error::NoRecipients`] for an empty list.
///
/// # Panics
///
/// If the operating system's random number generator fails.
#[cfg(feature = "encrypt")]
pub fn encrypt_armored(recipients: &[Recipient], plaintext: &[u8]) -> Result<String, Error> {
    Ok(format::armor(&encrypt(recipients, plaintext)?))
}

/// Decrypts an age file, binary or armored, with the first identity that matches one of its
/// X25519 stanzas. The whole payload must authenticate: nothing is returned otherwise.
///
/// The answer is age's and rage's on every input: each identity in turn tries the X25519
/// stanzas in header order, and the first stanza that opens gives the file key, while the
/// first that is malformed or has a low-order share ends the search with a header error.
///
/// # Errors
///
/// Every [`Error`] but [`Error::NoRecipients`]; the message never includes plaintext.
pub fn decrypt(identities: &[Identity], input: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    collect(Decryptor::new(identities, input)?)
}

/// The whole plaintext, or the first error.
fn collect(mut decryptor: Decryptor<'_>) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut plaintext = Zeroizing::new(Vec::with_capacity(decryptor.payload_len()));
    for chunk in &mut decryptor {
        plaintext.extend_from_slice(&chunk?);
    }
    Ok(plaintext)
}

/// Decrypts a passphrase-encrypted age file (a single `scrypt` stanza), binary or armored.
///
/// # Errors
///
/// As [`decrypt`]; [`Error::NoMatchingKeys`] for a wrong passphrase.
#[cfg(feature = "scrypt")]
pub fn decrypt_with_passphrase(
    passphrase: &str,
    input: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    collect(Decryptor::with_passphrase(passphrase, input)?)
}

/// Decrypts an age file chunk by chunk: each item is the plaintext of one 64 KiB chunk once it
/// is authenticated, and the iteration ends after the final chunk or the first error.
///
/// A chunk released before an error is authentic, but the file as a whole is not: use
/// [`decrypt`] unless you must see how far a damaged file decrypts.
pub struct Decryptor<'a> {
    header: Header,
    binary: Cow<'a, [u8]>,
    /// Where the next chunk starts in `binary`.
    pos: usize,
    opener: stream::Opener,
}

impl<'a> Decryptor<'a> {
    /// Parses the header, unwraps the file key with the first matching identity, checks the
    /// header MAC and reads the payload nonce.
    ///
    /// # Errors
    ///
    /// [`Error::BadArmor`], [`Error::UnsupportedVersion`], [`Error::MalformedHeader`],
    /// [`Error::NoMatchingKeys`] or [`Error::BadHeaderMac`].
    pub fn new(identities: &[Identity], input: &'a [u8]) -> Result<Self, Error> {
        Self::with_unwrap(input, |header| unwrap_file_key(identities, header))
    }

    /// Like [`Decryptor::new`], for a passphrase-encrypted file (a single `scrypt` stanza,
    /// work factor at most 2^22, as age allows by default).
    ///
    /// # Errors
    ///
    /// As [`Decryptor::new`]; [`Error::NoMatchingKeys`] for a wrong passphrase.
    #[cfg(feature = "scrypt")]
    pub fn with_passphrase(passphrase: &str, input: &'a [u8]) -> Result<Self, Error> {
        Self::with_unwrap(input, |header| scrypt::unwrap_file_key(passphrase, header))
    }

    fn with_unwrap(
        input: &'a [u8],
        unwrap: impl FnOnce(&Header) -> Result<Zeroizing<[u8; FILE_KEY_LEN]>, Error>,
    ) -> Result<Self, Error> {
        // In age's order: the header, the payload nonce, the header's rules, the file key,
        // the MAC (so that each file gets age's answer, whatever is wrong with it).
        let binary = format::binary(input)?;
        let header = format::parse_binary_header(&binary)?;
        let nonce = binary
            .get(header.payload_start..header.payload_start + NONCE_LEN)
            .ok_or_else(|| Error::header("the payload nonce is missing: the file is truncated"))?;
        if header.count("scrypt") > 0 && header.stanzas.len() > 1 {
            return Err(Error::header(
                "a passphrase (scrypt) stanza must be the only stanza of the file",
            ));
        }
        let file_key = unwrap(&header)?;
        let mut mac = header_mac(&file_key);
        mac.update(&binary[..header.mac_input_len]);
        mac.verify_slice(&header.mac)
            .map_err(|_| Error::BadHeaderMac)?;
        let payload_key = hkdf(nonce, &file_key[..], b"payload");
        let pos = header.payload_start + NONCE_LEN;
        Ok(Decryptor {
            header,
            binary,
            pos,
            opener: stream::Opener::new(&payload_key),
        })
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// An upper bound of the plaintext length.
    fn payload_len(&self) -> usize {
        self.binary.len().saturating_sub(self.pos)
    }
}

impl Iterator for Decryptor<'_> {
    type Item = Result<Zeroizing<Vec<u8>>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut consumed = 0;
        let item = self.opener.next(&self.binary[self.pos..], &mut consumed);
        self.pos += consumed;
        item
    }
}

impl fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("header", &self.header)
            .field("position", &self.pos)
            .finish_non_exhaustive()
    }
}

/// The file key from the first X25519 stanza one of the identities opens, searched as age
/// and rage search: identity by identity, and for each the stanzas in header order.
///
/// A stanza of another type is skipped. An X25519 stanza that is malformed (argument count,
/// share or body length, non-canonical base64) or whose share is a low-order point ends the
/// search with a header error when it is reached, as one that opens ends it with the file
/// key; a stanza after either is never looked at. Both conditions are the same for every
/// identity (an X25519 result is all zero exactly for the low-order points, whatever the
/// clamped secret), so only the first identity ever meets them.
fn unwrap_file_key(
    identities: &[Identity],
    header: &Header,
) -> Result<Zeroizing<[u8; FILE_KEY_LEN]>, Error> {
    for identity in identities {
        let ours = identity.to_public();
        for (index, stanza) in header.stanzas.iter().enumerate() {
            if stanza.tag != X25519_TAG {
                continue;
            }
            let (share, body) = x25519_stanza(index + 1, stanza)?;
            let shared = identity.diffie_hellman(&share);
            if bool::from(shared.ct_eq(&[0u8; 32])) {
                return Err(Error::header(format!(
                    "X25519 stanza {}: the share is a low-order point",
                    index + 1
                )));
            }
            let mut salt = [0u8; 64];
            salt[..32].copy_from_slice(&share);
            salt[32..].copy_from_slice(ours.as_bytes());
            let wrap_key = hkdf(&salt, &shared[..], X25519_INFO);
            let cipher = ChaCha20Poly1305::new(Key::from_slice(&wrap_key[..]));
            if let Ok(file_key) = cipher.decrypt(&Nonce::default(), body) {
                let file_key = Zeroizing::new(file_key);
                let mut key = Zeroizing::new([0u8; FILE_KEY_LEN]);
                key.copy_from_slice(&file_key);
                return Ok(key);
            }
        }
    }
    Err(Error::NoMatchingKeys)
}

/// The share and body of X25519 stanza number `which` (1-based), or the header error its
/// form is.
fn x25519_stanza(which: usize, stanza: &format::Stanza) -> Result<([u8; 32], &[u8]), Error> {
    let [share] = stanza.args.as_slice() else {
        return Err(Error::header(format!(
            "X25519 stanza {which} has {} arguments instead of 1",
            stanza.args.len()
        )));
    };
    let share: [u8; 32] = STANDARD_NO_PAD
        .decode(share)
        .ok()
        .and_then(|share| share.try_into().ok())
        .ok_or_else(|| {
            Error::header(format!(
                "X25519 stanza {which}: the share is not 32 bytes of canonical base64"
            ))
        })?;
    if stanza.body.len() != FILE_KEY_LEN + 16 {
        return Err(Error::header(format!(
            "X25519 stanza {which}: the body is {} bytes instead of 32",
            stanza.body.len()
        )));
    }
    Ok((share, stanza.body.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// RFC 5869, appendix A.1 (test case 1, SHA-256): the first 32 bytes of the 42-byte OKM.
    #[test]
    fn hkdf_rfc5869_test_case_1() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        assert_eq!(
            hex(&hkdf(&salt, &ikm, &info)[..]),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    /// RFC 5869, appendix A.3 (test case 3): no salt, which age's header key uses.
    #[test]
    fn hkdf_rfc5869_test_case_3_empty_salt() {
        assert_eq!(
            hex(&hkdf(&[], &[0x0b; 22], &[])[..]),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        );
    }
}
