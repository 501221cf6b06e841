//! The git drivers `secret init` configures for `secrets.enc.toml`: the merge driver (per
//! table, [`secret_core::merge`]) and the diff textconv (one line per value, removal and
//! rules version). Git runs them with the paths of temporary files; they read only the
//! texts given, never the work tree, so they work the same for a workspace in a subfolder of
//! the repository.

use std::path::{Path, PathBuf};

use clap::Args;
use secret_core::Store;
use secret_core::merge::merge;
use secret_core::text::escape_control;

use super::{Failure, Io};

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
    let target = io.cwd.join(&args.ours);
    let write = |text: &str| {
        std::fs::write(&target, text)
            .map_err(|error| Failure::usage(format!("{}: cannot write: {error}", target.display())))
    };
    let merged = match merge(&shown, &base, &ours, &theirs) {
        Ok(merged) => merged,
        Err(error) => {
            // A side that is not a store this tool reads (a hand edit, a conflict committed
            // by mistake): keep both whole, between conflict markers, so nothing is dropped.
            write(&format!(
                "<<<<<<< ours\n{ours}{}=======\n{theirs}{}>>>>>>> theirs\n",
                if ours.ends_with('\n') || ours.is_empty() {
                    ""
                } else {
                    "\n"
                },
                if theirs.ends_with('\n') || theirs.is_empty() {
                    ""
                } else {
                    "\n"
                },
            ))?;
            return Err(Failure::from(error).with_help(
                "both versions are kept in the file between conflict markers: keep one, then set again what the other added (`cargo xtask secret set`)",
            ));
        }
    };
    write(&merged.text)?;
    if merged.conflicts.is_empty() {
        return Ok(());
    }
    for conflict in &merged.conflicts {
        let _ = writeln!(
            io.stderr,
            "conflict: {} in {}",
            escape_control(conflict),
            shown.display()
        );
    }
    Err(Failure::data(format!(
        "{} conflict{} in {}",
        merged.conflicts.len(),
        if merged.conflicts.len() == 1 { "" } else { "s" },
        shown.display()
    ))
    .with_help("keep one table between each pair of conflict markers (or set the value again with `cargo xtask secret set`), then `git add` the file; two versions of the access rules: keep one and sign the other's change again with `cargo xtask secret rekey`"))
}

pub(crate) fn textconv(args: &TextconvArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let path = io.cwd.join(&args.file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let Ok(store) = Store::parse(&path, &text) else {
        // Not readable as a store (a conflict, a hand edit): show it as it is, with control
        // characters escaped.
        for line in text.lines() {
            let _ = writeln!(io.stdout, "{}", escape_control(line));
        }
        return Ok(());
    };
    for line in describe_store(&store) {
        let _ = writeln!(io.stdout, "{line}");
    }
    Ok(())
}

/// The store in lines a reviewer reads: each rules version with its changes, then one line
/// per value (name, scope, version, a fingerprint of the ciphertext, writer, time,
/// recipients, exposures) or removal. Nothing derived from the plaintext; control
/// characters escaped.
pub(crate) fn describe_store(store: &Store) -> Vec<String> {
    let mut lines = Vec::new();
    for rules in store.rules() {
        let signers: Vec<&str> = rules
            .signatures
            .iter()
            .map(|(signer, _)| signer.as_str())
            .collect();
        lines.push(format!(
            "access rules version {} signed={} by {}",
            rules.version,
            rules.signed,
            signers.join(",")
        ));
        for change in &rules.changes {
            lines.push(format!("  {change}"));
        }
    }
    let mut slots: Vec<(String, String, String)> = Vec::new();
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            let mut line = format!(
                "{name} {} sha256:{} writer={} recipients={} version={}",
                scope.key(),
                entry.fingerprint(),
                entry
                    .signed
                    .as_ref()
                    .map_or("(unsigned)", |signed| signed.writer.as_str()),
                entry.recipients.join(","),
                entry
                    .version
                    .map_or_else(|| "none".to_owned(), |version| version.to_string()),
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
            slots.push((name.to_owned(), scope.key(), line));
        }
    }
    for (name, scope, removal) in store.all_removals() {
        slots.push((
            name.to_owned(),
            scope.key(),
            format!(
                "{name} {} removed writer={} version={} written={}",
                scope.key(),
                removal.signed.writer,
                removal.version,
                removal.signed.written
            ),
        ));
    }
    slots.sort();
    lines.extend(slots.into_iter().map(|(_, _, line)| line));
    lines
        .into_iter()
        .map(|line| escape_control(&line).into_owned())
        .collect()
}
