//! The one random source of the age format (feature `encrypt`): file keys, nonces,
//! ephemeral shares and new identities.

/// Fills `buf` from the operating system's random number generator.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system's random number generator works");
}
