//! What the page shows, as one JSON document: the check's grid, each stored value's scope,
//! readers, writer and badges, the findings, and the identity. The page builds its DOM
//! from it and inserts every text as text. No value is ever part of it.
//!
//! Each row carries `rev`, a hash of its own JSON, so a tab redraws only the rows that
//! changed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::hash::{Hash as _, Hasher as _};
use std::path::Path;

use axum::body::Bytes;

use secret_core::{Config, EnvKind, EnvType, Identities};
use serde_json::{Value, json};

use crate::check::{Cell, Code, Report, StoredValue};
use crate::cli::Failure;

/// One computed state: the JSON the page receives, and what the handlers need from it.
pub(super) struct Snapshot {
    /// The fingerprint of the files it was computed from.
    pub(super) version: String,
    /// The JSON document.
    pub(super) json: Bytes,
    /// The names some code declares (a name outside it gets a warning before a set).
    pub(super) declared: BTreeSet<String>,
    /// Every name of the grid (declared or stored).
    pub(super) names: BTreeSet<String>,
}

impl Snapshot {
    /// The state before anything was computed: matches no fingerprint.
    pub(super) fn empty() -> Self {
        Self {
            version: String::new(),
            json: Bytes::new(),
            declared: BTreeSet::new(),
            names: BTreeSet::new(),
        }
    }
}

/// Computes the state of the workspace at `root` as its files are now.
pub(super) fn snapshot(
    version: String,
    root: &Path,
    vars: &dyn Fn(&str) -> Option<OsString>,
) -> Snapshot {
    let (mut document, declared, names) = match load(root, vars) {
        Ok(loaded) => {
            let declared = loaded
                .report
                .rows
                .iter()
                .filter(|row| row.declared)
                .map(|row| row.name.clone())
                .collect();
            let names = loaded
                .report
                .rows
                .iter()
                .map(|row| row.name.clone())
                .collect();
            (document(root, &loaded), declared, names)
        }
        Err(failure) => (
            json!({
                "workspace": root.display().to_string(),
                "title": title(root),
                "error": { "message": failure.message, "help": failure.help },
            }),
            BTreeSet::new(),
            BTreeSet::new(),
        ),
    };
    document["version"] = Value::String(version.clone());
    Snapshot {
        version,
        json: Bytes::from(document.to_string()),
        declared,
        names,
    }
}

/// What the check and the identity say.
struct Loaded {
    report: Report,
    /// Named environments (not patterns), for the editor.
    named: Vec<String>,
    /// The user's public keys.
    keys: Vec<String>,
    /// Where the identity comes from.
    source: String,
    /// Why nothing can be set or revealed, if so.
    note: Option<String>,
}

fn load(root: &Path, vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Loaded, Failure> {
    let config = Config::load(root)?;
    let report = crate::check::check_with(root, &crate::check::Options::default(), vars).map_err(
        |error| match error {
            crate::check::CheckError::File(error) => Failure::from_file(error),
            other => Failure::usage(other.to_string()),
        },
    )?;
    let (keys, source, note) = match Identities::from_vars(vars) {
        Ok(ids) if ids.is_empty() => (
            Vec::new(),
            ids.source().to_string(),
            Some(format!(
                "no identity in {}: you can see the grid, not set or reveal values",
                ids.source()
            )),
        ),
        Ok(ids) => (ids.public_keys().to_vec(), ids.source().to_string(), None),
        Err(error) => (
            Vec::new(),
            String::new(),
            Some(Failure::from(error).message),
        ),
    };
    let named = config
        .environments
        .keys()
        .filter(|name| !name.contains('*'))
        .cloned()
        .collect();
    Ok(Loaded {
        report,
        named,
        keys,
        source,
        note,
    })
}

fn title(root: &Path) -> String {
    root.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn document(root: &Path, loaded: &Loaded) -> Value {
    let report = &loaded.report;
    let environments: Vec<Value> = report
        .environments
        .iter()
        .map(|env| {
            json!({
                "name": env.name,
                "kind": if env.kind == EnvKind::Type { "type" } else { "env" },
                "type": env.ty.name(),
                "short": if env.kind == EnvKind::Type { env.ty.short() } else { env.name.as_str() },
                "cloud": env.ty.is_cloud(),
            })
        })
        .collect();
    // Recipients and writers are long and repeat: each is listed once, values name them by
    // their place in `keys`.
    let mut keys = Keys::default();
    let declarations = report.scan.by_name();
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let places: Vec<String> = declarations
                .get(row.name.as_str())
                .into_iter()
                .flatten()
                .map(|place| format!("{}:{}", place.path.display(), place.line))
                .collect();
            let stored: Vec<&StoredValue> = report
                .stored
                .iter()
                .filter(|stored| stored.name == row.name)
                .collect();
            let cells: Vec<Value> = report
                .environments
                .iter()
                .zip(&row.cells)
                .map(|(env, cell)| match cell {
                    // The value that applies, by its place in `values`.
                    Cell::Set(scope) => match stored.iter().position(|value| &value.scope == scope)
                    {
                        Some(index) => json!(["set", index]),
                        None => json!(["set"]),
                    },
                    // Present but refused is no value, as for the check and the build.
                    Cell::Refused(_) if env.ty.is_cloud() => json!(["missing", "error"]),
                    Cell::Refused(_) => json!(["missing", "warning"]),
                    Cell::Override => json!(["override"]),
                    Cell::OptionalUnset => json!(["optional"]),
                    Cell::Missing if !row.declared => json!(["none"]),
                    Cell::Missing if env.ty.is_cloud() => json!(["missing", "error"]),
                    Cell::Missing => json!(["missing", "warning"]),
                })
                .collect();
            let values: Vec<Value> = stored.iter().map(|value| keys.value(value)).collect();
            let mut json = json!({
                "name": row.name,
                "description": row.description,
                "declared": row.declared,
                "optional": row.optional,
                "places": places,
                "cells": cells,
                "values": values,
            });
            // The keys a row names are part of what it shows.
            let mut text = json.to_string();
            for value in &stored {
                if let Some(audit) = &value.audit {
                    text.extend(audit.recipients.iter().map(String::as_str));
                    text.push_str(audit.trust.writer().unwrap_or_default());
                }
            }
            json["rev"] = Value::String(hash(&text));
            json
        })
        .collect();
    // A missing value is a cell of the grid already; the other findings are listed.
    let findings: Vec<Value> = report
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code != Code::MissingSecret)
        .map(|diagnostic| {
            json!({
                "severity": diagnostic.severity.name(),
                "code": diagnostic.code.as_str(),
                "message": diagnostic.message,
                "help": diagnostic.help,
                "secret": diagnostic.secret,
            })
        })
        .collect();
    json!({
        "workspace": root.display().to_string(),
        "title": title(root),
        "identity": { "source": loaded.source, "keys": loaded.keys, "note": loaded.note },
        "types": EnvType::ALL.map(EnvType::name),
        "named": loaded.named,
        "name_rule": secret_core::NAME_RULE,
        "environments": environments,
        "keys": keys.list,
        "rows": rows,
        "findings": findings,
        "errors": report.count(crate::check::Severity::Error),
        "warnings": report.count(crate::check::Severity::Warning),
    })
}

/// The public keys a state names, each once.
#[derive(Default)]
struct Keys {
    list: Vec<String>,
    places: std::collections::HashMap<String, usize>,
}

impl Keys {
    fn index(&mut self, key: &str) -> usize {
        if let Some(&index) = self.places.get(key) {
            return index;
        }
        self.list.push(key.to_owned());
        self.places.insert(key.to_owned(), self.list.len() - 1);
        self.list.len() - 1
    }

    /// One stored value: its scope, who can read it, who wrote it, and what the check
    /// knows of it.
    fn value(&mut self, stored: &StoredValue) -> Value {
        let mut badges: Vec<[&str; 2]> = Vec::new();
        let (readers, writer) = match &stored.audit {
            Some(audit) => {
                if !audit.trust.is_trusted() {
                    badges.push(["error", audit.trust.code()]);
                }
                if !audit.drift.stale.is_empty() {
                    badges.push(["warning", "stale recipient"]);
                }
                if !audit.drift.unreadable.is_empty() {
                    badges.push(["warning", "missing recipient"]);
                }
                if !audit.exposed.is_empty() {
                    badges.push(["warning", "rotation due"]);
                }
                let readers: Vec<usize> =
                    audit.recipients.iter().map(|key| self.index(key)).collect();
                (readers, audit.trust.writer().map(|key| self.index(key)))
            }
            None => (Vec::new(), None),
        };
        // The page words the scope from its key (`type:development,local`); no badges, no
        // field.
        let mut value = json!({
            "scope": stored.scope.key(),
            "readers": readers,
            "writer": writer,
        });
        if !badges.is_empty() {
            value["badges"] = json!(badges);
        }
        value
    }
}

/// A short hash of `text`, hex.
pub(super) fn hash(text: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
