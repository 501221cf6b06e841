//! `secret rekey`: after `secrets.toml` changed, shows what the change does — the changes to
//! the access rules to sign, who gains and who loses access per type and environment, which
//! values are re-encrypted and which are signed again because their writer lost the right
//! to write them — asks on a terminal (`--yes` otherwise), then does it.

use std::path::Path;

use clap::Args;
use secret_core::edit::{self, AccessChange, RekeyPlan};
use secret_core::text::escape_control;
use secret_core::{Config, Store};

use super::{Failure, Io, identities};

/// Arguments of `secret rekey`.
#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// Re-encrypt every value, not only those whose recipients changed (after a key leaked)
    #[arg(long)]
    all: bool,
    /// Do it without asking (for scripts; the plan is still printed)
    #[arg(long, short = 'y')]
    yes: bool,
}

pub(crate) fn run(root: &Path, args: &RekeyArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let config = trusted.state.config().clone();
    super::print_notes(&trusted.notes, io);
    let plan = edit::plan_rekey(trusted.state.store(), &config, args.all)?;
    print_plan(&plan, &config, io);
    if plan.is_empty() {
        let _ = writeln!(
            io.stdout,
            "nothing to do: the access rules are signed as secrets.toml states them, and every value is encrypted to its recipients"
        );
        return Ok(());
    }
    if !args.yes {
        if !io.stdin_is_terminal {
            return Err(Failure::usage(
                "rekey changes who can read and write values: confirm on a terminal, or pass --yes"
                    .to_owned(),
            )
            .with_help(
                "read the plan above first: `cargo xtask secret rekey --yes` does exactly that",
            ));
        }
        let _ = write!(io.stdout, "Sign and re-encrypt as above? [y/N] ");
        let _ = io.stdout.flush();
        let mut answer = String::new();
        let mut byte = [0u8; 1];
        while io.stdin.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
            answer.push(byte[0] as char);
        }
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            let _ = writeln!(io.stdout, "nothing changed");
            return Ok(());
        }
    }
    let ids = identities(io)?;
    let report = Store::update(root, |store| {
        crate::trusted::raise_versions(root, store)?;
        if edit::plan_rekey(store, &config, args.all)? != plan {
            return Err(Failure::data(
                "the store or secrets.toml changed while you were reading the plan; nothing was written".to_owned(),
            )
            .with_help("run `cargo xtask secret rekey` again"));
        }
        Ok(edit::rekey(store, &config, &ids, args.all)?)
    })?;
    if let Some(signed) = &report.rules {
        let _ = writeln!(
            io.stdout,
            "signed version {} of the access rules as {}",
            signed.version,
            signed
                .signers
                .iter()
                .map(|key| config.named(key))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
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
                config.named(&exposure.recipient),
                escape_control(&exposure.since),
                scope.flags()
            );
        }
    }
    for (name, scope, former) in &report.vouched {
        if report.done.iter().any(|(n, s, _)| n == name && s == scope) {
            continue;
        }
        let _ = writeln!(
            io.stdout,
            "signed {name} for {} again (its writer {} may no longer write it); rotation due: set a new value with `cargo xtask secret set {} {name}`",
            scope.describe(),
            config.named(former),
            scope.flags()
        );
    }
    if let Ok(after) = secret_core::state::State::load(root, None) {
        trusted.remember_state(&after);
    }
    super::set::print_failures(
        report.failed,
        "some values could not be re-encrypted (the others were)",
        "a holder of a key that can read them and may write them runs `cargo xtask secret rekey`",
        io,
    )
}

/// Prints what [`edit::rekey`] will do, naming people by `config`'s `[people]`.
fn print_plan(plan: &RekeyPlan, config: &Config, io: &mut Io<'_>) {
    if !plan.changes.is_empty() {
        let _ = writeln!(io.stdout, "changes to the access rules, to sign:");
        for change in &plan.changes {
            let _ = writeln!(io.stdout, "  {}", escape_control(&change.to_string()));
        }
    }
    if !plan.access.is_empty() {
        let _ = writeln!(io.stdout, "who gains and who loses access:");
        for change in &plan.access {
            let _ = writeln!(io.stdout, "  {}", describe_access(change, config));
        }
    }
    if !plan.reencrypt.is_empty() {
        let _ = writeln!(io.stdout, "values to re-encrypt to their recipients:");
        for (name, scope, recipients) in &plan.reencrypt {
            let _ = writeln!(
                io.stdout,
                "  {name} ({}) to {} recipient{}",
                escape_control(&scope.key()),
                recipients.len(),
                if recipients.len() == 1 { "" } else { "s" }
            );
        }
    }
    if !plan.vouch.is_empty() {
        let _ = writeln!(
            io.stdout,
            "values whose writer may no longer write them, to sign again as yours and mark due for rotation:"
        );
        for (name, scope, former) in &plan.vouch {
            let _ = writeln!(
                io.stdout,
                "  {name} ({}), written by {}",
                escape_control(&scope.key()),
                config.named(former)
            );
        }
    }
    for (name, scope, why) in &plan.refused {
        let _ = writeln!(
            io.stderr,
            "warning: {name} ({}) is left as it is: it {}; see `cargo xtask secret log {name}`",
            escape_control(&scope.key()),
            escape_control(why)
        );
    }
}

fn describe_access(change: &AccessChange, config: &Config) -> String {
    let mut what = Vec::new();
    match change.read {
        Some(true) => what.push("gains read access"),
        Some(false) => what.push("loses read access"),
        None => {}
    }
    match change.write {
        Some(true) => what.push("gains write access"),
        Some(false) => what.push("loses write access"),
        None => {}
    }
    let mut line = format!(
        "{} {} to {}",
        config.named(&change.key),
        what.join(" and "),
        escape_control(&change.level)
    );
    if change.promoted {
        line.push_str(
            " (a key that could read only other types so far becomes a production reader)",
        );
    }
    if change.read == Some(false) {
        line.push_str(": values it could read become due for rotation");
    }
    line
}
