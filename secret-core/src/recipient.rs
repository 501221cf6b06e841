//! What an age recipient in `secrets.toml` must be: an age X25519 public key, `age1` followed
//! by the bech32 encoding of 32 bytes with a valid checksum.
//!
//! This is checked with secret-age's Bech32 codec alone (no cryptography: the `secret!`
//! macro reads the configuration without the `crypto` feature), so a typo or a truncated
//! key is refused when the configuration is read, before any prompt for a value.

use secret_age::bech32;

/// Checks that `text` is an age X25519 public key; the error says what is wrong with it.
pub(crate) fn check_recipient(text: &str) -> Result<(), &'static str> {
    if text.starts_with("ssh-") {
        return Err("SSH keys are not supported (age X25519 keys only)");
    }
    if !text.starts_with("age1") {
        return Err("an age public key starts with `age1`");
    }
    // 32 bytes are 52 five-bit groups, then 6 groups of checksum.
    if text.len() != 62 {
        return Err("an age public key is 62 characters long");
    }
    // age writes recipients in lowercase; the codec would also take all uppercase.
    let not_in_alphabet = "it has a character that is not in an age public key";
    if text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return Err(not_in_alphabet);
    }
    match bech32::decode(text) {
        Ok((prefix, data)) if prefix == "age" && data.len() == 32 => Ok(()),
        Err(bech32::Error::Checksum) => {
            Err("its checksum does not match (a typo or an incomplete copy)")
        }
        // 52 groups carry 260 bits; the last 4 are padding and must be zero.
        Err(bech32::Error::Padding) => Err("it does not encode a 32-byte key"),
        _ => Err(not_in_alphabet),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_truncations_are_refused() {
        // From the age specification's examples.
        let key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        assert_eq!(check_recipient(key), Ok(()));
        assert!(check_recipient(&key.replace("ql3z", "ql3x")).is_err());
        assert!(check_recipient(&key[..61]).is_err());
        assert!(check_recipient("age1notakey").is_err());
        assert!(check_recipient(&key.to_uppercase()).is_err());
        assert!(check_recipient("ssh-ed25519 AAAA").is_err());
    }

    #[cfg(feature = "write")]
    #[test]
    fn generated_keys_pass_and_every_one_character_change_fails() {
        for _ in 0..20 {
            let (identity, _) = crate::identity::generate_identity();
            let public = identity.to_public().to_string();
            assert_eq!(check_recipient(&public), Ok(()), "{public}");
            for at in 4..public.len() {
                let mut bytes = public.clone().into_bytes();
                bytes[at] = if bytes[at] == b'q' { b'p' } else { b'q' };
                let changed = String::from_utf8(bytes).unwrap();
                assert!(check_recipient(&changed).is_err(), "{changed}");
            }
        }
    }
}
