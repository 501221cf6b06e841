//! The JSON rendering, schema version 1, documented in `docs/check-json.md`. Fields are only
//! ever added within a version; a change that removes or retypes a field bumps
//! [`SCHEMA_VERSION`].

use std::path::Path;

use secret_core::EnvKind;
#[cfg(test)]
use serde_json::{Value, json};

#[cfg(test)]
use super::report::Diagnostic;
use super::report::{Cell, Report, Severity};

/// The version of the JSON document.
pub const SCHEMA_VERSION: u32 = 1;

/// A path as written in machine output: relative to the root, `/`-separated.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Renders `report` as a pretty-printed JSON document: keys in sorted order, two spaces
/// of indentation, as `serde_json::to_string_pretty` writes a `serde_json::Value` (the
/// tests hold the two equal), written directly, without building the value first.
pub fn render(report: &Report) -> String {
    // Room for what a declaration, a diagnostic or a secret's row usually takes (a few
    // hundred bytes each), so that a large report is not copied as it grows.
    let items = report.scan.declarations.len() + report.diagnostics.len() + report.rows.len() + 16;
    let mut out = Pretty {
        text: Vec::with_capacity(items * 512),
        ..Pretty::default()
    };
    out.begin(b'{');
    out.key("declarations");
    out.begin(b'[');
    for d in &report.scan.declarations {
        out.item();
        out.begin(b'{');
        out.key("column");
        out.number(d.column);
        out.key("description");
        out.optional_string(d.description.as_deref());
        out.key("end_column");
        out.number(d.end_column);
        out.key("end_line");
        out.number(d.end_line);
        out.key("env");
        out.optional_string(d.env.as_deref());
        out.key("file");
        out.string(&path_text(&d.path));
        out.key("line");
        out.number(d.line);
        out.key("name");
        out.string(&d.name);
        out.key("optional");
        out.boolean(d.optional);
        out.key("package");
        out.string(&d.package);
        out.key("target_kind");
        out.string(&d.target_kind);
        out.end(b'}');
    }
    out.end(b']');
    out.key("diagnostics");
    out.begin(b'[');
    for diagnostic in &report.diagnostics {
        out.item();
        out.begin(b'{');
        out.key("code");
        out.string(diagnostic.code.as_str());
        out.key("environment");
        out.optional_string(diagnostic.environment.as_deref());
        out.key("help");
        out.optional_string(diagnostic.help.as_deref());
        out.key("location");
        match &diagnostic.location {
            Some(location) => {
                out.begin(b'{');
                out.key("column");
                out.optional_number(location.column);
                out.key("end_column");
                out.optional_number(location.end.map(|end| end.1));
                out.key("end_line");
                out.optional_number(location.end.map(|end| end.0));
                out.key("file");
                out.string(&path_text(&location.path));
                out.key("line");
                out.optional_number(location.line);
                out.end(b'}');
            }
            None => out.null(),
        }
        out.key("message");
        out.string(&diagnostic.message);
        out.key("notes");
        out.begin(b'[');
        for note in &diagnostic.notes {
            out.item();
            out.string(note);
        }
        out.end(b']');
        out.key("secret");
        out.optional_string(diagnostic.secret.as_deref());
        out.key("severity");
        out.string(diagnostic.severity.name());
        out.end(b'}');
    }
    out.end(b']');
    out.key("environments");
    out.begin(b'[');
    for env in &report.environments {
        let (kind, pattern) = match &env.kind {
            EnvKind::Type => ("type", None),
            EnvKind::Named => ("named", None),
            EnvKind::Pattern(pattern) => ("pattern", Some(pattern.as_str())),
        };
        out.item();
        out.begin(b'{');
        out.key("kind");
        out.string(kind);
        out.key("name");
        out.string(&env.name);
        out.key("pattern");
        out.optional_string(pattern);
        out.key("type");
        out.string(env.ty.name());
        out.end(b'}');
    }
    out.end(b']');
    out.key("schema_version");
    out.number(SCHEMA_VERSION as usize);
    out.key("secrets");
    out.begin(b'[');
    for row in &report.rows {
        out.item();
        out.begin(b'{');
        out.key("declared");
        out.boolean(row.declared);
        out.key("description");
        out.optional_string(row.description.as_deref());
        out.key("name");
        out.string(&row.name);
        out.key("optional");
        out.boolean(row.optional);
        out.key("values");
        // By environment name, the last cell of a name winning, as in a map.
        let values: std::collections::BTreeMap<&str, &Cell> = report
            .environments
            .iter()
            .zip(&row.cells)
            .map(|(env, cell)| (env.name.as_str(), cell))
            .collect();
        out.begin(b'{');
        for (name, cell) in values {
            let (status, scope) = match cell {
                Cell::Set(scope) => ("set", Some(scope.key())),
                Cell::Refused(scope) => ("refused", Some(scope.key())),
                Cell::Override => ("override", None),
                Cell::Missing => ("missing", None),
                Cell::OptionalUnset => ("optional-unset", None),
            };
            out.key(name);
            out.begin(b'{');
            out.key("scope");
            out.optional_string(scope.as_deref());
            out.key("status");
            out.string(status);
            out.end(b'}');
        }
        out.end(b'}');
        out.end(b'}');
    }
    out.end(b']');
    out.key("store");
    out.begin(b'{');
    out.key("file");
    out.string(&path_text(&report.store_path));
    out.key("values");
    out.begin(b'[');
    for value in &report.stored {
        out.item();
        out.begin(b'{');
        out.key("line");
        out.optional_number(value.line);
        out.key("name");
        out.string(&value.name);
        out.key("scope");
        out.string(&value.scope.key());
        out.end(b'}');
    }
    out.end(b']');
    out.end(b'}');
    out.key("summary");
    out.begin(b'{');
    out.key("errors");
    out.number(report.count(Severity::Error));
    out.key("passed");
    out.boolean(!report.has_errors());
    out.key("warnings");
    out.number(report.count(Severity::Warning));
    out.end(b'}');
    out.key("types");
    out.begin(b'[');
    for ty in &report.types {
        out.item();
        out.string(ty.name());
    }
    out.end(b']');
    out.end(b'}');
    let mut text = out.text;
    text.push(b'\n');
    String::from_utf8(text)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// A JSON document written as `serde_json`'s pretty printer writes one (UTF-8: only
/// `str`s and ASCII go in).
#[derive(Default)]
struct Pretty {
    text: Vec<u8>,
    depth: usize,
    /// Whether the object or array open last holds nothing yet.
    empty: bool,
}

impl Pretty {
    fn begin(&mut self, open: u8) {
        self.text.push(open);
        self.depth += 1;
        self.empty = true;
    }

    fn end(&mut self, close: u8) {
        self.depth -= 1;
        if !self.empty {
            self.newline();
        }
        self.text.push(close);
        self.empty = false;
    }

    /// Starts the next element of an array.
    fn item(&mut self) {
        if !self.empty {
            self.text.push(b',');
        }
        self.newline();
        self.empty = false;
    }

    /// Starts the next entry of an object, up to its value.
    fn key(&mut self, key: &str) {
        self.item();
        self.string(key);
        self.text.extend_from_slice(b": ");
    }

    fn newline(&mut self) {
        self.text.push(b'\n');
        for _ in 0..self.depth {
            self.text.extend_from_slice(b"  ");
        }
    }

    fn null(&mut self) {
        self.text.extend_from_slice(b"null");
    }

    fn boolean(&mut self, value: bool) {
        self.text
            .extend_from_slice(if value { &b"true"[..] } else { b"false" });
    }

    fn number(&mut self, value: usize) {
        use std::io::Write as _;
        // Writing into memory cannot fail.
        let _ = write!(self.text, "{value}");
    }

    fn optional_number(&mut self, value: Option<usize>) {
        match value {
            Some(value) => self.number(value),
            None => self.null(),
        }
    }

    fn optional_string(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.string(value),
            None => self.null(),
        }
    }

    /// A string literal, escaped by `serde_json`.
    fn string(&mut self, value: &str) {
        // Writing into memory cannot fail; a `str` always serializes.
        let _ = serde_json::to_writer(&mut self.text, value);
    }
}

/// The JSON document as a value: what [`render`] writes, for its tests.
#[cfg(test)]
fn to_value(report: &Report) -> Value {
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

#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use secret_core::{EnvKind, EnvType, Environment, Scope};

    use super::super::report::{
        Cell, Code, Diagnostic, Location, Report, Row, Severity, StoredValue,
    };
    use crate::scan::{Declaration, ScanReport};

    fn pretty(report: &Report) -> String {
        serde_json::to_string_pretty(&super::to_value(report)).unwrap() + "\n"
    }

    /// Every kind of field and character the document holds, written as serde_json writes
    /// the same value.
    #[test]
    fn the_document_is_written_as_serde_json_writes_its_value() {
        let odd = "quote \" backslash \\ controls \u{1}\u{8}\u{c}\n\r\t\u{1f} del \u{7f} é ✓";
        let environments = vec![
            Environment {
                name: "production".to_owned(),
                ty: EnvType::Production,
                kind: EnvKind::Type,
            },
            Environment {
                name: "pr-42".to_owned(),
                ty: EnvType::Preview,
                kind: EnvKind::Pattern("pr-*".to_owned()),
            },
            Environment {
                name: "b".to_owned(),
                ty: EnvType::Local,
                kind: EnvKind::Named,
            },
        ];
        let declaration = |name: &str, description: Option<&str>| Declaration {
            name: name.to_owned(),
            package: "app".to_owned(),
            target_kind: "lib".to_owned(),
            path: PathBuf::from("src/lib.rs"),
            line: 3,
            column: 14,
            end_line: 4,
            end_column: 2,
            description: description.map(str::to_owned),
            optional: description.is_none(),
            env: description.map(|_| odd.to_owned()),
        };
        let mut report = Report {
            environments,
            types: vec![EnvType::Production, EnvType::Local],
            scan: ScanReport {
                declarations: vec![declaration("A", Some(odd)), declaration("B", None)],
                ..ScanReport::default()
            },
            store_path: PathBuf::from("secrets.enc.toml"),
            stored: vec![
                StoredValue {
                    name: "A".to_owned(),
                    scope: Scope::Types(BTreeSet::from([EnvType::Production, EnvType::Local])),
                    line: Some(7),
                    audit: None,
                },
                StoredValue {
                    name: odd.to_owned(),
                    scope: Scope::Envs(BTreeSet::from(["b".to_owned()])),
                    line: None,
                    audit: None,
                },
            ],
            state: Default::default(),
            rows: vec![Row {
                name: "A".to_owned(),
                description: Some(odd.to_owned()),
                declared: true,
                optional: false,
                cells: vec![
                    Cell::Set(Scope::Types(BTreeSet::from([EnvType::Production]))),
                    Cell::Refused(Scope::Envs(BTreeSet::from(["pr-*".to_owned()]))),
                    Cell::Missing,
                ],
            }],
            diagnostics: vec![
                Diagnostic {
                    severity: Severity::Error,
                    code: Code::MissingSecret,
                    message: odd.to_owned(),
                    secret: Some("A".to_owned()),
                    environment: None,
                    location: Some(Location {
                        path: PathBuf::from("src/lib.rs"),
                        line: Some(3),
                        column: None,
                        end: Some((4, 2)),
                    }),
                    label: None,
                    notes: vec![odd.to_owned(), String::new()],
                    help: Some(odd.to_owned()),
                },
                Diagnostic {
                    severity: Severity::Warning,
                    code: Code::UndeclaredSecret,
                    message: String::new(),
                    secret: None,
                    environment: Some("b".to_owned()),
                    location: None,
                    label: None,
                    notes: Vec::new(),
                    help: None,
                },
            ],
        };
        assert_eq!(super::render(&report), pretty(&report));
        // Empty arrays and objects.
        report.environments.clear();
        report.types.clear();
        report.scan.declarations.clear();
        report.diagnostics.clear();
        report.rows[0].cells.clear();
        report.stored.clear();
        assert_eq!(super::render(&report), pretty(&report));
    }
}
