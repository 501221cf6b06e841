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
//! hashed from `a`, the message and 64 random bytes; verification is Ed25519 verification
//! against `A` with the cofactor, as Zcash's ZIP 215 does: `[8]([s]B - R - [h]A)` is the
//! identity, with `R` and `s` in canonical form. The cofactor makes one check and a batch
//! check ([`verify_batch`]) accept exactly the same signatures. docs/SECURITY.md states the
//! rule, what it accepts and why that is safe, and why the batch weights are sound.
//!
//! Secret values are handled with care: the sign of `E` (one bit of the secret key) picks
//! `a` and `A` by constant-time selection, the scalar, the nonce and the random bytes are
//! wiped when dropped, and signing without the operating system's random number generator
//! fails instead of falling back to a nonce without randomness.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha512};
use subtle::{Choice, ConditionallyNegatable};
use zeroize::Zeroizing;

/// A signing key derived from an age X25519 identity. `Debug` shows only the public key.
#[cfg_attr(not(feature = "write"), allow(dead_code))]
pub(crate) struct SigningKey {
    /// `a`, reduced: `k` or `-k`, whichever gives `A = aB` a zero sign bit.
    scalar: Zeroizing<Scalar>,
    /// The encoding of `A`.
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

/// Signing needs 64 random bytes from the operating system, and it could not provide them:
/// no signature was made.
#[cfg(feature = "write")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoRandomness(getrandom::Error);

#[cfg(feature = "write")]
impl std::fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the operating system's random number generator failed ({}): no signature was made",
            self.0
        )
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
        let mut scalar = Zeroizing::new(Scalar::from_bytes_mod_order(*clamped));
        let mut point = EdwardsPoint::mul_base(&scalar);
        // The sign of kB is a bit of the secret key (the recipient gives only u): both
        // negations are selected in constant time, never branched on.
        let negative = Choice::from(point.compress().as_bytes()[31] >> 7);
        scalar.conditional_negate(negative);
        point.conditional_negate(negative);
        Self {
            scalar,
            public: point.compress().to_bytes(),
            recipient,
        }
    }

    /// The age recipient (`age1...`) that verifies this key's signatures.
    pub(crate) fn recipient(&self) -> &str {
        &self.recipient
    }

    /// The 64-byte signature of `message`.
    ///
    /// # Errors
    ///
    /// [`NoRandomness`] when the operating system's random number generator fails: the
    /// nonce is never made without its 64 random bytes.
    #[cfg(feature = "write")]
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], NoRandomness> {
        self.sign_with(message, getrandom::getrandom)
    }

    /// [`SigningKey::sign`] with `fill` as the source of the nonce's random bytes.
    #[cfg(feature = "write")]
    fn sign_with(
        &self,
        message: &[u8],
        fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
    ) -> Result<[u8; 64], NoRandomness> {
        let mut random = Zeroizing::new([0u8; 64]);
        fill(&mut random[..]).map_err(NoRandomness)?;
        // XEdDSA's nonce: r = SHA-512(0xFE || 0xFF * 31 || a || message || random) mod l.
        let mut hash = Sha512::new();
        hash.update([0xFE]);
        hash.update([0xFF; 31]);
        hash.update(self.scalar.as_bytes());
        hash.update(message);
        hash.update(&random[..]);
        let mut wide = Zeroizing::new([0u8; 64]);
        hash.finalize_into_reset(sha2::digest::generic_array::GenericArray::from_mut_slice(
            &mut wide[..],
        ));
        wipe(&mut hash);
        let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let h = challenge(&big_r, &self.public, message);
        let h_a = Zeroizing::new(h * *self.scalar);
        let s = *r + *h_a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        Ok(signature)
    }
}

/// Overwrites what a SHA-512 state that hashed a secret may still hold of it (`sha2` has no
/// `zeroize`): after `finalize_into_reset` its state is the initial one and its buffer is
/// empty, and 127 zero bytes (less than a block, so they stay in the buffer) replace the
/// stale input bytes the buffer kept.
#[cfg(feature = "write")]
fn wipe(hash: &mut Sha512) {
    hash.update([0u8; 127]);
    std::hint::black_box(hash);
}

fn challenge(big_r: &CompressedEdwardsY, public: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(big_r.as_bytes());
    hash.update(public);
    hash.update(message);
    Scalar::from_hash(hash)
}

/// A signature taken apart for checking: the writer's point `A` and its encoding, `R`, `s`
/// and the challenge `h`. Both checks, alone and in a batch, start here.
struct Parts {
    public: EdwardsPoint,
    public_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    h: Scalar,
}

impl Parts {
    /// `None` for anything malformed: not 64 bytes, a recipient that is not a usable key, an
    /// `R` that is not the canonical encoding of a point, an `s` that is not canonical.
    fn of(recipient: &str, message: &[u8], signature: &[u8]) -> Option<Self> {
        let signature = <[u8; 64]>::try_from(signature).ok()?;
        let (public, public_bytes) = verifying_key(recipient)?;
        let r_bytes: [u8; 32] = signature[..32].try_into().expect("32 bytes");
        if !is_canonical_point_encoding(&r_bytes) {
            return None;
        }
        let big_r = CompressedEdwardsY(r_bytes);
        let r = big_r.decompress()?;
        let s_bytes: [u8; 32] = signature[32..].try_into().expect("32 bytes");
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
        let h = challenge(&big_r, &public_bytes, message);
        Some(Self {
            public,
            public_bytes,
            r,
            s,
            h,
        })
    }
}

/// Whether `signature` is a valid signature of `message` by the holder of the age identity
/// whose recipient is `recipient` (`age1...`). Any malformed input is simply invalid.
pub(crate) fn verify(recipient: &str, message: &[u8], signature: &[u8]) -> bool {
    if verified().contains(recipient, message, signature) {
        return true;
    }
    let Some(parts) = Parts::of(recipient, message, signature) else {
        return false;
    };
    let check =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&parts.h, &(-parts.public), &parts.s)
            - parts.r;
    check.mul_by_cofactor().is_identity()
}

/// Checks many signatures in one multi-scalar multiplication and, when every one is valid,
/// remembers them for this process, so that [`verify`] of each then costs a hash instead of a
/// double scalar multiplication (about a third of the cost). Returns whether all were valid;
/// when not, nothing is remembered and [`verify`] checks each one alone, so the result of
/// every later [`verify`] is what it would have been.
///
/// The batch equation is [`verify`]'s, weighted and summed (as in ed25519-zebra): for
/// weights `z_i`, `[8]([-sum z_i s_i]B + sum z_i R_i + sum z_i h_i A_i)` must be the
/// identity. A set of signatures `verify` accepts satisfies it for any weights. The weights
/// are odd 128-bit numbers drawn from SHA-512 of every input (each recipient, message and
/// signature, length-prefixed) and the signature's index, as ed25519-dalek draws its batch
/// weights: whoever writes the signatures fixes the weights only by choosing the whole set,
/// and a set holding a signature `verify` refuses passes with probability at most 2^-127 per
/// set tried (docs/SECURITY.md, "Signatures"). `R` and `s` must be canonical, as for
/// `verify`.
pub(crate) fn verify_batch(items: &[(&str, &[u8], &[u8])]) -> bool {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::traits::VartimeMultiscalarMul;

    if items.is_empty() {
        return true;
    }
    let mut transcript = Sha512::new();
    transcript.update(b"secret-core signature batch v2");
    for (recipient, message, signature) in items {
        for part in [recipient.as_bytes(), message, signature] {
            transcript.update((part.len() as u64).to_le_bytes());
            transcript.update(part);
        }
    }
    let seed = transcript.finalize();

    let mut scalars = Vec::with_capacity(items.len() + 2);
    let mut points = Vec::with_capacity(items.len() + 2);
    let mut base = Scalar::ZERO;
    let mut writers: Vec<([u8; 32], EdwardsPoint, Scalar)> = Vec::new();
    for (index, (recipient, message, signature)) in items.iter().enumerate() {
        let Some(Parts {
            public,
            public_bytes,
            r: r_point,
            s,
            h,
        }) = Parts::of(recipient, message, signature)
        else {
            return false;
        };
        let mut weight = Sha512::new();
        weight.update(seed);
        weight.update((index as u64).to_le_bytes());
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(&weight.finalize()[..16]);
        z_bytes[0] |= 1; // never zero
        let z = Scalar::from_bytes_mod_order(z_bytes);
        base -= z * s;
        scalars.push(z);
        points.push(r_point);
        match writers
            .iter_mut()
            .find(|(bytes, ..)| *bytes == public_bytes)
        {
            Some((_, _, sum)) => *sum += z * h,
            None => writers.push((public_bytes, public, z * h)),
        }
    }
    scalars.push(base);
    points.push(ED25519_BASEPOINT_POINT);
    for (_, public, sum) in &writers {
        scalars.push(*sum);
        points.push(*public);
    }
    let valid = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
        .mul_by_cofactor()
        .is_identity();
    if valid {
        let mut known = verified();
        for (recipient, message, signature) in items {
            known.insert(recipient, message, signature);
        }
    }
    valid
}

/// Signatures checked by [`verify_batch`] in this process, by a SHA-256 of everything
/// [`verify`] is given. Bounded: past the bound, signatures are simply checked again.
struct Verified(std::collections::HashSet<[u8; 32]>);

impl Verified {
    const BOUND: usize = 1 << 16;

    fn key(recipient: &str, message: &[u8], signature: &[u8]) -> [u8; 32] {
        let mut hash = sha2::Sha256::new();
        for part in [recipient.as_bytes(), message, signature] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.finalize().into()
    }

    fn contains(&self, recipient: &str, message: &[u8], signature: &[u8]) -> bool {
        !self.0.is_empty() && self.0.contains(&Self::key(recipient, message, signature))
    }

    fn insert(&mut self, recipient: &str, message: &[u8], signature: &[u8]) {
        if self.0.len() < Self::BOUND {
            self.0.insert(Self::key(recipient, message, signature));
        }
    }
}

fn verified() -> std::sync::MutexGuard<'static, Verified> {
    static VERIFIED: OnceLock<Mutex<Verified>> = OnceLock::new();
    VERIFIED
        .get_or_init(|| Mutex::new(Verified(Default::default())))
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
}

/// Whether `bytes` is the canonical encoding of an Edwards point's `y` and sign: `y` below
/// 2^255 - 19, and no sign bit on `x = 0` (y = 1 or y = -1).
fn is_canonical_point_encoding(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    if !is_canonical_field_element(&y) {
        return false;
    }
    if bytes[31] & 0x80 == 0 {
        return true;
    }
    let one = {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    };
    let minus_one = {
        let mut p_minus_one = [0xffu8; 32];
        p_minus_one[0] = 0xec;
        p_minus_one[31] = 0x7f;
        p_minus_one
    };
    y != one && y != minus_one
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

    /// Known answers pin the signature format: two fixed secret keys (the sign bit of `kB` is
    /// 1 for the first, 0 for the second) with fixed nonce randomness give these signatures
    /// byte for byte. A change to how `a`, `A`, the nonce or the challenge is computed
    /// changes them.
    #[test]
    fn signatures_are_byte_for_byte_the_known_answers() {
        let random: [u8; 64] = std::array::from_fn(|i| i as u8);
        for (identity, sign_bit, expected) in [
            (
                // The age test kit's X25519 identity.
                [
                    0xca, 0x16, 0x26, 0x25, 0x2c, 0x53, 0xcf, 0x1a, 0x4d, 0xc4, 0x66, 0x95, 0xe7,
                    0xfc, 0xc4, 0x65, 0x94, 0xcb, 0x4c, 0xca, 0xde, 0xdb, 0x67, 0x12, 0xdf, 0xda,
                    0x07, 0x53, 0xf3, 0xae, 0x35, 0x5e,
                ],
                1,
                "77f8177a53c244169c65df3bfb1272ed9a83c449b7bf5a06e7a677f753d746d0\
                 ea33ec7c48318c27d60397d1d5e2449c945c4ca733f1e7d1da44b70888fe7800",
            ),
            (
                [0x42; 32],
                0,
                "8162af4948c5df28d0fe5c54b1c9ffbdff12a6c556028ca1508ded9e910a3f21\
                 a77abe2b4af77470f463800e8ea9f3fdbadf8d8e25aded58db685d5360b3640d",
            ),
        ] {
            let identity = secret_age::Identity::from_secret_bytes(identity);
            let mut clamped = *identity.secret_bytes();
            clamped[0] &= 248;
            clamped[31] &= 127;
            clamped[31] |= 64;
            let e = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(clamped)).compress();
            assert_eq!(e.as_bytes()[31] >> 7, sign_bit);
            let key = SigningKey::from_identity(&identity);
            let signature = key
                .sign_with(b"a message to sign", |bytes| {
                    bytes.copy_from_slice(&random);
                    Ok(())
                })
                .unwrap();
            let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, expected);
            assert!(verify(key.recipient(), b"a message to sign", &signature));
        }
    }

    /// Regression: signing used to ignore a failing random number generator and make the
    /// nonce from the key and the message alone; now it fails and returns no signature.
    #[test]
    fn signing_without_randomness_fails_and_makes_no_signature() {
        let (key, _) = key();
        let result = key.sign_with(b"message", |_| Err(getrandom::Error::UNSUPPORTED));
        assert_eq!(result, Err(NoRandomness(getrandom::Error::UNSUPPORTED)));
        assert!(
            result
                .unwrap_err()
                .to_string()
                .starts_with("the operating system's random number generator failed (")
        );
    }

    #[test]
    fn signatures_verify_with_the_age_recipient_only() {
        for _ in 0..32 {
            let (key, recipient) = key();
            let signature = key.sign(b"message").unwrap();
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
            // An R that is not a point, and the non-canonical encodings of a point (here the
            // identity's y = 1 written as 1 + p, sign bit set), are never accepted.
            let mut bad_r = signature;
            bad_r[..32].copy_from_slice(&[0xff; 32]);
            assert!(!verify(&recipient, b"message", &bad_r));
            bad_r[..32].copy_from_slice(&[
                0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff,
            ]);
            assert!(!verify(&recipient, b"message", &bad_r));
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

    /// A signature by `key` whose `R` carries the order-2 point: only the key's holder can
    /// make one (`s = r + h a`). It fails the check without the cofactor and passes with it.
    fn signature_with_torsion(key: &SigningKey, message: &[u8]) -> [u8; 64] {
        let mut order_two = [0xffu8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f; // y = -1, x = 0
        let torsion = CompressedEdwardsY(order_two).decompress().unwrap();
        assert!(torsion.is_small_order() && !torsion.is_identity());
        let r = Scalar::from_bytes_mod_order([5; 32]);
        let big_r = (EdwardsPoint::mul_base(&r) + torsion).compress();
        let s = r + challenge(&big_r, &key.public, message) * *key.scalar;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }

    #[test]
    fn one_check_and_a_batch_accept_the_same_signatures() {
        let (key, recipient) = key();
        let (other_key, other) = self::key();
        let messages: Vec<Vec<u8>> = (0..6).map(|i| format!("value {i}").into_bytes()).collect();
        let mut signatures: Vec<(String, [u8; 64])> = messages
            .iter()
            .enumerate()
            .map(|(i, message)| {
                if i % 2 == 0 {
                    (recipient.clone(), key.sign(message).unwrap())
                } else {
                    (other.clone(), other_key.sign(message).unwrap())
                }
            })
            .collect();
        let items = |signatures: &[(String, [u8; 64])]| -> Vec<(String, Vec<u8>, [u8; 64])> {
            signatures
                .iter()
                .zip(&messages)
                .map(|((writer, signature), message)| (writer.clone(), message.clone(), *signature))
                .collect()
        };
        let batch = |items: &[(String, Vec<u8>, [u8; 64])]| {
            let refs: Vec<(&str, &[u8], &[u8])> = items
                .iter()
                .map(|(w, m, s)| (w.as_str(), m.as_slice(), s.as_slice()))
                .collect();
            verify_batch(&refs)
        };
        assert!(batch(&items(&signatures)));

        // One signature of the set forged in each way: the batch fails, and each signature
        // is then judged alone, as if there had been no batch.
        let forged_variants: [fn(&mut [u8; 64]); 3] = [
            |signature| signature[40] ^= 1,                           // s changed
            |signature| signature[5] ^= 1,                            // R changed
            |signature| signature[..32].copy_from_slice(&[0xff; 32]), // R not a point
        ];
        for forge in forged_variants {
            let mut forged = signatures.clone();
            forge(&mut forged[3].1);
            let set = items(&forged);
            assert!(!batch(&set));
            for (i, (writer, message, signature)) in set.iter().enumerate() {
                assert_eq!(verify(writer, message, signature), i != 3, "signature {i}");
            }
        }
        // A signature under another writer's name.
        let mut swapped = signatures.clone();
        swapped[2].0 = other.clone();
        assert!(!batch(&items(&swapped)));
        assert!(!verify(&other, &messages[2], &swapped[2].1));

        // The key holder's torsion-carrying signature: accepted alone and in a batch alike.
        signatures[4].1 = signature_with_torsion(&key, &messages[4]);
        assert!(verify(&recipient, &messages[4], &signatures[4].1));
        assert!(batch(&items(&signatures)));
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        let (key, recipient) = key();
        let signature = key.sign(b"m").unwrap();
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
