//! Signatures on stored values, made with the writer's age X25519 key: XEdDSA, the scheme
//! Signal specified for signing with a Montgomery (X25519) key and verifying against its
//! public key (<https://signal.org/docs/specifications/xeddsa/>).
//!
//! Why XEdDSA: people manage no new kind of key. A person's age identity already has a
//! public half everyone knows — the `age1...` recipient in `secrets.toml` — and XEdDSA makes
//! that same public key the verification key. A writer is named by its recipient string in
//! the store, in `[writers]`, in `git diff` and in `secret log`.
//!
//! The construction (one key pair, two uses) is the one Signal uses for its identity keys:
//! the X25519 private scalar `k` gives the Edwards point `E = kB`; the signing key is `a = k`
//! or `-k`, whichever makes the sign bit of `A = aB` zero, so the verifier can recover `A`
//! from the Montgomery `u` alone. Signing is Ed25519-style Schnorr over SHA-512 with a nonce
//! hashed from `a`, the message and 64 random bytes; verification is standard Ed25519
//! verification against `A` (`[s]B == R + [h]A`, `s` canonical).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

/// A signing key derived from an age X25519 identity. `Debug` shows only the public key.
#[cfg_attr(not(feature = "write"), allow(dead_code))]
pub(crate) struct SigningKey {
    scalar: Zeroizing<[u8; 32]>,
    public: [u8; 32],
    recipient: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The signing key of an age X25519 identity.
    pub(crate) fn from_identity(identity: &secret_age::Identity) -> Self {
        let recipient = identity.to_public().to_string();
        let mut clamped = Zeroizing::new(*identity.secret_bytes());
        clamped[0] &= 248;
        clamped[31] &= 127;
        clamped[31] |= 64;
        let k = Scalar::from_bytes_mod_order(*clamped);
        let point = EdwardsPoint::mul_base(&k);
        let compressed = point.compress();
        let (a, public) = if compressed.as_bytes()[31] & 0x80 != 0 {
            (-k, (-point).compress())
        } else {
            (k, compressed)
        };
        Self {
            scalar: Zeroizing::new(a.to_bytes()),
            public: public.to_bytes(),
            recipient,
        }
    }

    /// The age recipient (`age1...`) that verifies this key's signatures.
    pub(crate) fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The 64-byte signature of `message`.
    #[cfg(feature = "write")]
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        let a = Option::<Scalar>::from(Scalar::from_canonical_bytes(*self.scalar))
            .expect("the scalar is stored reduced");
        let mut random = Zeroizing::new([0u8; 64]);
        // Without randomness the nonce is still unique per (key, message): it is a hash of
        // the secret scalar and the message, as in Ed25519.
        let _ = getrandom::getrandom(&mut random[..]);
        let mut hash = Sha512::new();
        hash.update([0xFE]);
        hash.update([0xFF; 31]);
        hash.update(self.scalar.as_slice());
        hash.update(message);
        hash.update(random.as_slice());
        let r = Scalar::from_hash(hash);
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let h = challenge(&big_r, &self.public, message);
        let s = r + h * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }
}

fn challenge(big_r: &CompressedEdwardsY, public: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(big_r.as_bytes());
    hash.update(public);
    hash.update(message);
    Scalar::from_hash(hash)
}

/// Whether `signature` is a valid signature of `message` by the holder of the age identity
/// whose recipient is `recipient` (`age1...`). Any malformed input is simply invalid.
pub(crate) fn verify(recipient: &str, message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    let Some((public, public_bytes)) = verifying_key(recipient) else {
        return false;
    };
    let big_r = CompressedEdwardsY(signature[..32].try_into().expect("32 bytes"));
    let Some(big_r_point) = big_r.decompress() else {
        return false;
    };
    if big_r_point.compress() != big_r {
        return false;
    }
    let s_bytes: [u8; 32] = signature[32..].try_into().expect("32 bytes");
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let h = challenge(&big_r, &public_bytes, message);
    let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, &(-public), &s);
    check.compress() == big_r
}

/// The Edwards point `A` (and its encoding) a signature by `recipient` is checked against;
/// `None` for a recipient that is not a valid age key or whose point cannot verify anything.
///
/// Decoding a recipient costs a scalar multiplication (the low-order check of
/// [`secret_age::Recipient`]) and field inversions, and a store is usually signed by a few
/// writers: the result is kept per recipient string for the life of the process. Only public
/// data is kept, and the same checks decide the result.
fn verifying_key(recipient: &str) -> Option<(EdwardsPoint, [u8; 32])> {
    type Keys = HashMap<String, Option<(EdwardsPoint, [u8; 32])>>;
    static KEYS: OnceLock<Mutex<Keys>> = OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    if let Some(known) = keys
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .get(recipient)
    {
        return *known;
    }
    let decoded = decode_verifying_key(recipient);
    let mut keys = keys.lock().unwrap_or_else(|poison| poison.into_inner());
    // A few distinct writers per store; the bound only stops a hostile store from growing it.
    if keys.len() < 1024 {
        keys.insert(recipient.to_owned(), decoded);
    }
    decoded
}

fn decode_verifying_key(recipient: &str) -> Option<(EdwardsPoint, [u8; 32])> {
    let recipient = recipient.parse::<secret_age::Recipient>().ok()?;
    let u = *recipient.as_bytes();
    // u must be a canonical field element (< 2^255 - 19).
    if !is_canonical_field_element(&u) {
        return None;
    }
    let public = MontgomeryPoint(u).to_edwards(0)?;
    if public.is_small_order() {
        return None;
    }
    Some((public, public.compress().to_bytes()))
}

fn is_canonical_field_element(bytes: &[u8; 32]) -> bool {
    // 2^255 - 19 in little endian: ed ff .. ff 7f.
    if bytes[31] & 0x80 != 0 {
        return false;
    }
    if bytes[31] < 0x7f || bytes[1..31].iter().any(|&byte| byte != 0xff) {
        return true;
    }
    bytes[0] < 0xed
}

/// The lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;

    fn key() -> (SigningKey, String) {
        let identity = secret_age::Identity::generate();
        let key = SigningKey::from_identity(&identity);
        let recipient = key.recipient().to_owned();
        (key, recipient)
    }

    #[test]
    fn signatures_verify_with_the_age_recipient_only() {
        for _ in 0..32 {
            let (key, recipient) = key();
            let signature = key.sign(b"message");
            assert!(verify(&recipient, b"message", &signature));
            assert!(!verify(&recipient, b"messagE", &signature));
            let (_, other) = self::key();
            assert!(!verify(&other, b"message", &signature));
            let mut flipped = signature;
            flipped[40] ^= 1;
            assert!(!verify(&recipient, b"message", &flipped));
            flipped = signature;
            flipped[3] ^= 1;
            assert!(!verify(&recipient, b"message", &flipped));
            assert!(!verify(&recipient, b"message", &signature[..63]));
            assert!(!verify("age1notakey", b"message", &signature));
        }
    }

    #[test]
    fn the_public_key_is_the_recipients_edwards_form() {
        // The verifier's A (from the recipient's u with sign 0) equals the signer's A.
        for _ in 0..16 {
            let (key, recipient) = key();
            let u = *recipient
                .parse::<secret_age::Recipient>()
                .unwrap()
                .as_bytes();
            let a = MontgomeryPoint(u)
                .to_edwards(0)
                .unwrap()
                .compress()
                .to_bytes();
            assert_eq!(a, key.public);
        }
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        let (key, recipient) = key();
        let signature = key.sign(b"m");
        // s + l is the same scalar mod l but not canonical.
        // l = 2^252 + 27742317777372353535851937790883648493, little endian.
        let mut l = [0u8; 32];
        l[..16].copy_from_slice(&[
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14,
        ]);
        l[31] = 0x10;
        let mut s = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(signature[32 + i]) + u16::from(l[i]) + carry;
            s[i] = sum as u8;
            carry = sum >> 8;
        }
        let mut forged = signature;
        forged[32..].copy_from_slice(&s);
        assert!(!verify(&recipient, b"m", &forged));
    }
}
