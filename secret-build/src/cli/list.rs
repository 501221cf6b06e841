//! `secret list`: every declared or stored secret x each type and named environment, set
//! or missing, with where it is declared and its description (from the workspace scanner;
//! when the workspace cannot be scanned, a warning and the stored secrets only).
//! Needs no key: names, scopes and recipients are readable without one.
//!
//! The JSON form (`--format json`) is stable; fields may be added, never removed or
//! changed, without bumping `schema_version`:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "store": "/path/to/secrets.enc.toml",
//!   "environments": [
//!     { "name": "production", "type": "production", "kind": "type" },
//!     { "name": "staging", "type": "development", "kind": "named" },
//!     { "name": "pr-*", "type": "preview", "kind": "pattern" }
//!   ],
//!   "secrets": [
//!     {
//!       "name": "GitHubAPIToken",
//!       "description": "Personal access token for deployments",
//!       "declared_at": [ { "path": "src/main.rs", "line": 4, "column": 32 } ],
//!       "values": [
//!         { "scope": "type:development,local", "types": ["development", "local"],
//!           "environments": [], "recipients": ["age1..."], "line": 4 }
//!       ],
//!       "coverage": { "production": null, "development": "type:development,local", ... },
//!       "overrides": []
//!     }
//!   ]
//! }
//! ```
//!
//! With the file store each value also has `writer` (the age key that signed it, or `null`),
//! `trust` (`signed`, `unsigned`, `bad-signature` or `unauthorized-writer`),
//! `stale_recipients`, `missing_recipients` and `exposed` (`[{ "recipient", "since" }]`).
//!
//! `optional` is whether every declaration of the secret is `secret!("Name", optional)` (the
//! table shows it unset as `– optional`, not `✗`).
//! `people` is `[people]` of `secrets.toml` (name -> age public key), to name the keys in
//! `recipients`, `writer` and the others.
//! `description` is `null` and `declared_at` empty for a secret no code declares.
//! `declared_at` paths are relative to the workspace root.
//! `packages` lists the member packages `run -p`/`export -p` deliver the secret to (empty
//! for a secret no code declares); `secret list --packages` shows them as a table.
//! `coverage` maps each entry of `environments` to the scope key of the value that applies
//! there (named environment first, then pattern, then type), or `null` when none does.
//! `overrides` lists the local environments where no value is stored but a local override
//! file (`.secrets.local.toml`, `.secrets.local.cue`) sets the name, as at run time; the
//! table shows them as `✓ override`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::{Args, ValueEnum};
use secret_core::{Config, EnvKind, Environment, Scope};
use serde_json::{Value, json};

use super::{Failure, Io, escaped, open_backend};
use crate::backend::{Backend, Listing};
use crate::check::Audit;

/// Output format of `secret list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormat {
    /// A table with ✓ (set), ✗ (missing) and – (optional, unset).
    Table,
    /// The JSON document described in this module's documentation.
    Json,
}

/// Arguments of `secret list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// Add a column with the packages each secret is delivered to by `run -p` and
    /// `export -p` (the JSON form always has them)
    #[arg(long)]
    packages: bool,
}

fn columns(config: &Config) -> Vec<Environment> {
    // The types the project uses: a type left out of `types` has no column.
    let mut columns: Vec<Environment> = config
        .types
        .iter()
        .copied()
        .map(Environment::of_type)
        .collect();
    for name in config.environments.keys() {
        if let Ok(env) = config.resolve_env(name) {
            columns.push(env);
        }
    }
    columns
}

pub(crate) fn run(
    root: &Path,
    args: &ListArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    // `secrets.toml` and the store are read and judged once, for the listing and the audits.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let config = trusted.state.config();
    let backend = open_backend(&trusted.state, file_store, io)?;
    let store = backend.listing()?;
    for ignored in &store.ignored {
        let _ = writeln!(io.stderr, "warning: {}", escaped(ignored));
    }
    let columns = columns(config);
    let scan = match crate::scan::scan_workspace(root) {
        Ok(report) => Some(report),
        Err(error) => {
            let _ = writeln!(
                io.stderr,
                "warning: {}\nnote: listing the stored secrets only, without declarations",
                escaped(&error)
            );
            None
        }
    };
    // Local override files count for local environments, as at run time.
    let overrides = crate::check::override_names(root)?;
    let mut names: BTreeSet<&str> = store.names().collect();
    names.extend(overrides.iter().map(String::as_str));
    let mut declared: BTreeMap<&str, Declared<'_>> = BTreeMap::new();
    if let Some(scan) = &scan {
        for (name, declarations) in scan.by_name() {
            names.insert(name);
            declared.insert(
                name,
                Declared {
                    description: scan.description(name),
                    optional: declarations.iter().all(|declaration| declaration.optional),
                    at: declarations
                        .iter()
                        .map(|declaration| {
                            let path = declaration
                                .path
                                .strip_prefix(root)
                                .unwrap_or(&declaration.path);
                            (
                                path.display().to_string(),
                                declaration.line,
                                declaration.column,
                            )
                        })
                        .collect(),
                },
            );
        }
    }
    let users = match &scan {
        Some(scan) => users(scan),
        None => BTreeMap::new(),
    };
    let names: Vec<&str> = names.into_iter().collect();
    // Signatures, recipients against secrets.toml and exposures (the file store only).
    let audits: BTreeMap<(String, String), Audit> = match backend {
        Backend::Vault(_) => BTreeMap::new(),
        Backend::File(state) => {
            super::print_notes(&trusted.notes, io);
            let store = state.store();
            let mut audits = BTreeMap::new();
            for name in store.names() {
                for (scope, entry) in store.slots(name) {
                    audits.insert(
                        (name.to_owned(), scope.key()),
                        Audit::of(state, name, scope, entry),
                    );
                }
            }
            trusted.remember();
            audits
        }
    };
    let output = match args.format {
        ListFormat::Json => {
            let mut json = to_json(
                &store,
                &columns,
                &names,
                &declared,
                &audits,
                &overrides,
                &config.people,
            );
            for secret in json["secrets"].as_array_mut().into_iter().flatten() {
                let name = secret["name"].as_str().unwrap_or_default();
                let packages = users.get(name).cloned().unwrap_or_default();
                secret["packages"] = json!(packages);
            }
            serde_json::to_string_pretty(&json).unwrap() + "\n"
        }
        ListFormat::Table if args.packages => {
            let mut out = String::new();
            let mut rows = vec![vec!["Secret".to_owned(), "Packages".to_owned()]];
            for name in &names {
                let packages = users.get(*name).map_or_else(
                    || "(none)".to_owned(),
                    |packages| packages.iter().cloned().collect::<Vec<_>>().join(", "),
                );
                rows.push(vec![(*name).to_owned(), packages]);
            }
            out.push_str(&crate::table::render(&rows));
            out
        }
        ListFormat::Table => {
            let from = match &store.server {
                // The values are the server's, not the file store's: say so first.
                Some(server) => format!("Values from {server} ({}):\n", store.location),
                None => String::new(),
            };
            from + &table(&store, &columns, &names, &declared, &overrides)
                + &readers(config, &columns)
                + &problems(&audits)
        }
    };
    let _ = io.stdout.write_all(output.as_bytes());
    Ok(())
}

/// For each declared secret, the member packages `run -p` delivers it to: those whose
/// library or binaries, or whose workspace dependencies' libraries, declare it.
fn users(scan: &crate::scan::ScanReport) -> BTreeMap<String, BTreeSet<String>> {
    let mut users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in &scan.packages {
        let selection = crate::scan::Selection {
            packages: vec![package.clone()],
            dev: false,
        };
        for name in scan.names_for(&selection).unwrap_or_default() {
            users.entry(name).or_default().insert(package.clone());
        }
    }
    users
}

/// Where a secret is declared in the source, and its description.
struct Declared<'a> {
    description: Option<&'a str>,
    /// Every declaration is `secret!("Name", optional)`: no value is not missing.
    optional: bool,
    /// (path relative to the workspace root, line, column)
    at: Vec<(String, usize, usize)>,
}

fn table(
    store: &Listing,
    columns: &[Environment],
    names: &[&str],
    declared: &BTreeMap<&str, Declared<'_>>,
    overrides: &BTreeSet<String>,
) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut shadowed = BTreeSet::new();
    let mut header = vec!["Secret".to_owned()];
    header.extend(columns.iter().map(|env| env.name.clone()));
    header.extend(["Declared at".to_owned(), "Description".to_owned()]);
    rows.push(header);
    for name in names {
        let mut row = vec![(*name).to_owned()];
        let optional = declared.get(name).is_some_and(|declared| declared.optional);
        for env in columns {
            let set = store.lookup(name, env).is_some();
            let overridden = !env.ty.is_cloud() && overrides.contains(*name);
            let cell = match (set, overridden, optional) {
                (true, false, _) => "✓",
                (true, true, _) => {
                    shadowed.insert(*name);
                    "✓ override, stored hidden"
                }
                (false, true, _) => "✓ override",
                (false, false, true) => "– optional",
                (false, false, false) => "✗",
            };
            row.push(cell.to_owned());
        }
        let (at, description) = match declared.get(name) {
            Some(declared) => {
                let (path, line, _) = &declared.at[0];
                let more = match declared.at.len() {
                    1 => String::new(),
                    n => format!(" (+{})", n - 1),
                };
                let description = declared.description.unwrap_or("-");
                let description = description.lines().next().unwrap_or("-");
                (format!("{path}:{line}{more}"), description.to_owned())
            }
            None => ("(not declared)".to_owned(), "-".to_owned()),
        };
        row.extend([at, description]);
        rows.push(row);
    }
    let mut out = crate::table::render(&rows);
    if names.is_empty() {
        out.push_str("(no values stored yet: `cargo xtask secret set --type dev,local NAME`)\n");
    }
    out.push_str(
        "\n✓ set   ✗ missing   – optional, unset   ✓ override: from .secrets.local.toml or .secrets.local.cue\n",
    );
    if !shadowed.is_empty() {
        let names: Vec<&str> = shadowed.into_iter().collect();
        out.push_str(&format!(
            "note: the local override files hide the stored local value of {}: programs run locally get the override\n",
            names.join(", ")
        ));
    }
    out
}

/// Who can read each column's values, by name where `[people]` names the key; only when
/// `secrets.toml` has a `[people]` table.
fn readers(config: &Config, columns: &[Environment]) -> String {
    if config.people.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nwho can read:\n");
    for env in columns {
        let keys = config.recipients_for_env(&env.name);
        let who: Vec<String> = keys.iter().map(|key| config.who(key)).collect();
        let who = if who.is_empty() {
            "(nobody)".to_owned()
        } else {
            who.join(", ")
        };
        out.push_str(&format!("  {}: {who}\n", env.name));
    }
    out
}

/// One line per problem a stored value has, under the table.
fn problems(audits: &BTreeMap<(String, String), Audit>) -> String {
    // Scopes and keys come from the committed store: no control character reaches the
    // terminal.
    use secret_core::text::escape_control as esc;
    let mut out = String::new();
    for ((name, scope), audit) in audits {
        let mut said = Vec::new();
        let parsed = secret_core::Scope::parse_key(scope).ok();
        if let Some(problem) = parsed.and_then(|scope| audit.problem(&scope)) {
            said.push(format!(
                "refused ({}): it {problem}; `cargo xtask check-secrets` says what to do",
                audit.trust.code()
            ));
        }
        if !audit.drift.stale.is_empty() {
            said.push(format!(
                "stale recipient {} (`cargo xtask secret rekey`)",
                audit.who_all(&audit.drift.stale)
            ));
        }
        if !audit.drift.unreadable.is_empty() {
            said.push(format!(
                "cannot be read by {} (`cargo xtask secret rekey`)",
                audit.who_all(&audit.drift.unreadable)
            ));
        }
        for exposure in &audit.exposed {
            said.push(format!(
                "rotation due: {} could read it until {}",
                audit.who(&exposure.recipient),
                esc(&exposure.since)
            ));
        }
        for what in said {
            out.push_str(&format!("{name} ({}): {what}\n", esc(scope)));
        }
    }
    if out.is_empty() {
        out
    } else {
        format!("\n{out}")
    }
}

fn scope_json(scope: &Scope) -> (Vec<&'static str>, Vec<String>) {
    match scope {
        Scope::Types(types) => (types.iter().map(|ty| ty.name()).collect(), Vec::new()),
        Scope::Envs(envs) => (Vec::new(), envs.iter().cloned().collect()),
    }
}

fn to_json(
    store: &Listing,
    columns: &[Environment],
    names: &[&str],
    declared: &BTreeMap<&str, Declared<'_>>,
    audits: &BTreeMap<(String, String), Audit>,
    overrides: &BTreeSet<String>,
    people: &BTreeMap<String, String>,
) -> Value {
    let environments: Vec<Value> = columns
        .iter()
        .map(|env| {
            let kind = match env.kind {
                EnvKind::Type => "type",
                EnvKind::Named => "named",
                EnvKind::Pattern(_) => "pattern",
            };
            json!({ "name": env.name, "type": env.ty.name(), "kind": kind })
        })
        .collect();
    let secrets: Vec<Value> = names
        .iter()
        .map(|name| {
            let values: Vec<Value> = store
                .slots(name)
                .map(|listed| {
                    let (types, envs) = scope_json(&listed.scope);
                    let mut value = json!({
                        "scope": listed.scope.key(),
                        "types": types,
                        "environments": envs,
                        "recipients": listed.recipients,
                        "line": listed.line.unwrap_or(0),
                    });
                    if let Some(audit) = audits.get(&((*name).to_owned(), listed.scope.key())) {
                        let trust = audit.trust.code();
                        value["writer"] = json!(audit.trust.writer());
                        value["trust"] = json!(trust);
                        value["stale_recipients"] = json!(audit.drift.stale);
                        value["missing_recipients"] = json!(audit.drift.unreadable);
                        value["exposed"] = audit
                            .exposed
                            .iter()
                            .map(|e| json!({ "recipient": e.recipient, "since": e.since }))
                            .collect();
                    }
                    value
                })
                .collect();
            let coverage: serde_json::Map<String, Value> = columns
                .iter()
                .map(|env| {
                    let scope = store.lookup(name, env).map(|listed| listed.scope.key());
                    (env.name.clone(), json!(scope))
                })
                .collect();
            let (description, at) = match declared.get(name) {
                Some(declared) => (
                    declared.description,
                    declared
                        .at
                        .iter()
                        .map(|(path, line, column)| {
                            json!({ "path": path, "line": line, "column": column })
                        })
                        .collect(),
                ),
                None => (None, Vec::new()),
            };
            // Local environments an override file gives a value to (none stored for them).
            let overridden: Vec<&str> = columns
                .iter()
                .filter(|env| {
                    !env.ty.is_cloud()
                        && overrides.contains(*name)
                        && store.lookup(name, env).is_none()
                })
                .map(|env| env.name.as_str())
                .collect();
            json!({
                "name": name,
                "optional": declared.get(name).is_some_and(|declared| declared.optional),
                "description": description,
                "declared_at": at,
                "values": values,
                "coverage": coverage,
                "overrides": overridden,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "store": store.location,
        "people": people,
        "environments": environments,
        "secrets": secrets,
    })
}
