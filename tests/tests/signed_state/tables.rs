//! Attack 4: which tables exist and how environments map to types, changed without a
//! signature: an environment's table deleted, an environment repointed or a pattern added in
//! `secrets.toml`.

use super::*;

/// Deleting the `env:prod-eu` table (so that prod-eu would fall back to the
/// `type:production` value) is refused by every reader for prod-eu and reported as a
/// vanished value; the other production environments are unaffected, and a signed removal
/// (`unset`, after restoring the table) is the legitimate way to do it.
#[test]
fn deleted_environment_table_vanishes_instead_of_falling_back() {
    let team = Team::new();
    let ws = &team.ws;
    ok(&ws.secret(&["set", "--env", "prod-eu", "Token"], "prod-eu-1"));
    commit(ws, "an EU token");
    every_reader_serves(ws, "prod-eu", "Token", "prod-eu-1");

    let eu = "[Token.\"env:prod-eu\"]";
    std::fs::write(ws.store_path(), with_table(&store_text(ws), eu, None)).unwrap();
    commit(ws, "tidy the store");
    every_reader_refuses(
        ws,
        "prod-eu",
        "Token",
        &[
            "env:prod-eu (version 1, already trusted) is gone from the store without a signed removal",
        ],
        "prod-1",
    );
    every_reader_serves(ws, "prod", "Token", "prod-1");
    let report = check(ws, &["prod-eu"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::VanishedValue,
        &[
            "`Token` (env:prod-eu), version 1 in this store's history, is gone without a signed removal",
        ],
    );
    let fresh = clone(ws);
    assert_has(
        &check(&fresh, &["prod-eu"], None),
        Severity::Error,
        Code::VanishedValue,
        &["`Token` (env:prod-eu)"],
    );

    // The help's way: restore it from history, then remove it with a signed removal.
    git_ok(ws.root(), &["checkout", "HEAD~1", "--", "secrets.enc.toml"]);
    ok(&ws.secret(&["unset", "--env", "prod-eu", "Token"], ""));
    commit(ws, "prod-eu uses the production token");
    every_reader_serves(ws, "prod-eu", "Token", "prod-1");
    assert!(!check(ws, &["prod-eu"], None).has_errors());
    git_ok(fresh.root(), &["pull", "-q", "--ff-only"]);
    assert!(!check(&fresh, &["prod-eu"], None).has_errors());
}

/// Repointing a production environment to development, or adding a pattern that captures
/// it, in secrets.toml without a signature changes nothing a reader delivers (prod-eu keeps
/// the production value, never the development one) and is reported as an unsigned change
/// to the rules; once a production writer signs a pattern, it applies. Regression: every
/// reader resolved the environment by secrets.toml as written and served the development
/// value.
#[test]
fn repointed_environment_or_added_pattern_is_not_effective() {
    let team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = team.ws;
    let signed = team_config(&ops.key, &dev.key, "");

    // Repointed.
    ws.write(
        "secrets.toml",
        &signed.replace("prod-eu = \"production\"", "prod-eu = \"development\""),
    );
    commit(&ws, "prod-eu is development");
    every_reader_serves(&ws, "prod-eu", "Token", "prod-1");
    let report = check(&ws, &["prod-eu"], None);
    assert_has(&report, Severity::Error, Code::UnsignedRules, &[]);
    let notes = &report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::UnsignedRules)
        .unwrap()
        .notes;
    assert!(
        notes.contains(&"unsigned: - environment prod-eu production".to_owned())
            && notes.contains(&"unsigned: + environment prod-eu development".to_owned()),
        "{notes:?}"
    );

    // A production pattern, signed by ops.
    ws.write(
        "secrets.toml",
        &signed.replace(
            "prod-eu = \"production\"",
            "prod-eu = \"production\"\n\"eu-*\" = \"production\"",
        ),
    );
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout.contains("+ environment eu-* production"),
        "{}",
        out.stdout
    );
    commit(&ws, "EU environments");
    every_reader_serves(&ws, "eu-west", "Token", "prod-1");

    // A more specific pattern of type development, unsigned.
    ws.write(
        "secrets.toml",
        &signed.replace(
            "prod-eu = \"production\"",
            "prod-eu = \"production\"\n\"eu-*\" = \"production\"\n\"eu-w*\" = \"development\"",
        ),
    );
    commit(&ws, "west is development");
    every_reader_serves(&ws, "eu-west", "Token", "prod-1");
    assert_has(
        &check(&ws, &["eu-west"], None),
        Severity::Error,
        Code::UnsignedRules,
        &[],
    );
}

/// Replacing the `env:prod-eu` table by a removal nobody allowed signed (a made-up
/// signature, or one by a development key) does not pass for a signed removal: every reader
/// still refuses prod-eu instead of falling back to the production value, and the check
/// reports it. Regression: any removal table with a high enough version was taken as
/// signed.
#[test]
fn forged_removal_of_an_environment_table() {
    let team = Team::new();
    let ws = &team.ws;
    ok(&ws.secret(&["set", "--env", "prod-eu", "Token"], "prod-eu-1"));
    commit(ws, "an EU token");
    let eu = "[Token.\"env:prod-eu\"]";
    let repository = repository_id(ws.root());
    let written = "2026-01-02T03:04:05Z";
    let removal = |by: &Forger, signature: Option<&str>| {
        let message = format!(
            "secrets.enc.toml value signature v3\nrepository {repository}\nname Token\nscope env:prod-eu\nversion 2\nremoved\nwriter {}\nwritten {written}\n",
            by.key.public
        );
        format!(
            "{eu}\nversion = 2\nremoved = true\nwriter = \"{}\"\nwritten = \"{written}\"\nsignature = \"{}\"\n",
            by.key.public,
            signature.map_or_else(|| by.sign(&message), str::to_owned)
        )
    };
    let made_up = "A".repeat(86) + "==";
    for forged in [removal(&team.ops, Some(&made_up)), removal(&team.dev, None)] {
        std::fs::write(
            ws.store_path(),
            with_table(&store_at(ws, "HEAD"), eu, Some(&forged)),
        )
        .unwrap();
        every_reader_refuses(
            ws,
            "prod-eu",
            "Token",
            &[
                "env:prod-eu (version 1, already trusted) is gone from the store without a signed removal",
            ],
            "prod-1",
        );
        assert_has(
            &check(ws, &["prod-eu"], None),
            Severity::Error,
            Code::VanishedValue,
            &["`Token` (env:prod-eu)"],
        );
    }
    // The removal ops signs with the tool is accepted.
    git_ok(ws.root(), &["checkout", "--", "secrets.enc.toml"]);
    ok(&ws.secret(&["unset", "--env", "prod-eu", "Token"], ""));
    every_reader_serves(ws, "prod-eu", "Token", "prod-1");
}

/// A development writer may declare environments of type development, but not one that
/// takes a name a production pattern resolves (a more specific pattern, or the name itself
/// declared): signing that needs a writer of what it takes over, so `rekey` by the
/// development key fails and eu-west keeps the production value, while a declaration that
/// takes nothing is theirs to sign. Regression: the development writer's `rekey` signed it,
/// and every reader then delivered the development value to eu-west.
#[test]
fn development_writer_signs_a_pattern_that_captures_a_production_environment() {
    let mut team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &mut team.ws;
    let signed = team_config(&ops.key, &dev.key, "");
    let with = |lines: &str| {
        signed.replace(
            "prod-eu = \"production\"",
            &format!("prod-eu = \"production\"\n{lines}"),
        )
    };
    ws.write("secrets.toml", &with("\"eu-*\" = \"production\""));
    ok(&ws.secret(&["rekey", "--yes"], ""));
    commit(ws, "EU environments");
    every_reader_serves(ws, "eu-west", "Token", "prod-1");

    for capture in ["\"eu-w*\" = \"development\"", "eu-west = \"development\""] {
        ws.write(
            "secrets.toml",
            &with(&format!("\"eu-*\" = \"production\"\n{capture}")),
        );
        ws.use_key(&dev.key);
        let before = ws.store_bytes();
        let out = ws.secret(&["rekey", "--yes"], "");
        assert_ne!(out.code, 0, "{capture}: {}", out.all());
        assert!(
            out.stderr
                .contains(&format!("only {} may sign it", ops.key.public)),
            "{capture}: {}",
            out.stderr
        );
        assert_eq!(ws.store_bytes(), before);
        ws.use_key(&ops.key);
        every_reader_serves(ws, "eu-west", "Token", "prod-1");
    }
    // A declaration that takes nothing from production is theirs to sign.
    ws.write(
        "secrets.toml",
        &with("\"eu-*\" = \"production\"\nqa = \"development\""),
    );
    ws.use_key(&dev.key);
    ok(&ws.secret(&["rekey", "--yes"], ""));
    ws.use_key(&ops.key);
    every_reader_serves(ws, "qa", "Token", "dev-1");
}
