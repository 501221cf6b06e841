//! `secret rekey`: after `secrets.toml` changed, sign the change as the next version of the
//! access rules, then bring every value in line with it — re-encrypted to its new
//! recipients, and signed again by a current writer when its writer lost the right to write
//! it (a teammate who left, a removed CI key), with that former writer recorded as knowing
//! the value, so the check reports it as due for rotation.
//!
//! [`plan_rekey`] says everything that will happen (who gains and loses access per scope,
//! which values are re-encrypted or vouched for) without a key, so the command can show it
//! and ask before [`rekey`] does it.

use std::collections::BTreeSet;

use super::write::{RulesSigned, Writer, sign_rules};
use crate::config::Config;
use crate::env::{EnvType, Scope};
use crate::error::Error;
use crate::identity::Identities;
use crate::rules::chain::Change;
use crate::rules::{recipients_for, writers_for};
use crate::state::State;
use crate::store::Store;

/// How one key's access to one type or environment changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessChange {
    /// The type's long name, or the environment's name or pattern.
    pub level: String,
    /// The age public key.
    pub key: String,
    /// `Some(true)`: gains read access; `Some(false)`: loses it.
    pub read: Option<bool>,
    /// `Some(true)`: gains write access; `Some(false)`: loses it.
    pub write: Option<bool>,
    /// The key gains read access to production values while it could only read values of
    /// other types before: a development key becoming a production reader.
    pub promoted: bool,
}

/// What [`rekey`] will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RekeyPlan {
    /// The changes to the access rules to sign as the next version (empty: none).
    pub changes: Vec<Change>,
    /// Who gains and loses access, per type and environment.
    pub access: Vec<AccessChange>,
    /// The values to re-encrypt: `(name, scope, new recipients)`.
    pub reencrypt: Vec<(String, Scope, Vec<String>)>,
    /// The values whose writer loses the right to write them, to be signed again by a current
    /// writer: `(name, scope, former writer)`.
    pub vouch: Vec<(String, Scope, String)>,
    /// The values rekey leaves alone because readers refuse them: `(name, scope, why)`.
    pub refused: Vec<(String, Scope, String)>,
}

impl RekeyPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.reencrypt.is_empty() && self.vouch.is_empty()
    }
}

/// What [`rekey`] did.
#[derive(Debug, Default)]
pub struct Rekeyed {
    /// The rules version signed, if `secrets.toml` had changed.
    pub rules: Option<RulesSigned>,
    /// The values re-encrypted, with their new recipients.
    pub done: Vec<(String, Scope, Vec<String>)>,
    /// The values signed again by a current writer, with their former writer.
    pub vouched: Vec<(String, Scope, String)>,
    /// The values left as they were because they could not be re-encrypted.
    pub failed: Vec<Error>,
}

/// Every type and environment either configuration names, as a scope of one.
fn levels(old: &Config, new: &Config) -> Vec<(String, Scope)> {
    let mut levels: Vec<(String, Scope)> = EnvType::ALL
        .iter()
        .map(|ty| (ty.name().to_owned(), Scope::Types([*ty].into())))
        .collect();
    let envs: BTreeSet<&String> = old
        .environments
        .keys()
        .chain(new.environments.keys())
        .collect();
    for env in envs {
        levels.push((env.clone(), Scope::Envs([env.clone()].into())));
    }
    levels
}

/// Who gains and loses read and write access per type and environment from `old` to `new`.
pub(crate) fn access_changes(old: &Config, new: &Config) -> Vec<AccessChange> {
    let mut changes = Vec::new();
    let production = Scope::Types([EnvType::Production].into());
    let readers_before: BTreeSet<String> = levels(old, old)
        .iter()
        .flat_map(|(_, scope)| recipients_for(old, scope))
        .collect();
    let production_before = recipients_for(old, &production);
    for (level, scope) in levels(old, new) {
        let known = |config: &Config, level: &str| {
            EnvType::parse(level).is_some() || config.environments.contains_key(level)
        };
        let (read_old, write_old) = if known(old, &level) {
            (recipients_for(old, &scope), writers_for(old, &scope))
        } else {
            (Vec::new(), Vec::new())
        };
        let (read_new, write_new) = if known(new, &level) {
            (recipients_for(new, &scope), writers_for(new, &scope))
        } else {
            (Vec::new(), Vec::new())
        };
        let keys: BTreeSet<&String> = read_old
            .iter()
            .chain(&read_new)
            .chain(&write_old)
            .chain(&write_new)
            .collect();
        let is_production = match &scope {
            Scope::Types(types) => types.contains(&EnvType::Production),
            Scope::Envs(_) => new
                .environments
                .get(&level)
                .is_some_and(|ty| *ty == EnvType::Production),
        };
        for key in keys {
            let delta = |before: &[String], after: &[String]| match (
                before.contains(key),
                after.contains(key),
            ) {
                (false, true) => Some(true),
                (true, false) => Some(false),
                _ => None,
            };
            let read = delta(&read_old, &read_new);
            let write = delta(&write_old, &write_new);
            if read.is_none() && write.is_none() {
                continue;
            }
            let promoted = is_production
                && read == Some(true)
                && !production_before.contains(key)
                && readers_before.contains(key);
            changes.push(AccessChange {
                level: level.clone(),
                key: key.clone(),
                read,
                write,
                promoted,
            });
        }
    }
    changes
}

/// What [`rekey`] would do to `store` with `config` (`secrets.toml` as written); every
/// value when `all`. Needs no key.
pub fn plan_rekey(store: &Store, config: &Config, all: bool) -> Result<RekeyPlan, Error> {
    let state = State::new(config.clone(), store.clone(), None);
    let old = match state.rules() {
        Ok(verified) => verified.config.clone(),
        Err(error) => {
            return Err(Error::Rules {
                path: store.path().to_owned(),
                message: format!("cannot rekey: {}", state.rules_problem(error)),
                help: if matches!(error, crate::rules::chain::ChainError::Missing) {
                    "run `cargo xtask secret migrate`".to_owned()
                } else {
                    "restore secrets.enc.toml from git history; `cargo xtask check-secrets` explains what is wrong".to_owned()
                },
            });
        }
    };
    let mut plan = RekeyPlan {
        changes: state.pending().to_vec(),
        access: access_changes(&old, config),
        ..RekeyPlan::default()
    };
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            let trust = state.trust(name, scope, entry);
            let wanted = recipients_for(config, scope);
            let writer = entry.signed.as_ref().map(|signed| signed.writer.clone());
            let loses_writer = writer
                .as_ref()
                .is_some_and(|writer| !writers_for(config, scope).contains(writer));
            let reencrypt = all || wanted != entry.recipients;
            if !reencrypt && !loses_writer {
                continue;
            }
            if !trust.is_trusted() {
                plan.refused.push((
                    name.to_owned(),
                    scope.clone(),
                    crate::state::describe_trust(&trust, scope),
                ));
                continue;
            }
            // An older value copied back: signing it again would make readers accept it.
            let (seen, found) = (
                store.trusted_version(name, scope),
                entry.version.unwrap_or(0),
            );
            if seen > found {
                plan.refused.push((
                    name.to_owned(),
                    scope.clone(),
                    crate::state::Refusal::RolledBack { seen, found }.describe(scope),
                ));
                continue;
            }
            if reencrypt {
                plan.reencrypt
                    .push((name.to_owned(), scope.clone(), wanted));
            }
            if loses_writer {
                plan.vouch.push((
                    name.to_owned(),
                    scope.clone(),
                    writer.expect("a trusted value has a writer"),
                ));
            }
        }
    }
    Ok(plan)
}

/// Signs the changes `secrets.toml` makes to the access rules (see `sign_rules`), then
/// re-encrypts every value whose recipients differ from the new rules (every value when
/// `all`) and signs again every value whose writer lost the right to write it. Values that
/// cannot be re-encrypted with `identities` are left unchanged and reported in
/// [`Rekeyed::failed`]; values readers refuse are never touched. A rules change that none of
/// `identities` may sign fails the whole command before anything is written.
pub fn rekey(
    store: &mut Store,
    config: &Config,
    identities: &Identities,
    all: bool,
) -> Result<Rekeyed, Error> {
    let plan = plan_rekey(store, config, all)?;
    let before = State::new(config.clone(), store.clone(), None);
    let mut report = Rekeyed {
        rules: sign_rules(store, config, identities)?,
        ..Rekeyed::default()
    };
    let writer = Writer::new(store, config, identities)?;
    for (name, scope, recipients) in &plan.reencrypt {
        let former = plan
            .vouch
            .iter()
            .find(|(n, s, _)| n == name && s == scope)
            .map(|(_, _, writer)| writer.clone());
        let known_to: Vec<String> = former.iter().cloned().collect();
        let result = before
            .decrypt_slot(name, scope, identities)
            .and_then(|value| {
                let previous = store.get(name, scope).cloned();
                writer.put(store, name, scope, &value, previous.as_ref(), &known_to)
            });
        match result {
            Ok(()) => {
                report
                    .done
                    .push((name.clone(), scope.clone(), recipients.clone()));
                if let Some(former) = former {
                    report.vouched.push((name.clone(), scope.clone(), former));
                }
            }
            Err(error) => report.failed.push(error),
        }
    }
    for (name, scope, former) in &plan.vouch {
        if plan
            .reencrypt
            .iter()
            .any(|(n, s, _)| n == name && s == scope)
        {
            continue;
        }
        match writer.vouch(store, name, scope, std::slice::from_ref(former)) {
            Ok(()) => report
                .vouched
                .push((name.clone(), scope.clone(), former.clone())),
            Err(error) => report.failed.push(error),
        }
    }
    Ok(report)
}
