//! `secret list`: every stored secret x each type and named environment, set or missing.
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
//!       "values": [
//!         { "scope": "type:development,local", "types": ["development", "local"],
//!           "environments": [], "recipients": ["age1..."], "line": 4 }
//!       ],
//!       "coverage": { "production": null, "development": "type:development,local", ... }
//!     }
//!   ]
//! }
//! ```
//!
//! `coverage` maps each entry of `environments` to the scope key of the value that applies
//! there (named environment first, then pattern, then type), or `null` when none does.

use std::path::Path;

use clap::{Args, ValueEnum};
use secret_store::{Config, EnvKind, EnvType, Environment, Scope, Store};
use serde_json::{Value, json};

use super::{Failure, Io};

/// Output format of `secret list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table with ✓ (set) and ✗ (missing).
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
}

fn columns(config: &Config) -> Vec<Environment> {
    let mut columns: Vec<Environment> =
        EnvType::ALL.into_iter().map(Environment::of_type).collect();
    for name in config.environments.keys() {
        if let Ok(env) = config.resolve_env(name) {
            columns.push(env);
        }
    }
    columns
}

pub(crate) fn run(root: &Path, args: &ListArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = Config::load(root)?;
    let store = Store::load(root)?;
    let columns = columns(&config);
    // Declarations found by the workspace scanner (description, declared at) join here
    // once `crate::scan::scan_workspace` exists; until then the rows are the stored secrets.
    let names: Vec<&str> = store.names().collect();
    let output = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&to_json(&store, &columns, &names)).unwrap() + "\n"
        }
        ListFormat::Table => table(&store, &columns, &names),
    };
    let _ = io.stdout.write_all(output.as_bytes());
    Ok(())
}

fn table(store: &Store, columns: &[Environment], names: &[&str]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["Secret".to_owned()];
    header.extend(columns.iter().map(|env| env.name.clone()));
    rows.push(header);
    for name in names {
        let mut row = vec![(*name).to_owned()];
        for env in columns {
            row.push(
                if store.lookup(name, env).is_some() {
                    "✓"
                } else {
                    "✗"
                }
                .to_owned(),
            );
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if names.is_empty() {
        out.push_str("(no values stored yet: `cargo xtask secret set --type dev,local NAME`)\n");
    }
    out
}

fn scope_json(scope: &Scope) -> (Vec<&'static str>, Vec<String>) {
    match scope {
        Scope::Types(types) => (types.iter().map(|ty| ty.name()).collect(), Vec::new()),
        Scope::Envs(envs) => (Vec::new(), envs.iter().cloned().collect()),
    }
}

fn to_json(store: &Store, columns: &[Environment], names: &[&str]) -> Value {
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
                .map(|(scope, entry)| {
                    let (types, envs) = scope_json(scope);
                    json!({
                        "scope": scope.key(),
                        "types": types,
                        "environments": envs,
                        "recipients": entry.recipients,
                        "line": entry.line,
                    })
                })
                .collect();
            let coverage: serde_json::Map<String, Value> = columns
                .iter()
                .map(|env| {
                    let scope = store.lookup(name, env).map(|(scope, _)| scope.key());
                    (env.name.clone(), json!(scope))
                })
                .collect();
            json!({ "name": name, "values": values, "coverage": coverage })
        })
        .collect();
    json!({
        "schema_version": 1,
        "store": store.path(),
        "environments": environments,
        "secrets": secrets,
    })
}
