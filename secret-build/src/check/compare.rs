//! The rules of the check (spec section 5), as a pure function from what the scanner found,
//! what the store holds (names and scopes only) and which override files git tracks, to a
//! [`Report`]. No I/O here, so every rule is tested without a workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use secret_core::{EnvKind, Environment};

use super::report::{Cell, Code, Diagnostic, Location, Report, Row, Severity, StoredValue};
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
    /// Local override files git tracks, relative to the workspace root.
    pub tracked_overrides: Vec<PathBuf>,
    /// Whether this clone's git has the store's merge driver (`None`: not a git clone, or
    /// no file store).
    pub merge_driver: Option<bool>,
    /// Rotation due is an error rather than a warning (`--deny-rotation-due`).
    pub deny_rotation_due: bool,
    /// The names the local override files set: a value for local environments, as at run
    /// time.
    pub overrides: BTreeSet<String>,
}

/// Applies every rule and returns the report.
pub fn compare(scan: ScanReport, inputs: Inputs) -> Report {
    let Inputs {
        environments,
        store_path,
        stored,
        tracked_overrides,
        merge_driver,
        deny_rotation_due,
        overrides,
    } = inputs;
    let mut diagnostics = Vec::new();
    scan_problems(&scan, &mut diagnostics);

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
            .map(|env| match resolve(&stored, name, env) {
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
                if *cell == Cell::Missing {
                    diagnostics.push(missing(name, env, declarations));
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
        diagnostics.push(merge_driver_missing(&store_path));
    }

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
        rows,
        diagnostics,
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

fn missing(name: &str, env: &Environment, declarations: &[&Declaration]) -> Diagnostic {
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
    Diagnostic {
        severity,
        code: Code::MissingSecret,
        message: format!("secret `{name}` has no value for {env}"),
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
    let name = &value.name;
    let scope = value.scope.key();
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
    match &audit.trust {
        Trust::Signed { .. } => {}
        Trust::Unsigned => push(
            severity,
            Code::UnsignedValue,
            format!("the value of `{name}` ({scope}) is not signed, so readers refuse it"),
            "unsigned value",
            format!(
                "if it came from your team, sign it: {SET_COMMAND} migrate {name}; otherwise: {set}"
            ),
        ),
        Trust::BadSignature { writer } => push(
            severity,
            Code::ForgedValue,
            format!(
                "the value of `{name}` ({scope}) claims writer {}, but its signature does not verify: it was changed after signing or forged",
                audit.who(writer)
            ),
            "forged or altered value",
            format!("restore secrets.enc.toml from git history, or set the value again: {set}"),
        ),
        Trust::NotAllowed { writer, allowed } => push(
            severity,
            Code::UnauthorizedWriter,
            format!(
                "the value of `{name}` ({scope}) was written by {}, who may not write {}",
                audit.who(writer),
                value.scope.describe()
            ),
            "unauthorized writer",
            format!(
                "set it again as one of {} ({set}); if {} left the team and the value is genuine, a writer can vouch for it: {SET_COMMAND} migrate {name}",
                if allowed.is_empty() {
                    "its writers".to_owned()
                } else {
                    audit.who_all(allowed)
                },
                audit.who(writer)
            ),
        ),
    }
    if !audit.drift.stale.is_empty() {
        push(
            severity,
            Code::StaleRecipient,
            format!(
                "the value of `{name}` ({scope}) is encrypted to {}, no longer allowed to read it by secrets.toml",
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
                "{} may read `{name}` ({scope}) by secrets.toml but cannot decrypt it",
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
                "the value of `{name}` ({scope}) is due for rotation: it was readable by {}, who no longer has access",
                who.join(", ")
            ),
            "rotation due",
            format!("replace the value at its source (revoke the old one), then: {set}"),
        );
    }
}

fn merge_driver_missing(store_path: &std::path::Path) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code: Code::MergeDriverMissing,
        message: format!(
            "git in this clone does not merge `{}` per value, so branches adding secrets may conflict",
            store_path.display()
        ),
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
