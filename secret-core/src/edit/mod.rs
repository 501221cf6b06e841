//! Changing the store under the rules of the product: who a value is encrypted to, at most
//! one value per type (and per named environment) for each secret, moving scopes between
//! values, and re-encrypting after recipients changed.
//!
//! Moving or unsetting part of a value's scope (for example `development` out of a value
//! for `development, local`) re-encrypts the rest of that value for its narrower scope:
//! the ciphertext is bound to its scope, so it cannot be kept as is. That needs an identity
//! able to decrypt it; without one the operation fails and the store is left unchanged.
//! A value whose whole scope is moved or unset is removed, leaving a signed removal, which
//! needs a writer's key but no reader's.
//!
//! Every write goes by the signed access rules ([`crate::state`]), takes the slot's next
//! version and is signed by the writer; see [`Writer`].

use crate::config::Config;
use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;
use crate::state::State;
use crate::store::Store;

#[cfg(feature = "write")]
mod migrate;
#[cfg(feature = "write")]
mod rekey;
#[cfg(feature = "write")]
mod write;

#[cfg(feature = "write")]
pub use migrate::{Candidate, CandidateKind, Migrated, migrate, migration_candidates};
#[cfg(feature = "write")]
pub use rekey::{AccessChange, RekeyPlan, Rekeyed, plan_rekey, rekey};
#[cfg(feature = "write")]
pub use write::{RulesSigned, Writer, set, unset};

/// Fails with [`Error::NotAWriter`] unless one of `identities` may write `scope` under the
/// signed access rules of `state`: checked before a value is asked for.
pub fn check_writer(
    state: &State,
    name: &str,
    scope: &Scope,
    identities: &Identities,
) -> Result<(), Error> {
    match signer(state.effective(), name, scope, identities) {
        Ok(_) => Ok(()),
        Err(Error::NotAWriter(mut details)) => {
            // `secrets.toml` as written may already list the key: a change nobody who may
            // make it has signed yet.
            let written = crate::rules::writers_for(state.config(), scope);
            details.unsigned_grant = identities.signer_for(&written).is_some();
            Err(Error::NotAWriter(details))
        }
        Err(other) => Err(other),
    }
}

/// The signing key among `identities` that may write `scope` under `config` (the signed
/// rules), or [`Error::NotAWriter`].
pub(crate) fn signer<'a>(
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &'a Identities,
) -> Result<&'a crate::sign::SigningKey, Error> {
    let allowed = crate::rules::writers_for(config, scope);
    if let Some(signer) = identities.signer_for(&allowed) {
        return Ok(signer);
    }
    Err(Error::NotAWriter(Box::new(crate::error::NotAWriter {
        name: name.to_owned(),
        scope: scope.clone(),
        config: config.path.clone(),
        allowed,
        yours: identities.public_keys().to_vec(),
        identity_source: identities.source().to_string(),
        unsigned_grant: false,
    })))
}

/// What happened to another value of the secret when a scope was moved or unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// The value's scope before.
    pub from: Scope,
    /// Its scope after, or `None` when it was removed.
    pub to: Option<Scope>,
}

/// The scopes among `scopes` that overlap `scope` (same kind: types with types,
/// environments with environments), except `scope` itself.
fn overlapping_in<'a>(scopes: impl IntoIterator<Item = &'a Scope>, scope: &Scope) -> Vec<Scope> {
    scopes
        .into_iter()
        .filter(|other| *other != scope && other.overlaps(scope))
        .cloned()
        .collect()
}

/// The rule of `set` for one secret, wherever its values are kept (this file store, or the
/// Vault/OpenBao KV engine): given the scopes the secret has values for (`scopes`), setting
/// `scope` replaces a value with exactly that scope and fails with [`Error::Conflict`] when
/// other values overlap it, unless `moving`, which takes the overlap away from them. Returns
/// what happens to each overlapping value; applying it is the caller's part. `path` names
/// where the secret is kept, for the error.
pub fn plan_set<'a>(
    scopes: impl IntoIterator<Item = &'a Scope>,
    name: &str,
    scope: &Scope,
    moving: bool,
    path: &std::path::Path,
) -> Result<Vec<Narrowed>, Error> {
    let others = overlapping_in(scopes, scope);
    if !others.is_empty() && !moving {
        return Err(Error::Conflict {
            name: name.to_owned(),
            scope: scope.clone(),
            others,
            path: path.to_owned(),
        });
    }
    Ok(narrow(&others, scope))
}

/// [`plan_set`] for the values of `name` in the file store `store`.
pub fn plan_set_in(
    store: &Store,
    name: &str,
    scope: &Scope,
    moving: bool,
) -> Result<Vec<Narrowed>, Error> {
    plan_set(
        store.slots(name).map(|(other, _)| other),
        name,
        scope,
        moving,
        store.path(),
    )
}

/// The rule of `unset` for one secret, wherever its values are kept: the value for exactly
/// `scope` is removed; without one, `scope` is taken away from every value that covers part
/// of it (a value inside it is removed, a wider one keeps the rest); [`Error::NotSet`] when
/// no value covers any of it. Returns what happens to each value; applying it is the
/// caller's part.
pub fn plan_unset<'a>(
    scopes: impl IntoIterator<Item = &'a Scope>,
    name: &str,
    scope: &Scope,
    path: &std::path::Path,
) -> Result<Vec<Narrowed>, Error> {
    let (exact, others): (Vec<&Scope>, Vec<&Scope>) =
        scopes.into_iter().partition(|other| *other == scope);
    // A value for exactly `scope` is the only one removed: no other value overlaps it,
    // except after a merge left two values covering one type, when this removes the one
    // named and keeps the other (what readers and the check tell the user to do).
    let affected = if exact.is_empty() {
        overlapping_in(others, scope)
    } else {
        vec![scope.clone()]
    };
    if affected.is_empty() {
        return Err(Error::NotSet {
            name: name.to_owned(),
            scope: scope.describe(),
            path: path.to_owned(),
        });
    }
    Ok(narrow(&affected, scope))
}

/// [`plan_unset`] for the values of `name` in the file store `store`.
pub fn plan_unset_in(store: &Store, name: &str, scope: &Scope) -> Result<Vec<Narrowed>, Error> {
    plan_unset(
        store.slots(name).map(|(other, _)| other),
        name,
        scope,
        store.path(),
    )
}

fn narrow(affected: &[Scope], scope: &Scope) -> Vec<Narrowed> {
    affected
        .iter()
        .map(|other| Narrowed {
            from: other.clone(),
            to: other.minus(scope),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::env::EnvType::{Development, Local, Preview, Production};

    fn types(list: &[crate::env::EnvType]) -> Scope {
        Scope::Types(list.iter().copied().collect())
    }

    #[test]
    fn setting_an_overlapping_scope_conflicts_unless_moved() {
        let values = [types(&[Development, Local]), types(&[Production])];
        let path = Path::new("secrets.enc.toml");
        let error = plan_set(&values, "Token", &types(&[Local]), false, path).unwrap_err();
        let Error::Conflict { others, .. } = error else {
            panic!("not a conflict: {error:?}");
        };
        assert_eq!(others, [types(&[Development, Local])]);
        let plan = plan_set(&values, "Token", &types(&[Local]), true, path).unwrap();
        assert_eq!(
            plan,
            [Narrowed {
                from: types(&[Development, Local]),
                to: Some(types(&[Development])),
            }]
        );
        // The same scope is replaced, a disjoint one added: nothing else changes.
        assert!(
            plan_set(&values, "Token", &types(&[Production]), false, path)
                .unwrap()
                .is_empty()
        );
        assert!(
            plan_set(&values, "Token", &types(&[Preview]), false, path)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unsetting_removes_what_is_inside_and_narrows_what_is_wider() {
        let values = [types(&[Development, Local]), types(&[Production])];
        let path = Path::new("secrets.enc.toml");
        let plan = plan_unset(&values, "Token", &types(&[Local, Production]), path).unwrap();
        assert_eq!(
            plan,
            [
                Narrowed {
                    from: types(&[Development, Local]),
                    to: Some(types(&[Development])),
                },
                Narrowed {
                    from: types(&[Production]),
                    to: None,
                },
            ]
        );
        let error = plan_unset(&values, "Token", &types(&[Preview]), path).unwrap_err();
        assert!(matches!(error, Error::NotSet { .. }), "{error:?}");
    }

    /// Regression: after a merge left values for `production` and `preview, production`,
    /// unsetting one of them (as readers and the check suggest) removed both.
    #[test]
    fn unsetting_one_of_two_overlapping_values_keeps_the_other() {
        let values = [types(&[Production]), types(&[Preview, Production])];
        let path = Path::new("secrets.enc.toml");
        let plan = plan_unset(&values, "Token", &types(&[Preview, Production]), path).unwrap();
        assert_eq!(
            plan,
            [Narrowed {
                from: types(&[Preview, Production]),
                to: None,
            }]
        );
    }
}
