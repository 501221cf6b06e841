//! Broken inputs: a malformed `secrets.toml`, a malformed store, an unknown store version
//! and an unreadable identity each exit 2 naming the file and line, and leave the store as
//! it was.

use crate::store_support;

use crate::store_support::{Ws, ok};

fn setup() -> (Ws, store_support::Key) {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config("", &format!("local = [\"{}\"]", key.public));
    ok(&ws.secret(&["set", "--type", "local", "Token"], "value-in-store"));
    (ws, key)
}

#[test]
fn malformed_secrets_toml_exits_2_with_file_and_line() {
    let (ws, _) = setup();
    let before = ws.store_bytes();
    ws.write(
        "secrets.toml",
        "[environments]\nstaging = \"development\"\n\n[enviroments]\nx = \"dev\"\n",
    );
    for args in [
        &["set", "--type", "local", "Token"][..],
        &["list"][..],
        &["reveal", "--env", "local", "Token"][..],
    ] {
        let out = ws.secret(args, "new-value");
        assert_eq!(out.code, 2, "{args:?}: {}", out.all());
        assert!(
            out.stderr
                .contains("secrets.toml:4: unknown key `enviroments`"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("help: did you mean `environments`?"),
            "{}",
            out.stderr
        );
        assert_eq!(ws.store_bytes(), before);
    }
}

#[test]
fn malformed_store_exits_2_with_file_and_line() {
    let (ws, _) = setup();
    let mut text = String::from_utf8(ws.store_bytes()).unwrap();
    text.push_str("\n[Other.\"type:nowhere\"]\nrecipients = []\nvalue = \"\"\n");
    std::fs::write(ws.store_path(), &text).unwrap();
    let line = text
        .lines()
        .position(|line| line.starts_with("[Other"))
        .unwrap()
        + 1;
    for args in [&["set", "--type", "local", "Fresh"][..], &["list"][..]] {
        let out = ws.secret(args, "new-value");
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr.contains(&format!(
                "secrets.enc.toml:{line}: `type:nowhere` is not a scope"
            )),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(ws.store_path()).unwrap(), text);
    }
    // Not TOML at all.
    let broken = text.replacen("value = \"\"\"", "value = \"\"\"\"\"\" x", 1);
    std::fs::write(ws.store_path(), &broken).unwrap();
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secrets.enc.toml:"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(ws.store_path()).unwrap(), broken);
}

#[test]
fn unknown_store_version_asks_to_upgrade() {
    let (ws, _) = setup();
    let text =
        String::from_utf8(ws.store_bytes())
            .unwrap()
            .replacen("version = 3", "version = 4", 1);
    std::fs::write(ws.store_path(), &text).unwrap();
    let out = ws.secret(&["set", "--type", "local", "Fresh"], "new-value");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "secrets.enc.toml:2: unsupported store format version 4; this tool reads versions 1 to 3"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: the file was written by a newer version"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(ws.store_path()).unwrap(), text);
}

#[test]
fn unreadable_identity_exits_2_with_file_and_line() {
    let (mut ws, _) = setup();
    let before = ws.store_bytes();
    let bad = ws.home.path().join("bad-identity.txt");
    // Built from parts so no committed line looks like a private key.
    let broken_key = format!("{}{}", "AGE-SECRET-KEY-", "1NOTVALID");
    std::fs::write(&bad, format!("# my key\n\n{broken_key}\n")).unwrap();
    ws.vars
        .insert("SECRETS_IDENTITY".into(), bad.as_os_str().to_owned());
    for args in [
        &["reveal", "--env", "local", "Token"][..],
        &["rekey", "--all", "--yes"][..],
    ] {
        let out = ws.secret(args, "");
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr.contains(&format!(
                "{}:3: this line is not a valid age identity",
                bad.display()
            )),
            "{}",
            out.stderr
        );
        assert!(!out.all().contains("NOTVALID"), "{}", out.all());
        assert_eq!(ws.store_bytes(), before);
    }
    // A missing file named by SECRETS_IDENTITY is an error too, not "no identity".
    ws.vars.insert(
        "SECRETS_IDENTITY".into(),
        ws.home.path().join("missing.txt").into(),
    );
    let out = ws.secret(&["reveal", "--env", "local", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("missing.txt: cannot read the identity file"),
        "{}",
        out.stderr
    );
    // SECRETS_IDENTITY_KEY with a bad key names the variable.
    ws.vars.remove("SECRETS_IDENTITY");
    ws.vars
        .insert("SECRETS_IDENTITY_KEY".into(), "garbage".into());
    let out = ws.secret(&["reveal", "--env", "local", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("SECRETS_IDENTITY_KEY:1: this line is not an age identity"),
        "{}",
        out.stderr
    );
}
