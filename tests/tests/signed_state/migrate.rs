//! Attack 3: laundering values through `migrate` in a store of format 2 (from before signed
//! access rules).

use super::*;

/// `migrate` re-signs only format-2 values whose signature verifies by an allowed writer,
/// signs a format-1 (unsigned) value only when accepted by name after showing who committed
/// it, and never signs a forged or self-signed one; before and after migrating, no message
/// about a forged or not-allowed value suggests `migrate`, and every reader refuses them.
/// Regression: once the store was migrated, a forged or self-signed format-2 value was
/// reported as "signed in store format 2", with `migrate` as the help.
#[test]
fn laundering_through_migrate() {
    let mut ws = Ws::new();
    let ops = Forger::new(&ws, "ops");
    let dev = Forger::new(&ws, "dev");
    ws.write("secrets.toml", &team_config(&ops.key, &dev.key, ""));
    let encrypt = |text: &str| store_support::age_encrypt(&[&ops.key.public], text);
    let recipients = [ops.key.public.as_str()];
    let table = |name: &str, armor: &str, by: Option<&Forger>| {
        Forged {
            name,
            scope: "type:production",
            recipients: &recipients,
            armor,
            written: "2025-06-01T10:00:00Z",
        }
        .table_v2(by)
    };
    let legit = encrypt("legit-value");
    // Signed by ops over one ciphertext, stored with another.
    let signed_for = encrypt("what-ops-signed");
    let forged = table("Forged", &signed_for, Some(&ops))
        .replace(signed_for.trim_end(), encrypt("attacker-forged").trim_end());
    let self_signed = encrypt("attacker-self-signed");
    // Store format 1: no signature, the value behind a binding header.
    let unsigned = encrypt(&format!(
        "secret-store v1\nUnsigned\ntype:production\n{}\nunsigned-value",
        ops.key.public
    ));
    ws.write(
        "secrets.enc.toml",
        &format!(
            "# Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.\nversion = 2\n\n{forged}\n{}\n{}\n{}",
            table("Legit", &legit, Some(&ops)),
            table("SelfSigned", &self_signed, Some(&dev)),
            table("Unsigned", &unsigned, None),
        ),
    );
    git_ok(ws.root(), &["init", "-q", "-b", "main"]);
    git_ok(ws.root(), &["add", "-A"]);
    git_ok(
        ws.root(),
        &[
            "commit",
            "-q",
            "-m",
            "values",
            "--author",
            "Mallory <mallory@example.invalid>",
        ],
    );
    ws.use_key(&ops.key);

    let refused = |ws: &Ws, stage: &str| {
        for (name, why) in [
            (
                "Forged",
                format!(
                    "claims to be written by {}, but its signature does not verify",
                    ops.key.public
                ),
            ),
            (
                "SelfSigned",
                format!(
                    "was written by {}, who may not write production",
                    dev.key.public
                ),
            ),
        ] {
            every_reader_refuses_among_others(ws, "prod", name, &[&why], "attacker-");
            for read in read_all(ws, "prod", name) {
                assert!(
                    !read.said.contains("migrate"),
                    "{stage}: {} suggests migrate for {name}: {}",
                    read.reader,
                    read.said
                );
            }
        }
        let report = check(ws, &["prod"], None);
        for (code, name) in [
            (Code::ForgedValue, "Forged"),
            (Code::UnauthorizedWriter, "SelfSigned"),
        ] {
            let found = report
                .diagnostics
                .iter()
                .find(|d| d.code == code && d.secret.as_deref() == Some(name))
                .unwrap_or_else(|| {
                    panic!("{stage}: no {code:?} for {name}: {:#?}", findings(&report))
                });
            assert_eq!(found.severity, Severity::Error);
            assert!(
                !found.help.as_deref().unwrap_or("").contains("migrate"),
                "{stage}: {found:?}"
            );
        }
        assert!(
            !report
                .diagnostics
                .iter()
                .any(|d| d.code == Code::LegacyValue
                    && matches!(d.secret.as_deref(), Some("Forged" | "SelfSigned"))),
            "{stage}: {:#?}",
            findings(&report)
        );
    };
    refused(&ws, "before migrating");

    let out = ws.secret(&["migrate", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout.contains(&format!(
            "Legit (type:production): signed by {} in store format 2; signed again as is",
            ops.key.public
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Unsigned (type:production): unsigned (store format 1), last changed by Mallory on "
        ) && out.stdout.contains(
            "not signed: if it came from your team, `cargo xtask secret migrate --accept Unsigned@type:production`"
        ),
        "{}",
        out.stdout
    );
    for name in ["Forged", "SelfSigned"] {
        assert!(
            out.stderr.contains(&format!(
                "warning: {name} (type:production) is not migrated: it "
            )),
            "{}",
            out.stderr
        );
        assert!(
            !out.stdout.contains(&format!("signed {name}")),
            "{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("signed Unsigned"), "{}", out.stdout);
    readers_of_one_value_serve(&ws, "prod", "Legit", "legit-value");
    refused(&ws, "after migrating");
    every_reader_refuses_among_others(
        &ws,
        "prod",
        "Unsigned",
        &["is not signed"],
        "unsigned-value",
    );

    // Running it again changes nothing for them; accepting the unsigned one by name signs it.
    let out = ws.secret(&["migrate"], "");
    ok(&out);
    refused(&ws, "after migrating twice");
    let out = ws.secret(&["migrate", "--accept", "Unsigned@type:production"], "");
    ok(&out);
    assert!(
        out.stdout.contains(&format!(
            "signed Unsigned for production as {} (it was unsigned)",
            ops.key.public
        )),
        "{}",
        out.stdout
    );
    readers_of_one_value_serve(&ws, "prod", "Unsigned", "unsigned-value");
    refused(&ws, "after accepting another value");
}
