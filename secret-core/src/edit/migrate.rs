//! `secret migrate`: brings a store written before signed access rules up to the current
//! format, and nothing else.
//!
//! - The trust root: the access rules of `secrets.toml` as it stands, signed by an admin
//!   (created when the store has no signed rules).
//! - Values of store format 2, whose signature verifies and whose writer may write them
//!   under those rules, are signed again in the current format (the same ciphertext, no key
//!   to read it needed), by a writer of their scope.
//! - Values of store format 1 carry no signature at all: each is signed only when the person
//!   migrating accepts it by name (`--accept NAME@SCOPE`, or at the prompt, after seeing who
//!   committed it), decrypted and encrypted again.
//!
//! A value whose signature is present but does not verify, or whose writer may not write it,
//! is never signed again: it was changed after signing, or written by someone else.

use super::write::{RulesSigned, Writer, sign_rules};
use crate::config::Config;
use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;
use crate::store::Store;
use crate::trust::{Trust, legacy_trust, stanza_mismatch};

/// Why a value needs `migrate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateKind {
    /// Store format 1: no signature; signed only when accepted by name.
    Unsigned,
    /// Store format 2, validly signed by a writer of its scope: signed again as is.
    Legacy {
        /// Its writer.
        writer: String,
    },
    /// A signature that does not verify, or a writer who may not write it: never signed
    /// again by `migrate`.
    Refused {
        /// Why.
        trust: Trust,
    },
}

/// A value of an older format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The secret.
    pub name: String,
    /// The value's scope.
    pub scope: Scope,
    /// Its line in the store.
    pub line: usize,
    /// What `migrate` does with it.
    pub kind: CandidateKind,
}

/// The values of `store` that predate the current format, judged by `config`.
pub fn migration_candidates(store: &Store, config: &Config) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            if entry.version.is_some() {
                continue;
            }
            let kind = match legacy_trust(config, name, scope, entry) {
                Trust::Unsigned => CandidateKind::Unsigned,
                Trust::Signed { writer } => CandidateKind::Legacy { writer },
                trust => CandidateKind::Refused { trust },
            };
            candidates.push(Candidate {
                name: name.to_owned(),
                scope: scope.clone(),
                line: entry.line,
                kind,
            });
        }
    }
    candidates
}

/// What [`migrate`] did.
#[derive(Debug, Default)]
pub struct Migrated {
    /// The trust root, when it was created.
    pub rules: Option<RulesSigned>,
    /// The values signed in the current format: `(name, scope, was unsigned)`.
    pub done: Vec<(String, Scope, bool)>,
    /// The values that could not be migrated, and why.
    pub failed: Vec<Error>,
}

/// Migrates `store` (see the module docs). `accepted` are the format-1 values the person
/// migrating vouches for. The trust root's signature failing stops everything; a value that
/// cannot be migrated is reported and left as it was.
pub fn migrate(
    store: &mut Store,
    config: &Config,
    identities: &Identities,
    accepted: &[(String, Scope)],
) -> Result<Migrated, Error> {
    let candidates = migration_candidates(store, config);
    let mut report = Migrated::default();
    if store.rules().is_empty() {
        // The root is signed over the rules as written; the values are judged by them.
        let legacy = std::mem::take(&mut store.entries);
        let removals = std::mem::take(&mut store.removals);
        let signed = sign_rules(store, config, identities);
        store.entries = legacy;
        store.removals = removals;
        report.rules = signed?;
    }
    let before = store.clone();
    let writer = Writer::new(store, config, identities)?;
    for candidate in candidates {
        let Candidate {
            name, scope, kind, ..
        } = candidate;
        let result = match kind {
            CandidateKind::Legacy { .. } => {
                let entry = before.get(&name, &scope).expect("a candidate is stored");
                if stanza_mismatch(entry).is_some() {
                    // Its header does not match its recipients (an extra stanza): it is
                    // encrypted again rather than vouched for as it is.
                    before
                        .decrypt_unverified(&name, &scope, identities)
                        .and_then(|value| {
                            writer.put(store, &name, &scope, &value, Some(entry), &[])
                        })
                } else {
                    writer.vouch(store, &name, &scope, &[])
                }
                .map(|()| report.done.push((name.clone(), scope.clone(), false)))
            }
            CandidateKind::Unsigned => {
                if !accepted.iter().any(|(n, s)| *n == name && *s == scope) {
                    continue;
                }
                let entry = before.get(&name, &scope).expect("a candidate is stored");
                before
                    .decrypt_unverified(&name, &scope, identities)
                    .and_then(|value| writer.put(store, &name, &scope, &value, Some(entry), &[]))
                    .map(|()| report.done.push((name.clone(), scope.clone(), true)))
            }
            CandidateKind::Refused { .. } => continue,
        };
        if let Err(error) = result {
            report.failed.push(error);
        }
    }
    Ok(report)
}
