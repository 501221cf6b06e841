//! The Vault/OpenBao backend against a real OpenBao dev server (see `openbao_support`):
//! the CLI's writes as `bao kv get` sees them, the check, the run-time source, `sync`, and
//! the message for a rejected token.

mod openbao_support;
mod store_support;

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::Arc;

use secret_store::secrecy::ExposeSecret;
use store_support::{Ws, ok};

/// A workspace whose `secrets.toml` selects the server, with the root token in
/// `VAULT_TOKEN`; an app declaring `DatabaseUrl` and `GitHubAPIToken`; one identity as
/// recipient of every type for the file store.
fn workspace(bao: &openbao_support::Bao, prefix: &str) -> Ws {
    let mut ws = Ws::new();
    ws.with_app(
        "use secret_runtime::{Secret, secret};\n\n/// Where the database lives\nstatic DATABASE: Secret = secret!(\"DatabaseUrl\");\n/// Deploy token\nstatic TOKEN: Secret = secret!(\"GitHubAPIToken\");\n\nfn main() {\n    let _ = (&DATABASE, &TOKEN);\n}\n",
    );
    let key = ws.key("me");
    let r = &key.public;
    ws.write(
        "secrets.toml",
        &format!(
            "[environments]\nstaging = \"development\"\n\n[recipients]\nproduction = [\"{r}\"]\ndevelopment = [\"{r}\"]\npreview = [\"{r}\"]\nlocal = [\"{r}\"]\n\n{}",
            bao.backend_table(prefix)
        ),
    );
    ws.use_key(&key);
    ws.vars.insert("VAULT_TOKEN".to_owned(), bao.token_var());
    ws
}

#[test]
fn cli_writes_are_what_bao_kv_get_shows() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "myapp");
    let out = ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    );
    ok(&out);
    assert!(
        out.stdout
            .contains(&format!("in OpenBao at {}", bao.address)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("secret/data/myapp/DatabaseUrl"),
        "{}",
        out.stdout
    );
    ok(&ws.secret(
        &["set", "--type", "dev,local", "DatabaseUrl"],
        "postgres://dev\n",
    ));
    ok(&ws.secret(
        &["set", "--env", "staging", "DatabaseUrl"],
        "postgres://staging\n",
    ));
    let data = bao.kv_get("myapp/DatabaseUrl").unwrap();
    assert_eq!(data["type:production"], "postgres://prod");
    assert_eq!(data["type:development,local"], "postgres://dev");
    assert_eq!(data["env:staging"], "postgres://staging");
    assert_eq!(data.len(), 3);
    assert!(
        ws.store_bytes().is_empty(),
        "nothing went to secrets.enc.toml"
    );

    // The one-value-per-type rule, before the value is read; --move narrows the other.
    let out = ws.secret(&["set", "--type", "prod,dev", "DatabaseUrl"], "x\n");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "DatabaseUrl already has values for `type:production` and `type:development,local`, which overlap production, development"
        ),
        "{}",
        out.stderr
    );
    ok(&ws.secret(
        &["set", "--type", "dev", "--move", "DatabaseUrl"],
        "postgres://dev2\n",
    ));
    let data = bao.kv_get("myapp/DatabaseUrl").unwrap();
    assert_eq!(data["type:development"], "postgres://dev2");
    assert_eq!(data["type:local"], "postgres://dev");

    // reveal and list read the backend too.
    let out = ws.secret(&["reveal", "--env", "staging", "DatabaseUrl"], "");
    ok(&out);
    assert_eq!(out.stdout, "postgres://staging");
    let out = ws.secret(&["list", "--format", "json"], "");
    ok(&out);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let row = &list["secrets"][0];
    assert_eq!(row["name"], "DatabaseUrl");
    assert_eq!(row["coverage"]["production"], "type:production");
    assert_eq!(row["coverage"]["staging"], "env:staging");
    assert_eq!(list["secrets"][1]["name"], "GitHubAPIToken");
    assert_eq!(
        list["secrets"][1]["coverage"]["production"],
        serde_json::Value::Null
    );

    // unset removes a scope; the last one deletes the KV secret.
    ok(&ws.secret(&["unset", "--type", "prod", "DatabaseUrl"], ""));
    let data = bao.kv_get("myapp/DatabaseUrl").unwrap();
    assert!(!data.contains_key("type:production"));
    for scope in [
        &["--type", "dev"][..],
        &["--type", "local"],
        &["--env", "staging"],
    ] {
        let mut args = vec!["unset"];
        args.extend_from_slice(scope);
        args.push("DatabaseUrl");
        ok(&ws.secret(&args, ""));
    }
    assert_eq!(bao.kv_get("myapp/DatabaseUrl"), None);
    let out = ws.secret(&["unset", "--type", "prod", "DatabaseUrl"], "");
    assert_eq!(out.code, 1, "{}", out.all());
}

#[test]
fn check_secrets_reads_the_backend() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "checked");
    let vars = |name: &str| ws.vars.get(name).cloned();
    let envs = ["prod".to_owned()];
    let report = secret_build::check::check_with(ws.root(), &envs, &vars).unwrap();
    assert!(report.has_errors());
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(text.contains("DatabaseUrl"), "{text}");
    assert!(text.contains("GitHubAPIToken"), "{text}");

    ok(&ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    ));
    let report = secret_build::check::check_with(ws.root(), &envs, &vars).unwrap();
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(
        report.has_errors(),
        "GitHubAPIToken is still missing: {text}"
    );
    assert!(
        !text.contains("`DatabaseUrl`") || !text.contains("DatabaseUrl` has no value"),
        "{text}"
    );

    // Written by someone else, straight into OpenBao (value on stdin, not argv).
    let out = bao.cli(
        &[
            "kv",
            "put",
            "-mount=secret",
            "checked/GitHubAPIToken",
            "type:production=-",
        ],
        "ghp_from_bao",
    );
    assert!(out.status.success(), "{out:?}");
    let report = secret_build::check::check_with(ws.root(), &envs, &vars).unwrap();
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(!report.has_errors(), "{text}");
}

#[test]
fn the_runtime_source_resolves_from_openbao() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "rt");
    ok(&ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    ));
    ok(&ws.secret(
        &["set", "--env", "staging", "DatabaseUrl"],
        "postgres://staging\n",
    ));
    let resolve = |env: &str, name: &str| {
        let mut map: HashMap<String, OsString> = HashMap::new();
        map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
        map.insert("SECRETS_ENV".into(), env.into());
        map.insert("VAULT_TOKEN".into(), bao.token_var());
        let resolver = secret_runtime::Resolver::from_vars(
            Arc::new(move |name| map.get(name).cloned()),
            None,
            None,
        )
        .unwrap();
        resolver
            .resolve(name)
            .map(|value| value.expose_secret().to_owned())
    };
    assert_eq!(resolve("prod", "DatabaseUrl").unwrap(), "postgres://prod");
    assert_eq!(
        resolve("staging", "DatabaseUrl").unwrap(),
        "postgres://staging"
    );
    let error = resolve("dev", "DatabaseUrl").unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "OpenBao at {} (secret/data/rt/DatabaseUrl) (no value for development)",
            bao.address
        )),
        "{error}"
    );
}

#[test]
fn sync_replicates_the_file_store_and_dry_run_changes_nothing() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "synced");
    let file = |args: &[&str], stdin: &str| {
        let mut all = vec!["--file-store"];
        all.extend_from_slice(args);
        ok(&ws.secret(&all, stdin));
    };
    file(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    );
    file(
        &["set", "--type", "prod,dev", "GitHubAPIToken"],
        "ghp_one\n",
    );
    // Already in OpenBao with the same value, and one the file store does not have.
    let out = bao.cli(
        &[
            "kv",
            "put",
            "-mount=secret",
            "synced/GitHubAPIToken",
            "type:production=-",
        ],
        "ghp_one",
    );
    assert!(out.status.success(), "{out:?}");
    let out = bao.cli(
        &[
            "kv",
            "put",
            "-mount=secret",
            "synced/Stale",
            "type:production,development=-",
        ],
        "old",
    );
    assert!(out.status.success(), "{out:?}");

    let out = ws.secret(&["sync", "--env", "prod", "--dry-run"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "would create DatabaseUrl\nwould delete Stale\ndry run, nothing written: sync of production to OpenBao at {}: 1 to create, 0 to update, 1 to delete, 1 unchanged\n",
            bao.address
        )
    );
    assert_eq!(bao.kv_get("synced/DatabaseUrl"), None);
    assert!(bao.kv_get("synced/Stale").is_some());

    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created DatabaseUrl\ndeleted Stale\nsynced production to OpenBao at {}: 1 created, 0 updated, 1 deleted, 1 unchanged\n",
            bao.address
        )
    );
    assert!(
        !out.all().contains("postgres://"),
        "names only: {}",
        out.all()
    );
    assert_eq!(
        bao.kv_get("synced/DatabaseUrl").unwrap()["type:production"],
        "postgres://prod"
    );
    let stale = bao.kv_get("synced/Stale").unwrap();
    assert_eq!(stale.len(), 1, "development keeps its value: {stale:?}");
    assert_eq!(stale["type:development"], "old");

    // Change a value in the file store: an update; a second sync has nothing to do.
    file(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod2\n",
    );
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert!(
        out.stdout.starts_with("updated DatabaseUrl\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        bao.kv_get("synced/DatabaseUrl").unwrap()["type:production"],
        "postgres://prod2"
    );
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert!(
        out.stdout
            .ends_with("0 created, 0 updated, 0 deleted, 2 unchanged\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_wrong_token_names_the_server_and_not_the_token() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let mut ws = workspace(&bao, "denied");
    let wrong = "s.WrongTokenValue1234567890";
    ws.vars.insert("VAULT_TOKEN".to_owned(), wrong.into());
    for args in [
        &["list"][..],
        &["set", "--type", "prod", "DatabaseUrl"],
        &["run", "--env", "prod", "--", "true"],
    ] {
        let out = ws.secret(args, "value\n");
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(
            out.stderr.contains(&format!("OpenBao at {}", bao.address)),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("HTTP 403"), "{}", out.stderr);
        assert!(out.stderr.contains("VAULT_TOKEN"), "{}", out.stderr);
        assert!(
            !out.all().contains(wrong),
            "the token leaked: {}",
            out.all()
        );
        assert!(
            !out.all().contains(&bao.token),
            "the token leaked: {}",
            out.all()
        );
    }
    ws.vars.remove("VAULT_TOKEN");
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no token: VAULT_TOKEN and BAO_TOKEN are not set"),
        "{}",
        out.stderr
    );
}
