//! The SARIF 2.1.0 rendering, for code-scanning dashboards. One rule per diagnostic code;
//! locations are relative to the workspace root (`%SRCROOT%`).

use serde_json::{Value, json};

use super::json::path_text;
use super::report::{Code, Diagnostic, Report, Severity};

/// Renders `report` as a SARIF 2.1.0 log.
pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(report)).unwrap_or_default();
    text.push('\n');
    text
}

/// The SARIF log as a value.
pub(crate) fn to_value(report: &Report) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.as_str(),
                "shortDescription": { "text": code.summary() },
                "defaultConfiguration": { "level": default_level(*code) },
                "helpUri": concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/check-json.md"),
            })
        })
        .collect();
    let results: Vec<Value> = report.diagnostics.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "check-secrets",
                    // The project's repository, from `[workspace.package]` of its manifest.
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn default_level(code: Code) -> &'static str {
    match code {
        Code::MissingSecret
        | Code::TrackedOverride
        | Code::InvalidDeclaration
        | Code::LeakedSecret
        | Code::UnsignedValue
        | Code::ForgedValue
        | Code::UnauthorizedWriter
        | Code::StaleRecipient
        | Code::UntrustedRules
        | Code::UnsignedRules
        | Code::LegacyValue
        | Code::HiddenRecipient
        | Code::RolledBackValue
        | Code::VanishedValue
        | Code::OverlappingValues
        | Code::EnvVariableConflict => "error",
        Code::UndeclaredSecret
        | Code::CaseCollision
        | Code::UnscannedFile
        | Code::MissingRecipient
        | Code::RotationDue
        | Code::MergeDriverMissing
        | Code::OptionalMismatch
        | Code::RulesChanged
        | Code::HardcodedSecret => "warning",
    }
}

fn result(diagnostic: &Diagnostic) -> Value {
    let mut text = diagnostic.message.clone();
    for note in &diagnostic.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &diagnostic.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let rule_index = Code::ALL
        .iter()
        .position(|code| *code == diagnostic.code)
        .unwrap_or_default();
    let mut result = json!({
        "ruleId": diagnostic.code.as_str(),
        "ruleIndex": rule_index,
        "level": match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        },
        "message": { "text": text },
    });
    if let Some(location) = &diagnostic.location {
        let mut physical = json!({
            "artifactLocation": { "uri": path_text(&location.path), "uriBaseId": "%SRCROOT%" },
        });
        if let Some(line) = location.line {
            let mut region = json!({ "startLine": line });
            if let Some(column) = location.column {
                region["startColumn"] = json!(column);
            }
            if let Some((end_line, end_column)) = location.end {
                region["endLine"] = json!(end_line);
                region["endColumn"] = json!(end_column);
            }
            physical["region"] = region;
        }
        result["locations"] = json!([{ "physicalLocation": physical }]);
    }
    let mut properties = serde_json::Map::new();
    if let Some(secret) = &diagnostic.secret {
        properties.insert("secret".to_owned(), json!(secret));
    }
    if let Some(environment) = &diagnostic.environment {
        properties.insert("environment".to_owned(), json!(environment));
    }
    if !properties.is_empty() {
        result["properties"] = Value::Object(properties);
    }
    result
}
