//! What the Vault/OpenBao backend writes and deletes, against a real OpenBao dev server:
//! two workspaces sharing a mount keep each other's values through `sync`; two values for
//! one type are an error in every reader and the check until a command settles them; a
//! write whose answer is lost is read back before anything else is decided; and under
//! stress (parallel sets, set/unset/sync races, a sync killed with SIGKILL) no exit-0 write
//! is lost and the next sync converges.

use crate::openbao_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::openbao_support::scripted::{Act, scripted};
use crate::openbao_support::{edit_config, resolver, spawn_cli, workspace};
use crate::store_support::{Ws, ok};

/// A workspace on the whole mount (no prefix) whose owner is `owner`.
fn sharing(bao: &openbao_support::Bao, owner: &str) -> Ws {
    let ws = workspace(bao, "");
    edit_config(
        &ws,
        "prefix = \"\"\n",
        &format!("prefix = \"\"\nowner = \"{owner}\"\n"),
    );
    ws
}

// Regression test: with no `prefix` configured, `sync` in one workspace deleted (exit 0)
// the production values another workspace wrote to the same mount.
#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn two_workspaces_sharing_a_mount_keep_each_others_values_through_sync() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let billing = sharing(&bao, "billing");
    let search = sharing(&bao, "search");
    // Search writes its production values with `sync`.
    ok(&search.secret(
        &["--file-store", "set", "--type", "prod", "SearchKey"],
        "search-key\n",
    ));
    ok(&search.secret(
        &["--file-store", "set", "--type", "prod", "SearchIndexUrl"],
        "search-url\n",
    ));
    ok(&search.secret(&["sync", "--env", "prod"], ""));
    assert_eq!(bao.owner("SearchKey").as_deref(), Some("search"));
    assert_eq!(bao.owner("SearchIndexUrl").as_deref(), Some("search"));

    // Billing syncs its one value: search's are reported, never deleted.
    ok(&billing.secret(
        &["--file-store", "set", "--type", "prod", "DatabaseUrl"],
        "billing-db\n",
    ));
    let out = billing.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    let theirs = |name: &str, owner: &str| {
        format!(
            "not deleted {name}: the file store has no value for production, but the backend's is owned by `{owner}`, another workspace; sync deletes only what this workspace owns\n"
        )
    };
    assert_eq!(
        out.stdout,
        format!(
            "created DatabaseUrl\n{}{}synced production to OpenBao at {}: 1 created, 0 updated, 0 deleted, 0 unchanged, 2 not owned\n",
            theirs("SearchIndexUrl", "search"),
            theirs("SearchKey", "search"),
            bao.address
        )
    );
    assert_eq!(
        bao.kv_get("SearchKey").unwrap()["type:production"],
        "search-key"
    );
    assert_eq!(
        bao.kv_get("SearchIndexUrl").unwrap()["type:production"],
        "search-url"
    );
    assert_eq!(bao.owner("DatabaseUrl").as_deref(), Some("billing"));

    // Search syncs without SearchKey in its file store: its own SearchKey goes, billing's
    // DatabaseUrl stays.
    ok(&search.secret(
        &["--file-store", "unset", "--type", "prod", "SearchKey"],
        "",
    ));
    let out = search.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "deleted SearchKey\n{}synced production to OpenBao at {}: 0 created, 0 updated, 1 deleted, 1 unchanged, 1 not owned\n",
            theirs("DatabaseUrl", "billing"),
            bao.address
        )
    );
    assert_eq!(
        bao.kv_get("DatabaseUrl").unwrap()["type:production"],
        "billing-db"
    );

    // Neither writes the other's secrets, not even with `set`.
    let out = billing.secret(&["set", "--type", "dev", "SearchIndexUrl"], "mine\n");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secret/data/SearchIndexUrl is owned by `search` (custom metadata secrets-owner), not by this workspace (`billing`)"), "{}", out.stderr);
    let out = billing.secret(&["unset", "--type", "prod", "SearchIndexUrl"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    // A file-store value for another's secret stops sync before any write.
    ok(&billing.secret(
        &["--file-store", "set", "--type", "prod", "SearchIndexUrl"],
        "hijack\n",
    ));
    ok(&billing.secret(
        &["--file-store", "set", "--type", "prod", "Fresh"],
        "fresh\n",
    ));
    let out = billing.secret(&["sync", "--env", "prod"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secret/data/SearchIndexUrl is owned by `search`, another workspace; sync does not overwrite it, and nothing was written"), "{}", out.stderr);
    assert_eq!(bao.kv_get("Fresh"), None);
    assert_eq!(
        bao.kv_get("SearchIndexUrl").unwrap()["type:production"],
        "search-url"
    );

    // A workspace that names no owner and no prefix writes nothing.
    let nobody = workspace(&bao, "");
    for args in [
        &["set", "--type", "prod", "Other"][..],
        &["sync", "--env", "prod"],
    ] {
        let out = nobody.secret(args, "x\n");
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(
            out.stderr
                .contains("[backend] names no `owner` and no `prefix`"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("owner = \"<a name for this workspace>\""),
            "{}",
            out.stderr
        );
    }
    assert_eq!(
        bao.kv_get("DatabaseUrl").unwrap()["type:production"],
        "billing-db"
    );
}

// Regression test: a secret holding two values for one type was used silently (one was
// picked, exit 0, and `check-secrets` passed).
#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn two_values_for_one_type_are_an_error_in_every_reader_and_the_check() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "dup");
    ok(&ws.secret(&["set", "--type", "prod", "GitHubAPIToken"], "ghp\n"));
    let put = |path: &str, pairs: &[&str]| {
        let mut args = vec!["kv", "put", "-mount=secret", path];
        args.extend_from_slice(pairs);
        let out = bao.cli(&args, "");
        assert!(out.status.success(), "{out:?}");
    };
    put(
        "dup/DatabaseUrl",
        &[
            "type:production=first-db",
            "type:production,development=second-db",
        ],
    );
    let message = "secret/data/dup/DatabaseUrl holds two values for one type or environment: `type:production` and `type:production,development` both hold a value for production; no value of DatabaseUrl is used until one is removed";
    let help = "keep one of them: remove the other with `cargo xtask secret unset --type prod DatabaseUrl` or `cargo xtask secret unset --type prod,dev DatabaseUrl`";
    for args in [
        &["list"][..],
        &["run", "--env", "prod", "--", "true"],
        &["export", "--env", "dev", "--format", "dotenv"],
        &["reveal", "--env", "local", "DatabaseUrl"],
    ] {
        let out = ws.secret(args, "");
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(help), "{args:?}: {}", out.stderr);
        assert!(
            !out.all().contains("first-db") && !out.all().contains("second-db"),
            "{}",
            out.all()
        );
    }
    let out = ws.check(&["--env", "prod"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains(message), "{}", out.stderr);
    for env in ["prod", "local"] {
        let error = resolver(&ws, env, &[("VAULT_TOKEN", bao.token_var())])
            .resolve("DatabaseUrl")
            .unwrap_err();
        assert!(!error.is_transient(), "{error}");
        assert!(error.to_string().contains(message), "{error}");
    }
    // A write that leaves both is refused; `unset` of one of them (the help's first
    // command) keeps the other.
    let out = ws.secret(&["set", "--type", "local", "DatabaseUrl"], "three\n");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains(message), "{}", out.stderr);
    let out = ws.secret(&["unset", "--type", "prod", "DatabaseUrl"], "");
    ok(&out);
    let data = bao.kv_get("dup/DatabaseUrl").unwrap();
    assert_eq!(data.len(), 1, "{data:?}");
    assert_eq!(data["type:production,development"], "second-db");
    ok(&ws.secret(&["list"], ""));

    // Two spellings of one scope: a `set` of exactly that scope settles it.
    put("dup/Spelled", &["type:prod=x", "type:production=y"]);
    let out = ws.secret(&["export", "--env", "prod", "--format", "dotenv"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("`type:prod` and `type:production` both hold a value for production"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "`cargo xtask secret set --type prod Spelled` stores one value in their place"
        ),
        "{}",
        out.stderr
    );
    ok(&ws.secret(&["set", "--type", "prod", "Spelled"], "z\n"));
    let data = bao.kv_get("dup/Spelled").unwrap();
    assert_eq!(
        (data.len(), data["type:production"].as_str()),
        (1, Some("z"))
    );
    ok(&ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--allow-missing",
            "--format",
            "dotenv",
        ],
        "",
    ));
}

// Regression test: `sync` said "not written: A3" when A3's write timed out after the server
// had applied it.
#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn a_write_whose_answer_is_lost_is_read_back_before_anything_else() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "lost");
    for name in ["A1", "A2", "A3", "A4"] {
        ok(&ws.secret(
            &["--file-store", "set", "--type", "prod", name],
            &format!("{name}-value\n"),
        ));
    }
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    // A3's write reaches the server; its answer never comes back.
    let cut = Arc::new(AtomicBool::new(false));
    let once = Arc::clone(&cut);
    let gateway = scripted(Some(&bao.address), move |seen, _, _| {
        if seen.method == "POST"
            && seen.path == "/v1/secret/data/lost/A3"
            && !once.swap(true, Ordering::SeqCst)
        {
            Act::ForwardThenCut
        } else {
            Act::Forward
        }
    });
    openbao_support::write_config(&ws, &config.replace(&bao.address, &gateway.address));
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created A1\ncreated A2\ncreated A3\ncreated A4\nsynced production to OpenBao at {}: 4 created, 0 updated, 0 deleted, 0 unchanged\n",
            gateway.address
        )
    );
    assert_eq!(
        gateway.count(|seen| seen.method == "POST" && seen.path == "/v1/secret/data/lost/A3"),
        1,
        "read back, not written twice"
    );
    assert_eq!(
        bao.kv_get("lost/A3").unwrap()["type:production"],
        "A3-value"
    );
    assert_eq!(bao.owner("lost/A3").as_deref(), Some("lost"));

    // A5's answer is lost and the server is gone afterwards: not known, and said so.
    for name in ["A5", "A6"] {
        ok(&ws.secret(
            &["--file-store", "set", "--type", "prod", name],
            &format!("{name}-value\n"),
        ));
    }
    let gone = Arc::new(AtomicBool::new(false));
    let after = Arc::clone(&gone);
    let gateway = scripted(Some(&bao.address), move |seen, _, _| {
        if after.load(Ordering::SeqCst) {
            Act::Cut
        } else if seen.method == "POST" && seen.path == "/v1/secret/data/lost/A5" {
            after.store(true, Ordering::SeqCst);
            Act::ForwardThenCut
        } else {
            Act::Forward
        }
    });
    openbao_support::write_config(
        &ws,
        &config
            .replace(&bao.address, &gateway.address)
            .replace("timeout_seconds = 10", "timeout_seconds = 1"),
    );
    let out = ws.secret(&["sync", "--env", "prod"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("note: sync of production stopped at A5: 0 created, 0 updated, 0 deleted before it (listed above); whether A5 was written is not known (it is read first next time); not written: A6; running sync again finishes it"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("reading A5 back failed too"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("A5-value"), "{}", out.all());
    // It was: the next sync finds it, marks it as this workspace's and writes A6.
    openbao_support::write_config(&ws, &config);
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "claimed A5\ncreated A6\nsynced production to OpenBao at {}: 1 created, 0 updated, 0 deleted, 5 unchanged (1 claimed)\n",
            bao.address
        )
    );
    assert_eq!(bao.owner("lost/A5").as_deref(), Some("lost"));
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn parallel_sets_unsets_and_syncs_lose_no_exit_0_write() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "stress");
    let envs: String = (0..12)
        .map(|i| format!("w{i} = \"development\"\n"))
        .collect();
    edit_config(&ws, "[environments]\n", &format!("[environments]\n{envs}"));
    let mut lost = Vec::new();
    let mut conflicts = 0;
    for round in 0..4 {
        let name = format!("Race{round}");
        ok(&ws.secret(
            &["--file-store", "set", "--type", "prod", &name],
            &format!("prod-{round}\n"),
        ));
        ok(&ws.secret(&["set", "--env", "w11", &name], "to-unset\n"));
        // Ten sets of their own environments, one unset, two syncs writing production: all
        // on one KV secret at once.
        let mut children = Vec::new();
        for i in 0..10 {
            children.push(spawn_cli(
                &ws,
                &["set", "--env", &format!("w{i}"), &name],
                &format!("v{i}\n"),
            ));
        }
        children.push(spawn_cli(&ws, &["unset", "--env", "w11", &name], ""));
        children.push(spawn_cli(&ws, &["sync", "--env", "prod"], ""));
        children.push(spawn_cli(&ws, &["sync", "--env", "prod"], ""));
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let data = bao.kv_get(&format!("stress/{name}")).unwrap_or_default();
        for (i, out) in outputs.iter().enumerate() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                assert_eq!(out.status.code(), Some(1), "{i}: {stderr}");
                assert!(stderr.contains("changed by someone else"), "{i}: {stderr}");
                conflicts += 1;
                continue;
            }
            let (key, wanted) = match i {
                0..=9 => (format!("env:w{i}"), Some(format!("v{i}"))),
                10 => ("env:w11".to_owned(), None),
                _ => ("type:production".to_owned(), Some(format!("prod-{round}"))),
            };
            let now = data.get(&key).and_then(|v| v.as_str()).map(str::to_owned);
            if now != wanted {
                lost.push(format!(
                    "round {round}: {key} of {name} is {now:?}, not {wanted:?}"
                ));
            }
        }
        // Whatever lost its race, the next sync converges.
        let out = ws.secret(&["sync", "--env", "prod"], "");
        ok(&out);
        let data = bao.kv_get(&format!("stress/{name}")).unwrap();
        assert_eq!(data["type:production"], format!("prod-{round}"));
        assert_eq!(
            bao.owner(&format!("stress/{name}")).as_deref(),
            Some("stress")
        );
    }
    assert!(lost.is_empty(), "exit-0 writes lost: {lost:?}");
    eprintln!("{conflicts} conflicts reported");
}

#[test]
#[ignore = "needs the OpenBao `bao` binary (scripts/openbao.sh); run with -- --include-ignored"]
fn a_sync_killed_midway_converges_on_the_next_one() {
    let Some(bao) = openbao_support::start() else {
        return;
    };
    let ws = workspace(&bao, "killed");
    let names: Vec<String> = (0..8).map(|i| format!("K{i}")).collect();
    for name in &names {
        ok(&ws.secret(
            &["--file-store", "set", "--type", "prod", name],
            &format!("{name}-value\n"),
        ));
    }
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    // Every write held back a quarter of a second, so the kill lands between two.
    let slow = scripted(Some(&bao.address), |seen, _, _| {
        if seen.method == "POST" {
            std::thread::sleep(Duration::from_millis(250));
        }
        Act::Forward
    });
    openbao_support::write_config(&ws, &config.replace(&bao.address, &slow.address));
    let mut child = spawn_cli(&ws, &["sync", "--env", "prod"], "");
    let deadline = Instant::now() + Duration::from_secs(120);
    while slow.count(|seen| seen.method == "POST") < 5 {
        assert!(
            Instant::now() < deadline,
            "sync made no progress: {:?}",
            slow.seen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let written = names
        .iter()
        .filter(|name| bao.kv_get(&format!("killed/{name}")).is_some())
        .count();
    assert!(written < names.len(), "killed before the end: {written}");

    openbao_support::write_config(&ws, &config);
    let out = ws.secret(&["sync", "--env", "prod"], "");
    ok(&out);
    for name in &names {
        assert_eq!(
            bao.kv_get(&format!("killed/{name}")).unwrap()["type:production"],
            format!("{name}-value")
        );
        assert_eq!(
            bao.owner(&format!("killed/{name}")).as_deref(),
            Some("killed"),
            "{name}"
        );
    }
    let out = ws.secret(&["sync", "--env", "prod"], "");
    assert!(
        out.stdout
            .ends_with("0 created, 0 updated, 0 deleted, 8 unchanged\n"),
        "{}",
        out.stdout
    );
}
