//! X25519 identities and recipients, and their Bech32 strings.

use std::fmt;
use std::str::FromStr;

use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::{Zeroize, Zeroizing};

use crate::bech32;
use crate::error::KeyError;

const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "age-secret-key-";

/// An X25519 age identity: the secret key that decrypts files encrypted to its [`Recipient`].
///
/// Its string form is `AGE-SECRET-KEY-1...` (Bech32, uppercase as age writes it; parsing also
/// accepts all lowercase). `Debug` shows only the public recipient; the secret bytes are zeroed
/// when the identity is dropped.
#[derive(Clone)]
pub struct Identity {
    secret: Zeroizing<[u8; 32]>,
    /// `to_public()`, computed once: decryption needs it for every file.
    public: [u8; 32],
}

impl Identity {
    /// A new random identity, from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails.
    #[cfg(feature = "encrypt")]
    pub fn generate() -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        crate::random::fill_random(&mut secret[..]);
        Identity::with_secret(secret)
    }

    fn with_secret(secret: Zeroizing<[u8; 32]>) -> Self {
        let public = MontgomeryPoint::mul_base_clamped(*secret).to_bytes();
        Identity { secret, public }
    }

    /// The identity of these 32 secret bytes (an X25519 scalar, clamped when used).
    pub fn from_secret_bytes(secret: [u8; 32]) -> Self {
        let mut secret = secret;
        let identity = Identity::with_secret(Zeroizing::new(secret));
        secret.zeroize();
        identity
    }

    /// The raw 32 secret bytes, for example to derive a signing key from them. Keep them out of
    /// logs and error messages.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The public recipient that files for this identity are encrypted to.
    pub fn to_public(&self) -> Recipient {
        Recipient { point: self.public }
    }

    /// The `AGE-SECRET-KEY-1...` string, in a buffer zeroed when dropped.
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> Zeroizing<String> {
        // Room for the whole string up front, so no reallocation leaves a copy behind.
        let mut out = Zeroizing::new(String::with_capacity(128));
        bech32::encode_to(&mut out, IDENTITY_HRP, &self.secret[..], true);
        out
    }

    /// The X25519 shared secret with a peer's public point (all zero for a low-order point).
    #[cfg(feature = "decrypt")]
    pub(crate) fn diffie_hellman(&self, point: &[u8; 32]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(MontgomeryPoint(*point).mul_clamped(*self.secret).to_bytes())
    }
}

impl FromStr for Identity {
    type Err = KeyError;

    /// Parses `AGE-SECRET-KEY-1...` (all uppercase or all lowercase).
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = decode_key(s, IDENTITY_HRP)?;
        Ok(Identity::with_secret(bytes))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("recipient", &self.to_public().to_string())
            .finish_non_exhaustive()
    }
}

/// An X25519 age recipient: the public key files are encrypted to, `age1...` in Bech32.
///
/// Parsing rejects low-order points, so encrypting to a parsed recipient always yields a secret
/// only its identity can compute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Recipient {
    point: [u8; 32],
}

impl Recipient {
    /// The recipient of these 32 public bytes (an X25519 Montgomery u-coordinate).
    ///
    /// # Errors
    ///
    /// [`KeyError::LowOrderPoint`] when the point is of low order.
    pub fn from_bytes(point: [u8; 32]) -> Result<Self, KeyError> {
        // A clamped scalar is a multiple of the cofactor 8, so it sends every point of order
        // dividing 8 (and only those) to zero.
        let probe = MontgomeryPoint(point).mul_clamped([0x42; 32]);
        if probe.to_bytes() == [0u8; 32] {
            return Err(KeyError::LowOrderPoint);
        }
        Ok(Recipient { point })
    }

    /// The 32 public bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.point
    }
}

impl FromStr for Recipient {
    type Err = KeyError;

    /// Parses `age1...` (all lowercase or all uppercase).
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = decode_key(s, RECIPIENT_HRP)?;
        Recipient::from_bytes(*bytes)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bech32::encode(RECIPIENT_HRP, &self.point))
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

/// Decodes a Bech32 key of the given (lowercase) prefix into 32 bytes.
fn decode_key(s: &str, hrp: &'static str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let (found, data) = bech32::decode(s).map_err(|error| match error {
        bech32::Error::MixedCase => KeyError::MixedCase,
        bech32::Error::Checksum => KeyError::BadChecksum,
        _ => KeyError::NotBech32,
    })?;
    if found != hrp {
        return Err(KeyError::WrongPrefix {
            expected: hrp,
            found,
        });
    }
    let bytes: [u8; 32] = data
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::WrongLength { found: data.len() })?;
    Ok(Zeroizing::new(bytes))
}
