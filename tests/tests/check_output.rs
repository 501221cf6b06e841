//! Snapshots of what a user sees: each output format, and the output for exit status 0, 1
//! and 2. Snapshots live in `tests/snapshots/check/`; `SNAPSHOTS=overwrite` rewrites them.

use crate::check_support::{Workspace, assert_snapshot, exit};
use secret_build::check::{Format, check, error_text, render};

/// GitHubAPIToken misses production, DatabaseUrl misses staging, AnalyticsKey is stored but
/// not declared (its name sorts first in the store, so its line does not depend on the
/// random-length grease age adds to the ciphertexts before it).
fn failing() -> (Workspace, secret_build::check::Report) {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:development,local");
    ws.set("GitHubAPIToken", "env:staging");
    ws.set("DatabaseUrl", "type:production");
    ws.set("AnalyticsKey", "type:production");
    let report = check(ws.root(), &["prod".to_owned(), "staging".to_owned()]).unwrap();
    (ws, report)
}

#[test]
fn human_output_exit_1() {
    let (ws, report) = failing();
    assert_snapshot(
        "check/human-exit-1.txt",
        &render(&report, ws.root(), Format::Human, false),
    );
    assert_eq!(ws.run(&["prod", "staging"], Format::Human), exit(1));
}

#[test]
fn human_output_exit_0_with_a_warning() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:production");
    ws.set("DatabaseUrl", "type:production");
    let report = check(ws.root(), &["prod".to_owned(), "local".to_owned()]).unwrap();
    assert_snapshot(
        "check/human-exit-0.txt",
        &render(&report, ws.root(), Format::Human, false),
    );
    assert_eq!(ws.run(&["prod", "local"], Format::Human), exit(0));
}

#[test]
fn exit_2_names_the_file_and_line() {
    let ws = Workspace::new();
    ws.write(
        "secrets.toml",
        "[environments]\nstaging = \"development\"\n\n[enviroments]\nx = \"dev\"\n",
    );
    let error = check(ws.root(), &["prod".to_owned()]).unwrap_err();
    let text = error_text(&error).replace(&ws.root().display().to_string(), "[ROOT]");
    assert_snapshot("check/exit-2.txt", &text);
    assert_eq!(ws.run(&["prod"], Format::Human), exit(2));
}

#[test]
fn json_output() {
    let (ws, report) = failing();
    let text = render(&report, ws.root(), Format::Json, false);
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["schema_version"], 1);
    // The lines of values after the first depend on the random-length grease age adds to
    // each ciphertext: check they are lines, then mask them.
    for stored in value["store"]["values"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .skip(1)
    {
        assert!(stored["line"].as_u64().unwrap() > 4);
        stored["line"] = "[LINE]".into();
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    assert_snapshot("check/output.json", &text);
}

#[test]
fn sarif_output() {
    let (ws, report) = failing();
    let text = render(&report, ws.root(), Format::Sarif, false);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], "2.1.0");
    assert_snapshot("check/output.sarif", &text);
}

#[test]
fn github_output() {
    let (ws, report) = failing();
    assert_snapshot(
        "check/output.github.txt",
        &render(&report, ws.root(), Format::Github, false),
    );
}

/// `check-secrets` prints through the CLI's `Io`, never to the process's own streams: the
/// report is on the given stdout, exactly as `render` makes it.
#[test]
fn the_report_goes_to_the_clis_stdout() {
    let (ws, report) = failing();
    let args: Vec<String> = [
        "xtask",
        "check-secrets",
        "--env",
        "prod",
        "--env",
        "staging",
    ]
    .map(str::to_owned)
    .to_vec();
    let (code, stdout, stderr) = ws.cli(&args, &|name| std::env::var_os(name));
    assert_eq!(code, exit(1));
    assert_eq!(stdout, render(&report, ws.root(), Format::Human, false));
    assert_eq!(stderr, "");
}

/// `--leaks` reads the identity through the CLI's variables and reports its absence on the
/// given stderr.
#[test]
fn leaks_without_an_identity_is_said_on_the_clis_stderr() {
    let (ws, _) = failing();
    let home = ws.root().join("no-home");
    let args: Vec<String> = ["xtask", "check-secrets", "--env", "prod", "--leaks"]
        .map(str::to_owned)
        .to_vec();
    let (code, stdout, stderr) = ws.cli(&args, &|name| {
        (name == "HOME").then(|| home.clone().into_os_string())
    });
    assert_eq!(code, exit(2));
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("error: --leaks needs an identity that can decrypt the stored values"),
        "{stderr}"
    );
}

/// Every code the check can report is documented, with its severity, in the JSON schema page
/// tools are written against.
#[test]
fn every_code_is_documented_in_the_json_schema_page() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/check-json.md"),
    )
    .unwrap();
    let undocumented: Vec<&str> = secret_build::check::Code::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|code| !page.contains(&format!("\n| `{code}` |")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/check-json.md has no row for {undocumented:?}"
    );
}
