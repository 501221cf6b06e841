//! Per-service delivery and optional secrets on `tests/fixtures/services` (copied to a
//! temporary folder): three services, `billing` and `mailer` sharing the library `shared`,
//! `search` alone; `SentryDSN` optional in `shared` and required in `search`.
//!
//! What a user notices: which `SECRET_<Name>` variables a service's process gets from
//! `run -p`, which keys `export -p` writes, the exit status and report of
//! `check-secrets -p`, and the refusal to deliver a cloud environment with missing values.

use std::collections::BTreeSet;
use std::path::Path;

use crate::store_support::{Out, Ws, ok};

/// The fixture in a temporary workspace, one key as recipient of every type, and every
/// secret but `SentryDSN` and `StripeSandboxKey` set for production.
fn services() -> Ws {
    let mut ws = Ws::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/services");
    copy_tree(&fixture, ws.root());
    let key = ws.key("me");
    let r = &key.public;
    ws.config(
        "",
        &format!(
            "production = [\"{r}\"]\ndevelopment = [\"{r}\"]\npreview = [\"{r}\"]\nlocal = [\"{r}\"]"
        ),
    );
    ws.use_key(&key);
    for name in ["DatabaseURL", "StripeKey", "SmtpPassword", "SearchAPIKey"] {
        ok(&ws.secret(
            &["set", "--type", "prod", name],
            &format!("{name}-prod-value"),
        ));
    }
    ws
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The JSON export's keys, after checking the command succeeded.
fn exported(out: &Out) -> BTreeSet<String> {
    ok(out);
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&out.stdout).unwrap();
    object.keys().cloned().collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn export(ws: &Ws, env: &str, extra: &[&str]) -> Out {
    let mut args = vec!["export", "--env", env, "--format", "json"];
    args.extend(extra);
    ws.secret(&args, "")
}

/// The `SECRET_*` variable names the child of `run` sees (names only, written to a file).
fn run_sees(ws: &Ws, extra: &[&str]) -> BTreeSet<String> {
    let seen = ws.home.path().join("seen.txt");
    let script = format!(
        "env | grep '^SECRET_' | cut -d= -f1 | sed 's/^SECRET_//' > '{}'",
        seen.display()
    );
    let mut args = vec!["run", "--env", "prod"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", &script]);
    ok(&ws.secret(&args, ""));
    std::fs::read_to_string(seen)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_service_gets_exactly_its_own_secrets_and_the_shared_one() {
    let ws = services();

    let billing = ["DatabaseURL", "StripeKey"];
    let mailer = ["DatabaseURL", "SmtpPassword"];
    assert_eq!(
        exported(&export(&ws, "prod", &["-p", "billing"])),
        names(&billing)
    );
    assert_eq!(
        exported(&export(&ws, "prod", &["--package", "mailer"])),
        names(&mailer)
    );
    assert_eq!(run_sees(&ws, &["-p", "billing"]), names(&billing));
    assert_eq!(run_sees(&ws, &["-p", "mailer"]), names(&mailer));
    assert_eq!(
        exported(&export(&ws, "prod", &["-p", "billing", "-p", "mailer"])),
        names(&["DatabaseURL", "SmtpPassword", "StripeKey"]),
        "two packages get the union"
    );

    // A k8s Secret per service, named after it.
    let out = ws.secret(
        &["export", "--env", "prod", "-p", "mailer", "--format", "k8s"],
        "",
    );
    ok(&out);
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(manifest["metadata"]["name"], "mailer-production");
    let keys: BTreeSet<String> = manifest["data"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, names(&mailer));

    // The unset optional secret is skipped without a word.
    let out = export(&ws, "prod", &["-p", "billing"]);
    assert_eq!(out.stderr, "");

    // Once set, it is delivered to every service that links `shared` (and to `search`,
    // which declares it), and still nothing of another service.
    ok(&ws.secret(
        &["set", "--type", "prod", "SentryDSN"],
        "https://k@sentry.example/1",
    ));
    assert_eq!(
        run_sees(&ws, &["-p", "billing"]),
        names(&["DatabaseURL", "SentryDSN", "StripeKey"])
    );
    assert_eq!(
        exported(&export(&ws, "prod", &["-p", "mailer"])),
        names(&["DatabaseURL", "SentryDSN", "SmtpPassword"])
    );
    assert_eq!(
        exported(&export(&ws, "prod", &["-p", "search"])),
        names(&["SearchAPIKey", "SentryDSN"])
    );
}

#[test]
fn a_service_with_a_missing_secret_fails_alone() {
    let ws = services();
    // `search` declares SentryDSN required; it has no production value.
    let out = export(&ws, "prod", &["-p", "search"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout, "", "nothing is exported");
    assert!(
        out.stderr.starts_with(
            "error: 1 secret declared by package search has no value for production: SentryDSN\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: set it with `cargo xtask secret set --type prod SentryDSN`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-missing"), "{}", out.stderr);
    // The other services are not held back by it.
    assert_eq!(
        exported(&export(&ws, "prod", &["-p", "billing"])),
        names(&["DatabaseURL", "StripeKey"])
    );

    let out = export(&ws, "prod", &["-p", "search", "--allow-missing"]);
    assert_eq!(exported(&out), names(&["SearchAPIKey"]));
    assert_eq!(
        out.stderr,
        "warning: 1 secret declared by package search has no value for production and is not passed: SentryDSN\n"
    );

    // `--dev` adds billing's test secret.
    let out = export(&ws, "prod", &["-p", "billing", "--dev"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(
            "error: 1 secret declared by package billing has no value for production: StripeSandboxKey\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_package_is_refused_with_the_names() {
    let ws = services();
    let out = export(&ws, "prod", &["-p", "biling"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no package `biling` in the workspace at"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `billing`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: the packages are billing, mailer, search, shared"),
        "{}",
        out.stderr
    );
}

/// Issue: `export` and `run` silently left out secrets with no value (a k8s Secret with
/// some of the keys, exit 0).
#[test]
fn whole_workspace_delivery_fails_for_cloud_and_warns_for_local() {
    let ws = services();
    ok(&ws.secret(&["unset", "--type", "prod", "SmtpPassword"], ""));
    let out = ws.secret(&["export", "--env", "prod", "--format", "k8s"], "");
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with(
            "error: 3 secrets declared by the workspace have no value for production: SentryDSN, SmtpPassword, StripeSandboxKey\n"
        ),
        "every missing secret, in one message: {}",
        out.stderr
    );
    let marker = ws.home.path().join("ran");
    let out = ws.secret(
        &[
            "run",
            "--env",
            "prod",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!marker.exists(), "the command is not started");

    let out = ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--format",
            "json",
            "--allow-missing",
        ],
        "",
    );
    assert_eq!(
        exported(&out),
        names(&["DatabaseURL", "SearchAPIKey", "StripeKey"])
    );
    assert!(
        out.stderr.starts_with("warning: 3 secrets declared by the workspace have no value for production and are not passed: SentryDSN, SmtpPassword, StripeSandboxKey\n"),
        "{}",
        out.stderr
    );

    // Local: a warning, and the command runs.
    let out = ws.secret(&["export", "--env", "local", "--format", "json"], "");
    assert_eq!(exported(&out), BTreeSet::new());
    assert!(
        out.stderr.starts_with("warning: 6 secrets declared by the workspace have no value for local and are not passed: DatabaseURL, SearchAPIKey, SentryDSN, SmtpPassword, StripeKey, StripeSandboxKey\n"),
        "{}",
        out.stderr
    );
}

/// `check-secrets` as the CLI executable prints it: stdout and exit status.
fn check(ws: &Ws, args: &[&str]) -> (Option<i32>, String) {
    let (code, stdout, stderr) = check_output(ws, args);
    assert_eq!(stderr, "", "{stdout}");
    (code, stdout)
}

/// `check-secrets` as the CLI executable runs it: exit status, stdout, stderr.
fn check_output(ws: &Ws, args: &[&str]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secret-cli"))
        .arg("check-secrets")
        .args(args)
        .arg("--workspace")
        .arg(ws.root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        // The scan runs `cargo metadata`: the cargo that builds the tests, as HOME changes.
        .env("CARGO", env!("CARGO"))
        .envs(&ws.vars)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stdout, stderr)
}

#[test]
fn check_secrets_gates_each_service_alone() {
    let ws = services();
    ok(&ws.secret(&["unset", "--type", "prod", "SmtpPassword"], ""));

    let (code, out) = check(&ws, &["--env", "prod", "-p", "billing"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("note: optional, unset for production: SentryDSN\n"),
        "an unset optional secret passes a production check: {out}"
    );
    assert!(!out.contains("SmtpPassword"), "{out}");
    assert!(!out.contains("SearchAPIKey"), "{out}");
    assert!(!out.contains("not declared"), "{out}");

    let (_, out) = check(&ws, &["--env", "prod", "--env", "dev", "-p", "billing"]);
    let row = out
        .lines()
        .find(|line| line.starts_with("SentryDSN"))
        .unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>().join(" "),
        "SentryDSN optional, unset optional, unset",
        "{out}"
    );

    let (code, out) = check(&ws, &["--env", "prod", "-p", "mailer"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("error[missing-secret]: secret `SmtpPassword` has no value for production"),
        "{out}"
    );
    assert!(!out.contains("StripeKey"), "{out}");

    let (code, out) = check(&ws, &["--env", "prod", "-p", "search"]);
    assert_eq!(code, Some(1), "required in search: {out}");
    assert!(
        out.contains("error[missing-secret]: secret `SentryDSN` has no value for production"),
        "{out}"
    );
    assert!(
        !out.contains("optional-mismatch"),
        "search alone agrees with itself: {out}"
    );

    // The whole workspace: declared optional in `shared` and required in `search`.
    let (code, out) = check(&ws, &["--env", "prod"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("warning[optional-mismatch]: secret `SentryDSN` is declared required here and optional elsewhere"),
        "{out}"
    );
    assert!(out.contains("search/src/main.rs:7:"), "{out}");
    assert!(
        out.contains("declared optional at shared/src/lib.rs:8:"),
        "{out}"
    );

    let (code, _, stderr) = check_output(&ws, &["--env", "prod", "-p", "biling"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("did you mean `billing`?"), "{stderr}");
}

#[test]
fn list_shows_which_packages_use_each_secret() {
    let ws = services();
    let out = ws.secret(&["list", "--format", "json"], "");
    ok(&out);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let packages = |name: &str| {
        list["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|secret| secret["name"] == name)
            .map(|secret| secret["packages"].clone())
            .unwrap()
    };
    assert_eq!(
        packages("DatabaseURL"),
        serde_json::json!(["billing", "mailer", "shared"])
    );
    assert_eq!(packages("StripeKey"), serde_json::json!(["billing"]));
    assert_eq!(
        packages("SentryDSN"),
        serde_json::json!(["billing", "mailer", "search", "shared"])
    );

    let out = ws.secret(&["list", "--packages"], "");
    ok(&out);
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("DatabaseURL"))
        .unwrap()
        .to_owned();
    assert!(
        row.trim_end().ends_with("billing, mailer, shared"),
        "{}",
        out.stdout
    );
}

#[test]
fn sync_takes_the_same_package_selection() {
    let ws = services();
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    ws.write(
        "secrets.toml",
        &format!("{config}\n[backend]\nkind = \"openbao\"\naddress = \"http://127.0.0.1:9\"\n"),
    );
    // The selection is resolved before the backend is contacted.
    let out = ws.secret(&["sync", "--env", "prod", "-p", "biling", "--dry-run"], "");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no package `biling`")
            && out.stderr.contains("did you mean `billing`?"),
        "{}",
        out.stderr
    );
    let out = ws.secret(&["sync", "--env", "prod", "--dev", "--dry-run"], "");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--package"),
        "--dev needs --package: {}",
        out.stderr
    );
    // The `[backend]` above is written but not signed: nothing is sent to it, and the
    // error says how an admin signs it.
    let out = ws.secret(&["sync", "--env", "prod", "-p", "billing", "--dry-run"], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the [backend] table is not in the signed access rules")
            && out.stderr.contains("secret rekey")
            && !out.stderr.contains("panicked"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_scanner_records_which_declarations_are_optional() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/services");
    let scan = secret_build::scan::scan_workspace(&fixture).unwrap();
    let sentry: Vec<(String, bool)> = scan
        .declarations
        .iter()
        .filter(|declaration| declaration.name == "SentryDSN")
        .map(|declaration| (declaration.package.clone(), declaration.optional))
        .collect();
    assert_eq!(
        sentry,
        [("search".to_owned(), false), ("shared".to_owned(), true)]
    );
    assert!(
        scan.declarations
            .iter()
            .filter(|declaration| declaration.name != "SentryDSN")
            .all(|declaration| !declaration.optional)
    );
}
