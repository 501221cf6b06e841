//! Every single-byte change and every truncation of a file is detected: `decrypt` returns an
//! error (or, for armor whitespace, the same plaintext), never other bytes, and never panics.

use secret_age::Identity;

const PLAINTEXT: &[u8] = b"a value that must not change";

#[test]
fn every_flipped_byte_of_a_binary_file_is_an_error() {
    let identity = Identity::generate();
    let file = secret_age::encrypt(&[identity.to_public()], PLAINTEXT).unwrap();
    let identities = [identity];
    for at in 0..file.len() {
        for bit in [0x01, 0x80] {
            let mut changed = file.clone();
            changed[at] ^= bit;
            let result = secret_age::decrypt(&identities, &changed);
            assert!(
                result.is_err(),
                "byte {at} ^ {bit:#x} of {} decrypted",
                file.len()
            );
        }
    }
    for len in 0..file.len() {
        assert!(
            secret_age::decrypt(&identities, &file[..len]).is_err(),
            "cut at {len}"
        );
    }
    assert_eq!(*secret_age::decrypt(&identities, &file).unwrap(), PLAINTEXT);
}

#[test]
fn every_flipped_byte_of_an_armored_file_is_an_error_or_whitespace() {
    let identity = Identity::generate();
    let file = secret_age::encrypt_armored(&[identity.to_public()], PLAINTEXT).unwrap();
    let file = file.into_bytes();
    let identities = [identity];
    for at in 0..file.len() {
        let mut changed = file.clone();
        changed[at] ^= 0x01;
        match secret_age::decrypt(&identities, &changed) {
            Err(_) => {}
            // The final `\n` became a vertical tab: trailing whitespace, allowed.
            Ok(plaintext) => {
                assert_eq!(*plaintext, PLAINTEXT, "byte {at}");
                assert_eq!(at, file.len() - 1, "only the final line feed may change");
            }
        }
    }
    // Cutting the final line feed leaves a valid armor; any shorter cut is an error.
    for len in 0..file.len() - 1 {
        assert!(
            secret_age::decrypt(&identities, &file[..len]).is_err(),
            "cut at {len}"
        );
    }
}
