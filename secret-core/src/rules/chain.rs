//! The signed access rules: a chain of versions kept in the store (`[_rules.N]`), each the
//! changes to the one before, signed by someone who held the authority to make them under
//! the one before. Verified without any key, as TUF clients verify a root role's versions.
//!
//! The rules of verification ([`verify`]):
//!
//! - versions are numbered 1, 2, 3, ... with no gap and no repeat;
//! - each version's changes apply to the rules before it: a fact added is new, a fact
//!   removed existed; the result is a valid `secrets.toml` (`facts::config_of`);
//! - each version's message ([`message`]) binds the repository's identity, the version
//!   number, the digest of the version before, the signing time and the changes; every
//!   signature listed must verify over it, and there is at least one;
//! - version 1 (the trust root) has exactly one `repository` fact and a signature by one of
//!   its own admins ([`super::admins`]); later versions never change the repository;
//! - every change of a later version is signed by one of the admins of the version before,
//!   or by someone who could write the scope it changes under the version before
//!   ([`authority`]): a production writer changes who reads or writes production, the
//!   writers of a type declare environments of that type, unless the name (or pattern)
//!   takes names that already resolve to an environment, whose writers must sign then.
//!
//! A pin from outside the repository ([`Pin`]: a CI setting a pusher cannot change) must
//! match: a key that signed version 1, or the digest of one of the versions.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;

use super::facts::{Fact, config_of};
use crate::config::Config;
use crate::env::{EnvType, Scope};
use crate::store::RulesVersion;

/// The first line of every rules message: the format, so a signature over a rules version
/// is never one over a value or anything else.
const DOMAIN: &str = "secrets.enc.toml rules signature v1";

/// One change of a rules version: a fact added or removed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// `true` for `+ fact`, `false` for `- fact`.
    pub added: bool,
    /// The fact.
    pub fact: Fact,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", if self.added { '+' } else { '-' }, self.fact)
    }
}

/// The changes that turn `old` into `new`, removals first, each group in fact order.
pub fn diff(old: &BTreeSet<Fact>, new: &BTreeSet<Fact>) -> Vec<Change> {
    let removed = old.difference(new).map(|fact| Change {
        added: false,
        fact: fact.clone(),
    });
    let added = new.difference(old).map(|fact| Change {
        added: true,
        fact: fact.clone(),
    });
    removed.chain(added).collect()
}

/// The text signed for a rules version: the domain, the repository, the version number, the
/// digest of the version before (`none` for version 1), the time and the changes.
pub fn message(
    repository: &str,
    version: u64,
    previous: Option<&str>,
    signed: &str,
    changes: &[String],
) -> String {
    let mut text = format!(
        "{DOMAIN}\nrepository {repository}\nversion {version}\nprevious {}\nsigned {signed}\n",
        previous.unwrap_or("none")
    );
    for change in changes {
        text.push_str(change);
        text.push('\n');
    }
    text
}

/// The digest that names a rules version: `sha256:` and the hex SHA-256 of its message.
pub fn digest(message: &str) -> String {
    format!("sha256:{}", crate::sign::sha256_hex(message.as_bytes()))
}

/// A trust anchor given from outside the repository (`--trust`, `SECRETS_TRUST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// An age public key that signed version 1 of the rules.
    Key(String),
    /// The digest (`sha256:...`) of one version of the rules.
    Digest(String),
}

impl Pin {
    /// Reads `age1...` or `sha256:<64 hex digits>`.
    pub fn parse(text: &str) -> Result<Pin, String> {
        let text = text.trim();
        if let Some(hex) = text.strip_prefix("sha256:") {
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(Pin::Digest(format!("sha256:{}", hex.to_ascii_lowercase())));
            }
            return Err(format!(
                "`{}` is not a rules digest: `sha256:` and 64 hex digits, as `cargo xtask secret rules` prints",
                crate::text::escape_control(text)
            ));
        }
        crate::recipient::check_recipient(text)
            .map(|()| Pin::Key(text.to_owned()))
            .map_err(|reason| {
                format!(
                    "`{}` is neither an age public key (`age1...`) nor a rules digest (`sha256:...`): {reason}",
                    crate::text::escape_control(text)
                )
            })
    }
}

/// One verified version of the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedVersion {
    /// Its number.
    pub version: u64,
    /// Its digest ([`digest`] of its message).
    pub digest: String,
    /// When it was signed, as its signers claim.
    pub signed: String,
    /// Who signed it.
    pub signers: Vec<String>,
    /// Its changes.
    pub changes: Vec<Change>,
}

/// The access rules as their signatures establish them.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The store's identity.
    pub repository: String,
    /// Every version, oldest first.
    pub versions: Vec<VerifiedVersion>,
    /// The facts of the newest version.
    pub facts: BTreeSet<Fact>,
    /// The newest version as a configuration (what `secrets.toml` should say).
    pub config: Config,
}

impl Verified {
    /// The newest version.
    pub fn newest(&self) -> &VerifiedVersion {
        self.versions
            .last()
            .expect("a verified chain has a version")
    }

    /// Version 1: the trust root.
    pub fn root(&self) -> &VerifiedVersion {
        &self.versions[0]
    }
}

/// The details of [`ChainError::Unauthorized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unauthorized {
    /// The version.
    pub version: u64,
    /// The store line of its table.
    pub line: usize,
    /// The change.
    pub change: Change,
    /// Who signed the version.
    pub signers: Vec<String>,
    /// Who could have signed the change.
    pub allowed: Vec<String>,
}

/// Why the rules cannot be trusted. Every reader refuses every value then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// The store has no signed rules.
    Missing,
    /// The versions are not 1, 2, 3, ... (`expected`, `found`).
    Gap {
        /// The version that should come next.
        expected: u64,
        /// The version found there.
        found: u64,
    },
    /// A version is malformed: a change that does not apply, facts that do not make a valid
    /// `secrets.toml`, no signature, a changed repository.
    Malformed {
        /// The version.
        version: u64,
        /// The store line of its table.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A signature of a version does not verify.
    BadSignature {
        /// The version.
        version: u64,
        /// The store line of its table.
        line: usize,
        /// The key it claims.
        signer: String,
    },
    /// A change is signed by nobody who could make it.
    Unauthorized(Box<Unauthorized>),
    /// The rules do not match the pin given from outside the repository.
    PinMismatch {
        /// The pin.
        pin: Pin,
    },
}

impl ChainError {
    /// The problem in one sentence (names the version and the key, never a value).
    pub fn describe(&self) -> String {
        use crate::text::escape_control as esc;
        match self {
            Self::Missing => "the store has no signed access rules".to_owned(),
            Self::Gap { expected: 1, found } => format!(
                "the access rules start at version {found}: version 1, the trust root, is missing"
            ),
            Self::Gap { expected, found } => format!(
                "the access rules jump from version {} to version {found}: version {expected} is missing",
                expected - 1
            ),
            Self::Malformed {
                version, reason, ..
            } => format!("version {version} of the access rules is invalid: {reason}"),
            Self::BadSignature {
                version, signer, ..
            } => format!(
                "version {version} of the access rules carries a signature by {} that does not verify: the rules were changed after signing, or the signature was made up",
                esc(signer)
            ),
            Self::Unauthorized(details) => {
                let Unauthorized {
                    version,
                    change,
                    signers,
                    allowed,
                    ..
                } = &**details;
                format!(
                    "version {version} of the access rules makes the change `{}`, signed by {}, who may not make it; {}",
                    esc(&change.to_string()),
                    esc(&signers.join(", ")),
                    if allowed.is_empty() {
                        "only an admin may".to_owned()
                    } else {
                        format!(
                            "it needs a signature by one of {}",
                            esc(&allowed.join(", "))
                        )
                    }
                )
            }
            Self::PinMismatch { pin } => match pin {
                Pin::Key(key) => format!(
                    "the access rules are not rooted in the pinned key {}: version 1 carries no valid signature by it",
                    esc(key)
                ),
                Pin::Digest(digest) => format!(
                    "the access rules do not contain the pinned version {}",
                    esc(digest)
                ),
            },
        }
    }

    /// The line of the store table the problem is in, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. } | Self::BadSignature { line, .. } => Some(*line),
            Self::Unauthorized(details) => Some(details.line),
            _ => None,
        }
    }
}

/// Reads the changes of a rules version.
pub(crate) fn parse_changes(lines: &[String]) -> Result<Vec<Change>, String> {
    lines
        .iter()
        .map(|line| {
            let (sign, fact) = line
                .split_at_checked(2)
                .ok_or_else(|| format!("`{line}` is not a change"))?;
            let added = match sign {
                "+ " => true,
                "- " => false,
                _ => return Err(format!("`{line}` is not a change")),
            };
            Ok(Change {
                added,
                fact: Fact::parse(fact)?,
            })
        })
        .collect()
}

/// Verifies the chain of rules versions `rules` (from a store at `store_path`, whose
/// `secrets.toml` is `config_path`), anchored at `pin` when one is given.
pub fn verify(
    rules: &[RulesVersion],
    config_path: &Path,
    pin: Option<&Pin>,
) -> Result<Verified, ChainError> {
    if rules.is_empty() {
        // A pin says there are signed rules rooted there: none at all is not that.
        return Err(match pin {
            Some(pin) => ChainError::PinMismatch { pin: pin.clone() },
            None => ChainError::Missing,
        });
    }
    let mut facts: BTreeSet<Fact> = BTreeSet::new();
    let mut config = Config {
        path: config_path.to_owned(),
        ..Config::default()
    };
    let mut repository = String::new();
    let mut previous: Option<String> = None;
    let mut versions = Vec::new();
    // Checked in one batch first; each signature is then a cache hit.
    let messages: Vec<Option<String>> = {
        let mut prior: Option<String> = None;
        let mut repo = String::new();
        rules
            .iter()
            .map(|version| {
                let changes = parse_changes(&version.changes).ok()?;
                if version.version == 1 {
                    repo = changes.iter().find_map(|change| match &change.fact {
                        Fact::Repository(id) if change.added => Some(id.clone()),
                        _ => None,
                    })?;
                }
                let text = message(
                    &repo,
                    version.version,
                    prior.as_deref(),
                    &version.signed,
                    &version.changes,
                );
                prior = Some(digest(&text));
                Some(text)
            })
            .collect()
    };
    let decoded: Vec<Vec<(String, Vec<u8>)>> = rules
        .iter()
        .map(|version| {
            version
                .signatures
                .iter()
                .map(|(signer, signature)| {
                    (
                        signer.clone(),
                        base64::engine::general_purpose::STANDARD
                            .decode(signature)
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .collect();
    {
        let mut items: Vec<(&str, &[u8], &[u8])> = Vec::new();
        for (text, signatures) in messages.iter().zip(&decoded) {
            if let Some(text) = text {
                for (signer, signature) in signatures {
                    items.push((signer, text.as_bytes(), signature));
                }
            }
        }
        if items.len() > 1 {
            crate::sign::verify_batch(&items);
        }
    }
    for (index, version) in rules.iter().enumerate() {
        let expected = index as u64 + 1;
        if version.version != expected {
            return Err(ChainError::Gap {
                expected,
                found: version.version,
            });
        }
        let malformed = |reason: String| ChainError::Malformed {
            version: expected,
            line: version.line,
            reason,
        };
        let changes = parse_changes(&version.changes).map_err(malformed)?;
        if changes.is_empty() {
            return Err(malformed("it changes nothing".to_owned()));
        }
        let mut next = facts.clone();
        for change in &changes {
            let applied = if change.added {
                next.insert(change.fact.clone())
            } else {
                next.remove(&change.fact)
            };
            if !applied {
                return Err(malformed(format!(
                    "the change `{change}` does not apply to version {}",
                    expected - 1
                )));
            }
        }
        let repositories: Vec<&String> = next
            .iter()
            .filter_map(|fact| match fact {
                Fact::Repository(id) => Some(id),
                _ => None,
            })
            .collect();
        match (expected, repositories.as_slice()) {
            (1, [id]) => repository = (*id).clone(),
            (1, _) => {
                return Err(malformed(
                    "version 1 must name exactly one repository".to_owned(),
                ));
            }
            (_, [id]) if **id == repository => {}
            _ => {
                return Err(malformed(
                    "the repository's identity never changes after version 1".to_owned(),
                ));
            }
        }
        let next_config = config_of(&next, config_path).map_err(|error| {
            malformed(format!(
                "its rules are not a valid secrets.toml: {}",
                error.message
            ))
        })?;
        let text = messages[index]
            .clone()
            .expect("a version whose changes parse has a message");
        if version.signatures.is_empty() {
            return Err(malformed("it has no signature".to_owned()));
        }
        let mut signers = Vec::new();
        for (signer, signature) in &decoded[index] {
            if !crate::sign::verify(signer, text.as_bytes(), signature) {
                return Err(ChainError::BadSignature {
                    version: expected,
                    line: version.line,
                    signer: signer.clone(),
                });
            }
            signers.push(signer.clone());
        }
        if expected == 1 {
            let admins = super::admins(&next_config);
            if !signers.iter().any(|signer| admins.contains(signer)) {
                return Err(ChainError::Unauthorized(Box::new(Unauthorized {
                    version: 1,
                    line: version.line,
                    change: changes[0].clone(),
                    signers,
                    allowed: admins,
                })));
            }
        } else {
            let admins = super::admins(&config);
            for change in &changes {
                let mut allowed = authority(&config, &next_config, &change.fact);
                allowed.extend(admins.iter().cloned());
                allowed.sort();
                allowed.dedup();
                if !signers.iter().any(|signer| allowed.contains(signer)) {
                    return Err(ChainError::Unauthorized(Box::new(Unauthorized {
                        version: expected,
                        line: version.line,
                        change: change.clone(),
                        signers,
                        allowed,
                    })));
                }
            }
        }
        let version_digest = digest(&text);
        versions.push(VerifiedVersion {
            version: expected,
            digest: version_digest.clone(),
            signed: version.signed.clone(),
            signers,
            changes,
        });
        previous = Some(version_digest);
        facts = next;
        config = next_config;
    }
    let _ = previous;
    match pin {
        Some(Pin::Key(key)) if !versions[0].signers.contains(key) => {
            return Err(ChainError::PinMismatch {
                pin: Pin::Key(key.clone()),
            });
        }
        Some(Pin::Digest(wanted)) if !versions.iter().any(|version| &version.digest == wanted) => {
            return Err(ChainError::PinMismatch {
                pin: Pin::Digest(wanted.clone()),
            });
        }
        _ => {}
    }
    Ok(Verified {
        repository,
        versions,
        facts,
        config,
    })
}

/// Who, besides the admins of `old`, may sign a change of `fact` made to the rules `old`
/// (turning them into `new`): the writers, under `old`, of the type or environment the fact
/// is about. An environment declared under a name that already resolves (through a
/// pattern), or a pattern overlapping other patterns (a name matching both goes to the
/// longer one), takes those names from whatever they resolved to: only someone who could
/// write all of those environments may sign it. Facts about the whole store (the
/// repository, admins, the backend, `[aws]`) only admins may change.
pub fn authority(old: &Config, new: &Config, fact: &Fact) -> Vec<String> {
    let of_type = |ty: EnvType| super::writers_for(old, &Scope::Types([ty].into()));
    let of_env = |name: &str| super::writers_for(old, &Scope::Envs([name.to_owned()].into()));
    match fact {
        Fact::Environment { name, ty } => {
            let taken: Vec<Vec<String>> = if name.contains('*') {
                old.environments
                    .keys()
                    .filter(|other| {
                        *other != name
                            && other.contains('*')
                            && crate::env::patterns_overlap(name, other)
                    })
                    .map(|other| of_env(other))
                    .collect()
            } else if !old.environments.contains_key(name) && old.resolve_env(name).is_ok() {
                vec![of_env(name)]
            } else {
                Vec::new()
            };
            let mut taken = taken.into_iter();
            match taken.next() {
                None => of_type(*ty),
                Some(first) => taken.fold(first, |all, next| {
                    all.into_iter().filter(|key| next.contains(key)).collect()
                }),
            }
        }
        Fact::Recipient { level, .. } | Fact::Writer { level, .. } => {
            if let Some(ty) = EnvType::parse(level) {
                of_type(ty)
            } else if old.environments.contains_key(level) {
                super::writers_for(old, &Scope::Envs([level.clone()].into()))
            } else if let Some(ty) = new.environments.get(level) {
                of_type(*ty)
            } else {
                Vec::new()
            }
        }
        Fact::Repository(_)
        | Fact::Admin(_)
        | Fact::Types(_)
        | Fact::Person { .. }
        | Fact::Backend { .. }
        | Fact::Aws { .. } => Vec::new(),
    }
}
