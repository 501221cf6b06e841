//! Round trips with the `age` crate (rage's library): what this crate writes, age reads, and
//! what age writes, this crate reads; binary and armored, one and several recipients, empty
//! and multi-chunk plaintexts.

use std::io::{Read, Write};
use std::iter;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::secrecy::ExposeSecret;
use secret_age::{Identity, Recipient};

/// 200 KiB that differ chunk to chunk: four STREAM chunks, the last one short.
fn big_plaintext() -> Vec<u8> {
    (0..200 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn plaintexts() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"hunter2".to_vec(),
        vec![7u8; 64 * 1024],
        big_plaintext(),
    ]
}

/// Our identity as an age identity, through its string form.
fn as_age_identity(identity: &Identity) -> age::x25519::Identity {
    age::x25519::Identity::from_str(&identity.to_string()).unwrap()
}

fn age_decrypt(identity: &age::x25519::Identity, file: &[u8]) -> Vec<u8> {
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(file)).unwrap();
    let mut reader = decryptor
        .decrypt(iter::once(identity as &dyn age::Identity))
        .unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    out
}

fn age_encrypt(recipients: &[age::x25519::Recipient], plaintext: &[u8], armor: bool) -> Vec<u8> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let format = if armor {
        Format::AsciiArmor
    } else {
        Format::Binary
    };
    let armored = ArmoredWriter::wrap_output(&mut out, format).unwrap();
    let mut writer = encryptor.wrap_output(armored).unwrap();
    writer.write_all(plaintext).unwrap();
    writer
        .finish()
        .and_then(|armored| armored.finish())
        .unwrap();
    out
}

#[test]
fn keys_have_the_same_strings_as_age_keys() {
    let identity = Identity::generate();
    let theirs = as_age_identity(&identity);
    assert_eq!(*identity.to_string(), *theirs.to_string().expose_secret());
    assert_eq!(
        identity.to_public().to_string(),
        theirs.to_public().to_string()
    );

    let generated = age::x25519::Identity::generate();
    let ours: Identity = generated.to_string().expose_secret().parse().unwrap();
    assert_eq!(
        ours.to_public().to_string(),
        generated.to_public().to_string()
    );
    let recipient: Recipient = generated.to_public().to_string().parse().unwrap();
    assert_eq!(recipient, ours.to_public());
}

#[test]
fn age_decrypts_what_we_encrypt() {
    let first = Identity::generate();
    let second = Identity::generate();
    let recipients = [first.to_public(), second.to_public()];
    for plaintext in plaintexts() {
        let binary = secret_age::encrypt(&recipients, &plaintext).unwrap();
        let armored = secret_age::encrypt_armored(&recipients, &plaintext).unwrap();
        for identity in [&first, &second] {
            let theirs = as_age_identity(identity);
            assert_eq!(
                age_decrypt(&theirs, &binary),
                plaintext,
                "binary, {}",
                plaintext.len()
            );
            assert_eq!(
                age_decrypt(&theirs, armored.as_bytes()),
                plaintext,
                "armored"
            );
        }
    }
}

#[test]
fn we_decrypt_what_age_encrypts() {
    let first = age::x25519::Identity::generate();
    let second = age::x25519::Identity::generate();
    let recipients = [first.to_public(), second.to_public()];
    for plaintext in plaintexts() {
        for armor in [false, true] {
            let file = age_encrypt(&recipients, &plaintext, armor);
            for theirs in [&first, &second] {
                let ours: Identity = theirs.to_string().expose_secret().parse().unwrap();
                let decrypted = secret_age::decrypt(&[ours], &file).unwrap();
                assert_eq!(
                    *decrypted,
                    plaintext,
                    "armor {armor}, {} bytes",
                    plaintext.len()
                );
            }
            let header = secret_age::parse_header(&file).unwrap();
            assert_eq!(header.count("X25519"), 2);
        }
    }
}

#[test]
fn our_armor_is_byte_for_byte_the_armor_age_writes() {
    let recipient = Identity::generate().to_public();
    // Lengths around the armor's 48-byte lines (a 23-byte plaintext makes a 240-byte file:
    // five full lines, no short one) and the 64 KiB chunks.
    for len in [0, 5, 23, 71, 100, 101, 102, 65_536, 70_000] {
        let mine =
            secret_age::encrypt_armored(std::slice::from_ref(&recipient), &vec![1u8; len]).unwrap();
        // age's reader takes the armor off, age's writer puts it back on: the same text.
        let mut binary = Vec::new();
        ArmoredReader::new(mine.as_bytes())
            .read_to_end(&mut binary)
            .unwrap();
        let mut theirs = Vec::new();
        let mut writer = ArmoredWriter::wrap_output(&mut theirs, Format::AsciiArmor).unwrap();
        writer.write_all(&binary).unwrap();
        writer.finish().unwrap();
        assert_eq!(mine, String::from_utf8(theirs).unwrap(), "{len} bytes");
    }
}

#[test]
fn a_wrong_identity_gets_no_matching_keys() {
    let file = secret_age::encrypt(&[Identity::generate().to_public()], b"x").unwrap();
    let err = secret_age::decrypt(&[Identity::generate()], &file).unwrap_err();
    assert_eq!(err, secret_age::Error::NoMatchingKeys);
    assert_eq!(
        err.to_string(),
        "no identity matches any recipient of the file: it was not encrypted to these keys"
    );
}
