//! Changing the store under the rules of the product: who a value is encrypted to, at most
//! one value per type (and per named environment) for each secret, moving scopes between
//! values, and re-encrypting after recipients changed.
//!
//! Moving or unsetting part of a value's scope (for example `development` out of a value
//! for `development, local`) re-encrypts the rest of that value for its narrower scope:
//! the ciphertext is bound to its scope, so it cannot be kept as is. That needs an identity
//! able to decrypt it; without one the operation fails and the store is left unchanged.
//! A value whose whole scope is moved or unset is simply removed, with no key needed.

#[cfg(feature = "write")]
use secrecy::SecretString;

#[cfg(feature = "write")]
use crate::cipher;
use crate::config::Config;
use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;
#[cfg(feature = "write")]
use crate::rules::recipients_for;
use crate::store::Store;
#[cfg(feature = "write")]
use crate::store::{Entry, Exposure, Signed};

#[cfg(feature = "write")]
impl Store {
    /// Encrypts `value` for (`name`, `scope`) to the recipients `config` gives the scope,
    /// signs it with the first of `identities` allowed to write the scope, and stores it,
    /// replacing any value with exactly that scope. Does not check the one-value-per-type
    /// rule (see [`crate::edit`]).
    ///
    /// `previous` is the entry `value` was read from when the same value is re-encrypted
    /// (rekey, a narrowed scope): whoever could read it then and cannot now is recorded in
    /// [`Entry::exposed`], and earlier exposures are kept. A new value (`None`) starts with
    /// no exposure: replacing a value is how it is rotated.
    pub fn insert(
        &mut self,
        name: &str,
        scope: &Scope,
        value: &SecretString,
        config: &crate::Config,
        identities: &Identities,
        previous: Option<&Entry>,
    ) -> Result<(), Error> {
        let recipients = recipients_for(config, scope);
        if recipients.is_empty() {
            return Err(Error::NoRecipients {
                name: name.to_owned(),
                scope: scope.clone(),
                config: config.path.clone(),
            });
        }
        let signer = signer(config, name, scope, identities)?;
        let mut exposed = Vec::new();
        if let Some(previous) = previous {
            let since = crate::trust::now();
            exposed.extend(previous.exposed.iter().cloned());
            for recipient in &previous.recipients {
                if !recipients.contains(recipient)
                    && !exposed.iter().any(|e: &Exposure| &e.recipient == recipient)
                {
                    exposed.push(Exposure {
                        recipient: recipient.clone(),
                        since: since.clone(),
                    });
                }
            }
            exposed.retain(|exposure| !recipients.contains(&exposure.recipient));
            exposed.sort();
        }
        let ciphertext = cipher::seal(&recipients, value, &config.path)?;
        let written = crate::trust::now();
        let message = crate::trust::message(
            name,
            scope,
            &recipients,
            &exposed,
            signer.recipient(),
            &written,
            &ciphertext,
        );
        let signature = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(signer.sign(message.as_bytes()))
        };
        let signed = Signed {
            writer: signer.recipient().to_owned(),
            written,
            signature,
        };
        self.entries.entry(name.to_owned()).or_default().insert(
            scope.key(),
            (
                scope.clone(),
                Entry {
                    recipients,
                    signed: Some(signed),
                    exposed,
                    line: 0,
                    ciphertext,
                },
            ),
        );
        Ok(())
    }
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
        .filter(|other| *other != scope && overlap(other, scope))
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

/// The rule of `unset` for one secret, wherever its values are kept: `scope` is taken away
/// from every value that covers part of it (a value inside it is removed, a wider one keeps
/// the rest); [`Error::NotSet`] when no value covers any of it. Returns what happens to each
/// value; applying it is the caller's part.
pub fn plan_unset<'a>(
    scopes: impl IntoIterator<Item = &'a Scope>,
    name: &str,
    scope: &Scope,
    path: &std::path::Path,
) -> Result<Vec<Narrowed>, Error> {
    let (exact, others): (Vec<&Scope>, Vec<&Scope>) =
        scopes.into_iter().partition(|other| *other == scope);
    let mut affected = overlapping_in(others, scope);
    if !exact.is_empty() {
        affected.push(scope.clone());
    }
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
            to: minus(other, scope),
        })
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

/// Sets `value` for (`name`, `scope`) under [`plan_set`]'s rule. Values that keep part of
/// their scope are re-encrypted for the rest (see the module docs). On error the store is
/// unchanged.
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
    let plan = plan_set_in(store, name, scope, move_scopes)?;
    let mut next = store.clone();
    apply(&mut next, config, name, &plan, identities)?;
    next.insert(name, scope, value, config, identities, None)?;
    *store = next;
    Ok(plan)
}

/// Removes `scope` from the values of `name` under [`plan_unset`]'s rule: values entirely
/// inside it are removed, values that also cover other types or environments are
/// re-encrypted for the rest. On error the store is unchanged.
#[cfg(feature = "write")]
pub fn unset(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let plan = plan_unset_in(store, name, scope)?;
    let mut next = store.clone();
    apply(&mut next, config, name, &plan, identities)?;
    *store = next;
    Ok(plan)
}

/// Carries out a plan in the file store: a value keeping part of its scope is decrypted
/// and stored again, encrypted and signed for the rest.
#[cfg(feature = "write")]
fn apply(
    store: &mut Store,
    config: &Config,
    name: &str,
    plan: &[Narrowed],
    identities: &Identities,
) -> Result<(), Error> {
    for Narrowed { from, to } in plan {
        if let Some(rest) = to {
            let value = store.decrypt(name, from, config, identities)?;
            let previous = store.get(name, from).cloned();
            store.insert(name, rest, &value, config, identities, previous.as_ref())?;
        }
        store.remove(name, from);
    }
    Ok(())
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
}
