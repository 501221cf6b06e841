//! Key strings: what parses, what does not and why, and that no output shows a secret key.

use secret_age::{Identity, KeyError, Recipient};

/// Replaces the character at `index` by another character of the Bech32 alphabet.
fn mistype(key: &str, index: usize) -> String {
    let mut chars: Vec<char> = key.chars().collect();
    chars[index] = if chars[index] == 'q' || chars[index] == 'Q' {
        if chars[index].is_uppercase() {
            'P'
        } else {
            'p'
        }
    } else if chars[index].is_uppercase() {
        'Q'
    } else {
        'q'
    };
    chars.into_iter().collect()
}

#[test]
fn identities_parse_in_either_case_but_not_mixed() {
    let identity = Identity::generate();
    let upper = identity.to_string();
    assert!(
        upper.starts_with("AGE-SECRET-KEY-1"),
        "age writes identities uppercase"
    );
    let lower: Identity = upper.to_lowercase().parse().unwrap();
    assert_eq!(lower.secret_bytes(), identity.secret_bytes());
    // Lowercase one letter of the key part (a digit has no case).
    let mut mixed = upper.to_string();
    let at = mixed
        .char_indices()
        .skip("AGE-SECRET-KEY-1".len())
        .find(|(_, ch)| ch.is_ascii_alphabetic())
        .map(|(at, _)| at)
        .expect("a bech32 key has letters");
    mixed.replace_range(at..at + 1, &mixed[at..at + 1].to_lowercase());
    assert_eq!(mixed.parse::<Identity>().unwrap_err(), KeyError::MixedCase);
}

#[test]
fn recipient_errors_say_why() {
    let recipient = Identity::generate().to_public().to_string();
    assert!(
        recipient.starts_with("age1") && recipient.len() == 62,
        "{recipient}"
    );
    assert_eq!(
        recipient.parse::<Recipient>().unwrap().to_string(),
        recipient
    );
    assert_eq!(
        recipient
            .to_uppercase()
            .parse::<Recipient>()
            .unwrap()
            .to_string(),
        recipient
    );

    let err = mistype(&recipient, 10).parse::<Recipient>().unwrap_err();
    assert_eq!(err, KeyError::BadChecksum);
    assert_eq!(
        err.to_string(),
        "bad Bech32 checksum: the key was mistyped or truncated"
    );

    let identity = Identity::generate().to_string();
    let err = identity.parse::<Recipient>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong prefix \"age-secret-key-\": expected \"age\""
    );
    let err = recipient.parse::<Identity>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong prefix \"age\": expected \"age-secret-key-\""
    );

    assert_eq!(
        "not a key".parse::<Recipient>().unwrap_err(),
        KeyError::NotBech32
    );
}

#[test]
fn wrong_length_is_reported_with_the_length() {
    let twenty = secret_age::bech32::encode("age", &[1u8; 20]);
    let err = twenty.parse::<Recipient>().unwrap_err();
    assert_eq!(err, KeyError::WrongLength { found: 20 });
    assert_eq!(
        err.to_string(),
        "wrong length: the key holds 20 bytes instead of 32"
    );
}

#[test]
fn low_order_recipients_are_rejected() {
    // u = 0 (a point of order 2) and u = 1 (a point of order 4).
    let zero = [0u8; 32];
    assert_eq!(
        Recipient::from_bytes(zero).unwrap_err(),
        KeyError::LowOrderPoint
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_eq!(
        Recipient::from_bytes(one).unwrap_err(),
        KeyError::LowOrderPoint
    );
    let encoded = secret_age::bech32::encode("age", &zero);
    assert_eq!(
        encoded.parse::<Recipient>().unwrap_err(),
        KeyError::LowOrderPoint
    );
}

#[test]
fn no_output_shows_the_secret_key() {
    let identity = Identity::generate();
    let secret = identity.to_string().to_string();
    let body = &secret["AGE-SECRET-KEY-1".len()..];
    let debug = format!("{identity:?}");
    assert!(
        !debug.contains(body) && !debug.to_uppercase().contains(body),
        "{debug}"
    );
    assert!(debug.contains(&identity.to_public().to_string()), "{debug}");
    let err = mistype(&secret, 30).parse::<Identity>().unwrap_err();
    assert!(!err.to_string().contains(&body[10..20]), "{err}");
    assert!(!format!("{err:?}").contains(&body[10..20]), "{err:?}");
}
