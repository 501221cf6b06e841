//! Attack 8 and the team's everyday flows: a removed `[writers]`-only CI key and a reader
//! who leaves, whose values must become due for rotation; a reader who joins.

use super::*;

/// `secrets.toml` with these production readers and writers; carol reads development.
fn config(readers: &[&Key], writers: &[&Key], carol: &Key, ops: &Key) -> String {
    let list = |keys: &[&Key]| {
        keys.iter()
            .map(|key| format!("\"{}\"", key.public))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[recipients]\nproduction = [{}]\ndevelopment = [\"{}\", \"{}\"]\n\n[writers]\nproduction = [{}]\n",
        list(readers),
        carol.public,
        ops.public,
        list(writers)
    )
}

/// Removing a `[writers]`-only CI key and then a reader who wrote a value: `rekey` lists
/// who loses access and what it re-signs before writing anything, then re-signs the values
/// they wrote (the removed writer recorded as knowing them), so the keyless check reports
/// them as due for rotation; the removed keys can no longer write, a new value ends the
/// rotation, and a development reader who joins production is called out and then reads.
#[test]
fn leaving_reader_and_writers_only_ci_key() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let bob = ws.key("bob");
    let ci = ws.key("ci");
    let carol = ws.key("carol");
    ws.write(
        "secrets.toml",
        &config(&[&ops, &bob], &[&ops, &bob, &ci], &carol, &ops),
    );
    ws.use_key(&bob);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "bob-wrote-it"));
    ws.use_key(&ci);
    ok(&ws.secret(&["set", "--type", "prod", "CiToken"], "ci-wrote-it"));
    repository(&mut ws);

    // The CI key is removed from [writers].
    ws.write(
        "secrets.toml",
        &config(&[&ops, &bob], &[&ops, &bob], &carol, &ops),
    );
    ws.use_key(&ops);
    let before = ws.store_bytes();
    let out = ws.secret(&["rekey"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    for line in [
        format!(
            "changes to the access rules, to sign:\n  - writer production {}\n",
            ci.public
        ),
        format!(
            "who gains and who loses access:\n  {} loses write access to production\n",
            ci.public
        ),
        format!(
            "values whose writer may no longer write them, to sign again as yours and mark due for rotation:\n  CiToken (type:production), written by {}\n",
            ci.public
        ),
    ] {
        assert!(out.stdout.contains(&line), "{line}\nnot in\n{}", out.stdout);
    }
    assert_eq!(ws.store_bytes(), before, "nothing written without --yes");
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout.contains(&format!(
            "signed version 2 of the access rules as {}",
            ops.public
        )) && out.stdout.contains(&format!(
            "signed CiToken for production again (its writer {} may no longer write it); rotation due: set a new value with `cargo xtask secret set --type prod CiToken`",
            ci.public
        )),
        "{}",
        out.stdout
    );
    commit(&ws, "remove the CI key");
    let report = check(&ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Warning,
        Code::RotationDue,
        &["`CiToken`", &ci.public],
    );
    assert!(!report.has_errors(), "{}", findings(&report).join("\n"));
    every_reader_serves(&ws, "prod", "CiToken", "ci-wrote-it");
    ws.use_key(&ci);
    let out = ws.secret(&["set", "--type", "prod", "CiToken"], "ci-again");
    assert_eq!(out.code, 1, "{}", out.all());

    // Bob leaves.
    ws.write("secrets.toml", &config(&[&ops], &[&ops], &carol, &ops));
    ws.use_key(&ops);
    let out = ws.secret(&["rekey"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    for line in [
        format!("  - recipient production {}\n", bob.public),
        format!("  - writer production {}\n", bob.public),
        format!(
            "  {} loses read access and loses write access to production: values it could read become due for rotation\n",
            bob.public
        ),
        "values to re-encrypt to their recipients:\n  CiToken (type:production) to 1 recipient\n  Token (type:production) to 1 recipient\n".to_owned(),
        format!("  Token (type:production), written by {}\n", bob.public),
    ] {
        assert!(out.stdout.contains(&line), "{line}\nnot in\n{}", out.stdout);
    }
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout
            .contains("re-encrypted Token for production to 1 recipient\n  rotation due: ")
            && out
                .stdout
                .contains(&format!("rotation due: {} could read it until", bob.public)),
        "{}",
        out.stdout
    );
    commit(&ws, "bob leaves");
    let report = check(&ws, &["prod"], None);
    for name in ["`Token`", "`CiToken`"] {
        assert_has(
            &report,
            Severity::Warning,
            Code::RotationDue,
            &[name, &bob.public],
        );
    }
    assert!(!report.has_errors(), "{}", findings(&report).join("\n"));
    every_reader_serves(&ws, "prod", "Token", "bob-wrote-it");
    ws.use_key(&bob);
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    let out = ws.secret(&["set", "--type", "prod", "Token"], "bob-again");
    assert_eq!(out.code, 1, "{}", out.all());

    // Rotating ends the rotation due.
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "rotated"));
    commit(&ws, "rotate");
    let report = check(&ws, &["prod"], None);
    assert!(
        !has(&report, Severity::Warning, Code::RotationDue, &["`Token`"]),
        "{}",
        findings(&report).join("\n")
    );

    // Carol, a development reader, joins production.
    ws.write(
        "secrets.toml",
        &config(&[&ops, &carol], &[&ops], &carol, &ops),
    );
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout.contains(&format!(
            "  {} gains read access to production (a key that could read only other types so far becomes a production reader)\n",
            carol.public
        )),
        "{}",
        out.stdout
    );
    commit(&ws, "carol joins");
    ws.use_key(&carol);
    every_reader_serves(&ws, "prod", "Token", "rotated");
}
