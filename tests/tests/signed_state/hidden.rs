//! Attack 7: a writer (or a modified tool) adds an age stanza for a key that is not among
//! the value's signed recipients.

use super::*;

/// A production value validly signed by its writer whose age header holds a stanza for a
/// development key besides the one signed recipient is refused by every reader (the key it
/// hides could read it) and reported without a key as a hidden recipient; setting the value
/// again encrypts it to exactly its recipients.
#[test]
fn hidden_reader_stanza() {
    let team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &team.ws;
    let armor = store_support::age_encrypt(&[&ops.key.public, &dev.key.public], "hidden-value");
    let hidden = Forged {
        name: "Token",
        scope: "type:production",
        recipients: &[&ops.key.public],
        armor: &armor,
        written: "2026-01-02T03:04:05Z",
    }
    .table_v3(ops, &repository_id(ws.root()), 2);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), PROD, Some(&hidden)),
    )
    .unwrap();
    commit(ws, "rotate");
    // The development key really can read it.
    let text = std::fs::read_to_string(&dev.key.file).unwrap();
    let identity: age::x25519::Identity = text
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .parse()
        .unwrap();
    let mut binary = Vec::new();
    std::io::Read::read_to_end(
        &mut age::armor::ArmoredReader::new(armor.as_bytes()),
        &mut binary,
    )
    .unwrap();
    assert_eq!(age::decrypt(&identity, &binary).unwrap(), b"hidden-value");

    every_reader_refuses(
        ws,
        "prod",
        "Token",
        &[
            "has an age header with 2 X25519 stanzas for 1 signed recipient",
            "it may be readable by keys nobody listed",
        ],
        "hidden-value",
    );
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::HiddenRecipient,
        &["`Token` (type:production) has an age header with 2 X25519 stanzas"],
    );

    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-3"));
    commit(ws, "set again");
    every_reader_serves(ws, "prod", "Token", "prod-3");
    assert!(!check(ws, &["prod"], None).has_errors());
}
