//! The team store's commands: `migrate` (sign values no current writer signed), the git
//! `merge-driver` and `textconv` that `secret init` configures, and `log` (who changed
//! which value, from git history).

use std::path::{Path, PathBuf};

use clap::Args;
use secret_core::merge::merge;
use secret_core::trust::{Trust, trust};
use secret_core::{Config, Store};

use super::{Failure, Io, identities};
use crate::git;

/// Arguments of `secret migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Only these secrets (default: every value that needs it)
    names: Vec<String>,
}

/// Arguments of `secret merge-driver` (run by git with `%O %A %B %P`).
#[derive(Debug, Args)]
pub(crate) struct MergeDriverArgs {
    /// The common ancestor's version (%O)
    base: PathBuf,
    /// Our version (%A); the merged result is written here
    ours: PathBuf,
    /// Their version (%B)
    theirs: PathBuf,
    /// The path in the repository (%P), for messages
    path: Option<PathBuf>,
}

/// Arguments of `secret textconv` (run by git's diff with the file to show).
#[derive(Debug, Args)]
pub(crate) struct TextconvArgs {
    /// A version of secrets.enc.toml
    file: PathBuf,
}

/// Arguments of `secret log`.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Only this secret
    name: Option<String>,
}

pub(crate) fn migrate(root: &Path, args: &MigrateArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    Store::load(root)?;
    let ids = identities(io)?;
    let report = Store::update(root, |store| {
        Ok(secret_core::edit::migrate(
            store,
            &config,
            &ids,
            &args.names,
        ))
    })?;
    for (name, scope, _) in &report.done {
        let _ = writeln!(
            io.stdout,
            "signed {name} for {} as {}",
            scope.describe(),
            ids.public_keys().first().map_or("", String::as_str)
        );
    }
    if report.done.is_empty() && report.failed.is_empty() {
        let _ = writeln!(io.stdout, "every value is signed by one of its writers");
    }
    super::set::print_failures(
        report.failed,
        "some values could not be signed (the others were)",
        "a holder of a key that can read them and may write them must run `cargo xtask secret migrate`",
        io,
    )
}

pub(crate) fn merge_driver(args: &MergeDriverArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let read = |path: &Path| match std::fs::read_to_string(io.cwd.join(path)) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(error) => Err(Failure::usage(format!("{}: {error}", path.display()))),
    };
    let shown = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(secret_core::STORE_FILE));
    let (base, ours, theirs) = (read(&args.base)?, read(&args.ours)?, read(&args.theirs)?);
    let merged = merge(&shown, &base, &ours, &theirs)?;
    let target = io.cwd.join(&args.ours);
    std::fs::write(&target, &merged.text)
        .map_err(|error| Failure::usage(format!("{}: cannot write: {error}", target.display())))?;
    if merged.conflicts.is_empty() {
        return Ok(());
    }
    for (name, scope) in &merged.conflicts {
        let _ = writeln!(
            io.stderr,
            "conflict: {name} ({scope}) was changed on both branches in {}",
            shown.display()
        );
    }
    Err(Failure::data(format!(
        "{} value{} of {} changed on both branches",
        merged.conflicts.len(),
        if merged.conflicts.len() == 1 { "" } else { "s" },
        shown.display()
    ))
    .with_help("keep one table between each pair of conflict markers (or set the value again with `cargo xtask secret set`), then `git add` the file"))
}

pub(crate) fn textconv(args: &TextconvArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let path = io.cwd.join(&args.file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let Ok(store) = Store::parse(&path, &text) else {
        // Not readable as a store (a conflict, a hand edit): show it as it is.
        let _ = io.stdout.write_all(text.as_bytes());
        return Ok(());
    };
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            let _ = writeln!(io.stdout, "{}", describe(name, scope, entry));
        }
    }
    Ok(())
}

/// One value in one line: name, scope, a fingerprint of the ciphertext, writer, time,
/// recipients and exposures. Nothing derived from the plaintext.
fn describe(name: &str, scope: &secret_core::Scope, entry: &secret_core::Entry) -> String {
    let mut line = format!(
        "{name} {} sha256:{} writer={} recipients={}",
        scope.key(),
        entry.fingerprint(),
        entry
            .signed
            .as_ref()
            .map_or("(unsigned)", |signed| signed.writer.as_str()),
        entry.recipients.join(","),
    );
    if let Some(signed) = &entry.signed {
        line.push_str(&format!(" written={}", signed.written));
    }
    if !entry.exposed.is_empty() {
        let exposed: Vec<String> = entry
            .exposed
            .iter()
            .map(|exposure| format!("{}@{}", exposure.recipient, exposure.since))
            .collect();
        line.push_str(&format!(" exposed={}", exposed.join(",")));
    }
    line
}

pub(crate) fn log(root: &Path, args: &LogArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    let store_path = root.join(secret_core::STORE_FILE);
    let history = git::store_history(root, &store_path).map_err(Failure::usage)?;
    let mut previous = Store::empty(store_path.clone());
    let mut printed = 0;
    // Every name the history holds, to tell an unknown name from one without changes.
    let mut seen = std::collections::BTreeSet::new();
    for revision in history {
        let Ok(store) = Store::parse(&store_path, &revision.text) else {
            let _ = writeln!(
                io.stdout,
                "{} {} the store does not parse at this commit",
                &revision.date,
                short(&revision.commit)
            );
            continue;
        };
        let mut names: Vec<&str> = store.names().chain(previous.names()).collect();
        names.sort_unstable();
        names.dedup();
        seen.extend(names.iter().map(|name| (*name).to_owned()));
        for name in names {
            if args.name.as_deref().is_some_and(|wanted| wanted != name) {
                continue;
            }
            let mut keys: Vec<(secret_core::Scope, String)> = store
                .slots(name)
                .chain(previous.slots(name))
                .map(|(scope, _)| (scope.clone(), scope.key()))
                .collect();
            keys.sort_by(|a, b| a.1.cmp(&b.1));
            keys.dedup_by(|a, b| a.1 == b.1);
            for (scope, key) in keys {
                let (before, after) = (previous.get(name, &scope), store.get(name, &scope));
                let what = match (before, after) {
                    (None, Some(_)) => "set",
                    (Some(_), None) => "removed",
                    (Some(a), Some(b)) if a.ciphertext() != b.ciphertext() => {
                        if a.recipients != b.recipients {
                            "re-encrypted"
                        } else {
                            "changed"
                        }
                    }
                    (Some(a), Some(b)) if a != b => "re-signed",
                    _ => continue,
                };
                let signer = match after {
                    Some(entry) => match trust(&config, name, &scope, entry) {
                        Trust::Signed { writer } => format!("signed by {writer}"),
                        Trust::NotAllowed { writer, .. } => {
                            format!("signed by {writer} (not a writer of it now)")
                        }
                        Trust::BadSignature { writer } => {
                            format!("claims {writer}, signature INVALID")
                        }
                        Trust::Unsigned => "unsigned".to_owned(),
                    },
                    None => "no signature (a removal)".to_owned(),
                };
                let _ = writeln!(
                    io.stdout,
                    "{} {} {what} {name} {key} {signer}; committed by {}",
                    revision.date,
                    short(&revision.commit),
                    revision.author
                );
                printed += 1;
            }
        }
        previous = store;
    }
    if let Some(name) = args.name.as_deref().filter(|name| !seen.contains(*name)) {
        let mut failure = Failure::data(format!(
            "no secret `{name}` in the git history of {}",
            store_path.display()
        ));
        if let Some(close) = secret_core::error::did_you_mean(name, seen.iter().map(String::as_str))
        {
            failure = failure.with_help(format!("did you mean `{close}`?"));
        }
        return Err(failure.with_help(
            "`cargo xtask secret list` shows the secrets; `cargo xtask secret log` without a name shows every change",
        ));
    }
    if printed == 0 {
        let _ = writeln!(
            io.stdout,
            "no change to {} in git history",
            store_path.display()
        );
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}
