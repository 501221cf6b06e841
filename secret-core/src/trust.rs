//! Who may write a value, and whether a stored value can be trusted: its signature, its
//! writer, its recipients against `secrets.toml`, and who it was exposed to. Everything here
//! reads only public data (names, scopes, recipients, signatures), so the check runs it
//! without any key.
//!
//! A value is trusted when it carries a valid signature by one of the scope's writers. The
//! signature covers the secret's name, the scope, the recipient list, the exposure list,
//! the writer, the time and the ciphertext: a value copied to another slot, re-encrypted to
//! other keys, or written by anyone else is refused by every reader.

use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(feature = "verify")]
use base64::Engine as _;

use crate::config::Config;
use crate::env::Scope;
use crate::rules::recipients_for;
#[cfg(feature = "verify")]
use crate::rules::writers_for;
use crate::store::Entry;
#[cfg(feature = "verify")]
use crate::store::{Exposure, normalized_armor};

#[cfg(feature = "verify")]
/// The first line of every signed message: the format, so a signature can never be
/// replayed as one of another kind.
const DOMAIN: &str = "secrets.enc.toml value signature v2";

/// What a reader may conclude from a stored value's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Signed by one of the scope's writers.
    Signed {
        /// The writer's age public key.
        writer: String,
    },
    /// No signature: written by a version of the tool that did not sign (store format 1),
    /// or by hand.
    Unsigned,
    /// The signature does not verify for the writer it names: the value, its recipients or
    /// its place were changed after signing, or the signature was made up.
    BadSignature {
        /// The writer the value claims.
        writer: String,
    },
    /// A valid signature by someone who may not write this scope.
    NotAllowed {
        /// The writer.
        writer: String,
        /// Who may write the scope.
        allowed: Vec<String>,
    },
}

impl Trust {
    /// Whether readers accept the value.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Signed { .. })
    }

    /// The writer the value names, if it names one.
    pub fn writer(&self) -> Option<&str> {
        match self {
            Self::Signed { writer }
            | Self::BadSignature { writer }
            | Self::NotAllowed { writer, .. } => Some(writer),
            Self::Unsigned => None,
        }
    }
}

#[cfg(feature = "verify")]
/// The text a writer signs for a value.
pub(crate) fn message(
    name: &str,
    scope: &Scope,
    entry_recipients: &[String],
    exposed: &[Exposure],
    writer: &str,
    written: &str,
    ciphertext: &str,
) -> String {
    let exposed: Vec<String> = exposed
        .iter()
        .map(|exposure| format!("{} {}", exposure.recipient, exposure.since))
        .collect();
    let digest = crate::sign::sha256_hex(normalized_armor(ciphertext).as_bytes());
    format!(
        "{DOMAIN}\nname {name}\nscope {}\nrecipients {}\nexposed {}\nwriter {writer}\nwritten {written}\nciphertext sha256:{digest}\n",
        scope.key(),
        entry_recipients.join(","),
        exposed.join(","),
    )
}

#[cfg(feature = "verify")]
/// What the signature of a signed `entry` is checked on: the writer, the signed message and
/// the signature bytes (empty when they are not base64, which no check accepts).
fn signed_parts<'a>(
    name: &str,
    scope: &Scope,
    entry: &'a Entry,
) -> Option<(&'a str, String, Vec<u8>)> {
    let signed = entry.signed.as_ref()?;
    let message = message(
        name,
        scope,
        &entry.recipients,
        &entry.exposed,
        &signed.writer,
        &signed.written,
        &entry.ciphertext,
    );
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&signed.signature)
        .unwrap_or_default();
    Some((&signed.writer, message, signature))
}

#[cfg(feature = "verify")]
/// Checks the signatures of many values in one batch ([`crate::sign::verify_batch`]), so
/// that [`trust`] of each of them is cheaper afterwards; what [`trust`] says is unchanged.
/// For a program about to decrypt many values at once.
pub fn preverify<'a>(values: impl IntoIterator<Item = (&'a str, &'a Scope, &'a Entry)>) {
    let parts: Vec<_> = values
        .into_iter()
        .filter_map(|(name, scope, entry)| signed_parts(name, scope, entry))
        .collect();
    let items: Vec<(&str, &[u8], &[u8])> = parts
        .iter()
        .map(|(writer, message, signature)| (*writer, message.as_bytes(), signature.as_slice()))
        .collect();
    if items.len() > 1 {
        crate::sign::verify_batch(&items);
    }
}

#[cfg(feature = "verify")]
/// Whether `entry`, stored for (`name`, `scope`), is signed by one of the scope's writers.
pub fn trust(config: &Config, name: &str, scope: &Scope, entry: &Entry) -> Trust {
    let Some((writer, message, signature)) = signed_parts(name, scope, entry) else {
        return Trust::Unsigned;
    };
    if !crate::sign::verify(writer, message.as_bytes(), &signature) {
        return Trust::BadSignature {
            writer: writer.to_owned(),
        };
    }
    let allowed = writers_for(config, scope);
    if !allowed.iter().any(|allowed| allowed == writer) {
        return Trust::NotAllowed {
            writer: writer.to_owned(),
            allowed,
        };
    }
    Trust::Signed {
        writer: writer.to_owned(),
    }
}

/// How a value's recipients differ from what `secrets.toml` says now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Recipients of the value who are no longer allowed to read it.
    pub stale: Vec<String>,
    /// People allowed to read the value who cannot.
    pub unreadable: Vec<String>,
}

impl Drift {
    /// Whether the recipients are exactly the allowed ones.
    pub fn is_empty(&self) -> bool {
        self.stale.is_empty() && self.unreadable.is_empty()
    }
}

/// Compares `entry`'s recipients with those `secrets.toml` gives `scope`.
pub fn drift(config: &Config, scope: &Scope, entry: &Entry) -> Drift {
    let wanted = recipients_for(config, scope);
    Drift {
        stale: entry
            .recipients
            .iter()
            .filter(|key| !wanted.contains(key))
            .cloned()
            .collect(),
        unreadable: wanted
            .iter()
            .filter(|key| !entry.recipients.contains(key))
            .cloned()
            .collect(),
    }
}

/// The current time, UTC, as RFC 3339 to the second (`2026-11-30T04:10:27Z`).
pub fn now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    format_time(seconds)
}

/// `seconds` since the Unix epoch as RFC 3339 UTC.
pub fn format_time(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_time(1_796_012_227), "2026-11-30T04:17:07Z");
    }
}
