//! What reaches the terminal: control characters from committed files (scope names,
//! recipients) are escaped in human output, every interpolated word of a `help:` command is
//! shell-quoted, and the identity-permission warning only suggests `chmod` on a regular file.

use crate::check_support;

use crate::store_support::{Ws, ok};
use secret_build::check::{Format, check, render};
use secret_core::{Scope, Store};

/// A scope name that runs `touch` when pasted unquoted, and clears the screen when printed
/// raw.
const HOSTILE_ENV: &str = "x $(touch pwned) #\u{1b}[2J";

/// Regression: a scope `env:x $(touch ...) #` in a committed store yielded a `help:` command
/// that ran `touch` when pasted, and its control characters reached the terminal raw.
#[test]
fn check_secrets_escapes_and_quotes_what_the_store_holds() {
    let ws = check_support::Workspace::new();
    // Committed by hand (values are only signed for scopes secrets.toml declares): the
    // scope key is written escaped, as TOML requires.
    let scope = Scope::Envs([HOSTILE_ENV.to_owned()].into());
    let key = scope.key().replace('\u{1b}', "\\u001B");
    ws.write(
        "secrets.enc.toml",
        &format!(
            "version = 2\n\n[Orphan.\"{key}\"]\nrecipients = [\n    \"{}\",\n]\nvalue = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n\"\"\"\n",
            ws.recipient
        ),
    );
    assert!(
        Store::load(ws.root())
            .unwrap()
            .get("Orphan", &scope)
            .is_some()
    );
    let report = check(ws.root(), &["local".to_owned()]).unwrap();
    let text = render(&report, ws.root(), Format::Human, false);
    assert!(
        text.contains("help: cargo xtask secret unset --env 'x $(touch pwned) #\\u{1b}[2J' Orphan"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

/// Regression: control characters in a recipient of the store reached the terminal raw in
/// `reveal`'s error, and in `list`.
#[test]
fn reveal_and_list_escape_control_characters() {
    let mut ws = Ws::new();
    let owner = ws.key("owner");
    let me = ws.key("me");
    ws.config("", &format!("local = [\"{}\"]", owner.public));
    ws.use_key(&owner);
    ok(&ws.secret(&["set", "--type", "local", "Token"], "the-value"));
    let text = String::from_utf8(ws.store_bytes()).unwrap();
    let hostile = text.replace(
        &format!("    \"{}\",\n", owner.public),
        &format!(
            "    \"{}\",\n    \"age1\\u001B]0;owned\\u0007\\u001B[2J\",\n",
            owner.public
        ),
    );
    assert_ne!(hostile, text);
    std::fs::write(ws.store_path(), &hostile).unwrap();
    ws.use_key(&me);
    for args in [&["reveal", "--env", "local", "Token"][..], &["list"][..]] {
        let out = ws.secret(args, "");
        assert!(!out.all().contains('\u{1b}'), "{args:?}: {:?}", out.all());
        assert!(!out.all().contains('\u{7}'), "{args:?}: {:?}", out.all());
    }
    // The store refuses a recipient that is not an age key, at its line, without echoing it.
    let out = ws.secret(&["reveal", "--env", "local", "Token"], "");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("a recipient should be an age public key (`age1...`)"),
        "{}",
        out.stderr
    );
}

/// Regression: the permission warning suggested `chmod 600` on `/dev/null` and on a folder;
/// a path with a space was not quoted.
#[test]
fn the_permission_warning_is_only_for_a_regular_file_and_quotes_it() {
    use std::os::unix::fs::PermissionsExt;
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.config("", &format!("local = [\"{}\"]", key.public));
    let folder = ws.home.path().join("a folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    for path in [std::path::Path::new("/dev/null"), folder.as_path()] {
        ws.vars
            .insert("SECRETS_IDENTITY".to_owned(), path.as_os_str().to_owned());
        let out = ws.secret(&["reveal", "--env", "local", "Token"], "");
        assert!(
            !out.stderr.contains("chmod"),
            "{}: {}",
            path.display(),
            out.stderr
        );
    }
    let spaced = ws.home.path().join("my key.txt");
    std::fs::copy(&key.file, &spaced).unwrap();
    std::fs::set_permissions(&spaced, std::fs::Permissions::from_mode(0o644)).unwrap();
    ws.vars
        .insert("SECRETS_IDENTITY".to_owned(), spaced.as_os_str().to_owned());
    let out = ws.secret(&["list"], "");
    assert!(
        out.stderr
            .contains(&format!("`chmod 600 '{}'`", spaced.display())),
        "{}",
        out.stderr
    );
}
