//! `secrets.toml` and environment names, checked when the configuration is read: recipients
//! that are not age keys, empty recipient lists, names that shadow a type, and names matched
//! by a pattern. Each is refused before any prompt, naming the file and line, and the store
//! is left as it was.

use crate::store_support;

use crate::store_support::{Ws, ok};
use secret_core::{EnvType, Scope, Store};

fn setup() -> (Ws, store_support::Key) {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "\"pr-*\" = \"preview\"",
        &format!("local = [\"{}\"]\npreview = [\"{0}\"]", key.public),
    );
    ok(&ws.secret(&["set", "--type", "local", "Token"], "value-in-store"));
    (ws, key)
}

/// Regression: `age1notakey` passed `list` and the check; `set` failed only after reading
/// the value. A typo in a real key (one changed character) was accepted too.
#[test]
fn a_recipient_that_is_not_an_age_key_is_refused_before_the_prompt() {
    let (ws, key) = setup();
    let before = ws.store_bytes();
    let mut typo = key.public.clone().into_bytes();
    typo[20] = if typo[20] == b'q' { b'p' } else { b'q' };
    let typo = String::from_utf8(typo).unwrap();
    for (bad, reason) in [
        ("age1notakey", "an age public key is 62 characters long"),
        (typo.as_str(), "its checksum does not match"),
        ("ssh-ed25519 AAAAC3Nza", "SSH keys are not supported"),
    ] {
        ws.config("", &format!("local = [\"{}\", \"{bad}\"]", key.public));
        for args in [&["set", "--type", "local", "Other"][..], &["list"][..]] {
            let out = ws.secret(args, "the-value");
            assert_eq!(out.code, 2, "{args:?}: {}", out.all());
            assert!(
                out.stderr.contains(&format!(
                    "secrets.toml:4: `{bad}` is not an age recipient: {reason}"
                )),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr
                    .contains("help: a recipient is an age X25519 public key")
            );
            assert_eq!(ws.store_bytes(), before);
        }
    }
}

/// Regression: `recipients = []` was accepted and only failed at `set`, after the prompt.
#[test]
fn an_empty_recipient_list_is_refused() {
    let (ws, _) = setup();
    ws.config("", "production = []");
    let out = ws.secret(&["list"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "secrets.toml:4: the recipients of `production` are an empty list, so nobody could read its values"
        ),
        "{}",
        out.stderr
    );
}

/// Regression: `"pr*" = "preview"` turned `--env prod` into a preview environment, and
/// `production = "local"` was accepted.
#[test]
fn environment_names_that_shadow_a_type_are_refused() {
    let (ws, key) = setup();
    for (environments, message) in [
        (
            "\"pr*\" = \"preview\"",
            "the pattern `pr*` matches the environment type `production`",
        ),
        (
            "production = \"local\"",
            "`production` is the name of an environment type",
        ),
        (
            "dev = \"production\"",
            "`dev` is the name of an environment type",
        ),
        (
            "\"*\" = \"local\"",
            "the pattern `*` matches the environment type `production`",
        ),
    ] {
        ws.config(environments, &format!("local = [\"{}\"]", key.public));
        let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
        assert_eq!(out.code, 2, "{environments}: {}", out.all());
        assert!(
            out.stderr.contains(&format!("secrets.toml:2: {message}")),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("always mean the type"),
            "{}",
            out.stderr
        );
    }
}

/// Regression: `set --env 'pr-1"x'` (matched by `pr-*`) wrote an unescaped scope that broke
/// the store for every later command; a newline injected whole tables.
#[test]
fn a_name_matched_by_a_pattern_follows_the_name_rule() {
    let (ws, _) = setup();
    let before = ws.store_bytes();
    for name in ["pr-1\"x", "pr-1\n[Injected.\"type:local\"]", "pr-1 x"] {
        let out = ws.secret(&["set", "--env", name, "Token"], "the-value");
        assert_eq!(out.code, 2, "{name:?}: {}", out.all());
        assert!(
            out.stderr
                .contains("is not a valid environment name (it matches the pattern `pr-*`)"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("pr-1\n"),
            "control characters are escaped"
        );
        assert_eq!(ws.store_bytes(), before);
    }
    ok(&ws.secret(&["set", "--env", "pr-12", "Token"], "the-value"));
    ok(&ws.secret(&["list"], ""));
}

/// Scope keys are escaped when the store is rendered: whatever a scope holds, the file
/// parses back to the same scopes.
#[test]
fn scope_keys_are_escaped_when_rendered() {
    let ws = Ws::new();
    let key = ws.key("me");
    let hostile = Scope::Envs(["pr-1\"x\n[Injected]\\".to_owned()].into());
    let plain = Scope::Types([EnvType::Local].into());
    // A store as someone with push access could commit it (values are only signed for
    // scopes secrets.toml declares, so this one is written by hand).
    let armor = store_support::age_encrypt(&[&key.public], "v");
    let table = |scope: &Scope| {
        let key_text: String = scope
            .key()
            .chars()
            .flat_map(|ch| match ch {
                '"' => vec!['\\', '"'],
                '\\' => vec!['\\', '\\'],
                '\n' => "\\n".chars().collect(),
                ch => vec![ch],
            })
            .collect();
        format!(
            "\n[Token.\"{key_text}\"]\nrecipients = [\n    \"{}\",\n]\nvalue = \"\"\"\n{}\n\"\"\"\n",
            key.public,
            armor.trim_end()
        )
    };
    let written = format!("version = 2\n{}{}", table(&hostile), table(&plain));
    let store = Store::parse(&ws.store_path(), &written).unwrap();
    let text = store.render();
    let parsed = Store::parse(&ws.store_path(), &text).unwrap();
    assert!(parsed.get("Token", &hostile).is_some(), "{text}");
    assert!(parsed.get("Token", &plain).is_some());
    assert_eq!(parsed.render(), text);
}
