//! `secret set`, `unset` and `import`: the commands that change values.
//!
//! Flags, the name, the environments and the one-value-per-type rule are checked before
//! the value is asked for, so a mistake never costs a typed value. The value comes from a
//! no-echo prompt when stdin is a terminal, else from all of stdin with one trailing
//! newline removed, or from `--from-file` (read as is); never from the command line.

use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::SecretString;
use secret_core::edit::{self, Narrowed};
use secret_core::state::State;
use secret_core::{Config, Scope, Store};
use zeroize::Zeroizing;

use super::{Failure, Io, ScopeArgs, escaped, identities, open_backend};
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
    /// Store lines whose name no code declares, under that name (by default they are
    /// refused, with the declared name when one is close)
    #[arg(long)]
    allow_undeclared: bool,
    /// A dotenv file: `NAME=value` lines, `#` comments, optional `export `, quoted values.
    /// A line may name a declared secret, its `SECRET_<Name>` variable, or the variable
    /// of its `env = "..."`
    file: PathBuf,
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
    state: &State,
    name: &str,
    scope: &Scope,
    move_scopes: bool,
    ids: &secret_core::Identities,
) -> Result<Vec<Narrowed>, secret_core::Error> {
    let plan = edit::plan_set_in(state.store(), name, scope, move_scopes)?;
    if let Err(error) = state.rules()
        && !(state.store().is_empty() && state.store().all_removals().next().is_none())
    {
        let migrate = matches!(error, secret_core::rules::chain::ChainError::Missing);
        return Err(secret_core::Error::Rules {
            path: state.store().path().to_owned(),
            message: format!("cannot write: {}", state.rules_problem(error)),
            help: if migrate {
                "run `cargo xtask secret migrate`".to_owned()
            } else {
                "restore secrets.enc.toml from git history; `cargo xtask check-secrets` explains what is wrong".to_owned()
            },
        });
    }
    let config = state.effective();
    if secret_core::rules::recipients_for(config, scope).is_empty() {
        return Err(secret_core::Error::NoRecipients {
            name: name.to_owned(),
            scope: scope.clone(),
            config: config.path.clone(),
        });
    }
    edit::check_writer(state, name, scope, ids)?;
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
        crate::trusted::raise_versions(root, store)?;
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
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    super::print_notes(&trusted.notes, io);
    let state = &trusted.state;
    let config = state.config().clone();
    let scope = args.scope.scope(state)?;
    if let Backend::Vault(client) = open_backend(state, file_store, io)? {
        let edit = VaultEdit::read(&client, &args.name)?;
        edit.preflight(&scope, args.move_scopes)?;
        let value = read_value(args.from_file.as_deref(), &args.name, &scope, io)?;
        let applied = edit.set(&scope, value, args.move_scopes)?;
        let _ = writeln!(
            io.stdout,
            "set {} for {} in {} ({})",
            args.name,
            scope.describe(),
            escaped(&client.describe()),
            escaped(&client.config().data_path(&args.name))
        );
        report_narrowed(&args.name, &applied.narrowed, io);
        return Ok(());
    }
    // Every value is signed by its writer, so an identity is needed to write one.
    let ids = identities(io)?;
    preflight(state, &args.name, &scope, args.move_scopes, &ids)?;
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
    let after = State::load(root, None)?;
    report_root(state, &after, io);
    trusted.remember_state(&after);
    let recipients = secret_core::rules::recipients_for(after.effective(), &scope).len();
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

/// Says so when a write created the trust root: the first signed access rules.
pub(crate) fn report_root(before: &State, after: &State, io: &mut Io<'_>) {
    if !before.store().rules().is_empty() {
        return;
    }
    if let Ok(verified) = after.rules() {
        let _ = writeln!(
            io.stdout,
            "signed the access rules of secrets.toml as version 1 of the store's signed rules (the trust root, {}); changes to who can read or write take effect once a writer signs them with `cargo xtask secret rekey`",
            verified.root().digest
        );
    }
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
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    super::print_notes(&trusted.notes, io);
    let state = &trusted.state;
    let scope = args.scope.scope(state)?;
    let narrowed = match open_backend(state, file_store, io)? {
        Backend::Vault(client) => {
            VaultEdit::read(&client, &args.name)?
                .unset(&scope)?
                .narrowed
        }
        Backend::File { .. } => {
            let narrowed = unset_file(root, state.config(), args, &scope, io)?;
            trusted.remember_state(&State::load(root, None)?);
            narrowed
        }
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

/// Removes `scope` from the values of `name` in the file store (`unset` and the dashboard),
/// leaving a signed removal: a writer's identity (from `vars`) is needed, and a reader's
/// too when a value keeps part of its scope (it is re-encrypted for the rest).
pub(crate) fn unset_value(
    root: &Path,
    config: &Config,
    name: &str,
    scope: &Scope,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Vec<Narrowed>, secret_core::Error> {
    let store = Store::load(root)?;
    // Nothing to remove is said before asking for a key.
    edit::plan_unset_in(&store, name, scope)?;
    let ids = secret_core::Identities::from_vars(vars)?;
    Store::update(root, |store| {
        crate::trusted::raise_versions(root, store)?;
        edit::unset(store, config, name, scope, &ids)
    })
}

pub(crate) fn import(
    root: &Path,
    args: &ImportArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    super::print_notes(&trusted.notes, io);
    let state = &trusted.state;
    let config = state.config().clone();
    let scope = args.scope.scope(state)?;
    let path = io.cwd.join(&args.file);
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|error| {
        Failure::usage(format!("{}: cannot read the file: {error}", path.display()))
    })?);
    let mut pairs = super::dotenv::parse(&path, &text)?;
    if pairs.is_empty() {
        return Err(Failure::data(format!(
            "{}: no `NAME=value` lines",
            path.display()
        )));
    }
    map_to_declared(root, &path, &mut pairs, args.allow_undeclared, io)?;
    if let Backend::Vault(client) = open_backend(state, file_store, io)? {
        // Each secret is its own KV secret: check every one before writing any.
        let mut edits = Vec::new();
        for pair in &pairs {
            let edit = VaultEdit::read(&client, &pair.name)?;
            edit.preflight(&scope, args.move_scopes)?;
            edits.push(edit);
        }
        for (done, (edit, pair)) in edits.into_iter().zip(&pairs).enumerate() {
            if let Err(error) = edit.set(&scope, pair.value.clone(), args.move_scopes) {
                let names: Vec<&str> = pairs[done..].iter().map(|p| p.name.as_str()).collect();
                let _ = writeln!(
                    io.stderr,
                    "note: import stopped at {}: {done} set before it (listed above); {}",
                    pair.name,
                    super::sync::not_written(&names, &error)
                );
                return Err(error.into());
            }
            let _ = writeln!(
                io.stdout,
                "set {} for {} in {}",
                pair.name,
                scope.describe(),
                escaped(&client.describe())
            );
        }
        return Ok(());
    }
    let ids = identities(io)?;
    for pair in &pairs {
        preflight(state, &pair.name, &scope, args.move_scopes, &ids)?;
    }
    Store::update(root, |store| {
        crate::trusted::raise_versions(root, store)?;
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
        Ok::<_, secret_core::Error>(())
    })?;
    let after = State::load(root, None)?;
    report_root(state, &after, io);
    trusted.remember_state(&after);
    for pair in &pairs {
        let _ = writeln!(io.stdout, "set {} for {}", pair.name, scope.describe());
    }
    Ok(())
}

/// Renames each line of an imported dotenv file to the declared secret it stands for: the
/// name itself, `SECRET_<Name>`, or the variable of `secret!("Name", env = "VARIABLE")`.
/// A name no code declares is refused (naming the declared secret when one is close), unless
/// `allow_undeclared`, or the workspace declares no secret yet (then a warning); nothing is
/// written when one is refused. When the workspace cannot be scanned, names are kept as
/// written, after a warning.
fn map_to_declared(
    root: &Path,
    path: &Path,
    pairs: &mut [super::dotenv::Pair],
    allow_undeclared: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let scan = match crate::scan::scan_workspace(root) {
        Ok(scan) => scan,
        Err(error) => {
            let _ = writeln!(
                io.stderr,
                "warning: {}\nnote: importing every line under its own name, without matching it to the declarations",
                escaped(&error)
            );
            return Ok(());
        }
    };
    let declared: std::collections::BTreeSet<&str> = scan
        .declarations
        .iter()
        .map(|declaration| declaration.name.as_str())
        .collect();
    let by_variable: std::collections::BTreeMap<&str, &str> = scan
        .declarations
        .iter()
        .filter_map(|declaration| Some((declaration.env.as_deref()?, declaration.name.as_str())))
        .collect();
    let mut refused = Vec::new();
    let mut undeclared = Vec::new();
    for pair in pairs.iter_mut() {
        let written = pair.name.clone();
        let name = if declared.contains(written.as_str()) {
            Some(written.as_str())
        } else if let Some(name) = by_variable.get(written.as_str()) {
            Some(*name)
        } else {
            written
                .strip_prefix("SECRET_")
                .filter(|rest| declared.contains(rest))
        };
        match name {
            Some(name) => {
                if name != written {
                    let _ = writeln!(io.stderr, "note: {written} is the declared secret {name}");
                }
                pair.name = name.to_owned();
            }
            None if allow_undeclared => undeclared.push(written),
            None => refused.push((written.clone(), closest(&written, &declared))),
        }
    }
    if !refused.is_empty() && declared.is_empty() {
        let names: Vec<&str> = refused.iter().map(|(name, _)| name.as_str()).collect();
        let _ = writeln!(
            io.stderr,
            "warning: no code in this workspace declares a secret yet, so {} {} stored under the name{} written in the file",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" },
            if names.len() == 1 { "" } else { "s" },
        );
        return Ok(());
    }
    if let Some((first, _)) = refused.first() {
        let names: Vec<&str> = refused.iter().map(|(name, _)| name.as_str()).collect();
        let mut failure = Failure::data(format!(
            "{}: no code declares {}; nothing was imported",
            path.display(),
            names.join(", ")
        ));
        for (name, close) in &refused {
            if let Some(close) = close {
                failure = failure.with_help(format!(
                    "`{name}`: did you mean the declared `{close}`? Rename the line, or declare the variable with `secret!(\"{close}\", env = \"{name}\")` so that programs and `secret run` use it too"
                ));
            }
        }
        return Err(failure.with_help(format!(
            "declare each secret in code with `secret!(\"{first}\")` first, or add `--allow-undeclared` to store the lines under their own names"
        )));
    }
    if !undeclared.is_empty() {
        let _ = writeln!(
            io.stderr,
            "warning: no code declares {}; stored anyway (--allow-undeclared)",
            undeclared.join(", ")
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = pairs.iter().find(|pair| !seen.insert(pair.name.as_str())) {
        return Err(Failure::data(format!(
            "{}: two lines set the secret {}; nothing was imported",
            path.display(),
            twice.name
        ))
        .with_help("keep one of them (its own name, SECRET_<Name> or its env = variable)"));
    }
    Ok(())
}

/// The declared name `written` most likely means: the same letters and digits in another
/// case or with `_` (`DATABASE_URL` for `DatabaseURL`), else one a few edits away.
fn closest<'a>(written: &str, declared: &std::collections::BTreeSet<&'a str>) -> Option<&'a str> {
    let folded = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|ch| ch.to_ascii_lowercase())
            .collect()
    };
    let bare = written.strip_prefix("SECRET_").unwrap_or(written);
    let target = folded(bare);
    declared
        .iter()
        .copied()
        .find(|name| folded(name) == target)
        .or_else(|| secret_core::error::did_you_mean(bare, declared.iter().copied()))
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
