//! The official age test kit (C2SP/CCTV, npm package `cctv-age`): every vector of the x25519,
//! stream, header, stanza, hmac, armor, version and empty categories must decrypt to the
//! expected payload hash or fail with the expected kind of error.
//!
//! The kit is committed in `tests/testdata/testkit/` (with its license, and how to refresh
//! it, beside it); compressed vectors are inflated here.

#[allow(dead_code)] // `missing` is for tests that need a tool; the kit is committed
mod support;

use std::path::Path;
use std::process::ExitCode;

use secret_age::{Decryptor, Error, Identity};
use sha2::{Digest, Sha256};
use support::{Case, Outcome};

/// Categories this crate must pass in full.
const CATEGORIES: &[&str] = &[
    "x25519",
    "stream",
    "header",
    "stanza",
    "hmac",
    "armor",
    "version",
    "empty",
    #[cfg(feature = "scrypt")]
    "scrypt",
];

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/testkit");
    support::run(cases(&dir))
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect(),
        Err(e) => {
            let reason = format!("cannot read the age test kit at {}: {e}", dir.display());
            return vec![("age_test_kit".to_owned(), Box::new(move || Err(reason)))];
        }
    };
    names.sort();
    let mut cases: Vec<Case> = Vec::new();
    // The kit must be there, whole: a count that fails if the folder is empty or cut.
    let count = names.iter().filter(|name| in_scope(name)).count();
    cases.push((
        "age_test_kit_is_complete".to_owned(),
        Box::new(move || {
            if count >= 100 {
                Ok(Outcome::Passed)
            } else {
                Err(format!(
                    "only {count} vectors of the required categories were found"
                ))
            }
        }),
    ));
    for name in names {
        let path = dir.join(&name);
        let test_name = format!("vector::{name}");
        if !in_scope(&name) {
            let reason = match category(&name) {
                "scrypt" => "category `scrypt`: run with `--features scrypt`".to_owned(),
                other => format!("category `{other}` (post-quantum recipients) is not implemented"),
            };
            cases.push((test_name, Box::new(move || Ok(Outcome::Skipped(reason)))));
            continue;
        }
        cases.push((test_name, Box::new(move || check_vector(&path))));
    }
    cases
}

fn category(name: &str) -> &str {
    name.split('_').next().unwrap_or(name)
}

fn in_scope(name: &str) -> bool {
    CATEGORIES.contains(&category(name))
}

struct Vector {
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    body: Vec<u8>,
}

fn parse_vector(bytes: &[u8]) -> Result<Vector, String> {
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or("no empty line after the vector's text header")?;
    let text = std::str::from_utf8(&bytes[..split]).map_err(|e| e.to_string())?;
    let mut vector = Vector {
        expect: String::new(),
        payload: None,
        identities: Vec::new(),
        passphrases: Vec::new(),
        body: bytes[split + 2..].to_vec(),
    };
    for line in text.lines() {
        let (key, value) = line
            .split_once(": ")
            .ok_or(format!("bad header line {line:?}"))?;
        match (key, value) {
            ("expect", _) => vector.expect = value.to_owned(),
            ("payload", _) => vector.payload = Some(value.to_owned()),
            ("identity", _) => vector.identities.push(value.to_owned()),
            ("passphrase", _) => vector.passphrases.push(value.to_owned()),
            ("compressed", "zlib") => {
                vector.body = miniz_oxide::inflate::decompress_to_vec_zlib(&vector.body)
                    .map_err(|e| format!("the vector does not inflate: {e}"))?;
            }
            ("compressed", other) => return Err(format!("unknown compression {other:?}")),
            _ => {}
        }
    }
    Ok(vector)
}

/// The kit's name for the kind of an error.
fn kind(error: &Error) -> &'static str {
    match error {
        Error::BadArmor { .. } => "armor failure",
        Error::UnsupportedVersion { .. } | Error::MalformedHeader { .. } => "header failure",
        Error::NoMatchingKeys => "no match",
        Error::BadHeaderMac => "HMAC failure",
        Error::Payload { .. } => "payload failure",
        _ => "unexpected error",
    }
}

fn check_vector(path: &Path) -> Result<Outcome, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let vector = parse_vector(&bytes)?;
    if !vector.passphrases.is_empty() && !cfg!(feature = "scrypt") {
        return Ok(Outcome::Skipped(
            "needs a passphrase (scrypt) recipient: run with `--features scrypt`".to_owned(),
        ));
    }
    let mut identities = Vec::new();
    for identity in &vector.identities {
        if identity.starts_with("AGE-SECRET-KEY-PQ-") {
            return Ok(Outcome::Skipped(
                "needs a post-quantum hybrid identity, which is not implemented".to_owned(),
            ));
        }
        identities.push(
            identity
                .parse::<Identity>()
                .map_err(|e| format!("identity: {e}"))?,
        );
    }

    // Chunk by chunk, hashing what is released before any error, as the kit asks.
    let mut hash = Sha256::new();
    let mut released = Vec::new();
    let outcome = match open(&identities, &vector.passphrases, &vector.body) {
        Err(error) => Err(error),
        Ok(decryptor) => {
            let mut result = Ok(());
            for chunk in decryptor {
                match chunk {
                    Ok(chunk) => {
                        hash.update(&chunk[..]);
                        released.extend_from_slice(&chunk[..]);
                    }
                    Err(error) => result = Err(error),
                }
            }
            result
        }
    };
    let got = match &outcome {
        Ok(()) => "success",
        Err(error) => kind(error),
    };
    let detail = match &outcome {
        Ok(()) => String::new(),
        Err(error) => format!(" ({error})"),
    };
    if got != vector.expect {
        return Err(format!("expected {}, got {got}{detail}", vector.expect));
    }
    if matches!(got, "success" | "payload failure") {
        let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let expected = vector
            .payload
            .as_deref()
            .ok_or("the vector has no payload hash")?;
        if digest != expected {
            return Err(format!(
                "{got} as expected, but the released payload hashes to {digest}"
            ));
        }
    }
    // The one-call API agrees: the same plaintext, or the same kind of error.
    match (
        crate_decrypt(&identities, &vector.passphrases, &vector.body),
        &outcome,
    ) {
        (Ok(plaintext), Ok(())) if plaintext[..] == released[..] => {}
        (Err(error), Err(_)) if kind(&error) == got => {}
        (other, _) => {
            return Err(format!(
                "decrypt() disagrees with Decryptor: {:?}",
                other.map(|p| p.len())
            ));
        }
    }
    Ok(Outcome::Passed)
}

/// A decryptor with the identities, else with the first passphrase that opens the file.
fn open<'a>(
    identities: &[Identity],
    passphrases: &[String],
    body: &'a [u8],
) -> Result<Decryptor<'a>, Error> {
    #[cfg(feature = "scrypt")]
    if !passphrases.is_empty() {
        let mut result = Err(Error::NoMatchingKeys);
        for passphrase in passphrases {
            result = Decryptor::with_passphrase(passphrase, body);
            if !matches!(result, Err(Error::NoMatchingKeys)) {
                break;
            }
        }
        return result;
    }
    let _ = passphrases;
    Decryptor::new(identities, body)
}

fn crate_decrypt(
    identities: &[Identity],
    passphrases: &[String],
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    #[cfg(feature = "scrypt")]
    if !passphrases.is_empty() {
        let mut result = Err(Error::NoMatchingKeys);
        for passphrase in passphrases {
            result = secret_age::decrypt_with_passphrase(passphrase, body);
            if !matches!(result, Err(Error::NoMatchingKeys)) {
                break;
            }
        }
        return result.map(|plaintext| plaintext.to_vec());
    }
    let _ = passphrases;
    secret_age::decrypt(identities, body).map(|plaintext| plaintext.to_vec())
}
