//! Bech32 ([BIP 173](https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki)), the
//! text form of age keys: a human-readable prefix, the separator `1`, the data in 5-bit
//! groups, and a 6-character checksum.
//!
//! The rules are age's: a string is all lowercase or all uppercase (`AGE-SECRET-KEY-1...` is
//! written uppercase, `age1...` lowercase); the data are bytes, regrouped in 5-bit groups with
//! at most 4 bits of zero padding; and there is no 90-character limit (age's own Bech32 has
//! none: plugin identities are longer). Only the Bech32 checksum constant (1) is accepted, not
//! Bech32m.
//!
//! It needs no feature and no dependency beyond `zeroize`, so code that only checks a key's
//! text (secret-core reading `secrets.toml`) uses it without any cryptography.
//!
//! ```
//! let text = secret_age::bech32::encode("age", &[7; 32]);
//! let (prefix, data) = secret_age::bech32::decode(&text).unwrap();
//! assert_eq!((prefix.as_str(), data.as_slice()), ("age", &[7u8; 32][..]));
//! ```

use std::fmt;

use zeroize::Zeroizing;

/// The Bech32 alphabet, in value order.
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u32; 5] = [
    0x3b6a_57b2,
    0x2650_8e6d,
    0x1ea1_19fa,
    0x3d42_33dd,
    0x2a14_62b3,
];
const CHECKSUM_LEN: usize = 6;

/// Why a string is not valid Bech32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The string mixes upper and lower case.
    MixedCase,
    /// No separator, an empty prefix, a prefix character outside `!`..`~`, a data character
    /// outside the alphabet, or fewer than 6 characters after the separator.
    Malformed,
    /// The checksum does not match: a character was mistyped or the string was cut.
    Checksum,
    /// The data are not whole bytes: more than 4 bits of padding, or padding that is not zero.
    Padding,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::MixedCase => "it mixes upper and lower case",
            Error::Malformed => "it is not a Bech32 string",
            Error::Checksum => "its Bech32 checksum does not match",
            Error::Padding => "its data are not whole bytes",
        })
    }
}

impl std::error::Error for Error {}

fn polymod(values: impl IntoIterator<Item = u8>) -> u32 {
    let mut checksum: u32 = 1;
    for value in values {
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

/// The prefix as the checksum covers it: the high bits of each character, a zero, the low
/// bits. `hrp` is lowercase.
fn expand(hrp: &[u8]) -> impl Iterator<Item = u8> + '_ {
    hrp.iter()
        .map(|ch| ch >> 5)
        .chain([0])
        .chain(hrp.iter().map(|ch| ch & 31))
}

/// `data` in 5-bit groups, the last one padded with zero bits.
fn to_groups(data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut groups = Zeroizing::new(Vec::with_capacity(data.len() * 8 / 5 + 1));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &byte in data {
        acc = (acc << 8 | u32::from(byte)) & 0xfff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            groups.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        groups.push(((acc << (5 - bits)) & 31) as u8);
    }
    groups
}

/// Appends the Bech32 string of `data` under the prefix `hrp` (lowercase, characters `!`..`~`
/// other than uppercase letters) to `out`, in uppercase when `upper`. Nothing but `out` holds
/// the encoded data afterwards: reserve room in `out` first when the data are secret.
///
/// # Panics
///
/// If `hrp` is empty or has a character outside `!`..`~` or an uppercase letter.
pub fn encode_to(out: &mut String, hrp: &str, data: &[u8], upper: bool) {
    assert!(
        !hrp.is_empty()
            && hrp
                .bytes()
                .all(|ch| (33..=126).contains(&ch) && !ch.is_ascii_uppercase()),
        "a Bech32 prefix is lowercase ASCII"
    );
    let groups = to_groups(data);
    let check = polymod(
        expand(hrp.as_bytes())
            .chain(groups.iter().copied())
            .chain([0; CHECKSUM_LEN]),
    ) ^ 1;
    let case = |ch: u8| char::from(if upper { ch.to_ascii_uppercase() } else { ch });
    out.extend(hrp.bytes().map(case));
    out.push('1');
    out.extend(
        groups
            .iter()
            .map(|&group| case(CHARSET[usize::from(group)])),
    );
    out.extend((0..CHECKSUM_LEN).map(|i| case(CHARSET[((check >> (5 * (5 - i))) & 31) as usize])));
}

/// The lowercase Bech32 string of `data` under the prefix `hrp` (see [`encode_to`]).
///
/// # Panics
///
/// As [`encode_to`].
pub fn encode(hrp: &str, data: &[u8]) -> String {
    let mut out = String::with_capacity(hrp.len() + 1 + data.len() * 8 / 5 + 1 + CHECKSUM_LEN);
    encode_to(&mut out, hrp, data, false);
    out
}

/// Decodes a Bech32 string (all lowercase or all uppercase) into its prefix, lowercase, and
/// its data bytes, in a buffer zeroed when dropped.
///
/// # Errors
///
/// [`Error::MixedCase`], [`Error::Malformed`], [`Error::Checksum`] or [`Error::Padding`],
/// checked in that order.
pub fn decode(text: &str) -> Result<(String, Zeroizing<Vec<u8>>), Error> {
    let bytes = text.as_bytes();
    if bytes.iter().any(u8::is_ascii_lowercase) && bytes.iter().any(u8::is_ascii_uppercase) {
        return Err(Error::MixedCase);
    }
    let separator = bytes
        .iter()
        .rposition(|&ch| ch == b'1')
        .ok_or(Error::Malformed)?;
    let (hrp, data) = (&bytes[..separator], &bytes[separator + 1..]);
    if hrp.is_empty() || data.len() < CHECKSUM_LEN || !hrp.iter().all(|ch| (33..=126).contains(ch))
    {
        return Err(Error::Malformed);
    }
    let hrp: Vec<u8> = hrp.iter().map(u8::to_ascii_lowercase).collect();
    let mut values = Zeroizing::new(Vec::with_capacity(data.len()));
    for &ch in data {
        let ch = ch.to_ascii_lowercase();
        let value = CHARSET
            .iter()
            .position(|&known| known == ch)
            .ok_or(Error::Malformed)?;
        values.push(value as u8);
    }
    if polymod(expand(&hrp).chain(values.iter().copied())) != 1 {
        return Err(Error::Checksum);
    }
    let groups = &values[..values.len() - CHECKSUM_LEN];
    let mut out = Zeroizing::new(Vec::with_capacity(groups.len() * 5 / 8));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &group in groups {
        acc = (acc << 5 | u32::from(group)) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 {
        return Err(Error::Padding);
    }
    let hrp = String::from_utf8(hrp).map_err(|_| Error::Malformed)?;
    Ok((hrp, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP 173's valid test vectors: each decodes, and encodes back to itself (lowercase).
    #[test]
    fn bip173_valid_strings() {
        for text in [
            "A12UEL5L",
            "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "?1ezyfcl",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("11{}c8247j", "q".repeat(82))])
        {
            let text = text.as_str();
            let (hrp, data) = decode(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert_eq!(encode(&hrp, &data), text.to_ascii_lowercase(), "{text}");
            let mut upper = String::new();
            encode_to(&mut upper, &hrp, &data, true);
            assert_eq!(upper, text.to_ascii_uppercase(), "{text}");
        }
    }

    /// BIP 173's invalid test vectors, with the reason each fails. The one that is invalid
    /// only for its length (91 characters) is valid here, as in age.
    #[test]
    fn bip173_invalid_strings() {
        for (text, error) in [
            ("\u{20}1nwldj5", Error::Malformed),
            ("\u{7f}1axkwrx", Error::Malformed),
            ("\u{80}1eym55h", Error::Malformed),
            ("pzry9x0s0muk", Error::Malformed),
            ("1pzry9x0s0muk", Error::Malformed),
            ("x1b4n0q5v", Error::Malformed),
            ("li1dgmt3", Error::Malformed),
            ("de1lg7wt\u{ff}", Error::Malformed),
            ("A1G7SGD8", Error::Checksum),
            ("10a06t8", Error::Malformed),
            ("1qzzfhee", Error::Malformed),
            ("a12UEL5L", Error::MixedCase),
        ] {
            assert_eq!(decode(text).unwrap_err(), error, "{text:?}");
        }
        let long = "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx";
        assert_eq!(decode(long).unwrap().0.len(), 84);
    }

    #[test]
    fn padding_must_be_short_and_zero() {
        // One group holds 5 bits: not a whole byte, and more than 4 bits of padding.
        let mut one_group = String::new();
        let check = polymod(expand(b"a").chain([3]).chain([0; 6])) ^ 1;
        one_group.push_str("a1");
        one_group.push(char::from(CHARSET[3]));
        one_group
            .extend((0..6).map(|i| char::from(CHARSET[((check >> (5 * (5 - i))) & 31) as usize])));
        assert_eq!(decode(&one_group).unwrap_err(), Error::Padding);
        // Two groups (10 bits) hold one byte and 2 bits of padding, which must be zero.
        let check = polymod(expand(b"a").chain([0, 1]).chain([0; 6])) ^ 1;
        let mut nonzero = String::from("a1qp");
        nonzero
            .extend((0..6).map(|i| char::from(CHARSET[((check >> (5 * (5 - i))) & 31) as usize])));
        assert_eq!(decode(&nonzero).unwrap_err(), Error::Padding);
        assert_eq!(decode(&encode("a", &[0])).unwrap().1.as_slice(), &[0]);
    }

    #[test]
    fn every_one_character_change_is_caught() {
        let text = encode("age", &[0x5a; 32]);
        for at in 4..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[at] = if bytes[at] == b'q' { b'p' } else { b'q' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(decode(&changed).unwrap_err(), Error::Checksum, "{changed}");
        }
    }
}
