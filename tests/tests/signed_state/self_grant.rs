//! Attack 2: a development key holder grants themselves production access in
//! `secrets.toml` and writes a production value.

use super::*;

/// A key added to `[writers] production` by an unsigned change to secrets.toml writes
/// nothing readers accept: the tool refuses to sign, a value signed by a modified tool is
/// refused by every reader (naming the unsigned change) and reported with the change as
/// errors; `rekey` run by the attacker cannot sign the change, and run by a production
/// writer it shows the change and who gains access before signing anything.
#[test]
fn self_granted_production_writer_then_set() {
    let mut team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &mut team.ws;
    let writers = format!(
        "\n[writers]\nproduction = [\"{}\", \"{}\"]\n",
        ops.key.public, dev.key.public
    );
    ws.write("secrets.toml", &team_config(&ops.key, &dev.key, &writers));
    ws.use_key(&dev.key);
    let before = ws.store_bytes();
    let out = ws.secret(&["set", "--type", "prod", "Token"], "attacker-value");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "your key ({}) may not write production",
            dev.key.public
        )),
        "{}",
        out.stderr
    );
    // The help names the unsigned change, not a request to be added (the key is listed).
    assert!(
        out.stderr.contains("secrets.toml lists your key for production, but that change to the access rules is not signed yet"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.store_bytes(), before);

    // A modified tool signs it anyway, for this repository and the next version.
    let armor = store_support::age_encrypt(&[&ops.key.public], "attacker-value");
    let forged = Forged {
        name: "Token",
        scope: "type:production",
        recipients: &[&ops.key.public],
        armor: &armor,
        written: "2026-01-02T03:04:05Z",
    }
    .table_v3(dev, &repository_id(ws.root()), 2);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), PROD, Some(&forged)),
    )
    .unwrap();
    commit(ws, "grant and set");
    ws.use_key(&ops.key);
    every_reader_refuses(
        ws,
        "prod",
        "Token",
        &[&format!(
            "was written by {}, who may write it only by a change to secrets.toml that nobody allowed to has signed",
            dev.key.public
        )],
        "attacker-value",
    );
    let report = check(ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::UnauthorizedWriter,
        &[
            &dev.key.public,
            "(only an unsigned change to secrets.toml allows it)",
        ],
    );
    assert_has(&report, Severity::Error, Code::UnsignedRules, &[]);
    let unsigned = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::UnsignedRules)
        .unwrap();
    assert!(
        unsigned
            .notes
            .contains(&format!("unsigned: + writer production {}", dev.key.public)),
        "{:?}",
        unsigned.notes
    );

    // The attacker cannot sign the change.
    ws.use_key(&dev.key);
    let before = ws.store_bytes();
    let out = ws.secret(&["rekey", "--yes"], "");
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("cannot sign the change `+ writer production")
            && out
                .stderr
                .contains(&format!("only {} may sign it", ops.key.public)),
        "{}",
        out.stderr
    );
    assert_eq!(ws.store_bytes(), before);

    // A production writer sees the change and who gains access before signing.
    ws.use_key(&ops.key);
    let out = ws.secret(&["rekey"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stdout
            .contains("changes to the access rules, to sign:\n")
            && out
                .stdout
                .contains(&format!("  + writer production {}\n", dev.key.public)),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "{} gains write access to production",
            dev.key.public
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("confirm on a terminal, or pass --yes"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.store_bytes(), before);
}

/// A key added as a production reader by an unsigned change reads nothing: a new value is
/// encrypted to the signed recipients only, the check reports the change as an error (not a
/// missing recipient), and `rekey` calls out the development key becoming a production
/// reader before it signs.
#[test]
fn self_granted_production_recipient() {
    let mut team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &mut team.ws;
    let config = team_config(&ops.key, &dev.key, "").replace(
        &format!("production = [\"{}\"]", ops.key.public),
        &format!(
            "production = [\"{}\", \"{}\"]",
            ops.key.public, dev.key.public
        ),
    );
    ws.write("secrets.toml", &config);
    commit(ws, "add me");
    // The team's next rotation is not encrypted to the newcomer.
    let out = ws.secret(&["set", "--type", "prod", "Token"], "prod-2");
    ok(&out);
    assert!(
        out.stdout.contains("encrypted to 1 recipient"),
        "{}",
        out.stdout
    );
    commit(ws, "rotate");
    ws.use_key(&dev.key);
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.all().contains("prod-2"));
    let report = check(ws, &["prod"], None);
    assert_has(&report, Severity::Error, Code::UnsignedRules, &[]);
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::MissingRecipient),
        "{}",
        findings(&report).join("\n")
    );
    // The attacker cannot sign it; a production writer sees the promotion first.
    let out = ws.secret(&["rekey", "--yes"], "");
    assert_ne!(out.code, 0, "{}", out.all());
    ws.use_key(&ops.key);
    let out = ws.secret(&["rekey"], "");
    assert!(
        out.stdout.contains(&format!(
            "{} gains read access and gains write access to production (a key that could read only other types so far becomes a production reader)",
            dev.key.public
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "values to re-encrypt to their recipients:\n  Token (type:production) to 2 recipients"
        ),
        "{}",
        out.stdout
    );
}

/// A rules version that grants a development key production write access, signed by that
/// key with a modified tool (correctly chained to the version before), is refused: every
/// reader refuses every value naming the change and who may sign it, and the check reports
/// the rules as untrusted.
#[test]
fn self_signed_rules_version_granting_production() {
    use secret_core::rules::chain;
    let team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &team.ws;
    let state = secret_core::state::State::load(ws.root(), None).unwrap();
    let verified = state.rules().unwrap();
    let change = format!("+ writer production {}", dev.key.public);
    let signed = "2026-01-02T03:04:05Z";
    let message = chain::message(
        &verified.repository,
        2,
        Some(&verified.newest().digest),
        signed,
        std::slice::from_ref(&change),
    );
    let version = format!(
        "[_rules.2]\nsigned = \"{signed}\"\nsignatures = [\n    \"{} {}\",\n]\nchanges = \"\"\"\n{change}\n\"\"\"\n",
        dev.key.public,
        dev.sign(&message)
    );
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), "[_rules.2]", Some(&version)),
    )
    .unwrap();
    let writers = format!("\n[writers]\nproduction = [\"{}\"]\n", dev.key.public);
    ws.write("secrets.toml", &team_config(&ops.key, &dev.key, &writers));
    commit(ws, "rules");
    let why = format!(
        "version 2 of the access rules makes the change `{change}`, signed by {}, who may not make it; it needs a signature by one of {}",
        dev.key.public, ops.key.public
    );
    every_reader_refuses(ws, "prod", "Token", &[&why], "prod-1");
    assert_has(
        &check(&clone(ws), &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &[&why],
    );
}
