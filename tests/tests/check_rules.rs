//! The rules of the check on a user workspace with a real store: which
//! findings a user gets for which environment, and the exit status.

use crate::check_support;

use crate::check_support::{Workspace, exit};
use secret_build::check::{Cell, Code, Format, Severity, check};

fn codes(
    report: &secret_build::check::Report,
) -> Vec<(Severity, Code, Option<String>, Option<String>)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.code, d.secret.clone(), d.environment.clone()))
        .collect()
}

#[test]
fn prod_fails_on_a_missing_production_value() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:development,local");
    ws.set("DatabaseUrl", "type:production");
    let report = check(ws.root(), &["prod".to_owned()]).unwrap();
    assert_eq!(
        codes(&report),
        vec![(
            Severity::Error,
            Code::MissingSecret,
            Some("GitHubAPIToken".to_owned()),
            Some("production".to_owned())
        )]
    );
    let diagnostic = &report.diagnostics[0];
    assert_eq!(
        diagnostic.message,
        "secret `GitHubAPIToken` has no value for production"
    );
    assert_eq!(
        diagnostic.help.as_deref(),
        Some("cargo xtask secret set --type prod GitHubAPIToken")
    );
    let location = diagnostic.location.as_ref().unwrap();
    assert_eq!(
        (
            location.path.to_str().unwrap(),
            location.line,
            location.column
        ),
        ("app/src/main.rs", Some(5), Some(31))
    );
    assert_eq!(ws.run(&["prod"], Format::Human), exit(1));
}

#[test]
fn local_warns_and_exits_zero() {
    let ws = Workspace::new();
    ws.set("DatabaseUrl", "type:local");
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    assert_eq!(
        codes(&report),
        vec![(
            Severity::Warning,
            Code::MissingSecret,
            Some("GitHubAPIToken".to_owned()),
            Some("local".to_owned())
        )]
    );
    assert!(!report.has_errors());
    assert_eq!(ws.run(&["local"], Format::Human), exit(0));
}

#[test]
fn a_named_environments_value_wins_over_its_types() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:development");
    ws.set("GitHubAPIToken", "env:staging");
    ws.set("DatabaseUrl", "env:staging");
    let report = check(ws.root(), &["staging".to_owned(), "dev".to_owned()]).unwrap();
    let token = report
        .rows
        .iter()
        .find(|row| row.name == "GitHubAPIToken")
        .unwrap();
    let scope = |key: &str| Cell::Set(secret_core::Scope::parse_key(key).unwrap());
    assert_eq!(
        token.cells,
        vec![scope("env:staging"), scope("type:development")]
    );
    // `DatabaseUrl` is set for staging only: development still misses it.
    assert_eq!(
        codes(&report),
        vec![(
            Severity::Error,
            Code::MissingSecret,
            Some("DatabaseUrl".to_owned()),
            Some("development".to_owned())
        )]
    );
    assert_eq!(ws.run(&["staging"], Format::Json), exit(0));
    assert_eq!(ws.run(&["dev"], Format::Json), exit(1));
}

#[test]
fn all_checks_every_type_and_named_environment() {
    let ws = Workspace::new();
    ws.set(
        "GitHubAPIToken",
        "type:production,development,preview,local",
    );
    ws.set("DatabaseUrl", "type:production,development,preview,local");
    let report = check(ws.root(), &["all".to_owned()]).unwrap();
    let names: Vec<&str> = report
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["production", "development", "preview", "local", "staging"]
    );
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(ws.run(&[], Format::Human), exit(0));
}

#[test]
fn stored_values_no_code_declares_are_warnings() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:local");
    ws.set("DatabaseUrl", "type:local");
    ws.set("OldToken", "type:production,local");
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    assert_eq!(
        codes(&report),
        vec![(
            Severity::Warning,
            Code::UndeclaredSecret,
            Some("OldToken".to_owned()),
            None
        )]
    );
    let diagnostic = &report.diagnostics[0];
    assert_eq!(
        diagnostic.help.as_deref(),
        Some("cargo xtask secret unset --type prod,local OldToken")
    );
    let location = diagnostic.location.as_ref().unwrap();
    assert_eq!(location.path.to_str(), Some("secrets.enc.toml"));
    let store = std::fs::read_to_string(ws.root().join("secrets.enc.toml")).unwrap();
    let line = store.lines().nth(location.line.unwrap() - 1).unwrap();
    assert!(line.starts_with("[OldToken."), "{line}");
    assert_eq!(ws.run(&["local"], Format::Human), exit(0));
}

#[test]
fn names_differing_only_in_case_are_a_warning() {
    let ws = Workspace::new();
    ws.write(
        "app/src/main.rs",
        &format!("{}mod legacy;\n", check_support::MAIN_RS),
    );
    ws.write(
        "app/src/legacy.rs",
        "pub static LEGACY: secret_runtime::Secret = secret_runtime::secret!(\"GithubApiToken\");\n",
    );
    for name in ["GitHubAPIToken", "GithubApiToken", "DatabaseUrl"] {
        ws.set(name, "type:local");
    }
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    assert_eq!(
        codes(&report),
        vec![(
            Severity::Warning,
            Code::CaseCollision,
            Some("GitHubAPIToken".to_owned()),
            None
        )]
    );
    assert_eq!(
        report.diagnostics[0].message,
        "secrets `GitHubAPIToken` and `GithubApiToken` differ only in case"
    );
}

#[test]
fn a_tracked_override_file_is_an_error() {
    let ws = Workspace::new();
    ws.set("GitHubAPIToken", "type:local");
    ws.set("DatabaseUrl", "type:local");
    ws.write(".secrets.local.toml", "GitHubAPIToken = \"local\"\n");
    ws.write(".secrets.local.cue", "DatabaseUrl: \"local\"\n");
    // Outside a git repository nothing is tracked.
    assert!(
        check(ws.root(), &["local".to_owned()])
            .unwrap()
            .diagnostics
            .is_empty()
    );
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(ws.root())
            .args(args)
            .output()
            .unwrap()
            .status;
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-f", ".secrets.local.toml"]);
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    // (This clone's git was not set up by `secret init`: the store's merge driver is missing.)
    assert_eq!(
        codes(&report),
        vec![
            (Severity::Error, Code::TrackedOverride, None, None),
            (Severity::Note, Code::MergeDriverMissing, None, None)
        ]
    );
    assert_eq!(
        report.diagnostics[0]
            .location
            .as_ref()
            .unwrap()
            .path
            .to_str(),
        Some(".secrets.local.toml")
    );
    assert_eq!(ws.run(&["local"], Format::Human), exit(1));
}

#[test]
fn a_bad_config_or_environment_cannot_run() {
    let ws = Workspace::new();
    ws.write("secrets.toml", "[environments]\nstaging = \"devel\"\n");
    let error = check(ws.root(), &["prod".to_owned()])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("{}:2:", ws.root().join("secrets.toml").display())),
        "{error}"
    );
    assert!(error.contains("did you mean `development`?"), "{error}");
    assert_eq!(ws.run(&["prod"], Format::Human), exit(2));

    let ws = Workspace::new();
    let error = check(ws.root(), &["stagin".to_owned()])
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown environment `stagin`"), "{error}");
    assert!(error.contains("did you mean `staging`?"), "{error}");
    assert_eq!(ws.run(&["stagin"], Format::Human), exit(2));

    let ws = Workspace::new();
    ws.write("secrets.enc.toml", "version = 1\n[GitHubAPIToken\n");
    let error = check(ws.root(), &["prod".to_owned()])
        .unwrap_err()
        .to_string();
    assert!(error.contains("secrets.enc.toml:2:"), "{error}");
    assert_eq!(ws.run(&["prod"], Format::Human), exit(2));
}
