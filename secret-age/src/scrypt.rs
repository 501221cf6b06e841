//! Passphrase stanzas: `-> scrypt <salt> <log2 of the work factor>`, the file key wrapped with
//! a key derived by scrypt (r = 8, p = 1) from the passphrase.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use zeroize::Zeroizing;

use crate::Error;
use crate::format::{FILE_KEY_LEN, Header};

const TAG: &str = "scrypt";
const SALT_LABEL: &[u8] = b"age-encryption.org/v1/scrypt";
const SALT_LEN: usize = 16;
/// The largest work factor accepted (2^22, about a second), as age does by default: a file
/// cannot make the reader spend minutes and gigabytes.
const MAX_LOG_N: u8 = 22;

/// The file key from the file's single scrypt stanza.
pub(crate) fn unwrap_file_key(
    passphrase: &str,
    header: &Header,
) -> Result<Zeroizing<[u8; FILE_KEY_LEN]>, Error> {
    // Decryptor checks that a scrypt stanza is the only one.
    let [stanza] = header.stanzas.as_slice() else {
        return Err(Error::NoMatchingKeys);
    };
    if stanza.tag != TAG {
        return Err(Error::NoMatchingKeys);
    }
    let [salt, log_n] = stanza.args.as_slice() else {
        return Err(Error::header(format!(
            "the scrypt stanza has {} arguments instead of 2",
            stanza.args.len()
        )));
    };
    let salt: [u8; SALT_LEN] = STANDARD_NO_PAD
        .decode(salt)
        .ok()
        .and_then(|salt| salt.try_into().ok())
        .ok_or_else(|| {
            Error::header("the scrypt salt is not 16 bytes of canonical unpadded base64")
        })?;
    // Decimal digits, no sign, no leading zero; a value above the bound (one too long for a
    // u32 included) is refused before scrypt runs.
    if !matches!(log_n.as_bytes(), [b'1'..=b'9', rest @ ..] if rest.iter().all(u8::is_ascii_digit))
    {
        return Err(Error::header(
            "the scrypt work factor is not a decimal number without leading zeros",
        ));
    }
    let log_n = match log_n.parse::<u32>() {
        Ok(n) if n <= u32::from(MAX_LOG_N) => n as u8,
        _ => {
            let shown = if log_n.len() <= 10 {
                log_n.clone()
            } else {
                format!("{}... ({} digits)", &log_n[..10], log_n.len())
            };
            return Err(Error::header(format!(
                "the scrypt work factor 2^{shown} exceeds 2^{MAX_LOG_N}"
            )));
        }
    };
    if stanza.body.len() != FILE_KEY_LEN + 16 {
        return Err(Error::header(format!(
            "the scrypt stanza's body is {} bytes instead of 32",
            stanza.body.len()
        )));
    }
    let mut full_salt = [0u8; SALT_LABEL.len() + SALT_LEN];
    full_salt[..SALT_LABEL.len()].copy_from_slice(SALT_LABEL);
    full_salt[SALT_LABEL.len()..].copy_from_slice(&salt);
    let params = scrypt::Params::new(log_n, 8, 1, 32).expect("valid scrypt parameters");
    let mut wrap_key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(
        passphrase.as_bytes(),
        &full_salt,
        &params,
        &mut wrap_key[..],
    )
    .expect("32 bytes is a valid scrypt output length");
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&wrap_key[..]));
    let file_key = cipher
        .decrypt(&Nonce::default(), stanza.body.as_slice())
        .map_err(|_| Error::NoMatchingKeys)?;
    let file_key = Zeroizing::new(file_key);
    let mut key = Zeroizing::new([0u8; FILE_KEY_LEN]);
    key.copy_from_slice(&file_key);
    Ok(key)
}
