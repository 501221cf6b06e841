//! The Vault/OpenBao backend against a real OpenBao dev server (see `openbao_support`):
//! the CLI's writes as `bao kv get` sees them, the check, the run-time source, `sync`, the
//! message for a rejected token; concurrent writers from several processes, wrong and
//! version-1 mounts, sync of a named environment and sync failing halfway (a proxy that
//! cuts the connection), secrets another team wrote, token renewal and AppRole re-login,
//! and a server that never answers (a loopback port, no OpenBao needed).

use crate::openbao_support;

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::Arc;

use crate::store_support::{Ws, ok};
use secret_core::secrecy::ExposeSecret;

use crate::openbao_support::{spawn_cli, workspace};

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
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
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn check_secrets_reads_the_backend() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "checked");
    let vars = |name: &str| ws.vars.get(name).cloned();
    let envs = ["prod".to_owned()];
    let report = secret_build::check::check_with(
        ws.root(),
        &secret_build::check::Options::envs(&envs),
        &vars,
    )
    .unwrap();
    assert!(report.has_errors());
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(text.contains("DatabaseUrl"), "{text}");
    assert!(text.contains("GitHubAPIToken"), "{text}");

    ok(&ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    ));
    let report = secret_build::check::check_with(
        ws.root(),
        &secret_build::check::Options::envs(&envs),
        &vars,
    )
    .unwrap();
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(
        report.has_errors(),
        "GitHubAPIToken is still missing: {text}"
    );
    assert!(!text.contains("DatabaseUrl"), "{text}");

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
    let report = secret_build::check::check_with(
        ws.root(),
        &secret_build::check::Options::envs(&envs),
        &vars,
    )
    .unwrap();
    let text = secret_build::check::human::render(&report, ws.root(), false);
    assert!(!report.has_errors(), "{text}");
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
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
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
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
    // Already in OpenBao with the same value, written by hand (not marked as this
    // workspace's); one this workspace wrote that the file store does not have; one
    // written by hand that the file store does not have.
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
    ok(&ws.secret(&["set", "--type", "prod,dev", "Stale"], "old\n"));
    let out = bao.cli(
        &[
            "kv",
            "put",
            "-mount=secret",
            "synced/Legacy",
            "type:production=-",
        ],
        "by hand",
    );
    assert!(out.status.success(), "{out:?}");

    let legacy = "not deleted Legacy: the file store has no value for production, but the backend's is not marked as this workspace's (written by hand, or by another workspace before owners were marked); sync deletes only what this workspace owns";
    let out = ws.secret(&["sync", "--env", "prod", "--dry-run"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "would create DatabaseUrl\nwould claim GitHubAPIToken\nwould delete Stale\n{legacy}\ndry run, nothing written: sync of production to OpenBao at {}: 1 to create, 0 to update, 1 to delete, 1 unchanged (1 to claim), 1 not owned\n",
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
            "created DatabaseUrl\nclaimed GitHubAPIToken\ndeleted Stale\n{legacy}\nsynced production to OpenBao at {}: 1 created, 0 updated, 1 deleted, 1 unchanged (1 claimed), 1 not owned\n",
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
    assert_eq!(
        bao.kv_get("synced/Legacy").unwrap()["type:production"],
        "by hand"
    );
    for name in ["DatabaseUrl", "GitHubAPIToken", "Stale"] {
        assert_eq!(
            bao.owner(&format!("synced/{name}")).as_deref(),
            Some("synced"),
            "{name}"
        );
    }
    assert_eq!(bao.owner("synced/Legacy"), None);

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
            .ends_with("0 created, 0 updated, 0 deleted, 2 unchanged, 1 not owned\n"),
        "{}",
        out.stdout
    );
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
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

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn concurrent_set_and_unset_from_several_processes_lose_no_exit_0_write() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let mut ws = workspace(&bao, "race");
    // Named environments to give each writer its own scope.
    let mut config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    let envs: String = (0..8)
        .map(|i| format!("w{i} = \"development\"\n"))
        .collect();
    config = config.replace("[environments]\n", &format!("[environments]\n{envs}"));
    openbao_support::write_config(&ws, &config);
    ws.vars.remove("SECRETS_IDENTITY");
    let mut lost = Vec::new();
    let mut conflicts = 0;
    for round in 0..3 {
        // Eight `set`s on a secret that does not exist yet.
        let name = format!("New{round}");
        let children: Vec<_> = (0..8)
            .map(|i| {
                spawn_cli(
                    &ws,
                    &["set", "--env", &format!("w{i}"), &name],
                    &format!("v{i}\n"),
                )
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let data = bao.kv_get(&format!("race/{name}")).unwrap_or_default();
        for (i, out) in outputs.iter().enumerate() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let key = format!("env:w{i}");
            if out.status.success() {
                if data.get(&key).and_then(|v| v.as_str()) != Some(&format!("v{i}")) {
                    lost.push(format!("round {round}: set {key} of {name}"));
                }
            } else {
                assert_eq!(out.status.code(), Some(1), "{stderr}");
                assert!(
                    stderr.contains(&name) && stderr.contains("changed by someone else"),
                    "{stderr}"
                );
                assert!(!data.contains_key(&key), "a failed set wrote: {stderr}");
                conflicts += 1;
            }
        }
        // `unset` of the last value while six `set`s add theirs.
        let name = format!("Last{round}");
        ok(&ws.secret(&["set", "--env", "w7", &name], "last\n"));
        let mut children = vec![spawn_cli(&ws, &["unset", "--env", "w7", &name], "")];
        children.extend((0..6).map(|i| {
            spawn_cli(
                &ws,
                &["set", "--env", &format!("w{i}"), &name],
                &format!("v{i}\n"),
            )
        }));
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let data = bao.kv_get(&format!("race/{name}")).unwrap_or_default();
        let unset = &outputs[0];
        if unset.status.success() {
            assert!(
                !data.contains_key("env:w7"),
                "an exit-0 unset left its value"
            );
        } else {
            assert!(String::from_utf8_lossy(&unset.stderr).contains(&name));
            conflicts += 1;
        }
        for (i, out) in outputs[1..].iter().enumerate() {
            let key = format!("env:w{i}");
            if out.status.success() {
                if data.get(&key).and_then(|v| v.as_str()) != Some(&format!("v{i}")) {
                    lost.push(format!("round {round}: set {key} of {name}"));
                }
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    stderr.contains(&name) && stderr.contains("changed by someone else"),
                    "{stderr}"
                );
                conflicts += 1;
            }
        }
    }
    assert!(lost.is_empty(), "exit-0 writes lost: {lost:?}");
    eprintln!("{conflicts} conflicts reported");
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn a_wrong_or_version_1_mount_is_an_error_naming_the_mount() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "mounts");
    let table = bao.backend_table("mounts");
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    let with = |mount: &str| {
        openbao_support::write_config(
            &ws,
            &config.replace(
                &table,
                &table.replace("mount = \"secret\"", &format!("mount = \"{mount}\"")),
            ),
        );
    };
    let out = bao.cli(&["secrets", "enable", "-path=kv1", "-version=1", "kv"], "");
    assert!(out.status.success(), "{out:?}");
    for (mount, message) in [
        (
            "secreet",
            "there is no secrets engine at `mount = \"secreet\"`",
        ),
        ("kv1", "`mount = \"kv1\"` is a KV version 1 engine"),
        (
            "secret/mounts",
            "`mount = \"secret/mounts\"` is a folder inside the mount `secret`",
        ),
    ] {
        with(mount);
        for args in [
            &["list"][..],
            &["run", "--env", "prod", "--", "true"],
            &["export", "--env", "prod", "--format", "dotenv"],
            &["set", "--type", "prod", "DatabaseUrl"],
            &["reveal", "--env", "prod", "DatabaseUrl"],
        ] {
            let out = ws.secret(args, "v\n");
            assert_eq!(out.code, 2, "{mount} {args:?}: {}", out.all());
            assert!(
                out.stderr.contains(message),
                "{mount} {args:?}: {}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "{mount} {args:?}: {}", out.stdout);
        }
    }
    // The run time: the cached error names each secret, not the first one asked.
    with("secreet");
    let mut map: HashMap<String, OsString> = HashMap::new();
    map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    map.insert("SECRETS_ENV".into(), "prod".into());
    map.insert("VAULT_TOKEN".into(), bao.token_var());
    let resolver = secret_runtime::Resolver::from_vars(
        Arc::new(move |name| map.get(name).cloned()),
        None,
        None,
    )
    .unwrap();
    let first = resolver.resolve("DatabaseUrl").unwrap_err().to_string();
    let second = resolver.resolve("GitHubAPIToken").unwrap_err().to_string();
    assert!(first.contains("secreet"), "{first}");
    assert!(second.contains("GitHubAPIToken"), "{second}");
    assert!(!second.contains("DatabaseUrl"), "{second}");

    // A server that answers 404 or `{}` to everything is not an empty store either.
    for answer in [
        openbao_support::response("404 Not Found", "{}"),
        openbao_support::response("200 OK", "{}"),
    ] {
        let address = openbao_support::fake_server(Some(answer));
        openbao_support::write_config(&ws, &config.replace(&bao.address, &address));
        for args in [
            &["list"][..],
            &["export", "--env", "prod", "--format", "dotenv"],
        ] {
            let out = ws.secret(args, "");
            assert_eq!(out.code, 2, "{args:?}: {}", out.all());
            assert!(
                out.stderr.contains(&format!("OpenBao at {address}")),
                "{}",
                out.stderr
            );
        }
    }
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn sync_of_a_named_environment_converges_and_reports_only_what_it_changed() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "named");
    ok(&ws.secret(
        &["--file-store", "set", "--env", "staging", "Fresh"],
        "new\n",
    ));
    let put = |path: &str, pair: &str, value: &str| {
        let out = bao.cli(&["kv", "put", "-mount=secret", path, pair], value);
        assert!(out.status.success(), "{out:?}");
    };
    // Broader: a development value that staging falls under; sync must not claim to
    // delete it. Own: an env:staging value the file store does not have.
    put("named/Broad", "type:development=-", "dev");
    // Written by this workspace (and so marked as its own).
    ok(&ws.secret(&["set", "--env", "staging", "Own"], "old\n"));
    let out = ws.secret(&["sync", "--env", "staging"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created Fresh\ndeleted Own\nkept Broad: the file store has no value for staging (development), but `type:development` in the backend applies to it and covers other environments too; remove it with `secret unset` if it should go\nsynced staging (development) to OpenBao at {}: 1 created, 0 updated, 1 deleted, 0 unchanged, 1 kept\n",
            bao.address
        )
    );
    assert_eq!(
        bao.kv_get("named/Broad").unwrap()["type:development"],
        "dev"
    );
    assert_eq!(bao.kv_get("named/Own"), None);
    assert_eq!(bao.kv_get("named/Fresh").unwrap()["env:staging"], "new");
    // Converged: nothing more to change.
    let out = ws.secret(&["sync", "--env", "staging"], "");
    ok(&out);
    assert!(
        out.stdout
            .ends_with("0 created, 0 updated, 0 deleted, 1 unchanged, 1 kept\n"),
        "{}",
        out.stdout
    );
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn sync_and_import_that_fail_halfway_say_what_was_written_and_sync_converges() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "half");
    for name in ["A1", "A2", "A3", "A4"] {
        ok(&ws.secret(
            &["--file-store", "set", "--type", "prod", name],
            &format!("{name}-value\n"),
        ));
    }
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    let config = config.replace("timeout_seconds = 10", "timeout_seconds = 2");
    // The server dies after two secrets (each a write of the values and one of the owner
    // mark). The connection carrying A3's write is cut after the request was sent, and
    // the server is gone when sync reads A3 back: whether it was written is not known.
    let proxy = openbao_support::failing_proxy(&bao.address, 4);
    openbao_support::write_config(&ws, &config.replace(&bao.address, &proxy));
    let out = ws.secret(&["sync", "--env", "prod"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(out.stdout, "created A1\ncreated A2\n");
    assert!(
        out.stderr.contains("sync of production stopped at A3: 2 created, 0 updated, 0 deleted before it (listed above); whether A3 was written is not known (it is read first next time); not written: A4"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("whether this change was written is not known"),
        "{}",
        out.stderr
    );
    assert!(bao.kv_get("half/A2").is_some());
    assert_eq!(bao.kv_get("half/A3"), None);
    // Back to the server: the second run finishes, the third has nothing to do.
    openbao_support::write_config(&ws, &config);
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created A3\ncreated A4\nsynced production to OpenBao at {}: 2 created, 0 updated, 0 deleted, 2 unchanged\n",
            bao.address
        )
    );
    let out = ws.secret(&["sync", "--env", "prod"], "");
    assert!(
        out.stdout
            .ends_with("0 created, 0 updated, 0 deleted, 4 unchanged\n"),
        "{}",
        out.stdout
    );

    // import: a failure after one secret names what was written, what may have been and
    // what was not.
    let proxy = openbao_support::failing_proxy(&bao.address, 2);
    openbao_support::write_config(&ws, &config.replace(&bao.address, &proxy));
    ws.write("in.env", "B1=one\nB2=two\nB3=three\n");
    let out = ws.secret(
        &["import", "--type", "prod", "--allow-undeclared", "in.env"],
        "",
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout.starts_with("set B1 for production"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("import stopped at B2: 1 set before it (listed above); whether B2 was written is not known (it is read first next time); not written: B3"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("nothing was written"), "{}", out.all());
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn foreign_secrets_are_ignored_and_reported_never_deleted() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    // No prefix: the whole mount, shared with another team; this workspace's owner name.
    let ws = workspace(&bao, "");
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    openbao_support::write_config(
        &ws,
        &config.replace("prefix = \"\"\n", "prefix = \"\"\nowner = \"team-a\"\n"),
    );
    let put = |path: &str, pairs: &[&str]| {
        let mut args = vec!["kv", "put", "-mount=secret", path];
        args.extend_from_slice(pairs);
        let out = bao.cli(&args, "");
        assert!(out.status.success(), "{out:?}");
    };
    put("legacy_config", &["user=admin", "password=hunter2"]);
    put("my-service", &["type:production=x"]);
    ok(&ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    ));
    // GitHubAPIToken has no value: delivery goes on with a warning.
    for args in [
        &["list"][..],
        &[
            "export",
            "--env",
            "prod",
            "--allow-missing",
            "--format",
            "dotenv",
        ],
        &["run", "--env", "prod", "--allow-missing", "--", "true"],
    ] {
        let out = ws.secret(args, "");
        ok(&out);
        for (name, why) in [
            ("legacy_config", "`password` is not a scope"),
            ("my-service", "not a secret name"),
        ] {
            assert!(
                out.stderr.contains(&format!(
                    "warning: ignored `{name}` in the backend, which this tool did not write: "
                )) && out.stderr.contains(why),
                "{args:?}: {}",
                out.stderr
            );
        }
        assert!(!out.all().contains("hunter2"), "{}", out.all());
    }
    let out = ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--allow-missing",
            "--format",
            "dotenv",
        ],
        "",
    );
    assert_eq!(out.stdout, "SECRET_DatabaseUrl='postgres://prod'\n");
    // sync with nothing in the file store deletes only what the tool wrote.
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert!(
        out.stdout.starts_with("deleted DatabaseUrl\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("1 deleted, 0 unchanged, 2 ignored\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.all().contains("delete legacy") && !out.all().contains("remove the others"),
        "{}",
        out.all()
    );
    assert_eq!(bao.kv_get("legacy_config").unwrap().len(), 2);
    assert!(bao.kv_get("my-service").is_some());
    // A write to a foreign secret is refused; its keys stay.
    let out = ws.secret(&["set", "--type", "dev", "legacy_config"], "three\n");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("was not written by this tool"),
        "{}",
        out.stderr
    );
    assert_eq!(bao.kv_get("legacy_config").unwrap().len(), 2);
    // sync with a file-store value for it stops before writing anything.
    ok(&ws.secret(
        &["--file-store", "set", "--type", "prod", "legacy_config"],
        "mine\n",
    ));
    ok(&ws.secret(
        &["--file-store", "set", "--type", "prod", "DatabaseUrl"],
        "postgres://again\n",
    ));
    let out = ws.secret(&["sync", "--env", "prod"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("secret/data/legacy_config holds a KV secret this tool did not write"),
        "{}",
        out.stderr
    );
    for word in ["remove", "delete"] {
        assert!(!out.stderr.contains(word), "{}", out.stderr);
    }
    assert_eq!(bao.kv_get("DatabaseUrl"), None, "nothing written");
    assert_eq!(bao.kv_get("legacy_config").unwrap().len(), 2);
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn the_runtime_logs_in_again_before_an_approle_token_expires_with_a_read_only_policy() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let mut ws = workspace(&bao, "ci");
    for name in ["DatabaseUrl", "GitHubAPIToken", "Third", "Gone"] {
        ok(&ws.secret(&["set", "--type", "prod", name], &format!("{name}-value\n")));
    }
    let cli = |args: &[&str], stdin: &str| {
        let out = bao.cli(args, stdin);
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    cli(&["auth", "enable", "approle"], "");
    // Read-only: no metadata read, no write.
    cli(
        &["policy", "write", "reader", "-"],
        "path \"secret/metadata/ci\" { capabilities = [\"list\"] }\npath \"secret/data/ci/*\" { capabilities = [\"read\"] }\n",
    );
    cli(
        &[
            "write",
            "auth/approle/role/app",
            "token_policies=reader",
            "token_ttl=3s",
            "token_max_ttl=3s",
        ],
        "",
    );
    let role_id = cli(
        &["read", "-field=role_id", "auth/approle/role/app/role-id"],
        "",
    );
    let secret_id = cli(
        &[
            "write",
            "-f",
            "-field=secret_id",
            "auth/approle/role/app/secret-id",
        ],
        "",
    );
    // A renewable token with the same policy and a 3-second TTL, in VAULT_TOKEN (the
    // resolver reads `auth = "token"` from secrets.toml now).
    let token = cli(
        &[
            "token",
            "create",
            "-policy=reader",
            "-ttl=3s",
            "-explicit-max-ttl=60s",
            "-field=token",
        ],
        "",
    );
    let mut map: HashMap<String, OsString> = HashMap::new();
    map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    map.insert("SECRETS_ENV".into(), "prod".into());
    map.insert("VAULT_TOKEN".into(), token.into());
    let by_token = secret_runtime::Resolver::from_vars(
        Arc::new(move |name| map.get(name).cloned()),
        None,
        None,
    )
    .unwrap();
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    openbao_support::write_config(
        &ws,
        &config.replace("auth = \"token\"", "auth = \"approle\""),
    );
    ws.vars.remove("VAULT_TOKEN");
    ws.vars
        .insert("VAULT_ROLE_ID".into(), role_id.clone().into());
    ws.vars
        .insert("VAULT_SECRET_ID".into(), secret_id.clone().into());
    let mut map: HashMap<String, OsString> = HashMap::new();
    map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    map.insert("SECRETS_ENV".into(), "prod".into());
    map.insert("VAULT_ROLE_ID".into(), role_id.into());
    map.insert("VAULT_SECRET_ID".into(), secret_id.clone().into());
    let resolver = secret_runtime::Resolver::from_vars(
        Arc::new(move |name| map.get(name).cloned()),
        None,
        None,
    )
    .unwrap();
    for resolver in [&resolver, &by_token] {
        let value = resolver.resolve("DatabaseUrl").unwrap();
        assert_eq!(value.expose_secret(), "DatabaseUrl-value");
    }
    // Used now and then: 4.4 seconds after the first login, past the 3-second TTL, the
    // secrets still resolve (the token was renewed, or a new login made, when due).
    for name in ["GitHubAPIToken", "Third"] {
        std::thread::sleep(std::time::Duration::from_millis(2200));
        for resolver in [&resolver, &by_token] {
            let value = resolver.resolve(name).unwrap();
            assert_eq!(value.expose_secret(), format!("{name}-value"));
        }
    }

    // The latest version of one secret soft-deleted by someone else.
    let out = bao.cli(&["kv", "delete", "-mount=secret", "ci/Gone"], "");
    assert!(out.status.success(), "{out:?}");
    // The CLI with the read-only policy: the deleted secret is simply absent.
    let out = ws.secret(&["export", "--env", "prod", "--format", "dotenv"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        "SECRET_DatabaseUrl='DatabaseUrl-value'\nSECRET_GitHubAPIToken='GitHubAPIToken-value'\nSECRET_Third='Third-value'\n"
    );
    // A secret-id revoked meanwhile: logging in again fails, and the current token is
    // used while it is valid; past its 3-second lifetime the lookup fails with the login's
    // error, without the secret id.
    cli(
        &[
            "write",
            "auth/approle/role/app/secret-id/destroy",
            &format!("secret_id={secret_id}"),
        ],
        "",
    );
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let error = resolver.resolve("Missing").unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("AppRole login at auth/approle/login failed"),
        "{text}"
    );
    assert!(
        !error.is_transient(),
        "a refused login stays an error: {text}"
    );
    assert!(!text.contains(&secret_id), "{text}");
}

// Regression test: a dead server cost two timeouts per command (the token lookup's
// failure was ignored, then the mount check waited again), and the old version of this
// test measured wall-clock time; it now counts the connections the server received.
#[test]
fn many_secrets_against_a_server_that_never_answers_cost_one_timeout() {
    // No OpenBao needed: a loopback port that accepts, counts and never answers.
    let (address, connections) = openbao_support::silent_server();
    let mut ws = Ws::new();
    openbao_support::write_config(
        &ws,
        &format!("[backend]\nkind = \"openbao\"\naddress = \"{address}\"\ntimeout_seconds = 1\n"),
    );
    ws.vars.insert("VAULT_TOKEN".into(), "s.token".into());
    let mut map: HashMap<String, OsString> = HashMap::new();
    map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    map.insert("SECRETS_ENV".into(), "prod".into());
    map.insert("VAULT_TOKEN".into(), "s.token".into());
    let resolver = secret_runtime::Resolver::from_vars(
        Arc::new(move |name| map.get(name).cloned()),
        None,
        None,
    )
    .unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("Secret{i}")).collect();
    for name in &names {
        let error = resolver.resolve(name).unwrap_err();
        let text = error.to_string();
        assert!(text.contains(&format!("/{name})")), "{text}");
        assert!(
            text.contains("no answer for auth/token/lookup-self within the time budget of 1 s"),
            "{text}"
        );
        assert!(error.is_transient(), "{text}");
    }
    // One attempt had the whole budget; the other five lookups failed with its error.
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The CLI: one connection, one budget, for a whole command.
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("no answer for auth/token/lookup-self"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("cannot reach"), "{}", out.stderr);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Plain http to another machine (TEST-NET-1): warned about first. The request goes
    // to the proxy of `http_proxy`, a silent loopback port, so nothing leaves this machine.
    let (proxy, proxied) = openbao_support::silent_server();
    ws.vars.insert("http_proxy".into(), proxy.clone().into());
    openbao_support::write_config(
        &ws,
        "[backend]\nkind = \"openbao\"\naddress = \"http://192.0.2.1:8200\"\ntimeout_seconds = 1\n",
    );
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.starts_with(&format!(
            "warning: {}:1: `address = \"http://192.0.2.1:8200\"` is plain http to another machine",
            ws.root().join("secrets.toml").display()
        )),
        "{}",
        out.stderr
    );
    // The proxy never answers its CONNECT: the message names it and its variable.
    assert!(
        out.stderr.contains(&format!(
            "cannot connect to http://192.0.2.1:8200 through the proxy {proxy} (from http_proxy) within the time budget of 1 s"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(proxied.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn server_text_is_cleaned_and_an_oversized_answer_is_named() {
    // A proxy that echoes the request's headers (the token among them) and an escape
    // sequence in its error text.
    let token = "s.EchoedTokenValue987654321";
    let body = format!(
        "{{\"errors\":[\"bad gateway: X-Vault-Token: {token} \\u001b[2J\\u001b]0;owned\\u0007 and\\nmore\"]}}"
    );
    let echo =
        openbao_support::fake_server(Some(openbao_support::response("502 Bad Gateway", &body)));
    let huge = {
        let body = format!("{{\"data\":\"{}\"}}", "x".repeat(17 * 1024 * 1024));
        openbao_support::fake_server(Some(openbao_support::response("200 OK", &body)))
    };
    let mut ws = Ws::new();
    ws.vars.insert("VAULT_TOKEN".into(), token.into());
    // A 502 is retried within the budget: one second.
    let table = |address: &str| {
        format!("[backend]\nkind = \"openbao\"\naddress = \"{address}\"\ntimeout_seconds = 1\n")
    };
    openbao_support::write_config(&ws, &table(&echo));
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("HTTP 502: bad gateway: X-Vault-Token: [token]"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(token), "{}", out.all());
    assert!(
        !out.all().contains('\u{1b}') && !out.all().contains('\u{7}'),
        "{:?}",
        out.all()
    );
    assert!(out.stderr.contains(" and more"), "{}", out.stderr);

    openbao_support::write_config(&ws, &table(&huge));
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("is larger than"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("cannot reach the server"),
        "{}",
        out.stderr
    );
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn the_token_file_is_read_and_run_keeps_the_token_from_the_child() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let mut ws = workspace(&bao, "tokenfile");
    // `bao login` saves the token in ~/.vault-token.
    ws.vars.remove("VAULT_TOKEN");
    std::fs::write(
        ws.home.path().join(".vault-token"),
        format!("{}\n", bao.token),
    )
    .unwrap();
    ok(&ws.secret(
        &["set", "--type", "prod", "DatabaseUrl"],
        "postgres://prod\n",
    ));
    ws.vars.insert("VAULT_TOKEN".to_owned(), bao.token_var());
    ws.vars.insert("BAO_TOKEN".to_owned(), bao.token_var());
    let child = spawn_cli(
        &ws,
        &[
            "run",
            "--env",
            "prod",
            "--allow-missing",
            "--",
            "sh",
            "-c",
            "[ -n \"$SECRET_DatabaseUrl\" ] && [ -z \"$VAULT_TOKEN$BAO_TOKEN\" ]",
        ],
        "",
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
