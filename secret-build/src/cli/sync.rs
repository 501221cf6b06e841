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
//! keep their values; deleting removes E's scope the same way. A backend value of a
//! broader type scope that still applies to a named E after a delete is left alone and
//! reported. Only names are printed, never values. `--dry-run` reads both sides and
//! prints the same report without writing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::Args;
use secrecy::ExposeSecret;
use secret_store::{Config, EnvKind, Scope};

use super::{Failure, Io};
use crate::backend::{Backend, VaultEdit};

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

pub(crate) fn run(root: &Path, args: &SyncArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    if config.backend.is_none() {
        return Err(Failure::usage(format!(
            "{}: no [backend] to sync to",
            config.path.display()
        ))
        .with_help("add a [backend] table (kind, address, mount, prefix) to secrets.toml; see docs/delivery.md"));
    }
    let env = config.resolve_env(&args.env)?;
    let target = match &env.kind {
        EnvKind::Type => Scope::Types([env.ty].into()),
        EnvKind::Named | EnvKind::Pattern(_) => Scope::Envs([env.name.clone()].into()),
    };
    let selected = super::deliver::selected_names(root, &args.packages, args.dev)?;
    let mut source = Backend::file(root).values_for(&env, io.vars)?;
    let Backend::Vault(client) = Backend::open(root, &config, io.vars, false)? else {
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
    let mut unchanged = 0;
    for name in &names {
        if secret_syntax::validate_name(name).is_err() {
            continue;
        }
        let edit = VaultEdit::read(&client, name)?;
        let current = edit
            .lookup(&env)
            .map(|(_, value)| value.expose_secret().to_owned());
        let current = zeroize::Zeroizing::new(current);
        let change = match (source.get(name), current.as_deref()) {
            (Some(wanted), Some(current)) if wanted.expose_secret() == current => None,
            (Some(_), Some(_)) => Some(Change::Update),
            (Some(_), None) => Some(Change::Create),
            (None, Some(_)) => Some(Change::Delete),
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
    let verb = |change: Change| match (change, args.dry_run) {
        (Change::Create, false) => "created",
        (Change::Update, false) => "updated",
        (Change::Delete, false) => "deleted",
        (Change::Create, true) => "would create",
        (Change::Update, true) => "would update",
        (Change::Delete, true) => "would delete",
    };
    let mut counts = [0usize; 3];
    for (name, (change, edit)) in plan {
        counts[change as usize] += 1;
        if !args.dry_run {
            match change {
                Change::Create | Change::Update => {
                    let value = source.get(&name).expect("planned from the source").clone();
                    edit.set(&target, value, true)?;
                }
                Change::Delete => {
                    let after = edit.unset_for(&target)?;
                    if after.lookup(&env).is_some() {
                        let _ = writeln!(
                            io.stderr,
                            "warning: {name} still has a value for {env} in {} from a broader scope, which sync leaves alone",
                            client.describe()
                        );
                    }
                }
            }
        }
        let _ = writeln!(io.stdout, "{} {name}", verb(change));
    }
    let [created, updated, deleted] = counts;
    let _ = writeln!(
        io.stdout,
        "{} {env} to {}: {created} {}, {updated} {}, {deleted} {}, {unchanged} unchanged",
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
