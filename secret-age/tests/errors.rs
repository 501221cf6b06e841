//! What a user reads when a file does not decrypt: the failure class and where, never the
//! plaintext.

use secret_age::{Error, Identity};

const PLAINTEXT: &[u8] = b"correct horse battery staple";

fn file() -> (Identity, Vec<u8>) {
    let identity = Identity::generate();
    let file = secret_age::encrypt(&[identity.to_public()], PLAINTEXT).unwrap();
    (identity, file)
}

fn assert_no_plaintext(error: &Error) {
    let text = format!("{error} {error:?}");
    assert!(!text.contains("horse"), "{text}");
}

#[test]
fn a_flipped_payload_byte_names_the_chunk() {
    let (identity, mut file) = file();
    let last = file.len() - 1;
    file[last] ^= 1;
    let error = secret_age::decrypt(&[identity], &file).unwrap_err();
    assert_eq!(
        error.to_string(),
        "age payload rejected: chunk 0 fails authentication: the file is corrupted, truncated or \
         was modified"
    );
    assert_no_plaintext(&error);
}

#[test]
fn a_changed_header_fails_its_mac() {
    let (identity, file) = file();
    // An extra (unknown) stanza before the MAC line: the header still parses and the key
    // still unwraps, but the MAC no longer matches.
    let text = String::from_utf8_lossy(&file).into_owned();
    let at = text.find("\n---").unwrap() + 1;
    let mut changed = file[..at].to_vec();
    changed.extend_from_slice(b"-> grease x\n\n");
    changed.extend_from_slice(&file[at..]);
    let error = secret_age::decrypt(&[identity], &changed).unwrap_err();
    assert_eq!(error, Error::BadHeaderMac);
    assert_eq!(
        error.to_string(),
        "the age header MAC does not match: the header was modified or corrupted"
    );
}

#[test]
fn a_truncated_file_says_so() {
    let (identity, file) = file();
    let error =
        secret_age::decrypt(std::slice::from_ref(&identity), &file[..file.len() - 30]).unwrap_err();
    assert!(matches!(error, Error::Payload { .. }), "{error}");
    let header_only = secret_age::parse_header(&file).unwrap();
    assert_eq!(header_only.count("X25519"), 1);
    let cut = file.iter().position(|&b| b == b'\n').unwrap() + 5;
    let error = secret_age::decrypt(&[identity], &file[..cut]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "malformed age header: the header ends at line 2 where a recipient stanza or the MAC \
         line was expected (the file is truncated or not an age file)"
    );
}

#[test]
fn text_that_is_neither_binary_nor_armor_gets_an_armor_error_naming_both() {
    let error = secret_age::decrypt(&[Identity::generate()], b"hello world\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid age armor: the first line is not `-----BEGIN AGE ENCRYPTED FILE-----` (and the \
         input is not a binary age file, which starts with `age-encryption.org/v1`)"
    );
    let error =
        secret_age::decrypt(&[Identity::generate()], b"age-encryption.org/v2\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unsupported age format version \"age-encryption.org/v2\": only age-encryption.org/v1 is \
         supported"
    );
}

#[test]
fn encrypting_to_nobody_is_refused() {
    assert_eq!(
        secret_age::encrypt(&[], b"x").unwrap_err(),
        Error::NoRecipients
    );
}
