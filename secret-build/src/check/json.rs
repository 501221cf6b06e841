//! The JSON rendering, schema version 1, documented in `docs/check-json.md`. Fields are only
//! ever added within a version; a change that removes or retypes a field bumps
//! [`SCHEMA_VERSION`].

use std::path::Path;

use secret_core::EnvKind;
use serde_json::{Value, json};

use super::report::{Cell, Diagnostic, Report, Severity};

/// The version of the JSON document.
pub const SCHEMA_VERSION: u32 = 1;

/// A path as written in machine output: relative to the root, `/`-separated.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Renders `report` as a pretty-printed JSON document.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON document as a value.
pub(crate) fn to_value(report: &Report) -> Value {
    let environments: Vec<Value> = report
        .environments
        .iter()
        .map(|env| {
            let (kind, pattern) = match &env.kind {
                EnvKind::Type => ("type", None),
                EnvKind::Named => ("named", None),
                EnvKind::Pattern(pattern) => ("pattern", Some(pattern.clone())),
            };
            json!({ "name": env.name, "type": env.ty.name(), "kind": kind, "pattern": pattern })
        })
        .collect();
    let secrets: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let values: serde_json::Map<String, Value> = report
                .environments
                .iter()
                .zip(&row.cells)
                .map(|(env, cell)| {
                    let value = match cell {
                        Cell::Set(scope) => json!({ "status": "set", "scope": scope.key() }),
                        Cell::Refused(scope) => {
                            json!({ "status": "refused", "scope": scope.key() })
                        }
                        Cell::Override => json!({ "status": "override", "scope": null }),
                        Cell::Missing => json!({ "status": "missing", "scope": null }),
                        Cell::OptionalUnset => {
                            json!({ "status": "optional-unset", "scope": null })
                        }
                    };
                    (env.name.clone(), value)
                })
                .collect();
            json!({
                "name": row.name,
                "description": row.description,
                "declared": row.declared,
                "optional": row.optional,
                "values": values,
            })
        })
        .collect();
    let declarations: Vec<Value> = report
        .scan
        .declarations
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "package": d.package,
                "target_kind": d.target_kind,
                "file": path_text(&d.path),
                "line": d.line,
                "column": d.column,
                "end_line": d.end_line,
                "end_column": d.end_column,
                "description": d.description,
                "optional": d.optional,
                "env": d.env,
            })
        })
        .collect();
    let stored: Vec<Value> = report
        .stored
        .iter()
        .map(|value| json!({ "name": value.name, "scope": value.scope.key(), "line": value.line }))
        .collect();
    let diagnostics: Vec<Value> = report.diagnostics.iter().map(diagnostic).collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "types": report.types.iter().map(|ty| ty.name()).collect::<Vec<_>>(),
        "environments": environments,
        "secrets": secrets,
        "declarations": declarations,
        "store": { "file": path_text(&report.store_path), "values": stored },
        "diagnostics": diagnostics,
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "passed": !report.has_errors(),
        },
    })
}

fn diagnostic(diagnostic: &Diagnostic) -> Value {
    let location = diagnostic.location.as_ref().map(|location| {
        json!({
            "file": path_text(&location.path),
            "line": location.line,
            "column": location.column,
            "end_line": location.end.map(|end| end.0),
            "end_column": location.end.map(|end| end.1),
        })
    });
    json!({
        "code": diagnostic.code.as_str(),
        "severity": diagnostic.severity.name(),
        "message": diagnostic.message,
        "secret": diagnostic.secret,
        "environment": diagnostic.environment,
        "location": location,
        "notes": diagnostic.notes,
        "help": diagnostic.help,
    })
}
