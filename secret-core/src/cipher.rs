//! Encrypting and decrypting one value with age.
//!
//! Since store format 2 the age plaintext is the value itself, so `age -d` on a value gives
//! exactly the secret; the value is bound to its place in the store by the writer's
//! signature ([`crate::trust`]), which anyone can check without a key.
//!
//! Format 1 (still read, for `secret migrate`) prefixed the value with a binding header:
//!
//! ```text
//! secret-store v1
//! <secret name>
//! <scope key>              e.g. type:development,local
//! <recipients, sorted, comma-separated>
//! <value bytes...>
//! ```
//!
//! Decrypting checks the header against the slot the ciphertext was read from, so a
//! ciphertext copied to another secret or scope, or a hand-edited recipient list, is an
//! error. age's own authentication detects any changed byte.

use std::path::Path;
#[cfg(feature = "write")]
use std::str::FromStr;

#[cfg(feature = "write")]
use secrecy::ExposeSecret;
use secrecy::SecretString;

use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;

const MAGIC: &str = "secret-store v1";

/// Where a ciphertext sits, for binding and for messages.
pub(crate) struct Slot<'a> {
    pub(crate) name: &'a str,
    pub(crate) scope: &'a Scope,
    pub(crate) recipients: &'a [String],
    pub(crate) path: &'a Path,
    pub(crate) line: usize,
}

fn header(name: &str, scope: &Scope, recipients: &[String]) -> String {
    format!(
        "{MAGIC}\n{name}\n{}\n{}\n",
        scope.key(),
        recipients.join(",")
    )
}

/// Encrypts `value` to `recipients` (sorted, age X25519 public keys); returns the
/// ASCII-armored ciphertext.
#[cfg(feature = "write")]
pub(crate) fn seal(
    recipients: &[String],
    value: &SecretString,
    config: &Path,
) -> Result<String, Error> {
    let mut keys = Vec::new();
    for recipient in recipients {
        let bad = |reason: String| Error::BadRecipient {
            recipient: recipient.clone(),
            config: config.to_owned(),
            reason,
        };
        if recipient.starts_with("ssh-") {
            return Err(bad(
                "SSH recipients are not supported by this build (age X25519 keys only)".to_owned(),
            ));
        }
        let key =
            secret_age::Recipient::from_str(recipient).map_err(|error| bad(error.to_string()))?;
        keys.push(key);
    }
    secret_age::encrypt_armored(&keys, value.expose_secret().as_bytes()).map_err(|error| {
        Error::BadRecipient {
            recipient: recipients.join(", "),
            config: config.to_owned(),
            reason: error.to_string(),
        }
    })
}

/// Decrypts the armored `ciphertext` read from `slot`. A format 1 value (`legacy`) has its
/// binding header checked and removed.
pub(crate) fn open(
    slot: &Slot<'_>,
    ciphertext: &str,
    identities: &Identities,
    legacy: bool,
) -> Result<SecretString, Error> {
    let tampered = |detail: &str| Error::Tampered {
        name: slot.name.to_owned(),
        scope: slot.scope.clone(),
        path: slot.path.to_owned(),
        line: slot.line,
        detail: detail.to_owned(),
    };
    let no_access = || {
        Error::NoAccess(Box::new(crate::error::NoAccess {
            name: slot.name.to_owned(),
            scope: slot.scope.clone(),
            path: slot.path.to_owned(),
            line: slot.line,
            recipients: slot.recipients.to_vec(),
            tried: identities.public_keys().to_vec(),
            identity_source: identities.source().to_string(),
        }))
    };
    if identities.is_empty() {
        return Err(no_access());
    }
    let is_recipient = slot
        .recipients
        .iter()
        .any(|recipient| identities.public_keys().contains(recipient));
    let plaintext = match secret_age::decrypt(identities.keys(), ciphertext.as_bytes()) {
        Ok(plaintext) => plaintext,
        Err(secret_age::Error::NoMatchingKeys) if !is_recipient => return Err(no_access()),
        Err(secret_age::Error::NoMatchingKeys) => {
            return Err(tampered(
                "your identity is listed as a recipient but the ciphertext's key stanza does not open with it",
            ));
        }
        Err(secret_age::Error::Payload { .. }) => {
            return Err(tampered("age authentication failed (a byte was changed)"));
        }
        Err(error) => {
            return Err(tampered(&format!(
                "the ciphertext is not valid age data ({error})"
            )));
        }
    };
    if !legacy {
        let value =
            std::str::from_utf8(&plaintext).map_err(|_| tampered("the value is not UTF-8"))?;
        return Ok(SecretString::from(value));
    }
    let (bound, value) = split_header(&plaintext)
        .ok_or_else(|| tampered("the decrypted data has no format 1 header"))?;
    let expected = header(slot.name, slot.scope, slot.recipients);
    if bound != expected {
        let mut lines = bound.lines().skip(1);
        let (name, scope, recipients) = (
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or_default(),
        );
        if name == slot.name && scope == slot.scope.key() {
            return Err(tampered(&format!(
                "its recipient list was edited by hand (the value was encrypted to {})",
                recipients.replace(',', ", ")
            )));
        }
        return Err(Error::Misplaced {
            name: slot.name.to_owned(),
            scope: slot.scope.clone(),
            path: slot.path.to_owned(),
            line: slot.line,
            found: format!("{name} {scope}"),
        });
    }
    let value = std::str::from_utf8(value).map_err(|_| tampered("the value is not UTF-8"))?;
    Ok(SecretString::from(value))
}

/// Splits the decrypted plaintext after the header's fourth line.
fn split_header(plaintext: &[u8]) -> Option<(String, &[u8])> {
    let mut end = 0;
    for _ in 0..4 {
        let newline = plaintext[end..].iter().position(|&byte| byte == b'\n')?;
        end += newline + 1;
    }
    let header = std::str::from_utf8(&plaintext[..end]).ok()?;
    header
        .starts_with(MAGIC)
        .then(|| (header.to_owned(), &plaintext[end..]))
}
