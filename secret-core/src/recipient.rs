//! What an age recipient in `secrets.toml` must be: an age X25519 public key, `age1` followed
//! by the bech32 encoding of 32 bytes with a valid checksum.
//!
//! This is checked without the age crate (the `secret!` macro reads the configuration
//! without the `crypto` feature), so a typo or a truncated key is refused when the
//! configuration is read, before any prompt for a value.

/// The bech32 alphabet, in value order.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Checks that `text` is an age X25519 public key; the error says what is wrong with it.
pub fn check_recipient(text: &str) -> Result<(), &'static str> {
    if text.starts_with("ssh-") {
        return Err("SSH keys are not supported (age X25519 keys only)");
    }
    let Some(data) = text.strip_prefix("age1") else {
        return Err("an age public key starts with `age1`");
    };
    // 32 bytes are 52 five-bit groups, then 6 groups of checksum.
    if text.len() != 62 {
        return Err("an age public key is 62 characters long");
    }
    let mut values = Vec::with_capacity(data.len());
    for byte in data.bytes() {
        match CHARSET.iter().position(|&ch| ch == byte) {
            Some(value) => values.push(value as u8),
            None => return Err("it has a character that is not in an age public key"),
        }
    }
    let mut input: Vec<u8> = b"age".iter().map(|ch| ch >> 5).collect();
    input.push(0);
    input.extend(b"age".iter().map(|ch| ch & 31));
    input.extend(&values);
    if polymod(&input) != 1 {
        return Err("its checksum does not match (a typo or an incomplete copy)");
    }
    // 52 groups carry 260 bits; the last 4 are padding and must be zero.
    if values[51] & 0x0f != 0 {
        return Err("it does not encode a 32-byte key");
    }
    Ok(())
}

fn polymod(values: &[u8]) -> u32 {
    const GENERATOR: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut checksum: u32 = 1;
    for &value in values {
        let top = checksum >> 25;
        checksum = ((checksum & 0x01ff_ffff) << 5) ^ u32::from(value);
        for (bit, generator) in GENERATOR.iter().enumerate() {
            if (top >> bit) & 1 == 1 {
                checksum ^= generator;
            }
        }
    }
    checksum
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

    #[cfg(feature = "crypto")]
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
