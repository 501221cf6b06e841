//! The rules of the check, as a pure function from what the scanner found, what the store
//! holds (names, scopes and how readers judge them, never values) and which override files
//! git tracks, to a [`Report`]. No I/O here, so every rule is tested without a workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use secret_core::{EnvKind, Environment};

use super::report::{
    Cell, Code, Diagnostic, Location, Report, Row, Severity, StateAudit, StoredValue, Verdict,
};
use crate::scan::{Declaration, ProblemKind, ScanReport};

/// The command users run to change values; printed in every `help:`.
pub const SET_COMMAND: &str = "cargo xtask secret";

/// What the comparison needs besides the scan.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The environments to check, in the order the user gave them.
    pub environments: Vec<Environment>,
    /// The store file, relative to the workspace root.
    pub store_path: PathBuf,
    /// The stored values.
    pub stored: Vec<StoredValue>,
    /// The signed state of the file store, and every reader's verdict.
    pub state: StateAudit,
    /// Local override files git tracks, relative to the workspace root.
    pub tracked_overrides: Vec<PathBuf>,
    /// Whether this clone's git has the store's merge driver (`None`: not a git clone, or
    /// no file store).
    pub merge_driver: Option<bool>,
    /// Running in CI (`CI` is set): a clone that only checks, where a missing merge driver
    /// does not matter.
    pub ci: bool,
    /// Rotation due is an error rather than a warning (`--deny-rotation-due`).
    pub deny_rotation_due: bool,
    /// The names the local override files set: a value for local environments, as at run
    /// time.
    pub overrides: BTreeSet<String>,
    /// Path patterns whose credentials written into the source are not reported
    /// (`allow` under `[hardcoded]` in `secrets.toml`).
    pub hardcoded_allow: Vec<String>,
    /// Credentials written into the source are errors, not warnings (`--deny-hardcoded`,
    /// `deny = true` under `[hardcoded]`).
    pub deny_hardcoded: bool,
}

/// Applies every rule and returns the report.
pub fn compare(scan: ScanReport, inputs: Inputs) -> Report {
    let Inputs {
        environments,
        store_path,
        stored,
        state,
        tracked_overrides,
        merge_driver,
        ci,
        deny_rotation_due,
        overrides,
        hardcoded_allow,
        deny_hardcoded,
    } = inputs;
    let mut diagnostics = Vec::new();
    scan_problems(&scan, &mut diagnostics);
    diagnostics.extend(super::hardcoded::diagnostics(
        &scan.hardcoded,
        &hardcoded_allow,
        deny_hardcoded,
    ));

    let declared = scan.by_name();
    let mut names: BTreeSet<&str> = declared.keys().copied().collect();
    names.extend(stored.iter().map(|value| value.name.as_str()));

    let mut rows = Vec::new();
    for name in &names {
        // Optional only when every declaration says so: one required use makes it required.
        let optional = declared
            .get(name)
            .is_some_and(|declarations| declarations.iter().all(|d| d.optional));
        let cells: Vec<Cell> = environments
            .iter()
            .map(|env| match cell(&state, &stored, name, env) {
                Cell::Missing if !env.ty.is_cloud() && overrides.contains(*name) => Cell::Override,
                Cell::Missing if optional => Cell::OptionalUnset,
                cell => cell,
            })
            .collect();
        if let Some(declarations) = declared.get(name) {
            if let Some(diagnostic) = optional_mismatch(name, declarations) {
                diagnostics.push(diagnostic);
            }
            for (env, cell) in environments.iter().zip(&cells) {
                match cell {
                    Cell::Missing => diagnostics.push(missing(name, env, declarations, None)),
                    Cell::Refused(_) => {
                        let why = match state.verdicts.get(&((*name).to_owned(), env.name.clone()))
                        {
                            Some(Verdict::Refused(scope, why)) => {
                                format!("its value for {} {why}, so readers refuse it", scope.key())
                            }
                            Some(Verdict::Vanished(scope)) => format!(
                                "its value for {} is gone from the store without a signed removal",
                                scope.key()
                            ),
                            _ => "its value is refused".to_owned(),
                        };
                        diagnostics.push(missing(name, env, declarations, Some(why)));
                    }
                    _ => {}
                }
            }
        }
        rows.push(Row {
            name: (*name).to_owned(),
            description: scan.description(name).map(str::to_owned),
            declared: declared.contains_key(name),
            optional,
            cells,
        });
    }

    for value in &stored {
        if !declared.contains_key(value.name.as_str()) {
            diagnostics.push(undeclared(value, &store_path));
        }
    }
    case_collisions(&names, &declared, &stored, &store_path, &mut diagnostics);
    env_variable_conflicts(&scan, &mut diagnostics);
    for path in tracked_overrides {
        diagnostics.push(tracked(path));
    }
    for value in &stored {
        audit(
            value,
            &environments,
            &store_path,
            deny_rotation_due,
            &mut diagnostics,
        );
    }
    if merge_driver == Some(false) {
        diagnostics.push(merge_driver_missing(&store_path, ci));
    }
    state_findings(
        &state,
        &stored,
        &environments,
        &store_path,
        &mut diagnostics,
    );

    let env_order = |diagnostic: &Diagnostic| {
        environments
            .iter()
            .position(|env| Some(&env.name) == diagnostic.environment.as_ref())
    };
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            let location = d
                .location
                .as_ref()
                .map(|l| (l.path.clone(), l.line, l.column));
            (
                d.severity,
                location,
                env_order(d),
                d.code,
                d.message.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Report {
        environments,
        // `check_options` sets the project's own from `secrets.toml`.
        types: secret_core::EnvType::ALL.to_vec(),
        scan,
        store_path,
        stored,
        state,
        rows,
        diagnostics,
    }
}

/// The cell of `name` in `env`: what readers conclude where the file store's verdicts are
/// known, else the stored value that applies.
fn cell(state: &StateAudit, stored: &[StoredValue], name: &str, env: &Environment) -> Cell {
    if state.verdicts.is_empty() && stored.iter().all(|value| value.audit.is_none()) {
        return resolve(stored, name, env);
    }
    match state.verdicts.get(&(name.to_owned(), env.name.clone())) {
        Some(Verdict::Found(scope)) => Cell::Set(scope.clone()),
        Some(Verdict::Refused(scope, _) | Verdict::Vanished(scope)) => Cell::Refused(scope.clone()),
        None => Cell::Missing,
    }
}

/// The stored value that applies to `name` in `env`: the environment's own value, then its
/// pattern's, then its type's.
pub fn resolve(stored: &[StoredValue], name: &str, env: &Environment) -> Cell {
    stored
        .iter()
        .filter(|value| value.name == name)
        .filter_map(|value| value.scope.rank(env).map(|rank| (rank, &value.scope)))
        .min_by_key(|(rank, _)| *rank)
        .map_or(Cell::Missing, |(_, scope)| Cell::Set(scope.clone()))
}

fn declaration_location(declaration: &Declaration) -> Location {
    Location {
        path: declaration.path.clone(),
        line: Some(declaration.line),
        column: Some(declaration.column),
        end: Some((declaration.end_line, declaration.end_column)),
    }
}

fn scan_problems(scan: &ScanReport, diagnostics: &mut Vec<Diagnostic>) {
    for problem in &scan.problems {
        let (severity, code, message) = match problem.kind {
            ProblemKind::InvalidDeclaration => (
                Severity::Error,
                Code::InvalidDeclaration,
                problem.message.clone(),
            ),
            ProblemKind::UnreadableFile | ProblemKind::UnlexableFile => (
                Severity::Warning,
                Code::UnscannedFile,
                format!(
                    "`{}` could not be scanned for secret declarations",
                    problem.path.display()
                ),
            ),
        };
        // Why a file was not scanned goes in a note: with no source line to show, a label
        // would not be printed, and the user would not learn the file is not UTF-8.
        let (label, notes) = match problem.kind {
            ProblemKind::InvalidDeclaration => (None, Vec::new()),
            _ if problem.line.is_none() => (None, vec![problem.message.clone()]),
            _ => (Some(problem.message.clone()), Vec::new()),
        };
        diagnostics.push(Diagnostic {
            severity,
            code,
            message,
            secret: None,
            environment: None,
            location: Some(Location {
                path: problem.path.clone(),
                line: problem.line,
                column: problem.column,
                end: None,
            }),
            label,
            notes,
            help: match problem.kind {
                // The literal is there but the name breaks the rule (a dash, a leading digit):
                // the fix is a new name, not a different literal.
                ProblemKind::InvalidDeclaration if problem.message.starts_with("the secret name") => {
                    Some("rename the secret using only ASCII letters, digits and `_`, such as `secret!(\"GitHub_API_Token\")`; the name is also its environment variable `SECRET_<Name>`".to_owned())
                }
                ProblemKind::InvalidDeclaration => {
                    Some("write the name as one string literal, such as `secret!(\"GitHubAPIToken\")`".to_owned())
                }
                ProblemKind::UnlexableFile => {
                    Some("fix the unbalanced delimiters or unterminated literal; `cargo check` shows where".to_owned())
                }
                ProblemKind::UnreadableFile => None,
            },
        });
    }
}

/// The `set` flag that gives `env` a value.
fn set_flag(env: &Environment) -> String {
    match &env.kind {
        EnvKind::Named => format!("--env {}", secret_core::text::shell_quote(&env.name)),
        EnvKind::Type | EnvKind::Pattern(_) => format!("--type {}", env.ty.short()),
    }
}

fn missing(
    name: &str,
    env: &Environment,
    declarations: &[&Declaration],
    refused: Option<String>,
) -> Diagnostic {
    let severity = if env.ty.is_cloud() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let first = declarations[0];
    let mut notes: Vec<String> = declarations[1..]
        .iter()
        .take(3)
        .map(|d| {
            format!(
                "also declared at {}:{}:{}",
                d.path.display(),
                d.line,
                d.column
            )
        })
        .collect();
    if declarations.len() > 4 {
        notes.push(format!("and in {} more places", declarations.len() - 4));
    }
    let message = match &refused {
        Some(why) => format!(
            "secret `{name}` has no usable value for {env}: {}",
            secret_core::text::escape_control(why)
        ),
        None => format!("secret `{name}` has no value for {env}"),
    };
    Diagnostic {
        severity,
        code: Code::MissingSecret,
        message,
        secret: Some(name.to_owned()),
        environment: Some(env.name.clone()),
        location: Some(declaration_location(first)),
        label: Some("declared here".to_owned()),
        notes,
        help: Some(format!("{SET_COMMAND} set {} {name}", set_flag(env))),
    }
}

/// A name declared `optional` in some places and required in others: it is required
/// (the required use fails without a value), which the optional places may not expect.
fn optional_mismatch(name: &str, declarations: &[&Declaration]) -> Option<Diagnostic> {
    let required = declarations.iter().find(|d| !d.optional)?;
    let optional: Vec<&&Declaration> = declarations.iter().filter(|d| d.optional).collect();
    let first_optional = optional.first()?;
    let mut notes: Vec<String> = optional
        .iter()
        .take(3)
        .map(|d| {
            format!(
                "declared optional at {}:{}:{} (package {})",
                d.path.display(),
                d.line,
                d.column,
                d.package
            )
        })
        .collect();
    if optional.len() > 3 {
        notes.push(format!("and in {} more places", optional.len() - 3));
    }
    notes.push(format!(
        "so `{name}` is required wherever it is delivered with the package {}",
        required.package
    ));
    Some(Diagnostic {
        severity: Severity::Warning,
        code: Code::OptionalMismatch,
        message: format!("secret `{name}` is declared required here and optional elsewhere"),
        secret: Some(name.to_owned()),
        environment: None,
        location: Some(declaration_location(required)),
        label: Some("required here".to_owned()),
        notes,
        help: Some(format!(
            "declare it the same way everywhere: `secret!(\"{name}\", optional)` if the program works without it (first optional use: {}:{}), else `secret!(\"{name}\")`",
            first_optional.path.display(),
            first_optional.line
        )),
    })
}

/// Two different secrets declared with the same `env = "VARIABLE"`: `run` and `export`
/// could not say which value the variable holds. An error at each declaration after the
/// first secret's.
fn env_variable_conflicts(scan: &ScanReport, diagnostics: &mut Vec<Diagnostic>) {
    let mut by_variable: BTreeMap<&str, Vec<&Declaration>> = BTreeMap::new();
    for declaration in &scan.declarations {
        if let Some(variable) = &declaration.env {
            by_variable.entry(variable).or_default().push(declaration);
        }
    }
    for (variable, declarations) in by_variable {
        let first = declarations[0];
        for other in declarations.iter().filter(|d| d.name != first.name) {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: Code::EnvVariableConflict,
                message: format!(
                    "secrets `{}` and `{}` both declare the environment variable {variable}",
                    first.name, other.name
                ),
                secret: Some(other.name.clone()),
                environment: None,
                location: Some(declaration_location(other)),
                label: Some(format!("{variable} is also `{}`'s", first.name)),
                notes: vec![format!(
                    "`{}` declares it at {}:{}:{}",
                    first.name,
                    first.path.display(),
                    first.line,
                    first.column
                )],
                help: Some(format!(
                    "a variable holds one secret's value: remove `env = \"{variable}\"` from one of them, or give it another variable"
                )),
            });
        }
    }
}

fn undeclared(value: &StoredValue, store_path: &std::path::Path) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: Code::UndeclaredSecret,
        message: format!(
            "secret `{}` has a stored value for {} but no code declares it",
            value.name,
            value.scope.describe()
        ),
        secret: Some(value.name.clone()),
        environment: None,
        location: Some(Location {
            path: store_path.to_owned(),
            line: value.line,
            column: value.line.map(|_| 1),
            end: None,
        }),
        label: Some("stored here".to_owned()),
        notes: Vec::new(),
        help: Some(format!(
            "{SET_COMMAND} unset {} {}",
            value.scope.flags(),
            value.name
        )),
    }
}

fn case_collisions(
    names: &BTreeSet<&str>,
    declared: &BTreeMap<&str, Vec<&Declaration>>,
    stored: &[StoredValue],
    store_path: &std::path::Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for name in names {
        groups.entry(name.to_lowercase()).or_default().push(name);
    }
    for group in groups.values().filter(|group| group.len() > 1) {
        let quoted: Vec<String> = group.iter().map(|name| format!("`{name}`")).collect();
        let listed = match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => quoted.join(""),
        };
        // Point at the first place any of the names is written: code, else the store.
        let location = group
            .iter()
            .filter_map(|name| declared.get(name).map(|d| declaration_location(d[0])))
            .min_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)))
            .or_else(|| {
                stored
                    .iter()
                    .find(|value| group.contains(&value.name.as_str()))
                    .map(|value| Location {
                        path: store_path.to_owned(),
                        line: value.line,
                        column: value.line.map(|_| 1),
                        end: None,
                    })
            });
        let notes = group
            .iter()
            .map(|name| match declared.get(name) {
                Some(d) => format!(
                    "`{name}` is declared at {}:{}:{}",
                    d[0].path.display(),
                    d[0].line,
                    d[0].column
                ),
                None => format!("`{name}` is only stored, in {}", store_path.display()),
            })
            .collect();
        diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            code: Code::CaseCollision,
            message: format!("secrets {listed} differ only in case"),
            secret: Some(group[0].to_owned()),
            environment: None,
            location,
            label: None,
            notes,
            help: Some(
                "rename one of them: names are global to the workspace, and `SECRET_<Name>` environment variables are not case-sensitive on Windows"
                    .to_owned(),
            ),
        });
    }
}

/// The findings about one stored value's signature, recipients and exposures. A problem
/// is an error when the value applies to a checked cloud environment, a warning when it
/// applies only to checked local ones; a value no checked environment uses is not audited.
fn audit(
    value: &StoredValue,
    environments: &[Environment],
    store_path: &std::path::Path,
    deny_rotation_due: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    use secret_core::trust::Trust;
    let Some(audit) = &value.audit else {
        return;
    };
    let applies: Vec<&Environment> = environments
        .iter()
        .filter(|env| value.scope.rank(env).is_some())
        .collect();
    let Some(first) = applies.first() else {
        return;
    };
    let cloud = applies.iter().find(|env| env.ty.is_cloud());
    let (severity, environment) = match cloud {
        Some(env) => (Severity::Error, *env),
        None => (Severity::Warning, *first),
    };
    use secret_core::text::escape_control as esc;
    let name = &value.name;
    let scope = esc(&value.scope.key()).into_owned();
    let set = format!("{SET_COMMAND} set {} {name}", value.scope.flags());
    let mut push = |severity: Severity, code: Code, message: String, label: &str, help: String| {
        diagnostics.push(Diagnostic {
            severity,
            code,
            message,
            secret: Some(name.clone()),
            environment: Some(environment.name.clone()),
            location: Some(Location {
                path: store_path.to_owned(),
                line: value.line,
                column: value.line.map(|_| 1),
                end: None,
            }),
            label: Some(label.to_owned()),
            notes: Vec::new(),
            help: Some(help),
        });
    };
    let log = format!("{SET_COMMAND} log {name}");
    match &audit.trust {
        Trust::Signed { .. } | Trust::RulesUntrusted { .. } => {}
        Trust::Unsigned => push(
            severity,
            Code::UnsignedValue,
            format!("the value of `{name}` ({scope}) is not signed, so readers refuse it"),
            "unsigned value",
            format!(
                "`{log}` shows who committed it; if it came from your team, a writer signs it with `{SET_COMMAND} migrate` (values of store format 1, each one accepted by name); otherwise: {set}"
            ),
        ),
        Trust::Legacy { writer } => push(
            severity,
            Code::LegacyValue,
            format!(
                "the value of `{name}` ({scope}) is signed by {} in store format 2, without the repository or a version, so readers refuse it",
                audit.who(writer)
            ),
            "signed in store format 2",
            format!("a writer of it signs it again: {SET_COMMAND} migrate"),
        ),
        Trust::BadSignature { writer } => push(
            severity,
            Code::ForgedValue,
            format!(
                "the value of `{name}` ({scope}) claims writer {}, but its signature does not verify: it was changed after signing, signed for another repository, or forged",
                audit.who(writer)
            ),
            "forged or altered value",
            format!(
                "`{log}` shows who changed it; restore secrets.enc.toml from git history, or set the value again: {set}"
            ),
        ),
        Trust::NotAllowed {
            writer,
            allowed,
            unsigned_grant,
        } => push(
            severity,
            Code::UnauthorizedWriter,
            format!(
                "the value of `{name}` ({scope}) was written by {}, who may not write {}{}",
                audit.who(writer),
                value.scope.describe(),
                if *unsigned_grant {
                    " (only an unsigned change to secrets.toml allows it)"
                } else {
                    ""
                }
            ),
            "unauthorized writer",
            if *unsigned_grant {
                format!(
                    "if the change to secrets.toml is wanted, a writer of {} signs it with `{SET_COMMAND} rekey` (it shows the change first); otherwise revert it and set the value again: {set}",
                    value.scope.describe()
                )
            } else {
                format!(
                    "`{log}` shows who changed it; set it again as one of {} ({set}), or restore secrets.enc.toml from git history",
                    if allowed.is_empty() {
                        "its writers".to_owned()
                    } else {
                        audit.who_all(allowed)
                    }
                )
            },
        ),
        Trust::HiddenReaders { .. } => push(
            severity,
            Code::HiddenRecipient,
            format!(
                "the value of `{name}` ({scope}) {}",
                secret_core::state::describe_trust(&audit.trust, &value.scope)
            ),
            "more readers than recipients",
            format!(
                "`{log}` shows who wrote it; set the value again (it is then encrypted to exactly its recipients) and rotate it at its source: {set}"
            ),
        ),
    }
    if !audit.drift.stale.is_empty() {
        push(
            severity,
            Code::StaleRecipient,
            format!(
                "the value of `{name}` ({scope}) is encrypted to {}, no longer allowed to read it by the signed access rules",
                audit.who_all(&audit.drift.stale)
            ),
            "stale recipient",
            format!("{SET_COMMAND} rekey  (then rotate the value: they may have read it)"),
        );
    }
    if !audit.drift.unreadable.is_empty() {
        push(
            Severity::Warning,
            Code::MissingRecipient,
            format!(
                "{} may read `{name}` ({scope}) by the signed access rules but cannot decrypt it",
                audit.who_all(&audit.drift.unreadable)
            ),
            "not encrypted to everyone allowed",
            format!("{SET_COMMAND} rekey"),
        );
    }
    if !audit.exposed.is_empty() {
        let who: Vec<String> = audit
            .exposed
            .iter()
            .map(|exposure| {
                format!(
                    "{} (until {})",
                    audit.who(&exposure.recipient),
                    exposure.since
                )
            })
            .collect();
        push(
            if deny_rotation_due {
                Severity::Error
            } else {
                Severity::Warning
            },
            Code::RotationDue,
            format!(
                "the value of `{name}` ({scope}) is due for rotation: it was known to {}, who no longer has access",
                esc(&who.join(", "))
            ),
            "rotation due",
            format!("replace the value at its source (revoke the old one), then: {set}"),
        );
    }
}

/// The findings about the file store's signed state as a whole: the access rules (untrusted,
/// unsigned changes, changed since this clone last looked), values older than already
/// trusted or gone, and two values covering one type or environment.
fn state_findings(
    state: &StateAudit,
    stored: &[StoredValue],
    environments: &[Environment],
    store_path: &std::path::Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    use secret_core::text::escape_control as esc;
    let any_cloud = environments.iter().any(|env| env.ty.is_cloud());
    let severity_for = |scope: &secret_core::Scope| {
        let applies: Vec<&Environment> = environments
            .iter()
            .filter(|env| scope.rank(env).is_some())
            .collect();
        if applies.iter().any(|env| env.ty.is_cloud()) {
            Some(Severity::Error)
        } else if applies.is_empty() {
            None
        } else {
            Some(Severity::Warning)
        }
    };
    let at = |line: Option<usize>| Location {
        path: store_path.to_owned(),
        line,
        column: line.map(|_| 1),
        end: None,
    };
    let diagnostic = |severity, code, message: String, help: String| Diagnostic {
        severity,
        code,
        message,
        secret: None,
        environment: None,
        location: Some(at(None)),
        label: None,
        notes: Vec::new(),
        help: Some(help),
    };
    if let Some(problem) = &state.rules_problem {
        let help = if state.legacy_format.is_some() {
            format!(
                "a production writer upgrades the store: {SET_COMMAND} migrate  (it signs the access rules of secrets.toml as the trust root)"
            )
        } else {
            "restore secrets.enc.toml from git history (`git log -p -- secrets.enc.toml` shows the change); if the change was intended, the pin in SECRETS_TRUST or --trust must be updated by whoever controls it".to_owned()
        };
        diagnostics.push(diagnostic(
            if any_cloud {
                Severity::Error
            } else {
                Severity::Warning
            },
            Code::UntrustedRules,
            format!(
                "the signed access rules cannot be trusted, so every value is refused: {}",
                esc(problem)
            ),
            help,
        ));
    }
    if !state.pending.is_empty() {
        let cloud = any_cloud && state.pending.iter().any(|(_, cloud)| *cloud);
        let mut found = diagnostic(
            if cloud {
                Severity::Error
            } else {
                Severity::Warning
            },
            Code::UnsignedRules,
            format!(
                "secrets.toml changes the access rules in {} way{} nobody allowed to has signed, so readers ignore {}",
                state.pending.len(),
                if state.pending.len() == 1 { "" } else { "s" },
                if state.pending.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ),
            format!(
                "if the change is wanted, a writer of the types or environments it concerns (or an admin) signs it: {SET_COMMAND} rekey  (it shows the change and asks first); otherwise restore secrets.toml from git"
            ),
        );
        found.location = Some(Location {
            path: secret_core::CONFIG_FILE.into(),
            line: None,
            column: None,
            end: None,
        });
        found.notes = state
            .pending
            .iter()
            .map(|(change, _)| format!("unsigned: {}", esc(change)))
            .collect();
        diagnostics.push(found);
    }
    for change in &state.changed {
        diagnostics.push(diagnostic(
            Severity::Warning,
            Code::RulesChanged,
            esc(change).into_owned(),
            format!(
                "review the change; `{SET_COMMAND} rules` shows every version and who signed it"
            ),
        ));
    }
    for behind in &state.behind {
        let Some(severity) = severity_for(&behind.scope) else {
            continue;
        };
        let name = &behind.name;
        let scope = esc(&behind.scope.key()).into_owned();
        let (code, message) = match behind.found {
            Some(found) => (
                Code::RolledBackValue,
                format!(
                    "the value of `{name}` ({scope}) is version {found}, older than version {} already trusted in this store's history: an older value was copied back",
                    behind.seen
                ),
            ),
            None => (
                Code::VanishedValue,
                format!(
                    "the value of `{name}` ({scope}), version {} in this store's history, is gone without a signed removal",
                    behind.seen
                ),
            ),
        };
        let mut found = diagnostic(
            severity,
            code,
            message,
            format!(
                "`{SET_COMMAND} log {name}` shows the change; restore the value from git history, or if its removal was intended: {SET_COMMAND} unset {} {name} (a signed removal)",
                behind.scope.flags()
            ),
        );
        found.secret = Some(name.clone());
        found.location = Some(at((behind.line > 0).then_some(behind.line)));
        diagnostics.push(found);
    }
    let mut by_name: BTreeMap<&str, Vec<&StoredValue>> = BTreeMap::new();
    for value in stored.iter().filter(|value| value.audit.is_some()) {
        by_name.entry(value.name.as_str()).or_default().push(value);
    }
    for (name, values) in by_name {
        for (i, a) in values.iter().enumerate() {
            for b in &values[i + 1..] {
                let Some(common) = a.scope.common(&b.scope) else {
                    continue;
                };
                let Some(severity) = severity_for(&common) else {
                    continue;
                };
                let mut found = diagnostic(
                    severity,
                    Code::OverlappingValues,
                    format!(
                        "`{name}` has two values for {} ({} and {}), so readers use neither",
                        common.describe(),
                        esc(&a.scope.key()),
                        esc(&b.scope.key())
                    ),
                    format!(
                        "keep one: {SET_COMMAND} unset {} {name}  or  {SET_COMMAND} unset {} {name}",
                        a.scope.flags(),
                        b.scope.flags()
                    ),
                );
                found.secret = Some(name.to_owned());
                found.location = Some(at(b.line));
                diagnostics.push(found);
            }
        }
    }
}

fn merge_driver_missing(store_path: &std::path::Path, ci: bool) -> Diagnostic {
    Diagnostic {
        severity: Severity::Note,
        code: Code::MergeDriverMissing,
        message: if ci {
            format!(
                "this CI clone has no merge driver for `{}`; merges happen where the team works",
                store_path.display()
            )
        } else {
            format!(
                "git in this clone does not merge `{}` per value, so branches adding secrets may conflict",
                store_path.display()
            )
        },
        secret: None,
        environment: None,
        location: None,
        label: None,
        notes: Vec::new(),
        help: Some(format!(
            "{SET_COMMAND} init  (configures this clone's merge and diff drivers)"
        )),
    }
}

fn tracked(path: PathBuf) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: Code::TrackedOverride,
        message: format!(
            "the local override file `{}` is tracked by git, so its values are committed",
            path.display()
        ),
        secret: None,
        environment: None,
        help: Some(format!(
            "git rm --cached {}  (then `{SET_COMMAND} init` adds it to .gitignore; rotate any value it held)",
            path.display()
        )),
        location: Some(Location {
            path,
            line: None,
            column: None,
            end: None,
        }),
        label: None,
        notes: Vec::new(),
    }
}
