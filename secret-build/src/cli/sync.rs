//! `secret sync --env E [--dry-run]`: replicates the file store's values for E into the
//! Vault/OpenBao `[backend]`, for deploy.
//!
//! For each secret, the file store's value that applies to E (environment > pattern >
//! type) is compared with the backend's value that applies to E:
//! - the backend has none: **create** it;
//! - the backend's differs: **update** it;
//! - the backend has one but the file store has none for E: **delete** it.
//!
//! Values are written under E's own scope in the backend: `type:<type>` when E is a type
//! (`--env prod`), `env:<name>` when E is a named environment. Writing takes E away from a
//! broader backend value that covered it (as `set --move` does), so other environments
//! keep their values; deleting removes E's scope the same way. Sync only ever changes E's
//! own scope: a backend value of a type scope that applies to a named E is **kept** and
//! reported (deleting it would take it from the other environments of the type), never
//! counted as deleted, so a second sync reports the same and changes nothing.
//!
//! Every write is check-and-set. KV secrets this tool did not write (keys that are not
//! scopes, names that are not secret names) are reported and never written or deleted; a
//! file-store secret whose KV secret is such a foreign one stops the sync before any write.
//! A line is printed after each write that succeeded; when one fails, the error names the
//! secret and a note lists the changes not made, so the output is exactly what changed.
//! Only names are printed, never values. `--dry-run` reads both sides and prints the same
//! report without writing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::Args;
use secrecy::ExposeSecret;
use secret_core::{Config, EnvKind, Environment, Scope};

use super::{Failure, Io};
use crate::backend::{Backend, Ignored, VaultEdit};

/// Arguments of `secret sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The environment to replicate: a named environment or a type
    #[arg(long = "env", value_name = "E")]
    env: String,
    /// Print what would change without writing anything
    #[arg(long)]
    dry_run: bool,
    /// Sync only the secrets this package and the workspace crates it depends on declare;
    /// repeatable (other secrets in the backend are left alone)
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// With --package: also its tests, examples, benches and dev-dependencies
    #[arg(long, requires = "packages")]
    dev: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Create,
    Update,
    Delete,
}

/// Whether sync may remove `scope`'s value for `env`: only when it is E's own part (a type
/// scope holding E's type when E is a type, an environment scope naming E), never a type
/// scope that a named E merely falls under.
fn owned(scope: &Scope, env: &Environment) -> bool {
    match (&env.kind, scope) {
        (EnvKind::Type, Scope::Types(types)) => types.contains(&env.ty),
        (_, Scope::Envs(envs)) => envs.contains(&env.name),
        _ => false,
    }
}

pub(crate) fn run(root: &Path, args: &SyncArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    if config.backend.is_none() {
        return Err(Failure::usage(format!(
            "{}: no [backend] to sync to",
            config.path.display()
        ))
        .with_help("add a [backend] table (kind, address, mount, prefix) to secrets.toml; see docs/delivery.md"));
    }
    // The values come from the file store: its signed rules say what the environment is.
    let env = super::resolve_env(root, &config, true, &args.env, io)?;
    let target = match &env.kind {
        EnvKind::Type => Scope::Types([env.ty].into()),
        EnvKind::Named | EnvKind::Pattern(_) => Scope::Envs([env.name.clone()].into()),
    };
    let selected = super::deliver::selected_names(root, &args.packages, args.dev)?;
    let mut source = Backend::file(root).values_for(&env, io.vars)?;
    let Backend::Vault(client) = super::open_backend(root, &config, false, io)? else {
        unreachable!("a [backend] opens a KV client");
    };
    let mut names: BTreeSet<String> = source.keys().cloned().collect();
    names.extend(client.list()?);
    if let Some(selected) = &selected {
        // Only the selected packages' secrets: others are neither copied nor deleted.
        names.retain(|name| selected.contains(name));
        source.retain(|name, _| selected.contains(name));
    }
    let mut plan: BTreeMap<String, (Change, VaultEdit<'_>)> = BTreeMap::new();
    let mut ignored: Vec<Ignored> = Vec::new();
    let mut kept: Vec<(String, Scope)> = Vec::new();
    let mut unchanged = 0;
    for name in &names {
        let edit = match VaultEdit::open(&client, name)? {
            Ok(edit) => edit,
            Err(foreign) => {
                if source.contains_key(name) {
                    return Err(Failure::from(secret_core::Error::from(
                    secret_core::backend::BackendError::new(
                        client.config(),
                        format!(
                            "{} holds a KV secret this tool did not write ({}); sync does not overwrite it, and nothing was written",
                            client.config().data_path(name),
                            foreign.reason
                        ),
                    )
                    .with_help("give this workspace its own `prefix` in [backend], so that its secrets do not share a folder with others"),
                )));
                }
                ignored.push(foreign);
                continue;
            }
        };
        // The backend's scope for E, and whether its value is the file store's.
        let current = edit.lookup(&env).map(|(scope, value)| {
            let same = source
                .get(name)
                .is_some_and(|wanted| wanted.expose_secret() == value.expose_secret());
            (scope.clone(), same)
        });
        let change = match (source.get(name), current.as_ref()) {
            (Some(_), Some((_, true))) => None,
            (Some(_), Some(_)) => Some(Change::Update),
            (Some(_), None) => Some(Change::Create),
            (None, Some((scope, _))) if owned(scope, &env) => Some(Change::Delete),
            (None, Some((scope, _))) => {
                kept.push((name.clone(), scope.clone()));
                None
            }
            (None, None) => None,
        };
        match change {
            Some(change) => {
                plan.insert(name.clone(), (change, edit));
            }
            None if source.contains_key(name) => unchanged += 1,
            None => {}
        }
    }
    for foreign in &ignored {
        let _ = writeln!(io.stderr, "warning: {foreign}; sync leaves it alone");
    }
    let verb = |change: Change| match (change, args.dry_run) {
        (Change::Create, false) => "created",
        (Change::Update, false) => "updated",
        (Change::Delete, false) => "deleted",
        (Change::Create, true) => "would create",
        (Change::Update, true) => "would update",
        (Change::Delete, true) => "would delete",
    };
    let mut counts = [0usize; 3];
    let mut pending: Vec<String> = plan.keys().cloned().collect();
    pending.reverse();
    for (name, (change, edit)) in plan {
        pending.pop();
        if !args.dry_run {
            let written = match change {
                Change::Create | Change::Update => {
                    let value = source.get(&name).expect("planned from the source").clone();
                    edit.set(&target, value, true).map(|_| None)
                }
                Change::Delete => edit
                    .unset_for(&target)
                    .map(|after| after.lookup(&env).map(|(scope, _)| scope.clone())),
            };
            match written {
                Ok(still) => {
                    counts[change as usize] += 1;
                    let _ = writeln!(io.stdout, "{} {name}", verb(change));
                    if let Some(scope) = still {
                        let _ = writeln!(
                            io.stderr,
                            "note: {name} still has a value for {env} from `{}`, which sync leaves alone (it covers other environments too)",
                            scope.key()
                        );
                    }
                }
                Err(error) => {
                    let [created, updated, deleted] = counts;
                    let mut not_made = vec![name.clone()];
                    not_made.extend(pending.iter().rev().cloned());
                    let _ = writeln!(
                        io.stderr,
                        "note: sync of {env} stopped at {name}: {created} created, {updated} updated, {deleted} deleted before it (listed above); not written: {}; running sync again finishes it",
                        not_made.join(", ")
                    );
                    return Err(error.into());
                }
            }
        } else {
            counts[change as usize] += 1;
            let _ = writeln!(io.stdout, "{} {name}", verb(change));
        }
    }
    for (name, scope) in &kept {
        let _ = writeln!(
            io.stdout,
            "kept {name}: the file store has no value for {env}, but `{}` in the backend applies to it and covers other environments too; remove it with `secret unset` if it should go",
            scope.key()
        );
    }
    let [created, updated, deleted] = counts;
    let mut extra = String::new();
    if !kept.is_empty() {
        extra.push_str(&format!(", {} kept", kept.len()));
    }
    if !ignored.is_empty() {
        extra.push_str(&format!(", {} ignored", ignored.len()));
    }
    let _ = writeln!(
        io.stdout,
        "{} {env} to {}: {created} {}, {updated} {}, {deleted} {}, {unchanged} unchanged{extra}",
        if args.dry_run {
            "dry run, nothing written: sync of"
        } else {
            "synced"
        },
        client.describe(),
        if args.dry_run { "to create" } else { "created" },
        if args.dry_run { "to update" } else { "updated" },
        if args.dry_run { "to delete" } else { "deleted" },
    );
    Ok(())
}
