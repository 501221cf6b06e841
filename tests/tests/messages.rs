//! Messages a user meets: each says what happened and a fix that works as printed.

use crate::check_support;

use std::ffi::OsString;

use crate::store_support::{Ws, code_of, ok};
use secret_build::check::{Format, check, render};
use secret_build::cli::{Io, run_with};

fn workspace() -> Ws {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "",
        &format!("development = [\"{0}\"]\nlocal = [\"{0}\"]", key.public),
    );
    ws
}

/// Regression: "already has a value for part of local", "move them", and an `unset` hint
/// without arguments.
#[test]
fn a_conflicting_set_names_the_overlap_and_full_fix_commands() {
    let ws = workspace();
    ok(&ws.secret(&["set", "--type", "dev,local", "Token"], "shared-value"));
    let out = ws.secret(&["set", "--type", "local", "Token"], "local-value");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "secrets.enc.toml: Token already has a value for `type:development,local`, which overlaps local; a secret has at most one value per type and per environment"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "help: to take local away from the other value and set it here, run `cargo xtask secret set --type local --move Token`; to remove the other value first, run `cargo xtask secret unset --type dev,local Token`"
        ),
        "{}",
        out.stderr
    );
}

/// Regression: `secret set Token the-value` echoed the value back in clap's "unexpected
/// argument" error.
#[test]
fn a_value_given_on_the_command_line_is_not_echoed() {
    let ws = workspace();
    let out = ws.secret(&["set", "--type", "local", "Token", "hunter2-value"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(!out.all().contains("hunter2-value"), "{}", out.all());
    assert!(
        out.stderr
            .contains("error: unexpected extra argument (not shown: it may be a value)"),
        "{}",
        out.stderr
    );
    // A mistyped flag is still named.
    let out = ws.secret(&["set", "--tpye", "local", "Token"], "");
    assert!(out.stderr.contains("--tpye"), "{}", out.stderr);
}

/// Regression: `list --workspace <a folder that is not a workspace>` exited 0 with an empty
/// table.
#[test]
fn a_folder_that_is_not_a_workspace_is_refused() {
    let ws = Ws::new();
    let empty = ws.home.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut input: &[u8] = b"";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let vars = |_: &str| None;
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        cwd: ws.root().to_owned(),
        vars: &vars,
    };
    let args: Vec<OsString> = vec![
        "xtask".into(),
        "secret".into(),
        "list".into(),
        "--workspace".into(),
        empty.clone().into(),
    ];
    let code = code_of(run_with(args, &mut io));
    let stderr = String::from_utf8(stderr).unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--workspace: not a workspace (no Cargo.toml or secrets.toml in it)"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

/// Regression: fix commands printed for another workspace than the current folder's
/// omitted `--workspace DIR`, so pasting them acted on the wrong workspace.
#[test]
fn fix_commands_for_another_workspace_name_it() {
    let ws = workspace();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut input: &[u8] = b"";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let vars = |name: &str| ws.vars.get(name).cloned();
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        cwd: elsewhere.path().to_owned(),
        vars: &vars,
    };
    let args: Vec<OsString> = vec![
        "xtask".into(),
        "secret".into(),
        "set".into(),
        "--type".into(),
        "local".into(),
        "Token".into(),
        "--workspace".into(),
        ws.root().into(),
    ];
    let code = code_of(run_with(args, &mut io));
    let stderr = String::from_utf8(stderr).unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cargo xtask secret --workspace {} unset --type local Token`",
            ws.root().display()
        )),
        "{stderr}"
    );
}

/// Regression: the empty-value help suggested `--from-file` when the value came from
/// `--from-file`.
#[test]
fn an_empty_value_file_is_named() {
    let ws = workspace();
    let file = ws.home.path().join("value.txt");
    std::fs::write(&file, "").unwrap();
    let out = ws.secret(
        &[
            "set",
            "--type",
            "local",
            "--from-file",
            file.to_str().unwrap(),
            "Token",
        ],
        "",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "error: the value of Token is empty: {} is an empty file",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "help: write the value into the file first, or remove the secret's value with `cargo xtask secret unset --type local Token`"
        ),
        "{}",
        out.stderr
    );
}

/// Regression: with no store at all, `reveal` said the secret "has no value".
#[test]
fn a_missing_store_is_reported_as_such() {
    let ws = workspace();
    let out = ws.secret(&["reveal", "--env", "local", "Token"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "error: there is no store: {} does not exist",
            ws.store_path().display()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "help: create it with `cargo xtask secret init`, then set the value with `cargo xtask secret set --type local Token`"
        ),
        "{}",
        out.stderr
    );
}

/// Regression: a name with a dash got the help "write the name as one string literal",
/// which it already was.
#[test]
fn an_invalid_name_gets_a_rename_help() {
    let ws = check_support::Workspace::new();
    ws.write(
        "app/src/main.rs",
        "use secret_runtime::{Secret, secret};\nstatic T: Secret = secret!(\"my-token\");\nfn main() {}\n",
    );
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    let text = render(&report, ws.root(), Format::Human, false);
    assert!(
        text.contains("help: rename the secret using only ASCII letters, digits and `_`"),
        "{text}"
    );
    assert!(
        !text.contains("write the name as one string literal"),
        "{text}"
    );
}

/// Regression: `run` and `export` counted the local override files, but `check-secrets
/// --env local` warned the secret was missing and `list` showed ✗.
#[test]
fn override_files_count_for_local_in_the_check_and_list() {
    let ws = check_support::Workspace::new();
    ws.write(
        ".secrets.local.toml",
        "GitHubAPIToken = \"from-the-file\"\n",
    );
    let report = check(ws.root(), &["local".to_owned(), "production".to_owned()]).unwrap();
    let text = render(&report, ws.root(), Format::Human, false);
    assert!(
        !text.contains("`GitHubAPIToken` has no value for local"),
        "{text}"
    );
    assert!(
        text.contains("`GitHubAPIToken` has no value for production"),
        "{text}"
    );
    assert!(text.contains("override file"), "{text}");
    let json = render(&report, ws.root(), Format::Json, false);
    assert!(json.contains("\"status\": \"override\""), "{json}");

    let mut app = Ws::new();
    let key = app.key("me");
    app.use_key(&key);
    app.with_app(
        "static T: secret_runtime::Secret = secret_runtime::secret!(\"Token\");\nfn main() {}\n",
    );
    app.config("", &format!("local = [\"{}\"]", key.public));
    app.write(".secrets.local.toml", "Token = \"from-the-file\"\n");
    let out = app.secret(&["list"], "");
    ok(&out);
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("Token"))
        .unwrap();
    assert!(row.contains("✓ override"), "{}", out.stdout);
    assert!(!out.stdout.contains("from-the-file"));
}
