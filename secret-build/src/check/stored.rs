//! Reading what the store holds for the check: names, scopes and lines, never values; and,
//! for the file store, how readers judge each of them (signatures, the signed access rules,
//! the store's history and this clone's memory — [`crate::trusted`]). With `[backend]` in
//! `secrets.toml` the names and scopes come from the Vault/OpenBao KV engine, which needs a
//! token allowed to read the secrets (see [`crate::backend`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use secret_core::state::{Lookup, State};
use secret_core::{EnvType, Environment, FileError};

use super::report::{Audit, StateAudit, StoredValue, Verdict};
use crate::backend::Backend;
use crate::trusted::Trusted;

/// The file store's values, each with how readers judge it, and the audit of the store's
/// signed state for `environments`, from `trusted` (the workspace's state judged with its
/// history and this clone's memory).
pub(crate) fn file_values(
    trusted: &Trusted,
    environments: &[Environment],
) -> (Vec<StoredValue>, StateAudit) {
    let state = &trusted.state;
    let store = state.store();
    let mut values = Vec::new();
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            values.push(StoredValue {
                name: name.to_owned(),
                scope: scope.clone(),
                line: (entry.line > 0).then_some(entry.line),
                audit: Some(Audit::of(state, name, scope, entry)),
            });
        }
    }
    (values, audit(state, &trusted.notes, environments))
}

/// The names and scopes the backend `state`'s signed rules select holds (a Vault/OpenBao
/// `[backend]`, through a token and the like read from `vars`), and where: the KV folder's
/// URL.
pub(crate) fn backend_values(
    root: &Path,
    state: &State,
    vars: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(PathBuf, Vec<StoredValue>), FileError> {
    let listing = Backend::select(state, vars, false)
        .and_then(|backend| backend.listing())
        .map_err(|error| error.report())?;
    let location = PathBuf::from(&listing.location);
    let path = location
        .strip_prefix(root)
        .map(Path::to_owned)
        .unwrap_or(location.clone());
    let values = listing
        .values
        .into_iter()
        .map(|listed| StoredValue {
            name: listed.name,
            scope: listed.scope,
            line: listed.line,
            audit: None,
        })
        .collect();
    Ok((path, values))
}

/// The audit of `state`'s signed state, and every reader's verdict per secret and
/// environment of `environments`.
fn audit(state: &State, notes: &[String], environments: &[Environment]) -> StateAudit {
    let store = state.store();
    let mut audit = StateAudit {
        changed: notes.to_vec(),
        behind: state.behind(),
        ..StateAudit::default()
    };
    // A store from before signed rules, not one whose rules this clone or its history knew
    // and that were removed (the help is then `migrate`, which would sign a new root).
    if store.format() < secret_core::store::FORMAT_VERSION
        && matches!(
            state.rules(),
            Err(secret_core::rules::chain::ChainError::Missing)
        )
    {
        audit.legacy_format = Some(store.format());
    }
    match state.rules() {
        Ok(_) => {}
        // A store that holds nothing yet has nothing to protect.
        Err(secret_core::rules::chain::ChainError::Missing)
            if store.is_empty() && store.all_removals().next().is_none() => {}
        Err(error) => audit.rules_problem = Some(state.rules_problem(error)),
    }
    for change in state.pending() {
        let cloud = match change.fact.level() {
            Some(level) => match EnvType::parse(level) {
                Some(ty) => ty.is_cloud(),
                None => state
                    .effective()
                    .environments
                    .get(level)
                    .or_else(|| state.config().environments.get(level))
                    .is_none_or(|ty| ty.is_cloud()),
            },
            None => true,
        };
        audit.pending.push((change.to_string(), cloud));
    }
    for name in store.names() {
        for env in environments {
            let verdict = match state.lookup(name, env) {
                Lookup::None => continue,
                Lookup::Found { scope, .. } => Verdict::Found(scope.clone()),
                Lookup::Refused { scope, refusal, .. } => {
                    Verdict::Refused(scope.clone(), refusal.describe(scope))
                }
                Lookup::Vanished { scope, .. } => Verdict::Vanished(scope),
            };
            audit
                .verdicts
                .insert((name.to_owned(), env.name.clone()), verdict);
        }
    }
    for behind in &audit.behind {
        for env in environments {
            if behind.scope.rank(env).is_some() {
                audit
                    .verdicts
                    .entry((behind.name.clone(), env.name.clone()))
                    .or_insert_with(|| Verdict::Vanished(behind.scope.clone()));
            }
        }
    }
    audit
}
