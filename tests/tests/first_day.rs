//! A team's first day, in a workspace of its own: the environment types it uses
//! (`types`), people by name (`[people]`), the variables its libraries read
//! (`secret!("DatabaseURL", env = "DATABASE_URL")`) through `run`, `export`, `import` and
//! the run time, and messages that say what to do.

use crate::store_support;

use std::ffi::OsString;
use std::sync::Arc;

use crate::store_support::{Key, Ws, git_ok, ok};
use secret_build::check::{Format, check, render};
use secret_runtime::secrecy::ExposeSecret as _;

/// A workspace whose `app` declares `main_rs`'s secrets, with one key for every type the
/// project uses, `types` written first when given.
fn workspace(types: Option<&str>, main_rs: &str) -> (Ws, Key) {
    let mut ws = Ws::new();
    ws.with_app(main_rs);
    let key = ws.key("me");
    ws.use_key(&key);
    let types_line = types.map(|t| format!("types = {t}\n")).unwrap_or_default();
    let recipients: String = ["production", "development", "preview", "local"]
        .into_iter()
        .filter(|ty| types.is_none_or(|t| t.contains(ty)))
        .map(|ty| format!("{ty} = [\"{}\"]\n", key.public))
        .collect();
    ws.write(
        "secrets.toml",
        &format!("{types_line}[environments]\n\n[recipients]\n{recipients}"),
    );
    (ws, key)
}

const APP: &str = "use secret_runtime::{Secret, secret};\n\n/// Postgres\nstatic DB: Secret = secret!(\"DatabaseURL\", env = \"DATABASE_URL\");\nstatic DSN: Secret = secret!(\"SentryDSN\", optional);\n\nfn main() {}\n";

/// The check-secrets output (human) and whether it found errors, for `envs`.
fn check_text(ws: &Ws, envs: &[&str]) -> (String, bool) {
    let envs: Vec<String> = envs.iter().map(|env| (*env).to_owned()).collect();
    let report = check(ws.root(), &envs).unwrap();
    (
        render(&report, ws.root(), Format::Human, false),
        report.has_errors(),
    )
}

#[test]
fn a_project_declaring_three_types_gets_no_error_for_the_fourth() {
    let (ws, _key) = workspace(Some("[\"production\", \"development\", \"local\"]"), APP);
    for ty in ["prod", "dev", "local"] {
        ok(&ws.secret(&["set", "--type", ty, "DatabaseURL"], "postgres://db"));
    }
    let (text, errors) = check_text(&ws, &[]);
    assert!(!errors, "{text}");
    assert!(!text.contains("preview"), "{text}");
    let list = ws.secret(&["list"], "");
    ok(&list);
    let header = list.stdout.lines().next().unwrap();
    assert!(
        header.contains("production") && !header.contains("preview"),
        "{header}"
    );
    // Naming the unused type is an error that names `types`.
    for args in [
        &["export", "--env", "preview", "--format", "json"][..],
        &["run", "--env", "pr", "--", "true"][..],
    ] {
        let out = ws.secret(args, "");
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains("this project does not use the environment type `preview`"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("add \"preview\" to `types`"),
            "{}",
            out.stderr
        );
    }
    let out = ws.secret(&["set", "--type", "pr", "DatabaseURL"], "x");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("`types`"), "{}", out.stderr);
    // The same project without `types` uses all four: preview is missing.
    let text = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    ws.write("secrets.toml", text.split_once('\n').unwrap().1);
    // Signed as every change to the rules is, it takes effect.
    ok(&ws.secret(&["rekey", "--yes"], ""));
    let (text, errors) = check_text(&ws, &[]);
    assert!(errors && text.contains("no value for preview"), "{text}");
}

#[test]
fn people_are_named_in_list_and_the_check() {
    let mut ws = Ws::new();
    ws.with_app(
        "static A: secret_runtime::Secret = secret_runtime::secret!(\"Token\");\nfn main() {}\n",
    );
    let alice = ws.key("alice");
    let bob = ws.key("bob");
    ws.use_key(&alice);
    ws.write(
        "secrets.toml",
        &format!(
            "[people]\nalice = \"{}\"\nbob = \"{}\"\n\n[recipients]\nproduction = [\"alice\", \"bob\"]\n",
            alice.public, bob.public
        ),
    );
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "t0ken-value"));
    let list = ws.secret(&["list"], "");
    ok(&list);
    assert!(
        list.stdout
            .contains("who can read:\n  production: alice, bob\n"),
        "{}",
        list.stdout
    );
    // Bob leaves the production recipients: rekey names him, and the value he could read
    // names him as due for rotation.
    ws.write(
        "secrets.toml",
        &format!(
            "[people]\nalice = \"{}\"\nbob = \"{}\"\n\n[recipients]\nproduction = [\"alice\"]\n",
            alice.public, bob.public
        ),
    );
    let rekey = ws.secret(&["rekey", "--yes"], "");
    ok(&rekey);
    assert!(
        rekey.stdout.contains(&format!(
            "bob ({}) loses read access and loses write access to production",
            bob.public
        )),
        "{}",
        rekey.stdout
    );
    let (text, errors) = check_text(&ws, &["prod"]);
    assert!(!errors, "{text}");
    assert!(
        text.contains(&format!("it was known to bob ({})", bob.public)),
        "{text}"
    );
    let list = ws.secret(&["list"], "");
    assert!(
        list.stdout.contains(&format!(
            "Token (type:production): rotation due: bob ({}) could read it until",
            bob.public
        )),
        "{}",
        list.stdout
    );
    let json = ws.secret(&["list", "--format", "json"], "");
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["people"]["alice"], alice.public.as_str());
    // A misspelt person is an error at its line with the close name.
    ws.write(
        "secrets.toml",
        &format!(
            "[people]\nalice = \"{}\"\n\n[recipients]\nproduction = [\"alise\"]\n",
            alice.public
        ),
    );
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secrets.toml:5:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `alice`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_declared_variable_reaches_a_child_of_run_and_the_dotenv_export() {
    let (ws, _key) = workspace(None, APP);
    ok(&ws.secret(
        &["set", "--type", "dev", "DatabaseURL"],
        "postgres://dev-db",
    ));
    let seen = ws.root().join("seen.txt");
    let out = ws.secret(
        &[
            "run",
            "--env",
            "dev",
            "--",
            "sh",
            "-c",
            "printf '%s|%s' \"$DATABASE_URL\" \"$SECRET_DatabaseURL\" > seen.txt",
        ],
        "",
    );
    ok(&out);
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "postgres://dev-db|postgres://dev-db"
    );
    let out = ws.secret(&["export", "--env", "dev", "--format", "dotenv"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        "SECRET_DatabaseURL='postgres://dev-db'\nDATABASE_URL='postgres://dev-db'\n"
    );
}

#[test]
fn the_run_time_reads_the_declared_variable() {
    let vars: secret_runtime::source::VarReader = Arc::new(|name| match name {
        "DATABASE_URL" => Some(OsString::from("postgres://from-env")),
        _ => None,
    });
    let conventional = [("DatabaseURL".to_owned(), vec!["DATABASE_URL".to_owned()])].into();
    let resolver = secret_runtime::Resolver::new(secret_runtime::Environment::of_type(
        secret_runtime::EnvType::Production,
    ))
    .with_source(secret_runtime::source::EnvVarSource::with_conventional(
        vars,
        conventional,
    ));
    assert_eq!(
        resolver.resolve("DatabaseURL").unwrap().expose_secret(),
        "postgres://from-env"
    );
}

#[test]
fn import_of_a_conventional_name_sets_the_declared_secret() {
    let (ws, key) = workspace(None, APP);
    ws.write("dev.env", "DATABASE_URL=postgres://imported\n");
    let out = ws.secret(&["import", "--type", "dev", "dev.env"], "");
    ok(&out);
    assert!(
        out.stderr
            .contains("DATABASE_URL is the declared secret DatabaseURL"),
        "{}",
        out.stderr
    );
    let store = secret_core::Store::load(ws.root()).unwrap();
    assert_eq!(store.names().collect::<Vec<_>>(), ["DatabaseURL"]);
    let ids = secret_core::Identities::from_file(&key.file).unwrap();
    let env = secret_core::Environment::of_type(secret_core::EnvType::Development);
    let (scope, _) = store.lookup("DatabaseURL", &env).unwrap();
    let config = secret_core::Config::load(ws.root()).unwrap();
    assert_eq!(
        secret_core::state::State::new(config, store.clone(), None)
            .decrypt_slot("DatabaseURL", scope, &ids)
            .unwrap()
            .expose_secret(),
        "postgres://imported"
    );
}

#[test]
fn import_suggests_the_declared_name_instead_of_storing_an_undeclared_one() {
    let (ws, _key) = workspace(
        None,
        "static DB: secret_runtime::Secret = secret_runtime::secret!(\"DatabaseURL\");\nfn main() {}\n",
    );
    ws.write(
        "dev.env",
        "DATABASE_URL=postgres://imported-pw\nStripeKey=sk\n",
    );
    let before = ws.store_bytes();
    let out = ws.secret(&["import", "--type", "dev", "dev.env"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("no code declares DATABASE_URL, StripeKey; nothing was imported"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "`DATABASE_URL`: did you mean the declared `DatabaseURL`? Rename the line, or declare the variable with `secret!(\"DatabaseURL\", env = \"DATABASE_URL\")`"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("imported-pw"));
    assert_eq!(ws.store_bytes(), before);
    // Stored as written only when asked.
    ok(&ws.secret(
        &["import", "--type", "dev", "--allow-undeclared", "dev.env"],
        "",
    ));
}

#[test]
fn two_secrets_naming_one_variable_are_an_error_in_the_check() {
    let (ws, _key) = workspace(
        None,
        "use secret_runtime::secret;\nstatic A: secret_runtime::Secret = secret!(\"PrimaryDB\", env = \"DATABASE_URL\");\nstatic B: secret_runtime::Secret = secret!(\"ReplicaDB\", env = \"DATABASE_URL\");\nfn main() {}\n",
    );
    let (text, errors) = check_text(&ws, &["local"]);
    assert!(errors, "{text}");
    assert!(
        text.contains(
            "error[env-variable-conflict]: secrets `PrimaryDB` and `ReplicaDB` both declare the environment variable DATABASE_URL"
        ),
        "{text}"
    );
}

/// Regression: `secret run --env dev cargo run` (no `--`) was answered with advice about
/// `set` reading values from stdin.
#[test]
fn run_without_the_double_dash_says_where_the_command_goes() {
    let (ws, _key) = workspace(None, APP);
    let out = ws.secret(&["run", "--env", "dev", "cargo", "run"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "error: `secret run` takes the command to start after `--`, and `cargo` came before it"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("-- cargo run -p my-service"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("stdin"), "{}", out.stderr);
}

/// Regression: `secret log NoSuch` claimed the store had no git history, with exit 0.
#[test]
fn log_of_an_unknown_name_fails_with_the_close_name() {
    let (ws, _key) = workspace(None, APP);
    ok(&ws.secret(&["set", "--type", "dev", "DatabaseURL"], "x"));
    git_ok(ws.root(), &["init", "-q", "-b", "main"]);
    git_ok(ws.root(), &["add", "secrets.toml", "secrets.enc.toml"]);
    git_ok(ws.root(), &["commit", "-q", "-m", "store"]);
    let out = ws.secret(&["log", "DatabaseUrl"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("no secret `DatabaseUrl` in the git history of"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `DatabaseURL`?"),
        "{}",
        out.stderr
    );
}

/// Regression: `list` showed an optional unset secret as ✗ like a missing required one,
/// and did not mark a local override hiding a stored value.
#[test]
fn list_marks_optional_unset_and_overrides_that_hide_a_stored_value() {
    let (ws, _key) = workspace(None, APP);
    ok(&ws.secret(&["set", "--type", "local", "DatabaseURL"], "stored"));
    ws.write(".secrets.local.toml", "DatabaseURL = \"mine\"\n");
    let out = ws.secret(&["list"], "");
    ok(&out);
    let row = |name: &str| {
        out.stdout
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap()
            .to_owned()
    };
    assert!(row("SentryDSN").contains("– optional"), "{}", out.stdout);
    assert!(!row("SentryDSN").contains('✗'), "{}", out.stdout);
    assert!(
        row("DatabaseURL").contains("✓ override, stored hidden"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("note: the local override files hide the stored local value of DatabaseURL"),
        "{}",
        out.stdout
    );
}

/// Regression: the check of another workspace (`--workspace examples`) suggested
/// `cargo xtask secret init` without the workspace, which set up the current folder's.
#[test]
fn help_commands_for_another_workspace_name_it() {
    let (ws, _key) = workspace(None, APP);
    let elsewhere = tempfile::tempdir().unwrap();
    let mut input: &[u8] = b"";
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let vars = |name: &str| ws.vars.get(name).cloned();
    let mut io = secret_build::cli::Io {
        stdin: &mut input,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        cwd: elsewhere.path().to_owned(),
        vars: &vars,
    };
    let args = [
        "xtask",
        "check-secrets",
        "--env",
        "dev",
        "--workspace",
        ws.root().to_str().unwrap(),
    ];
    secret_build::cli::run_with(args, &mut io);
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "cargo xtask secret --workspace {} set --type dev DatabaseURL",
            ws.root().display()
        )),
        "{stdout}"
    );
}

/// Regression: a workspace whose store file does not exist reported "no value for local".
#[test]
fn a_missing_store_file_is_named_as_missing() {
    let (ws, _key) = workspace(None, APP);
    let root = ws.root().to_owned();
    let vars: secret_runtime::source::VarReader = Arc::new(move |name| match name {
        "SECRETS_WORKSPACE" => Some(root.clone().into()),
        _ => None,
    });
    let resolver = secret_runtime::Resolver::from_vars(vars, None, None).unwrap();
    let error = resolver.resolve("DatabaseURL").unwrap_err().to_string();
    assert!(
        error.contains("secrets.enc.toml (no such file: `cargo xtask secret init` creates it)"),
        "{error}"
    );
    assert!(!error.contains("no value for local"), "{error}");
}

/// A program that finds no workspace says where it looked.
#[test]
fn no_workspace_says_where_the_program_looked() {
    let cwd = tempfile::tempdir().unwrap();
    let vars: secret_runtime::source::VarReader = Arc::new(|_| None);
    let resolver = secret_runtime::Resolver::from_vars(vars, Some(cwd.path()), None).unwrap();
    let error = resolver.resolve("DatabaseURL").unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "the store (no workspace found) (SECRETS_WORKSPACE is not set, {} is in no Cargo workspace",
            cwd.path().display()
        )),
        "{error}"
    );
}

/// The error for an undeclared environment says to declare it first.
#[test]
fn an_undeclared_environment_says_to_declare_it() {
    let (ws, _key) = workspace(None, APP);
    let out = ws.secret(&["set", "--env", "staging", "DatabaseURL"], "x");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("add `staging = \"development\"` under [environments] in secrets.toml"),
        "{}",
        out.stderr
    );
}

/// The installed `secret` program takes the xtask's commands without `secret` in front, and
/// suggests its own commands, where the xtask suggests `cargo xtask secret ...`.
#[test]
fn the_standalone_program_names_its_own_commands() {
    let (ws, _key) = workspace(None, APP);
    let standalone = |args: &[&str]| {
        let mut input: &[u8] = b"";
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let vars = |name: &str| ws.vars.get(name).cloned();
        let mut io = secret_build::cli::Io {
            stdin: &mut input,
            stdin_is_terminal: false,
            stdout: &mut stdout,
            stdout_is_terminal: false,
            stderr: &mut stderr,
            cwd: ws.root().to_owned(),
            vars: &vars,
        };
        let mut argv = vec!["secret"];
        argv.extend_from_slice(args);
        let code = secret_build::cli::standalone::run_standalone(argv, &mut io);
        (
            store_support::code_of(code),
            String::from_utf8(stdout).unwrap(),
            String::from_utf8(stderr).unwrap(),
        )
    };
    let (code, _, stderr) = standalone(&["run", "--env", "dev", "cargo", "run"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`secret run --env dev -- cargo run -p my-service`"),
        "{stderr}"
    );
    assert!(!stderr.contains("cargo xtask"), "{stderr}");
    let (code, stdout, _) = standalone(&["check-secrets", "--env", "dev"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("help: secret set --type dev DatabaseURL"),
        "{stdout}"
    );
    let (code, stdout, _) = standalone(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Usage: secret [OPTIONS] <COMMAND>"),
        "{stdout}"
    );
    ok(&ws.secret(
        &["set", "--type", "dev", "DatabaseURL"],
        "cargo xtask secret value",
    ));
    // A value is never rewritten.
    let (code, stdout, _) = standalone(&["export", "--env", "dev", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("\"cargo xtask secret value\""), "{stdout}");
    // The git drivers `init` configures run a copy of the program that ran it with the
    // xtask's words (`<copy> secret textconv FILE`): the standalone program's copy takes them.
    let store = ws.store_path().to_str().unwrap().to_owned();
    let (code, with_word, stderr) = standalone(&["secret", "textconv", &store]);
    assert_eq!(code, 0, "{stderr}");
    assert!(with_word.contains("DatabaseURL"), "{with_word}");
    assert_eq!(standalone(&["textconv", &store]).1, with_word);
}

/// The build-script helper: a plain build of a project without `local` checks nothing and
/// says nothing; a build for another type the project does not use fails naming `types`.
#[test]
fn the_build_script_helper_follows_types() {
    use secret_build::build::{Instruction, instructions};
    let (ws, _key) = workspace(Some("[\"production\", \"development\"]"), APP);
    let app = ws.root().join("app");
    let said = |env: Option<&str>| -> Vec<String> {
        instructions(&app, "app", env, None)
            .into_iter()
            .filter_map(|instruction| match instruction {
                Instruction::Warning(text) => Some(format!("warning: {text}")),
                Instruction::Error(text) => Some(format!("error: {text}")),
                _ => None,
            })
            .collect()
    };
    assert_eq!(said(None), Vec::<String>::new());
    let preview = said(Some("preview"));
    assert_eq!(preview.len(), 1, "{preview:?}");
    assert!(
        preview[0].starts_with("error: ")
            && preview[0].contains("this project does not use the environment type `preview`"),
        "{preview:?}"
    );
    // Production is checked as before.
    let prod = said(Some("prod"));
    assert!(
        prod.iter()
            .any(|line| line.contains("secret `DatabaseURL`") && line.starts_with("error: ")),
        "{prod:?}"
    );
}
