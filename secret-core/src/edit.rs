//! Changing the store under the rules of the product: who a value is encrypted to, at most
//! one value per type (and per named environment) for each secret, moving scopes between
//! values, and re-encrypting after recipients changed.
//!
//! Moving or unsetting part of a value's scope (for example `development` out of a value
//! for `development, local`) re-encrypts the rest of that value for its narrower scope:
//! the ciphertext is bound to its scope, so it cannot be kept as is. That needs an identity
//! able to decrypt it; without one the operation fails and the store is left unchanged.
//! A value whose whole scope is moved or unset is simply removed, with no key needed.

use std::collections::BTreeSet;

#[cfg(feature = "write")]
use secrecy::SecretString;

use crate::config::Config;
use crate::env::{EnvKind, Scope};
use crate::error::Error;
use crate::identity::Identities;
use crate::store::Store;

/// The recipients of a value for `scope`, sorted and without duplicates: for types, the
/// union of `[recipients]` of each type; for environments, the union of each environment's
/// own list, else its pattern's, else its type's.
pub fn recipients_for(config: &Config, scope: &Scope) -> Vec<String> {
    let mut keys = BTreeSet::new();
    match scope {
        Scope::Types(types) => {
            for ty in types {
                keys.extend(config.recipients.get(ty.name()).into_iter().flatten());
            }
        }
        Scope::Envs(envs) => {
            for env in envs {
                if let Some(own) = config.recipients.get(env) {
                    keys.extend(own);
                    continue;
                }
                if let Ok(resolved) = config.resolve_env(env) {
                    match resolved.kind {
                        EnvKind::Pattern(pattern) => {
                            keys.extend(config.recipients_for_env(&pattern))
                        }
                        EnvKind::Named => keys.extend(config.recipients_for_env(env)),
                        EnvKind::Type => keys.extend(
                            config
                                .recipients
                                .get(resolved.ty.name())
                                .into_iter()
                                .flatten(),
                        ),
                    }
                }
            }
        }
    }
    keys.into_iter().cloned().collect()
}

/// Fails with [`Error::NotAWriter`] unless one of `identities` may write `scope` (it is in
/// [`crate::trust::writers_for`]): checked before a value is asked for.
pub fn check_writer(
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &Identities,
) -> Result<(), Error> {
    signer(config, name, scope, identities).map(|_| ())
}

/// The signing key among `identities` that may write `scope`, or [`Error::NotAWriter`].
pub(crate) fn signer<'a>(
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &'a Identities,
) -> Result<&'a crate::sign::SigningKey, Error> {
    let allowed = crate::trust::writers_for(config, scope);
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

/// The other values of `name` whose scope overlaps `scope` (same kind: types with types,
/// environments with environments), except a value with exactly `scope`.
pub fn overlapping(store: &Store, name: &str, scope: &Scope) -> Vec<Scope> {
    store
        .slots(name)
        .map(|(other, _)| other)
        .filter(|other| *other != scope && overlap(other, scope))
        .cloned()
        .collect()
}

/// Whether two scopes share a type or an environment (types never overlap environments).
pub fn overlap(a: &Scope, b: &Scope) -> bool {
    match (a, b) {
        (Scope::Types(a), Scope::Types(b)) => !a.is_disjoint(b),
        (Scope::Envs(a), Scope::Envs(b)) => !a.is_disjoint(b),
        _ => false,
    }
}

/// `a` without the members of `b`; `None` when nothing is left.
pub fn minus(a: &Scope, b: &Scope) -> Option<Scope> {
    let rest = match (a, b) {
        (Scope::Types(a), Scope::Types(b)) => Scope::Types(a - b),
        (Scope::Envs(a), Scope::Envs(b)) => Scope::Envs(a - b),
        _ => return Some(a.clone()),
    };
    let empty = match &rest {
        Scope::Types(set) => set.is_empty(),
        Scope::Envs(set) => set.is_empty(),
    };
    (!empty).then_some(rest)
}

/// Sets `value` for (`name`, `scope`). A value with exactly `scope` is replaced. When other
/// values of the secret overlap `scope`, fails with [`Error::Conflict`] unless `move_scopes`,
/// which takes the overlapping types or environments away from them (see the module docs).
/// On error the store is unchanged.
#[cfg(feature = "write")]
pub fn set(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    value: &SecretString,
    move_scopes: bool,
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let others = overlapping(store, name, scope);
    if !others.is_empty() && !move_scopes {
        return Err(Error::Conflict {
            name: name.to_owned(),
            scope: scope.clone(),
            others,
            path: store.path().to_owned(),
        });
    }
    let mut next = store.clone();
    let narrowed = take_away(&mut next, config, name, scope, &others, identities)?;
    next.insert(name, scope, value, config, identities, None)?;
    *store = next;
    Ok(narrowed)
}

/// Removes `scope` from the values of `name`: values entirely inside it are removed, values
/// that also cover other types or environments are re-encrypted for the rest. Fails with
/// [`Error::NotSet`] when no value covers any of `scope`. On error the store is unchanged.
#[cfg(feature = "write")]
pub fn unset(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let mut affected = overlapping(store, name, scope);
    if store.get(name, scope).is_some() {
        affected.push(scope.clone());
    }
    if affected.is_empty() {
        return Err(Error::NotSet {
            name: name.to_owned(),
            scope: scope.describe(),
            path: store.path().to_owned(),
        });
    }
    let mut next = store.clone();
    let narrowed = take_away(&mut next, config, name, scope, &affected, identities)?;
    *store = next;
    Ok(narrowed)
}

#[cfg(feature = "write")]
fn take_away(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    affected: &[Scope],
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let mut narrowed = Vec::new();
    for other in affected {
        let rest = minus(other, scope);
        if let Some(rest) = &rest {
            let value = store.decrypt(name, other, config, identities)?;
            let previous = store.get(name, other).cloned();
            store.insert(name, rest, &value, config, identities, previous.as_ref())?;
        }
        store.remove(name, other);
        narrowed.push(Narrowed {
            from: other.clone(),
            to: rest,
        });
    }
    Ok(narrowed)
}

/// The outcome of [`rekey`].
#[derive(Debug, Default)]
pub struct Rekeyed {
    /// The values re-encrypted, with their new recipients.
    pub done: Vec<(String, Scope, Vec<String>)>,
    /// The values left as they were because they could not be re-encrypted.
    pub failed: Vec<Error>,
}

/// Re-encrypts every value whose recipients differ from what `secrets.toml` says now (every
/// value when `all`), signing it anew. Whoever loses access is recorded as exposed
/// ([`crate::store::Entry::exposed`]): re-encryption does not protect a value someone already
/// read. Values that cannot be decrypted with `identities`, are not trusted, or that the
/// identities may not write are left unchanged and reported in [`Rekeyed::failed`].
#[cfg(feature = "write")]
pub fn rekey(store: &mut Store, config: &Config, identities: &Identities, all: bool) -> Rekeyed {
    let mut report = Rekeyed::default();
    for (name, scope, entry) in slots(store) {
        let wanted = recipients_for(config, &scope);
        if wanted == entry.recipients && !all {
            continue;
        }
        let result = store
            .decrypt(&name, &scope, config, identities)
            .and_then(|value| {
                store.insert(&name, &scope, &value, config, identities, Some(&entry))
            });
        match result {
            Ok(()) => report.done.push((name, scope, wanted)),
            Err(error) => report.failed.push(error),
        }
    }
    report
}

/// Signs, on the word of the person running it, the values readers refuse because no
/// current writer signed them: values of store format 1 (unsigned) and values whose writer
/// may no longer write their scope. Values whose signature does not verify are never signed
/// (they were changed after signing). Only `names` when not empty. Each value is decrypted
/// and re-encrypted to the recipients `secrets.toml` gives now.
#[cfg(feature = "write")]
pub fn migrate(
    store: &mut Store,
    config: &Config,
    identities: &Identities,
    names: &[String],
) -> Rekeyed {
    let mut report = Rekeyed::default();
    for (name, scope, entry) in slots(store) {
        if !names.is_empty() && !names.contains(&name) {
            continue;
        }
        match crate::trust::trust(config, &name, &scope, &entry) {
            crate::trust::Trust::Unsigned | crate::trust::Trust::NotAllowed { .. } => {}
            crate::trust::Trust::Signed { .. } | crate::trust::Trust::BadSignature { .. } => {
                continue;
            }
        }
        let result = store
            .decrypt_unverified(&name, &scope, identities)
            .and_then(|value| {
                store.insert(&name, &scope, &value, config, identities, Some(&entry))
            });
        match result {
            Ok(()) => report
                .done
                .push((name, scope.clone(), recipients_for(config, &scope))),
            Err(error) => report.failed.push(error),
        }
    }
    report
}

#[cfg(feature = "write")]
fn slots(store: &Store) -> Vec<(String, Scope, crate::store::Entry)> {
    store
        .names()
        .flat_map(|name| {
            store
                .slots(name)
                .map(move |(scope, entry)| (name.to_owned(), scope.clone(), entry.clone()))
        })
        .collect()
}
