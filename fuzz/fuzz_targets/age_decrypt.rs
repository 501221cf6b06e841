//! Differential: `secret_age::decrypt`, `secret_age::Decryptor` (chunk by chunk) and the
//! `age` crate give the same answer — the same plaintext, or the same kind of failure — for
//! every file and every list of identities.
//!
//! The first input byte picks the readers' identities and their order (bits 0 and 1) and how
//! the rest is read (bit 7): as an age file as it is (binary or armored), or as a recipe for a
//! file built with `secret-age/tests/craft` (the stanzas, which file key each wraps to whom,
//! low-order shares, malformed and foreign stanzas, the file key of the MAC and of the
//! payload, one flipped byte or a cut, armor), so that files with several stanzas that open,
//! or that stop the search, are reached in a few steps. Seeds: `fuzz/corpus/age_decrypt/`.
#![no_main]

#[path = "../../secret-age/tests/craft/mod.rs"]
mod craft;

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use craft::{LOW_ORDER, Outcome, Stanza};
use libfuzzer_sys::fuzz_target;
use secret_age::Identity;

/// The identities files are built for: the test kit's (so its vectors decrypt in raw mode),
/// two more, and a stranger that is never a reader.
static IDENTITIES: LazyLock<[Identity; 4]> = LazyLock::new(|| {
    [
        kit_identity(),
        Identity::from_secret_bytes([0x11; 32]),
        Identity::from_secret_bytes([0x22; 32]),
        Identity::from_secret_bytes([0x33; 32]),
    ]
});

/// The identity every X25519 vector of the committed age test kit is encrypted to, read
/// from the kit's `x25519` file (its `identity:` header line; the payload after the
/// header is binary).
fn kit_identity() -> Identity {
    let kit = include_bytes!("../../secret-age/tests/testdata/testkit/x25519");
    let line = kit
        .split(|&byte| byte == b'\n')
        .find_map(|line| line.strip_prefix(b"identity: "))
        .expect("the kit's x25519 vector names its identity");
    std::str::from_utf8(line).unwrap().parse().unwrap()
}

const FILE_KEYS: [[u8; 16]; 3] = [[1; 16], [2; 16], [3; 16]];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let readers: &[usize] = match mode & 3 {
        0 => &[0],
        1 => &[1],
        2 => &[1, 2],
        _ => &[2, 1, 0],
    };
    let file = if mode & 0x80 != 0 {
        rest.to_vec()
    } else {
        build(&mut Recipe(rest))
    };
    let identities: Vec<Identity> = readers.iter().map(|&i| IDENTITIES[i].clone()).collect();
    let strings: Vec<_> = identities.iter().map(Identity::to_string).collect();
    let strings: Vec<&str> = strings.iter().map(|s| s.as_str()).collect();

    let ours = Outcome::of_ours(secret_age::decrypt(&identities, &file));
    let age = Outcome::of_age(&strings, &file);
    assert!(
        ours.agrees_with_age(&age, &file),
        "secret_age::decrypt and the age crate disagree: {ours:?} and {age:?}"
    );
    let chunked = secret_age::Decryptor::new(&identities, &file).and_then(|decryptor| {
        let mut plaintext = Vec::new();
        for chunk in decryptor {
            plaintext.extend_from_slice(&chunk?);
        }
        Ok(plaintext)
    });
    assert_eq!(
        Outcome::of_ours(chunked),
        ours,
        "Decryptor and decrypt disagree"
    );
});

/// The recipe's bytes, read one at a time; zeros once it runs out.
struct Recipe<'a>(&'a [u8]);

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        first
    }

    fn pick(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }
}

fn build(recipe: &mut Recipe<'_>) -> Vec<u8> {
    let count = 1 + recipe.pick(5);
    let stanzas: Vec<Stanza> = (0..count).map(|_| stanza(recipe)).collect();
    let mac_key = FILE_KEYS[recipe.pick(3)];
    let payload_key = FILE_KEYS[recipe.pick(3)];
    let plaintext = vec![b'p'; usize::from(recipe.byte()) * 5];
    let mut file = craft::file(&stanzas, &mac_key, &payload_key, &plaintext);
    let at = usize::from(u16::from_le_bytes(recipe.bytes())) % file.len();
    match recipe.pick(6) {
        0 => file[at] ^= 1 << recipe.pick(8),
        1 => file.truncate(at),
        _ => {}
    }
    if recipe.pick(4) == 0 {
        file = craft::armor(&file);
    }
    file
}

fn stanza(recipe: &mut Recipe<'_>) -> Stanza {
    match recipe.pick(7) {
        // A stanza that opens for one of the identities (the stranger's never does).
        0..=2 => {
            let to = &IDENTITIES[recipe.pick(4)];
            let file_key = FILE_KEYS[recipe.pick(3)];
            Stanza::x25519(recipe.bytes(), to.to_public().as_bytes(), &file_key)
        }
        // A low-order share, also with the ignored top bit set.
        3 => {
            let mut share = LOW_ORDER[recipe.pick(LOW_ORDER.len())];
            share[31] |= recipe.byte() & 0x80;
            Stanza::x25519_raw(&share, vec![recipe.byte(); 32])
        }
        // An X25519 stanza of the wrong form.
        4 => {
            let share = STANDARD_NO_PAD.encode(recipe.bytes::<32>());
            match recipe.pick(6) {
                0 => Stanza::other("X25519", &[], vec![0; 32]),
                1 => Stanza::other("X25519", &[&share, &share], vec![0; 32]),
                2 => Stanza::x25519_raw(&recipe.bytes::<31>(), vec![0; 32]),
                3 => Stanza::x25519_raw(&recipe.bytes::<33>(), vec![0; 32]),
                4 => Stanza::x25519_raw(&recipe.bytes::<32>(), vec![0; 16 + recipe.pick(33)]),
                _ => {
                    // Non-canonical base64: unused low bits of the last character set.
                    let mut share = share.into_bytes();
                    let last = share.last_mut().unwrap();
                    *last = if *last == b'A' { b'B' } else { b'z' };
                    Stanza::other(
                        "X25519",
                        &[std::str::from_utf8(&share).unwrap()],
                        vec![0; 32],
                    )
                }
            }
        }
        // A random share and body: almost surely opens for nobody.
        5 => Stanza::x25519_raw(&recipe.bytes::<32>(), recipe.bytes::<32>().to_vec()),
        // A stanza of another type (a passphrase stanza among them).
        _ => {
            let body = vec![recipe.byte(); recipe.pick(50)];
            match recipe.pick(3) {
                0 => Stanza::other("scrypt", &["rF0/NwblUHHTpgQgRpe5CQ", "10"], body),
                1 => Stanza::other("x25519", &["AAAA"], body),
                _ => Stanza::other("grease-1.x", &["a", "b"], body),
            }
        }
    }
}
