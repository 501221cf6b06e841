//! Crafted files where the order of the search for the file key decides the answer: a
//! low-order share before or after the stanza that opens, two stanzas that open with
//! different file keys, a malformed stanza after the one that opens, several identities.
//! `decrypt` must give the `age` crate's answer on each (the same search as age and rage),
//! and a passphrase file's work factor is refused, never a panic, whatever its size.

mod craft;

use craft::{LOW_ORDER, Outcome, Stanza};
use secret_age::Identity;

const K1: [u8; 16] = [1; 16];
const K2: [u8; 16] = [2; 16];
const PLAINTEXT: &[u8] = b"crafted plaintext";

/// An X25519 stanza wrapping `file_key` to `identity`.
fn to(identity: &Identity, file_key: &[u8; 16], ephemeral: u8) -> Stanza {
    Stanza::x25519([ephemeral; 32], identity.to_public().as_bytes(), file_key)
}

fn low_order(point: usize) -> Stanza {
    Stanza::x25519_raw(&LOW_ORDER[point], vec![0x42; 32])
}

/// `decrypt`'s answer, after checking that the `age` crate (and `Decryptor`) give the same.
fn answer(identities: &[&Identity], file: &[u8]) -> Outcome {
    let ours: Vec<Identity> = identities.iter().map(|&i| i.clone()).collect();
    let outcome = Outcome::of_ours(secret_age::decrypt(&ours, file));
    let strings: Vec<_> = identities.iter().map(|i| i.to_string()).collect();
    let strings: Vec<&str> = strings.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        outcome,
        Outcome::of_age(&strings, file),
        "the age crate disagrees"
    );
    let chunked = secret_age::Decryptor::new(&ours, file).and_then(|decryptor| {
        let mut plaintext = Vec::new();
        for chunk in decryptor {
            plaintext.extend_from_slice(&chunk?);
        }
        Ok(plaintext)
    });
    assert_eq!(Outcome::of_ours(chunked), outcome, "Decryptor disagrees");
    outcome
}

#[test]
fn every_listed_low_order_point_gives_an_all_zero_result() {
    // The list the crafted files use: each point's stanza is a header error for any key.
    for point in 0..LOW_ORDER.len() {
        let me = Identity::generate();
        let file = craft::file(&[low_order(point)], &K1, &K1, PLAINTEXT);
        assert_eq!(
            answer(&[&me], &file),
            Outcome::HeaderFailure,
            "point {point}"
        );
    }
}

/// Regression: with a hint at our stanza, `decrypt_trying_first` opened this file where
/// `decrypt`, age and rage stop at the low-order share before it with a header error.
#[test]
fn a_low_order_share_before_the_stanza_that_opens_is_a_header_error() {
    let me = Identity::generate();
    let file = craft::file(&[low_order(2), to(&me, &K1, 3)], &K1, &K1, PLAINTEXT);
    assert_eq!(answer(&[&me], &file), Outcome::HeaderFailure);
}

/// Regression: with a hint at the low-order stanza, `decrypt_trying_first` failed on this
/// file, which `decrypt`, age and rage open: the search ends at our stanza, before it.
#[test]
fn a_low_order_share_after_the_stanza_that_opens_is_never_reached() {
    let me = Identity::generate();
    let file = craft::file(&[to(&me, &K1, 3), low_order(0)], &K1, &K1, PLAINTEXT);
    assert_eq!(
        answer(&[&me], &file),
        Outcome::Plaintext(PLAINTEXT.to_vec())
    );
}

/// Regression: with a hint at the second stanza, `decrypt_trying_first` took its file key
/// where `decrypt`, age and rage take the first stanza's, so the two disagreed on whether
/// the header MAC holds.
#[test]
fn of_two_stanzas_for_our_key_the_first_gives_the_file_key() {
    let me = Identity::generate();
    let stanzas = [to(&me, &K1, 3), to(&me, &K2, 4)];
    let mac_of_second = craft::file(&stanzas, &K2, &K2, PLAINTEXT);
    assert_eq!(answer(&[&me], &mac_of_second), Outcome::HmacFailure);
    let mac_of_first = craft::file(&stanzas, &K1, &K1, PLAINTEXT);
    assert_eq!(
        answer(&[&me], &mac_of_first),
        Outcome::Plaintext(PLAINTEXT.to_vec())
    );
}

/// Regression: `decrypt` checked the form of every X25519 stanza before trying any, so a
/// malformed stanza after ours made a header error of a file age and rage open.
#[test]
fn a_malformed_stanza_after_the_stanza_that_opens_is_never_reached() {
    let me = Identity::generate();
    let malformed = [
        Stanza::other("X25519", &[], vec![0; 32]),
        Stanza::other("X25519", &["AAAA", "BBBB"], vec![0; 32]),
        Stanza::x25519_raw(&[9; 31], vec![0; 32]),
        Stanza::x25519_raw(&[9; 32], vec![0; 33]),
    ];
    for (i, stanza) in malformed.into_iter().enumerate() {
        let after = craft::file(&[to(&me, &K1, 3), stanza.clone()], &K1, &K1, PLAINTEXT);
        assert_eq!(
            answer(&[&me], &after),
            Outcome::Plaintext(PLAINTEXT.to_vec()),
            "stanza {i} after ours"
        );
        let before = craft::file(&[stanza, to(&me, &K1, 3)], &K1, &K1, PLAINTEXT);
        assert_eq!(
            answer(&[&me], &before),
            Outcome::HeaderFailure,
            "stanza {i} before ours"
        );
    }
}

/// Each identity in turn tries every stanza: the first identity's stanza wins even when
/// another identity's comes first in the header, and a low-order share anywhere before the
/// first identity's stanza stops the search, even after the second identity's.
#[test]
fn identities_are_tried_one_after_the_other_over_all_stanzas() {
    let (first, second) = (Identity::generate(), Identity::generate());
    let stanzas = [to(&second, &K2, 3), to(&first, &K1, 4)];
    let file = craft::file(&stanzas, &K1, &K1, PLAINTEXT);
    assert_eq!(
        answer(&[&first, &second], &file),
        Outcome::Plaintext(PLAINTEXT.to_vec())
    );
    let file = craft::file(&stanzas, &K2, &K2, PLAINTEXT);
    assert_eq!(answer(&[&first, &second], &file), Outcome::HmacFailure);
    assert_eq!(
        answer(&[&second, &first], &file),
        Outcome::Plaintext(PLAINTEXT.to_vec())
    );
    let stanzas = [to(&second, &K2, 3), low_order(1), to(&first, &K1, 4)];
    let file = craft::file(&stanzas, &K2, &K2, PLAINTEXT);
    assert_eq!(answer(&[&first, &second], &file), Outcome::HeaderFailure);
    let stranger = Identity::generate();
    let file = craft::file(&[to(&first, &K1, 3)], &K1, &K1, PLAINTEXT);
    assert_eq!(answer(&[&stranger], &file), Outcome::NoMatch);
}

/// Regression (found by the differential fuzz target): the MAC was checked, and the key
/// looked for, before the payload nonce was read, so a file cut inside the nonce was an HMAC
/// failure or no match where age reads the nonce first and reports a header error.
#[test]
fn a_file_cut_inside_the_nonce_is_a_header_error_whatever_the_mac_or_keys() {
    let (me, stranger) = (Identity::generate(), Identity::generate());
    let stanzas = [to(&me, &K1, 3)];
    let mut file = craft::header(&stanzas, &K2);
    file.extend_from_slice(&[0; 11]);
    assert_eq!(answer(&[&me], &file), Outcome::HeaderFailure);
    assert_eq!(answer(&[&stranger], &file), Outcome::HeaderFailure);
}

/// Regression: a work factor of 256 to 999 panicked (`u8` parsing of up to three digits);
/// every work factor above 2^22 is a header error before scrypt runs, as in rage.
#[cfg(feature = "scrypt")]
#[test]
fn a_work_factor_above_the_bound_is_a_header_error_never_a_panic() {
    use base64::Engine as _;
    let salt = base64::engine::general_purpose::STANDARD_NO_PAD.encode([5u8; 16]);
    for log_n in [
        "23",
        "255",
        "256",
        "999",
        "1000",
        "4294967296",
        "9223372036854775818",
        "99999999999999999999999999999999",
    ] {
        let stanza = Stanza::other("scrypt", &[&salt, log_n], vec![0; 32]);
        let file = craft::file(&[stanza], &K1, &K1, PLAINTEXT);
        let error = secret_age::decrypt_with_passphrase("passphrase", &file).unwrap_err();
        let secret_age::Error::MalformedHeader { what } = &error else {
            panic!("work factor {log_n}: {error:?}");
        };
        assert!(
            what.starts_with("the scrypt work factor 2^") && what.ends_with("exceeds 2^22"),
            "work factor {log_n}: {what}"
        );
    }
}
