//! The team store's history commands: `migrate` (bring a store from before signed access
//! rules up to date, showing who committed each value it signs) and `log` (every change of
//! every value and of the access rules, from git history, with who signed it).

use std::path::Path;

use clap::Args;
use secret_core::edit::{self, CandidateKind};
use secret_core::state::{Refusal, State, describe_trust};
use secret_core::text::{escape_control, shell_quote};
use secret_core::trust::{Trust, removal_trust};
use secret_core::{Config, Entry, Scope, Store};

use super::{Failure, Io, identities};
use crate::git::{self, Revision};

/// Arguments of `secret migrate`.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Sign this unsigned (store format 1) value, which you know came from your team:
    /// `NAME@SCOPE`, such as `GitHubAPIToken@type:production`; may be repeated
    #[arg(long = "accept", value_name = "NAME@SCOPE")]
    accept: Vec<String>,
    /// Sign the access rules of secrets.toml as the trust root without asking
    #[arg(long, short = 'y')]
    yes: bool,
}

/// Arguments of `secret log`.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Only this secret
    name: Option<String>,
}

fn parse_accept(text: &str) -> Result<(String, Scope), Failure> {
    let bad = || {
        Failure::usage(format!(
            "`--accept {}` is not NAME@SCOPE",
            escape_control(text)
        ))
        .with_help("for example `--accept GitHubAPIToken@type:production` (the scope as `cargo xtask secret list` and the check print it)")
    };
    let (name, scope) = text.split_once('@').ok_or_else(bad)?;
    let scope = Scope::parse_key(scope).map_err(|_| bad())?;
    Ok((name.to_owned(), scope))
}

/// The commit that last changed the table of (`name`, `scope`), from `history` (oldest
/// first).
fn last_change<'a>(
    history: &'a [Revision],
    path: &Path,
    name: &str,
    scope: &Scope,
) -> Option<&'a Revision> {
    let mut last = None;
    let mut previous: Option<String> = None;
    for revision in history {
        let table = Store::parse(path, &revision.text).ok().and_then(|store| {
            store
                .get(name, scope)
                .map(|entry| format!("{:?}{}", entry, entry.ciphertext()))
        });
        if table.is_some() && table != previous {
            last = Some(revision);
        }
        previous = table;
    }
    last
}

pub(crate) fn migrate(root: &Path, args: &MigrateArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    let store = Store::load(root)?;
    let mut accepted: Vec<(String, Scope)> = args
        .accept
        .iter()
        .map(|text| parse_accept(text))
        .collect::<Result<_, _>>()?;
    if store.rules().is_empty() {
        // Rules this clone (or the store's history) trusted and that are gone are a
        // rollback, not a store from before signed rules: signing a new root over
        // secrets.toml as written would bless whatever the change brought.
        let trusted = crate::trusted::Trusted::open(root, io.vars)?;
        if let Err(error) = trusted.state.rules()
            && !matches!(error, secret_core::rules::chain::ChainError::Missing)
        {
            return Err(Failure::data(format!(
                "cannot migrate: {}",
                escape_control(&trusted.state.rules_problem(error))
            ))
            .with_help("restore secrets.enc.toml from git history (`git log -p -- secrets.enc.toml` shows the change)"));
        }
    }
    let candidates = edit::migration_candidates(&store, &config);
    if store.rules().is_empty() {
        let _ = writeln!(
            io.stdout,
            "the access rules of secrets.toml become the store's signed trust root (version 1):"
        );
        let facts = secret_core::rules::facts::facts_of(&config, "(a new repository identity)");
        for fact in facts {
            let _ = writeln!(io.stdout, "  {}", escape_control(&fact.to_string()));
        }
        if !args.yes && !confirm("Sign these rules?", io)? {
            let _ = writeln!(io.stdout, "nothing changed");
            return Ok(());
        }
    }
    let history = git::store_history(root, store.path(), None).unwrap_or_default();
    for candidate in &candidates {
        let name = &candidate.name;
        let scope = escape_control(&candidate.scope.key()).into_owned();
        match &candidate.kind {
            CandidateKind::Legacy { writer } => {
                let _ = writeln!(
                    io.stdout,
                    "{name} ({scope}): signed by {} in store format 2; signed again as is",
                    escape_control(writer)
                );
            }
            CandidateKind::Unsigned => {
                let committed = match last_change(&history, store.path(), name, &candidate.scope) {
                    Some(revision) => format!(
                        "last changed by {} on {} in commit {}",
                        escape_control(&revision.author),
                        revision.date,
                        &revision.commit[..revision.commit.len().min(10)]
                    ),
                    None => "not in git history".to_owned(),
                };
                let _ = writeln!(
                    io.stdout,
                    "{name} ({scope}): unsigned (store format 1), {committed}"
                );
                let wanted = accepted
                    .iter()
                    .any(|(n, s)| n == name && *s == candidate.scope);
                if !wanted {
                    if io.stdin_is_terminal
                        && confirm(
                            &format!("  Did {name} ({scope}) come from your team? Sign it?"),
                            io,
                        )?
                    {
                        accepted.push((name.clone(), candidate.scope.clone()));
                    } else {
                        let _ = writeln!(
                            io.stdout,
                            "  not signed: if it came from your team, `cargo xtask secret migrate --accept {}`",
                            shell_quote(&format!("{name}@{}", candidate.scope.key()))
                        );
                    }
                }
            }
            CandidateKind::Refused { trust } => {
                let _ = writeln!(
                    io.stderr,
                    "warning: {name} ({scope}) is not migrated: it {}; `cargo xtask secret log {name}` shows who changed it; restore it from git history or set it again",
                    escape_control(&describe_trust(trust, &candidate.scope))
                );
            }
        }
    }
    let ids = identities(io)?;
    let report = Store::update(root, |store| edit::migrate(store, &config, &ids, &accepted))?;
    if let Some(rules) = &report.rules {
        let _ = writeln!(
            io.stdout,
            "signed the access rules as version {} (the trust root) as {}",
            rules.version,
            escape_control(&rules.signers.join(", "))
        );
    }
    let after = Store::load(root)?;
    for (name, scope, unsigned) in &report.done {
        let writer = after
            .get(name, scope)
            .and_then(|entry| entry.signed.as_ref())
            .map_or(String::new(), |signed| {
                escape_control(&signed.writer).into_owned()
            });
        let _ = writeln!(
            io.stdout,
            "signed {name} for {} as {writer}{}",
            scope.describe(),
            if *unsigned { " (it was unsigned)" } else { "" }
        );
    }
    if report.done.is_empty() && report.failed.is_empty() && report.rules.is_none() {
        let _ = writeln!(
            io.stdout,
            "every value is signed by one of its writers in the current format: nothing to migrate"
        );
    }
    super::set::print_failures(
        report.failed,
        "some values could not be migrated (the others were)",
        "a writer of their scopes who can read them runs `cargo xtask secret migrate`",
        io,
    )
}

/// Asks `question` on the terminal; `true` for yes.
pub(crate) fn confirm(question: &str, io: &mut Io<'_>) -> Result<bool, Failure> {
    if !io.stdin_is_terminal {
        return Err(Failure::usage(format!(
            "{question} (confirm on a terminal, or pass --yes)"
        )));
    }
    let _ = write!(io.stdout, "{} [y/N] ", escape_control(question));
    let _ = io.stdout.flush();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while io.stdin.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
        answer.push(byte[0]);
    }
    Ok(matches!(
        String::from_utf8_lossy(&answer).trim(),
        "y" | "Y" | "yes"
    ))
}

pub(crate) fn log(root: &Path, args: &LogArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    if let Some(name) = &args.name {
        super::set::check_name(name)?;
    }
    let config = Config::load(root)?;
    let store_path = root.join(secret_core::STORE_FILE);
    let history = git::store_history(root, &store_path, None).map_err(Failure::usage)?;
    let mut previous = Store::empty(store_path.clone());
    let mut printed = 0;
    // Every name the history holds, to tell an unknown name from one without changes.
    let mut seen = std::collections::BTreeSet::new();
    // The newest version of each slot signed so far in the history walked.
    let mut newest: std::collections::BTreeMap<(String, String), u64> = Default::default();
    let short = |commit: &str| commit[..commit.len().min(10)].to_owned();
    for revision in &history {
        let Ok(store) = Store::parse(&store_path, &revision.text) else {
            let _ = writeln!(
                io.stdout,
                "{} {} the store does not parse at this commit",
                revision.date,
                short(&revision.commit)
            );
            continue;
        };
        let state = State::new(config.clone(), store.clone(), None);
        let committed = format!("committed by {}", escape_control(&revision.author));
        if args.name.is_none() {
            for rules in store.rules().iter().skip(previous.rules().len()) {
                let signers: Vec<&str> = rules.signatures.iter().map(|(s, _)| s.as_str()).collect();
                let verdict = match state.rules() {
                    Ok(_) => String::new(),
                    Err(error) => format!(" (INVALID: {})", state.rules_problem(error)),
                };
                let _ = writeln!(
                    io.stdout,
                    "{} {} access rules version {} signed by {}{}: {}; {committed}",
                    revision.date,
                    short(&revision.commit),
                    rules.version,
                    escape_control(&signers.join(", ")),
                    escape_control(&verdict),
                    escape_control(&rules.changes.join("; "))
                );
                printed += 1;
            }
        }
        let mut names: Vec<&str> = store
            .names()
            .chain(previous.names())
            .chain(store.all_removals().map(|(name, _, _)| name))
            .collect();
        names.sort_unstable();
        names.dedup();
        seen.extend(names.iter().map(|name| (*name).to_owned()));
        for name in names {
            if args.name.as_deref().is_some_and(|wanted| wanted != name) {
                continue;
            }
            let mut keys: Vec<Scope> = store
                .slots(name)
                .chain(previous.slots(name))
                .map(|(scope, _)| scope.clone())
                .chain(store.removals(name).map(|(scope, _)| scope.clone()))
                .collect();
            keys.sort();
            keys.dedup();
            for scope in keys {
                let (before, after) = (previous.get(name, &scope), store.get(name, &scope));
                let removal = store
                    .removals(name)
                    .find(|(removed, _)| **removed == scope)
                    .map(|(_, removal)| removal);
                let removed_before = previous
                    .removals(name)
                    .find(|(removed, _)| **removed == scope)
                    .map(|(_, removal)| removal);
                let line = match (before, after) {
                    (None, Some(_)) => Some("set".to_owned()),
                    (Some(a), Some(b)) if a.ciphertext() != b.ciphertext() => {
                        let what = if a.recipients != b.recipients {
                            "re-encrypted"
                        } else {
                            "changed"
                        };
                        Some(what.to_owned())
                    }
                    (Some(a), Some(b)) if !same_table(a, b) => Some("re-signed".to_owned()),
                    (Some(_), None) => match removal {
                        Some(removal)
                            if removed_before.is_none_or(|before| {
                                (before.version, &before.signed)
                                    != (removal.version, &removal.signed)
                            }) =>
                        {
                            let signed = match state.authority() {
                                Some(authority) => {
                                    match removal_trust(authority, name, &scope, removal) {
                                        Trust::Signed { writer } => {
                                            let seen = newest
                                                .entry((name.to_owned(), scope.key()))
                                                .or_default();
                                            *seen = (*seen).max(removal.version);
                                            format!("signed by {}", config.named(&writer))
                                        }
                                        other => format!(
                                            "INVALID removal: it {}",
                                            describe_trust(&other, &scope)
                                        ),
                                    }
                                }
                                None => "the rules cannot be trusted".to_owned(),
                            };
                            let _ = writeln!(
                                io.stdout,
                                "{} {} removed {name} {} v{} {}; {committed}",
                                revision.date,
                                short(&revision.commit),
                                escape_control(&scope.key()),
                                removal.version,
                                escape_control(&signed)
                            );
                            printed += 1;
                            None
                        }
                        _ => Some("VANISHED without a signed removal".to_owned()),
                    },
                    _ => None,
                };
                let Some(what) = line else {
                    continue;
                };
                let version = match (
                    before.and_then(|entry| entry.version),
                    after.and_then(|entry| entry.version),
                ) {
                    (Some(from), Some(to)) if to < from => {
                        format!(" as version {to}, ROLLED BACK from version {from}")
                    }
                    (_, Some(to)) => format!(" as version {to}"),
                    _ => String::new(),
                };
                let signer = match after {
                    Some(entry) => match state.trust(name, &scope, entry) {
                        Trust::Signed { writer } => {
                            // A table older than one already signed in this history: the
                            // value was copied back, as readers say.
                            let seen = newest.entry((name.to_owned(), scope.key())).or_default();
                            let found = entry.version.unwrap_or(0);
                            if *seen > found {
                                format!(
                                    "REFUSED (rolled-back-value): it {}",
                                    Refusal::RolledBack { seen: *seen, found }.describe(&scope)
                                )
                            } else {
                                *seen = found;
                                format!("signed by {}{version}", config.named(&writer))
                            }
                        }
                        other => format!(
                            "REFUSED ({}): it {}",
                            other.code(),
                            escape_control(&describe_trust(&other, &scope))
                        ),
                    },
                    None => "no signature".to_owned(),
                };
                let _ = writeln!(
                    io.stdout,
                    "{} {} {what} {name} {} {}; {committed}",
                    revision.date,
                    short(&revision.commit),
                    escape_control(&scope.key()),
                    escape_control(&signer),
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

/// Whether two versions of a slot's table say the same (its line in the file aside: a table
/// moves when another is added above it).
fn same_table(a: &Entry, b: &Entry) -> bool {
    let at_top = |entry: &Entry| {
        let mut entry = entry.clone();
        entry.line = 0;
        entry
    };
    at_top(a) == at_top(b)
}
