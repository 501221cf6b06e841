//! `secret set`, `unset`, `import` and `rekey`: the commands that change the store.
//!
//! Flags, the name, the environments and the one-value-per-type rule are checked before
//! the value is asked for, so a mistake never costs a typed value. The value comes from a
//! no-echo prompt when stdin is a terminal, else from all of stdin with one trailing
//! newline removed, or from `--from-file` (read as is); never from the command line.

use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::SecretString;
use secret_core::edit::{self, Narrowed};
use secret_core::{Config, Scope, Store};
use zeroize::Zeroizing;

use super::{Failure, Io, ScopeArgs, identities, open_backend};
use crate::backend::{Backend, VaultEdit};

/// Arguments of `secret set`.
#[derive(Debug, Args)]
pub(crate) struct SetArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Move the types or environments from other values of this secret that cover them
    /// (re-encrypting what those values keep)
    #[arg(long = "move")]
    move_scopes: bool,
    /// Read the value from this file (as is) instead of a prompt or stdin
    #[arg(long, value_name = "FILE")]
    from_file: Option<PathBuf>,
    /// The secret's name
    name: String,
}

/// Arguments of `secret unset`.
#[derive(Debug, Args)]
pub(crate) struct UnsetArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// The secret's name
    name: String,
}

/// Arguments of `secret import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Move covered types or environments from other values (see `set --move`)
    #[arg(long = "move")]
    move_scopes: bool,
    /// A dotenv file: `NAME=value` lines, `#` comments, optional `export `, quoted values
    file: PathBuf,
}

/// Arguments of `secret rekey`.
#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// Re-encrypt every value, not only those whose recipients changed (after a key leaked)
    #[arg(long)]
    all: bool,
}

pub(crate) fn check_name(name: &str) -> Result<(), Failure> {
    secret_syntax::validate_name(name)
        .map_err(|error| Failure::usage(format!("invalid secret name `{name}`: {error}")))
}

/// Fails before any value is read when setting `scope` cannot succeed: another value
/// overlaps (unless `move_scopes`), nobody could read the value, or no identity of `ids`
/// may write it. `set`, `import` and the dashboard all check through this. Returns what a
/// move would do to the other values (the dashboard shows it before the move).
pub(crate) fn preflight(
    store: &Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    move_scopes: bool,
    ids: &secret_core::Identities,
) -> Result<Vec<Narrowed>, secret_core::Error> {
    let plan = edit::plan_set_in(store, name, scope, move_scopes)?;
    if edit::recipients_for(config, scope).is_empty() {
        return Err(secret_core::Error::NoRecipients {
            name: name.to_owned(),
            scope: scope.clone(),
            config: config.path.clone(),
        });
    }
    edit::check_writer(config, name, scope, ids)?;
    Ok(plan)
}

/// Writes `value` for (`name`, `scope`) in the file store, signed by `ids` (`set` and the
/// dashboard): the store is locked, re-read and checked again while it is written.
pub(crate) fn write_value(
    root: &Path,
    config: &Config,
    name: &str,
    scope: &Scope,
    value: &SecretString,
    move_scopes: bool,
    ids: &secret_core::Identities,
) -> Result<Vec<Narrowed>, secret_core::Error> {
    Store::update(root, |store| {
        edit::set(store, config, name, scope, value, move_scopes, ids)
    })
}

pub(crate) fn set(
    root: &Path,
    args: &SetArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    check_name(&args.name)?;
    let config = Config::load(root)?;
    let scope = args.scope.scope(&config)?;
    if let Backend::Vault(client) = open_backend(root, &config, file_store, io)? {
        let edit = VaultEdit::read(&client, &args.name)?;
        edit.preflight(&scope, args.move_scopes)?;
        let value = read_value(args.from_file.as_deref(), &args.name, &scope, io)?;
        let narrowed = edit.set(&scope, value, args.move_scopes)?;
        let _ = writeln!(
            io.stdout,
            "set {} for {} in {} ({})",
            args.name,
            scope.describe(),
            client.describe(),
            client.config().data_path(&args.name)
        );
        report_narrowed(&args.name, &narrowed, io);
        return Ok(());
    }
    let store = Store::load(root)?;
    // Every value is signed by its writer, so an identity is needed to write one.
    let ids = identities(io)?;
    preflight(&store, &config, &args.name, &scope, args.move_scopes, &ids)?;
    let value = read_value(args.from_file.as_deref(), &args.name, &scope, io)?;
    let narrowed = write_value(
        root,
        &config,
        &args.name,
        &scope,
        &value,
        args.move_scopes,
        &ids,
    )?;
    let recipients = edit::recipients_for(&config, &scope).len();
    let _ = writeln!(
        io.stdout,
        "set {} for {} (encrypted to {recipients} recipient{})",
        args.name,
        scope.describe(),
        if recipients == 1 { "" } else { "s" }
    );
    report_narrowed(&args.name, &narrowed, io);
    Ok(())
}

fn report_narrowed(name: &str, narrowed: &[Narrowed], io: &mut Io<'_>) {
    for line in narrowed_lines(name, narrowed) {
        let _ = writeln!(io.stdout, "{line}");
    }
}

/// What `set --move` did to the other values of `name`, one line each (CLI and dashboard).
pub(crate) fn narrowed_lines(name: &str, narrowed: &[Narrowed]) -> Vec<String> {
    narrowed
        .iter()
        .map(|change| match &change.to {
            Some(rest) => format!(
                "moved: the other value of {name} now covers {} (was {})",
                rest.describe(),
                change.from.describe()
            ),
            None => format!("removed the value of {name} for {}", change.from.describe()),
        })
        .collect()
}

fn read_value(
    file: Option<&Path>,
    name: &str,
    scope: &Scope,
    io: &mut Io<'_>,
) -> Result<SecretString, Failure> {
    let bytes =
        if let Some(file) = file {
            let path = io.cwd.join(file);
            Zeroizing::new(std::fs::read(&path).map_err(|error| {
                Failure::usage(format!("--from-file {}: {error}", path.display()))
            })?)
        } else if io.stdin_is_terminal {
            let prompt = format!("Enter the value of {name} for {}: ", scope.describe());
            let text = rpassword::prompt_password(prompt)
                .map_err(|error| Failure::usage(format!("cannot read the value: {error}")))?;
            Zeroizing::new(text.into_bytes())
        } else {
            let mut bytes = Zeroizing::new(Vec::new());
            io.stdin
                .read_to_end(&mut bytes)
                .map_err(|error| Failure::usage(format!("cannot read stdin: {error}")))?;
            if bytes.ends_with(b"\n") {
                bytes.pop();
                if bytes.ends_with(b"\r") {
                    bytes.pop();
                }
            }
            bytes
        };
    if bytes.is_empty() {
        let flags = scope.flags();
        let unset = format!("cargo xtask secret unset {flags} {name}");
        let failure = match file {
            Some(file) => Failure::data(format!(
                "the value of {name} is empty: {} is an empty file",
                io.cwd.join(file).display()
            ))
            .with_help(format!(
                "write the value into the file first, or remove the secret's value with `{unset}`"
            )),
            None => Failure::data(format!("the value of {name} is empty")).with_help(format!(
                "pipe the value in (`... | cargo xtask secret set {flags} {name}`) or use `--from-file FILE`; to remove the value, `{unset}`"
            )),
        };
        return Err(failure);
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::data(format!("the value of {name} is not UTF-8 text")))?;
    Ok(SecretString::from(text))
}

pub(crate) fn unset(
    root: &Path,
    args: &UnsetArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    check_name(&args.name)?;
    let config = Config::load(root)?;
    let scope = args.scope.scope(&config)?;
    let narrowed = match open_backend(root, &config, file_store, io)? {
        Backend::Vault(client) => VaultEdit::read(&client, &args.name)?.unset(&scope)?,
        Backend::File { .. } => unset_file(root, &config, args, &scope, io)?,
    };
    for change in &narrowed {
        let _ = match &change.to {
            Some(rest) => writeln!(
                io.stdout,
                "unset {} for {}; its value for {} is kept",
                args.name,
                scope.describe(),
                rest.describe()
            ),
            None => writeln!(
                io.stdout,
                "removed the value of {} for {}",
                args.name,
                change.from.describe()
            ),
        };
    }
    Ok(())
}

fn unset_file(
    root: &Path,
    config: &Config,
    args: &UnsetArgs,
    scope: &Scope,
    io: &mut Io<'_>,
) -> Result<Vec<Narrowed>, Failure> {
    Ok(unset_value(root, config, &args.name, scope, io.vars)?)
}

/// Removes `scope` from the values of `name` in the file store (`unset` and the dashboard).
/// Only a value that keeps part of its scope needs decrypting, so only then an identity
/// (from `vars`).
pub(crate) fn unset_value(
    root: &Path,
    config: &Config,
    name: &str,
    scope: &Scope,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Vec<Narrowed>, secret_core::Error> {
    let store = Store::load(root)?;
    // A key is needed only to re-encrypt a value that keeps part of its scope.
    let needs_key = edit::plan_unset_in(&store, name, scope)
        .is_ok_and(|plan| plan.iter().any(|narrowed| narrowed.to.is_some()));
    let ids = if needs_key {
        secret_core::Identities::from_vars(vars)?
    } else {
        secret_core::Identities::none()
    };
    Store::update(root, |store| edit::unset(store, config, name, scope, &ids))
}

pub(crate) fn import(
    root: &Path,
    args: &ImportArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let config = Config::load(root)?;
    let scope = args.scope.scope(&config)?;
    let path = io.cwd.join(&args.file);
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|error| {
        Failure::usage(format!("{}: cannot read the file: {error}", path.display()))
    })?);
    let pairs = super::dotenv::parse(&path, &text)?;
    if pairs.is_empty() {
        return Err(Failure::data(format!(
            "{}: no `NAME=value` lines",
            path.display()
        )));
    }
    if let Backend::Vault(client) = open_backend(root, &config, file_store, io)? {
        // Each secret is its own KV secret: check every one before writing any.
        let mut edits = Vec::new();
        for pair in &pairs {
            let edit = VaultEdit::read(&client, &pair.name)?;
            edit.preflight(&scope, args.move_scopes)?;
            edits.push(edit);
        }
        for (done, (edit, pair)) in edits.into_iter().zip(&pairs).enumerate() {
            if let Err(error) = edit.set(&scope, pair.value.clone(), args.move_scopes) {
                let rest: Vec<&str> = pairs[done..].iter().map(|p| p.name.as_str()).collect();
                let _ = writeln!(
                    io.stderr,
                    "note: import stopped at {}: {done} set before it (listed above); not written: {}",
                    pair.name,
                    rest.join(", ")
                );
                return Err(error.into());
            }
            let _ = writeln!(
                io.stdout,
                "set {} for {} in {}",
                pair.name,
                scope.describe(),
                client.describe()
            );
        }
        return Ok(());
    }
    let store = Store::load(root)?;
    let ids = identities(io)?;
    for pair in &pairs {
        preflight(&store, &config, &pair.name, &scope, args.move_scopes, &ids)?;
    }
    Store::update(root, |store| {
        for pair in &pairs {
            edit::set(
                store,
                &config,
                &pair.name,
                &scope,
                &pair.value,
                args.move_scopes,
                &ids,
            )?;
        }
        Ok(())
    })?;
    for pair in &pairs {
        let _ = writeln!(io.stdout, "set {} for {}", pair.name, scope.describe());
    }
    Ok(())
}

pub(crate) fn rekey(root: &Path, args: &RekeyArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    Store::load(root)?;
    let ids = identities(io)?;
    let report = Store::update(root, |store| {
        Ok(edit::rekey(store, &config, &ids, args.all))
    })?;
    let store = Store::load(root)?;
    for (name, scope, recipients) in &report.done {
        let _ = writeln!(
            io.stdout,
            "re-encrypted {name} for {} to {} recipient{}",
            scope.describe(),
            recipients.len(),
            if recipients.len() == 1 { "" } else { "s" }
        );
        for exposure in store
            .get(name, scope)
            .map(|entry| entry.exposed.as_slice())
            .unwrap_or_default()
        {
            let _ = writeln!(
                io.stdout,
                "  rotation due: {} could read it until {}; set a new value with `cargo xtask secret set {} {name}`",
                exposure.recipient,
                exposure.since,
                scope.flags()
            );
        }
    }
    if report.done.is_empty() && report.failed.is_empty() {
        let _ = writeln!(
            io.stdout,
            "every value is encrypted to its recipients already"
        );
    }
    print_failures(
        report.failed,
        "some values could not be re-encrypted (the others were)",
        "a holder of a key that can read them must run `cargo xtask secret rekey`",
        io,
    )
}

/// Prints each error of a partial `rekey` or `migrate` and fails with the worst exit status.
pub(crate) fn print_failures(
    failed: Vec<secret_core::Error>,
    message: &str,
    help: &str,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let mut code = 0;
    for error in failed {
        let failure = Failure::from(error);
        code = code.max(failure.code);
        let _ = failure.print(io.stderr);
    }
    if code == 0 {
        Ok(())
    } else {
        Err(Failure {
            code,
            message: message.to_owned(),
            help: vec![help.to_owned()],
        })
    }
}
