//! `secret sync --env E [--dry-run]`: replicates the file store's values for E into the
//! Vault/OpenBao `[backend]`, for deploy.
//!
//! For each secret, the file store's value that applies to E (environment > pattern >
//! type) is compared with the target's value that applies to E:
//! - the target has none: **create** it;
//! - the target's differs: **update** it;
//! - the target has one but the file store has none for E: **delete** it, when this
//!   workspace owns it.
//!
//! Values are written under E's own scope in the backend: `type:<type>` when E is a type
//! (`--env prod`), `env:<name>` when E is a named environment. Writing takes E away from a
//! broader backend value that covered it (as `set --move` does), so other environments
//! keep their values; deleting removes E's scope the same way. Sync only ever changes E's
//! own scope: a backend value of a type scope that applies to a named E is **kept** and
//! reported (deleting it would take it from the other environments of the type), never
//! counted as deleted, so a second sync reports the same and changes nothing.
//!
//! Ownership: sync deletes only what this workspace owns (marked with its `owner`), and
//! never writes what another workspace owns. A value it would delete but does not own is
//! **not deleted** and reported; a secret not marked at all that the file store also has
//! is written (or, unchanged, only marked) and so becomes this workspace's.
//!
//! Every write is check-and-set. KV secrets this tool did not write (keys that are not
//! scopes, names that are not secret names) are reported and never written or deleted; a
//! file-store secret whose KV secret is such a foreign one, or another workspace's, stops
//! the sync before any write. A line is printed after each write that succeeded; when one
//! fails, the error names the secret and a note lists the changes not made (and the one
//! whose outcome is unknown, when the server may have applied it without saying so), so
//! the output is exactly what changed. Only names are printed, never values. `--dry-run`
//! reads both sides and prints the same report without writing.
//!
//! The engine here is the same for every KV target: [`Target`] is what a target answers
//! (its names, what it holds for one, and the writes), [`kv`] the Vault/OpenBao one.
//! `--to aws` (feature `aws`) is [`aws`]: AWS Secrets Manager, whose secrets say whether
//! they are current by a tag instead of by their value.

#[cfg(feature = "aws")]
pub(crate) mod aws;
mod kv;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::Args;
use secrecy::SecretString;
use secret_core::{BackendErrorKind, Environment, Error, Scope};

use super::{Failure, Io, escaped};
use crate::backend::Backend;

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
    /// Where to replicate: `vault` (the [backend] table, the default) or `aws` (AWS Secrets
    /// Manager, the [aws] table)
    #[arg(long, value_name = "TARGET", default_value = "vault", value_parser = ["vault", "aws"])]
    to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Create,
    Update,
    Delete,
    /// Unchanged, but not marked as this workspace's yet: only the mark is written.
    Claim,
}

/// What a target holds for one name, as far as sync is concerned.
enum Found<H> {
    /// Not this tool's (keys that are not scopes, a name that is not a secret name): never
    /// written or deleted.
    Foreign(String),
    /// Another workspace's (its owner, and what it holds for E): never written or deleted.
    Theirs(String, Current),
    /// A secret this workspace may write (its own, or not marked by anyone).
    Usable {
        /// What the target read, kept for the write.
        held: H,
        /// The value for E.
        current: Current,
        /// Whether it is marked as this workspace's.
        mine: bool,
    },
}

/// The target's value for E against the file store's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Current {
    None,
    Same,
    Different,
    /// The value for E comes from this broader scope, shared with other environments.
    Broader(Scope),
    /// A value of E's own scope the file store does not have.
    Own,
}

/// A place sync replicates values into.
trait Target {
    /// What [`Target::inspect`] read, handed back for the write (the KV version).
    type Held;
    /// `OpenBao at http://...`.
    fn describe(&self) -> String;
    /// An error unless this workspace can own what it writes here.
    fn can_own(&self) -> Result<(), Error>;
    /// The names the target holds.
    fn names(&self) -> Result<Vec<String>, Error>;
    /// What the target holds for `name` in `env`, compared with `wanted`.
    fn inspect(
        &self,
        name: &str,
        env: &Environment,
        wanted: Option<&SecretString>,
    ) -> Result<Found<Self::Held>, Error>;
    /// Makes E's value `value`.
    fn write(&self, held: Self::Held, env: &Environment, value: SecretString) -> Result<(), Error>;
    /// Removes E's value; the broader scope that still gives E a value, if any.
    fn delete(&self, held: Self::Held, env: &Environment) -> Result<Option<Scope>, Error>;
    /// Marks the secret as this workspace's.
    fn claim(&self, held: Self::Held) -> Result<(), Error>;
    /// How a secret of another workspace, or one not marked, is named in the report.
    fn stop_message(&self, name: &str, why: &str) -> Error;
}

pub(crate) fn run(root: &Path, args: &SyncArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    if args.to == "aws" {
        #[cfg(feature = "aws")]
        return aws::run(root, args, io);
        #[cfg(not(feature = "aws"))]
        return Err(Failure::usage(
            "`--to aws`: this build of the tool has no AWS support".to_owned(),
        )
        .with_help("enable the `aws` feature of secret-build in the xtask (`secret-build = { ..., features = [\"aws\"] }`)"));
    }
    // `secrets.toml` and the store are read and judged once.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let config = trusted.state.config();
    if config.backend.is_none() {
        return Err(Failure::usage(format!(
            "{}: no [backend] to sync to",
            config.path.display()
        ))
        .with_help("add a [backend] table (kind, address, mount, prefix) to secrets.toml; see docs/delivery.md (for AWS Secrets Manager: `--to aws` and an [aws] table)"));
    }
    // The values come from the file store: its signed rules say what the environment is.
    let env = super::resolve_env(&trusted.state, &args.env)?;
    let selected = super::deliver::selected_names(root, &args.packages, args.dev)?;
    let source = Backend::File(&trusted.state).values_for(&env, io.vars);
    // Remembered even when a value is refused: what the history taught.
    trusted.remember();
    let mut source = source?;
    let Backend::Vault(client) = super::open_backend(&trusted.state, false, io)? else {
        return Err(Failure::data(format!(
            "{}: the [backend] table is not in the signed access rules",
            config.path.display()
        ))
        .with_help("an admin signs it with `cargo xtask secret rekey`"));
    };
    if let Some(selected) = &selected {
        // Only the selected packages' secrets: others are neither copied nor deleted.
        source.retain(|name, _| selected.contains(name));
    }
    let target = kv::Kv::new(&client);
    replicate(&target, &env, source, selected.as_ref(), args.dry_run, io)
}

/// What sync will do, found before anything is written.
struct Plan<H> {
    changes: BTreeMap<String, (Change, H)>,
    ignored: Vec<(String, String)>,
    kept: Vec<(String, Scope)>,
    not_owned: Vec<(String, String)>,
    unchanged: usize,
}

fn plan<T: Target>(
    target: &T,
    env: &Environment,
    source: &BTreeMap<String, SecretString>,
    selected: Option<&BTreeSet<String>>,
) -> Result<Plan<T::Held>, Error> {
    let mut names: BTreeSet<String> = source.keys().cloned().collect();
    names.extend(target.names()?);
    if let Some(selected) = selected {
        names.retain(|name| selected.contains(name));
    }
    let mut plan = Plan {
        changes: BTreeMap::new(),
        ignored: Vec::new(),
        kept: Vec::new(),
        not_owned: Vec::new(),
        unchanged: 0,
    };
    for name in &names {
        let wanted = source.get(name);
        let (held, current, mine) = match target.inspect(name, env, wanted)? {
            Found::Foreign(reason) if wanted.is_some() => {
                return Err(target.stop_message(
                    name,
                    &format!("holds a KV secret this tool did not write ({reason})"),
                ));
            }
            Found::Theirs(owner, _) if wanted.is_some() => {
                return Err(target.stop_message(
                    name,
                    &format!(
                        "is owned by `{}`, another workspace",
                        secret_core::text::escape_control(&owner)
                    ),
                ));
            }
            Found::Foreign(reason) => {
                plan.ignored.push((name.clone(), reason));
                continue;
            }
            Found::Theirs(owner, current) => {
                // Only worth a line when sync would have deleted it.
                if current == Current::Own {
                    plan.not_owned.push((
                        name.clone(),
                        format!(
                            "owned by `{}`, another workspace",
                            secret_core::text::escape_control(&owner)
                        ),
                    ));
                }
                continue;
            }
            Found::Usable {
                held,
                current,
                mine,
            } => (held, current, mine),
        };
        let change = match (wanted, current) {
            (Some(_), Current::Same) if mine => None,
            (Some(_), Current::Same) => Some(Change::Claim),
            (Some(_), Current::None | Current::Own) => Some(Change::Create),
            (Some(_), Current::Different | Current::Broader(_)) => Some(Change::Update),
            (None, Current::Own) if mine => Some(Change::Delete),
            (None, Current::Own) => {
                plan.not_owned.push((name.clone(), "not marked as this workspace's (written by hand, or by another workspace before owners were marked)".to_owned()));
                None
            }
            (None, Current::Broader(scope)) => {
                plan.kept.push((name.clone(), scope));
                None
            }
            (None, _) => None,
        };
        match change {
            Some(change) => {
                plan.changes.insert(name.clone(), (change, held));
            }
            None if wanted.is_some() => plan.unchanged += 1,
            None => {}
        }
    }
    Ok(plan)
}

/// Plans, then carries out the plan (unless `dry_run`), reporting each change as it is
/// made.
fn replicate<T: Target>(
    target: &T,
    env: &Environment,
    mut source: BTreeMap<String, SecretString>,
    selected: Option<&BTreeSet<String>>,
    dry_run: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    target.can_own()?;
    let plan = plan(target, env, &source, selected)?;
    for (name, reason) in &plan.ignored {
        let ignored = secret_vault::Ignored {
            name: name.clone(),
            reason: reason.clone(),
        };
        let _ = writeln!(
            io.stderr,
            "warning: {}; sync leaves it alone",
            escaped(&ignored)
        );
    }
    let verb = |change: Change| match (change, dry_run) {
        (Change::Create, false) => "created",
        (Change::Update, false) => "updated",
        (Change::Delete, false) => "deleted",
        (Change::Claim, false) => "claimed",
        (Change::Create, true) => "would create",
        (Change::Update, true) => "would update",
        (Change::Delete, true) => "would delete",
        (Change::Claim, true) => "would claim",
    };
    let mut counts = [0usize; 4];
    let names: Vec<String> = plan.changes.keys().cloned().collect();
    for (done, (name, (change, held))) in plan.changes.into_iter().enumerate() {
        if dry_run {
            counts[change as usize] += 1;
            let _ = writeln!(io.stdout, "{} {name}", verb(change));
            continue;
        }
        let written = match change {
            Change::Create | Change::Update => {
                let value = source.remove(&name).expect("planned from the source");
                target.write(held, env, value).map(|()| None)
            }
            Change::Delete => target.delete(held, env),
            Change::Claim => target.claim(held).map(|()| None),
        };
        match written {
            Ok(still) => {
                counts[change as usize] += 1;
                let _ = writeln!(io.stdout, "{} {name}", verb(change));
                if let Some(scope) = still {
                    let _ = writeln!(
                        io.stderr,
                        "note: {name} still has a value for {env} from `{}`, which sync leaves alone (it covers other environments too)",
                        escaped(&scope.key())
                    );
                }
            }
            Err(error) => {
                let [created, updated, deleted, _] = counts;
                let rest: Vec<&str> = names[done..].iter().map(String::as_str).collect();
                let _ = writeln!(
                    io.stderr,
                    "note: sync of {env} stopped at {name}: {created} created, {updated} updated, {deleted} deleted before it (listed above); {}; running sync again finishes it",
                    not_written(&rest, &error)
                );
                return Err(error.into());
            }
        }
    }
    for (name, scope) in &plan.kept {
        let _ = writeln!(
            io.stdout,
            "kept {name}: the file store has no value for {env}, but `{}` in the backend applies to it and covers other environments too; remove it with `secret unset` if it should go",
            escaped(&scope.key())
        );
    }
    for (name, why) in &plan.not_owned {
        let _ = writeln!(
            io.stdout,
            "not deleted {name}: the file store has no value for {env}, but the backend's is {why}; sync deletes only what this workspace owns"
        );
    }
    let [created, updated, deleted, claimed] = counts;
    let claimed = match claimed {
        0 => String::new(),
        n if dry_run => format!(" ({n} to claim)"),
        n => format!(" ({n} claimed)"),
    };
    let mut extra = String::new();
    for (count, what) in [
        (plan.kept.len(), "kept"),
        (plan.not_owned.len(), "not owned"),
        (plan.ignored.len(), "ignored"),
    ] {
        if count > 0 {
            extra.push_str(&format!(", {count} {what}"));
        }
    }
    let _ = writeln!(
        io.stdout,
        "{} {env} to {}: {created} {}, {updated} {}, {deleted} {}, {} unchanged{claimed}{extra}",
        if dry_run {
            "dry run, nothing written: sync of"
        } else {
            "synced"
        },
        escaped(&target.describe()),
        if dry_run { "to create" } else { "created" },
        if dry_run { "to update" } else { "updated" },
        if dry_run { "to delete" } else { "deleted" },
        plan.unchanged + counts[Change::Claim as usize],
    );
    Ok(())
}

/// The part of a "stopped at" note after the counts: `names` are the changes not made,
/// the first the one that failed. A write whose outcome is unknown is said to be.
pub(crate) fn not_written(names: &[&str], error: &Error) -> String {
    let unknown = matches!(error, Error::Backend(backend) if backend.kind == BackendErrorKind::OutcomeUnknown);
    match names.split_first() {
        Some((first, rest)) if unknown => {
            let mut text =
                format!("whether {first} was written is not known (it is read first next time)");
            if !rest.is_empty() {
                text.push_str(&format!("; not written: {}", rest.join(", ")));
            }
            text
        }
        _ => format!("not written: {}", names.join(", ")),
    }
}
