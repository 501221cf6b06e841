//! Whether a stored value can be trusted: its signature, its writer, its age header against
//! its recipients, its recipients against the rules, and who it was exposed to. Everything
//! here reads only public data (names, scopes, recipients, signatures, headers), so the
//! check runs it without any key.
//!
//! A value is trusted when it carries a valid signature (format 3) by one of the scope's
//! writers under the signed access rules, and its age header holds exactly one X25519
//! stanza per signed recipient. The signature covers the repository's identity, the
//! secret's name, the scope, the slot's version, the recipient list, the exposure list, the
//! writer, the time and the ciphertext: a value copied to another slot or another
//! repository, an older value copied back over a newer one (its version), a value
//! re-encrypted to other keys, or one written by anyone else is refused by every reader.
//! A removal ([`Removal`]) is signed the same way, so a slot cannot be emptied without a
//! writer's signature either.

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
use crate::store::{Exposure, Removal, normalized_armor};

/// The first line of every value signature of store format 3: the format, so a signature
/// can never be replayed as one of another kind.
#[cfg(feature = "verify")]
const DOMAIN: &str = "secrets.enc.toml value signature v3";
/// The first line of a value signature of store format 2 (read by `migrate` only).
#[cfg(feature = "verify")]
const LEGACY_DOMAIN: &str = "secrets.enc.toml value signature v2";

/// What a reader may conclude from a stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Signed by one of the scope's writers; its header matches its recipients.
    Signed {
        /// The writer's age public key.
        writer: String,
    },
    /// No signature: written by a version of the tool that did not sign (store format 1),
    /// or by hand.
    Unsigned,
    /// Signed the way store format 2 signed values (without the repository or a version):
    /// refused until a writer of the scope signs it again with `cargo xtask secret migrate`.
    Legacy {
        /// The writer it names.
        writer: String,
    },
    /// The signature does not verify for the writer it names: the value, its recipients, its
    /// version or its place were changed after signing, it was signed for another
    /// repository, or the signature was made up.
    BadSignature {
        /// The writer the value claims.
        writer: String,
    },
    /// A valid signature by someone who may not write this scope under the signed rules.
    NotAllowed {
        /// The writer.
        writer: String,
        /// Who may write the scope.
        allowed: Vec<String>,
        /// Whether `secrets.toml` makes the writer a writer of the scope in a change nobody
        /// signed yet.
        unsigned_grant: bool,
    },
    /// The age header does not match the signed recipients: more X25519 stanzas than
    /// recipients (a hidden reader), fewer, or stanzas of another kind.
    HiddenReaders {
        /// The writer it names.
        writer: String,
        /// The X25519 stanzas in the header.
        x25519: usize,
        /// The signed recipients.
        recipients: usize,
        /// The types of other stanzas found.
        other: Vec<String>,
    },
    /// The access rules themselves cannot be trusted (no signed rules, a broken chain), so
    /// no value can be.
    RulesUntrusted {
        /// Why (one sentence).
        reason: String,
    },
}

impl Trust {
    /// Whether readers accept the value.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Signed { .. })
    }

    /// A short stable name of the verdict, for machine-readable output: `signed`,
    /// `unsigned`, `legacy`, `bad-signature`, `unauthorized-writer`, `hidden-readers`,
    /// `rules-untrusted`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Signed { .. } => "signed",
            Self::Unsigned => "unsigned",
            Self::Legacy { .. } => "legacy",
            Self::BadSignature { .. } => "bad-signature",
            Self::NotAllowed { .. } => "unauthorized-writer",
            Self::HiddenReaders { .. } => "hidden-readers",
            Self::RulesUntrusted { .. } => "rules-untrusted",
        }
    }

    /// The writer the value names, if it names one.
    pub fn writer(&self) -> Option<&str> {
        match self {
            Self::Signed { writer }
            | Self::Legacy { writer }
            | Self::BadSignature { writer }
            | Self::NotAllowed { writer, .. }
            | Self::HiddenReaders { writer, .. } => Some(writer),
            Self::Unsigned | Self::RulesUntrusted { .. } => None,
        }
    }
}

/// The signed access rules a value is judged by: the rules' configuration and the
/// repository's identity (from [`crate::rules::chain::Verified`]).
#[derive(Debug, Clone, Copy)]
pub struct Authority<'a> {
    /// The signed rules, as a configuration.
    pub config: &'a Config,
    /// The store's identity.
    pub repository: &'a str,
}

/// The text a writer signs for a value of store format 3.
#[cfg(feature = "verify")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn message(
    repository: &str,
    name: &str,
    scope: &Scope,
    version: u64,
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
        "{DOMAIN}\nrepository {repository}\nname {name}\nscope {}\nversion {version}\nrecipients {}\nexposed {}\nwriter {writer}\nwritten {written}\nciphertext sha256:{digest}\n",
        scope.key(),
        entry_recipients.join(","),
        exposed.join(","),
    )
}

/// The text a writer signs to remove the value of a slot.
#[cfg(feature = "verify")]
pub(crate) fn removal_message(
    repository: &str,
    name: &str,
    scope: &Scope,
    version: u64,
    writer: &str,
    written: &str,
) -> String {
    format!(
        "{DOMAIN}\nrepository {repository}\nname {name}\nscope {}\nversion {version}\nremoved\nwriter {writer}\nwritten {written}\n",
        scope.key(),
    )
}

/// The text a writer signed for a value of store format 2.
#[cfg(feature = "verify")]
fn legacy_message(name: &str, scope: &Scope, entry: &Entry, writer: &str, written: &str) -> String {
    let exposed: Vec<String> = entry
        .exposed
        .iter()
        .map(|exposure| format!("{} {}", exposure.recipient, exposure.since))
        .collect();
    let digest = crate::sign::sha256_hex(normalized_armor(&entry.ciphertext).as_bytes());
    format!(
        "{LEGACY_DOMAIN}\nname {name}\nscope {}\nrecipients {}\nexposed {}\nwriter {writer}\nwritten {written}\nciphertext sha256:{digest}\n",
        scope.key(),
        entry.recipients.join(","),
        exposed.join(","),
    )
}

/// What the signature of a format-3 `entry` is checked on: the writer, the signed message
/// and the signature bytes (empty when they are not base64, which no check accepts).
#[cfg(feature = "verify")]
fn signed_parts<'a>(
    repository: &str,
    name: &str,
    scope: &Scope,
    entry: &'a Entry,
) -> Option<(&'a str, String, Vec<u8>)> {
    let signed = entry.signed.as_ref()?;
    let version = entry.version?;
    let message = message(
        repository,
        name,
        scope,
        version,
        &entry.recipients,
        &entry.exposed,
        &signed.writer,
        &signed.written,
        &entry.ciphertext,
    );
    Some((&signed.writer, message, decode(&signed.signature)))
}

#[cfg(feature = "verify")]
fn decode(signature: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(signature)
        .unwrap_or_default()
}

/// Checks the signatures of many values in one batch (`sign::verify_batch`), so
/// that [`trust`] of each of them is cheaper afterwards; what [`trust`] says is unchanged.
/// For a program about to decrypt many values at once.
#[cfg(feature = "verify")]
pub(crate) fn preverify<'a>(
    repository: &str,
    values: impl IntoIterator<Item = (&'a str, &'a Scope, &'a Entry)>,
) {
    let parts: Vec<_> = values
        .into_iter()
        .filter_map(|(name, scope, entry)| signed_parts(repository, name, scope, entry))
        .collect();
    let items: Vec<(&str, &[u8], &[u8])> = parts
        .iter()
        .map(|(writer, message, signature)| (*writer, message.as_bytes(), signature.as_slice()))
        .collect();
    if items.len() > 1 {
        crate::sign::verify_batch(&items);
    }
}

/// Whether `entry`, stored for (`name`, `scope`), is signed by one of the scope's writers
/// under `authority`, and its header holds exactly its recipients' stanzas. `proposed` is
/// `secrets.toml` as written, to tell a writer granted only by an unsigned change.
#[cfg(feature = "verify")]
pub fn trust(
    authority: Authority<'_>,
    proposed: Option<&Config>,
    name: &str,
    scope: &Scope,
    entry: &Entry,
) -> Trust {
    if entry.signed.is_none() {
        return Trust::Unsigned;
    }
    let Some((writer, message, signature)) = signed_parts(authority.repository, name, scope, entry)
    else {
        // Signed the way store format 2 did: `migrate` signs it again only when that old
        // signature verifies by a writer of the scope, so only then is it `Legacy`.
        return match legacy_trust(authority.config, name, scope, entry) {
            Trust::Signed { writer } => Trust::Legacy { writer },
            other => other,
        };
    };
    if !crate::sign::verify(writer, message.as_bytes(), &signature) {
        return Trust::BadSignature {
            writer: writer.to_owned(),
        };
    }
    let allowed = writers_for(authority.config, scope);
    if !allowed.iter().any(|allowed| allowed == writer) {
        let unsigned_grant = proposed
            .is_some_and(|proposed| writers_for(proposed, scope).iter().any(|w| w == writer));
        return Trust::NotAllowed {
            writer: writer.to_owned(),
            allowed,
            unsigned_grant,
        };
    }
    if let Some((x25519, other)) = stanza_mismatch(entry) {
        return Trust::HiddenReaders {
            writer: writer.to_owned(),
            x25519,
            recipients: entry.recipients.len(),
            other,
        };
    }
    Trust::Signed {
        writer: writer.to_owned(),
    }
}

/// When `entry`'s age header does not hold exactly one X25519 stanza per recipient and
/// nothing else: the number of X25519 stanzas and the types of the others. A header that
/// does not parse counts as no stanza at all.
#[cfg(feature = "verify")]
pub(crate) fn stanza_mismatch(entry: &Entry) -> Option<(usize, Vec<String>)> {
    let (x25519, other) = match secret_age::parse_header(entry.ciphertext.as_bytes()) {
        Ok(header) => {
            let other: Vec<String> = header
                .stanzas()
                .iter()
                .filter(|stanza| stanza.tag() != "X25519")
                .map(|stanza| crate::text::escape_control(stanza.tag()).into_owned())
                .collect();
            (header.count("X25519"), other)
        }
        Err(_) => (0, Vec::new()),
    };
    (x25519 != entry.recipients.len() || !other.is_empty()).then_some((x25519, other))
}

/// Whether the removal of (`name`, `scope`) is signed by one of the scope's writers under
/// `authority`: [`Trust::Signed`], [`Trust::BadSignature`] or [`Trust::NotAllowed`].
#[cfg(feature = "verify")]
pub fn removal_trust(
    authority: Authority<'_>,
    name: &str,
    scope: &Scope,
    removal: &Removal,
) -> Trust {
    let signed = &removal.signed;
    let message = removal_message(
        authority.repository,
        name,
        scope,
        removal.version,
        &signed.writer,
        &signed.written,
    );
    if !crate::sign::verify(
        &signed.writer,
        message.as_bytes(),
        &decode(&signed.signature),
    ) {
        return Trust::BadSignature {
            writer: signed.writer.clone(),
        };
    }
    let allowed = writers_for(authority.config, scope);
    if !allowed.contains(&signed.writer) {
        return Trust::NotAllowed {
            writer: signed.writer.clone(),
            allowed,
            unsigned_grant: false,
        };
    }
    Trust::Signed {
        writer: signed.writer.clone(),
    }
}

/// How a format-2 value's signature stands under `config` (for `migrate`, which signs such
/// values again only when this is [`Trust::Signed`]).
#[cfg(feature = "verify")]
pub(crate) fn legacy_trust(config: &Config, name: &str, scope: &Scope, entry: &Entry) -> Trust {
    let Some(signed) = &entry.signed else {
        return Trust::Unsigned;
    };
    let message = legacy_message(name, scope, entry, &signed.writer, &signed.written);
    if !crate::sign::verify(
        &signed.writer,
        message.as_bytes(),
        &decode(&signed.signature),
    ) {
        return Trust::BadSignature {
            writer: signed.writer.clone(),
        };
    }
    let allowed = writers_for(config, scope);
    if !allowed.contains(&signed.writer) {
        return Trust::NotAllowed {
            writer: signed.writer.clone(),
            allowed,
            unsigned_grant: false,
        };
    }
    Trust::Signed {
        writer: signed.writer.clone(),
    }
}

/// How a value's recipients differ from what the rules say now.
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

/// Compares `entry`'s recipients with those `config` gives `scope`.
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
pub(crate) fn format_time(seconds: u64) -> String {
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
