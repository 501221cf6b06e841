//! The SARIF output validates against the official SARIF 2.1.0 schema kept in
//! `tests/schemas/`. The validator is Python's `jsonschema` (a Rust validator would add a
//! large dependency tree to the tests for one assertion); set `SKIP_SARIF_SCHEMA=1` to skip
//! on a machine without it.

use crate::check_support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::check_support::Workspace;
use secret_build::check::{Format, check, render};

const VALIDATE: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(sys.stdin)
cls = jsonschema.validators.validator_for(schema)
errors = sorted(cls(schema).iter_errors(document), key=lambda e: list(e.path))
for error in errors:
    print("/".join(map(str, error.path)) + ": " + error.message)
sys.exit(1 if errors else 0)
"#;

fn validate(sarif: &str) {
    if std::env::var_os("SKIP_SARIF_SCHEMA").is_some() {
        eprintln!("SKIP_SARIF_SCHEMA is set: the SARIF output is not validated");
        return;
    }
    let schema =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/sarif-schema-2.1.0.json");
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the SARIF schema validation (or set SKIP_SARIF_SCHEMA=1)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sarif.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the SARIF output does not validate against SARIF 2.1.0:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:development,local");
    ws.set("AnalyticsKey", "type:production");
    ws.write(
        "app/src/main.rs",
        &format!("{}mod bad;\n", check_support::MAIN_RS),
    );
    ws.write(
        "app/src/bad.rs",
        "static BAD: secret_runtime::Secret = secret_runtime::secret!(\"1Bad\");\n",
    );
    ws.write(".secrets.local.toml", "GitHubAPIToken = \"x\"\n");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(ws.root())
            .args(args)
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    git(&["add", "-f", ".secrets.local.toml"]);
    let report = check(ws.root(), &["all".to_owned()]).unwrap();
    // Every kind of location: a source span, a store line, a whole file, none (the clone's
    // git has no merge driver for the store).
    let codes: std::collections::BTreeSet<&str> =
        report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "invalid-declaration",
            "merge-driver-missing",
            "missing-secret",
            "tracked-override",
            "undeclared-secret"
        ]
        .into()
    );
    validate(&render(&report, ws.root(), Format::Sarif, false));
}

#[test]
fn the_validator_rejects_an_invalid_log() {
    // Guards the guard: a log with a misspelt property must fail validation.
    if std::env::var_os("SKIP_SARIF_SCHEMA").is_some() {
        return;
    }
    let result = std::panic::catch_unwind(|| {
        validate(r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"resuls":[]}]}"#)
    });
    assert!(result.is_err());
}
