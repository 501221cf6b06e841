//! Who can read what, binding of ciphertexts to their slot, tampering, environment
//! precedence and concurrent writers, at the `secret_core` API level.

use crate::store_support::{Ws, ok};
use secret_core::secrecy::{ExposeSecret, SecretString};
use secret_core::{Config, EnvType, Environment, Error, Identities, Scope, Store, edit};

fn read(store: &Store, name: &str, env: &Environment, ids: &Identities) -> Result<String, Error> {
    let (scope, _) = store.lookup(name, env).expect("a value applies");
    let config = Config::load(store.path().parent().unwrap()).unwrap();
    secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot(name, scope, ids)
        .map(|value| value.expose_secret().to_owned())
}

#[test]
fn a_development_key_cannot_read_production() {
    let mut ws = Ws::new();
    let dev = ws.key("dev");
    let ops = ws.key("ops");
    ws.use_key(&ops);
    ws.config(
        "",
        &format!(
            "production = [\"{ops}\"]\ndevelopment = [\"{dev}\", \"{ops}\"]",
            ops = ops.public,
            dev = dev.public
        ),
    );
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-only"));
    ok(&ws.secret(&["set", "--type", "dev", "Token"], "dev-ok"));
    let store = Store::load(ws.root()).unwrap();
    let dev_ids = Identities::from_file(&dev.file).unwrap();
    let prod = Environment::of_type(EnvType::Production);
    let error = read(&store, "Token", &prod, &dev_ids).unwrap_err();
    assert!(matches!(error, Error::NoAccess(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("secrets.enc.toml:"), "{message}");
    assert!(
        message.contains("cannot decrypt Token (production)"),
        "{message}"
    );
    assert!(
        message.contains(&format!("it can be decrypted by {}", ops.public)),
        "{message}"
    );
    assert!(
        message.contains(&dev.public),
        "names the key that was tried: {message}"
    );
    assert!(message.contains("cargo xtask secret rekey"), "{message}");
    assert!(!message.contains("prod-only"));
    let development = Environment::of_type(EnvType::Development);
    assert_eq!(
        read(&store, "Token", &development, &dev_ids).unwrap(),
        "dev-ok"
    );

    // The same through the CLI: exit 1, the recipients are named.
    ws.use_key(&dev);
    let out = ws.run(&["reveal", "--env", "prod", "Token"], "", false, false);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains(&ops.public), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    // No identity at all: the message says how to get one.
    let none = Identities::from_vars(|_| None).unwrap();
    let message = read(&store, "Token", &prod, &none).unwrap_err().to_string();
    assert!(message.contains("no identity found"), "{message}");
}

#[test]
fn moved_ciphertexts_and_flipped_bytes_are_detected() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "",
        &format!("production = [\"{0}\"]\nlocal = [\"{0}\"]", key.public),
    );
    ok(&ws.secret(&["set", "--type", "prod", "Alpha"], "alpha-value"));
    ok(&ws.secret(&["set", "--type", "prod", "Beta"], "beta-value"));
    ok(&ws.secret(&["set", "--type", "local", "Beta"], "beta-local"));
    let ids = Identities::from_file(&key.file).unwrap();
    let text = String::from_utf8(ws.store_bytes()).unwrap();
    let value_of = |table: &str| {
        let start = text.find(table).unwrap();
        let body = &text[start..];
        let from = body.find("value = \"\"\"\n").unwrap() + 12;
        let to = body[from..].find("\"\"\"").unwrap();
        body[from..from + to].to_owned()
    };
    let alpha = value_of("[Alpha.\"type:production\"]");
    let beta = value_of("[Beta.\"type:production\"]");
    let beta_local = value_of("[Beta.\"type:local\"]");
    let prod = Scope::Types([EnvType::Production].into());

    let config = Config::load(ws.root()).unwrap();
    let forged = |message: &str, name: &str| {
        assert!(
            message.contains(&format!(
                "the value of {name} (type:production) claims to be written by {}, but its signature does not verify",
                key.public
            )),
            "{message}"
        );
    };

    // Alpha's ciphertext copied into Beta's slot: the signature binds it to Alpha.
    let swapped = text.replacen(&beta, &alpha, 1);
    let store = Store::parse(&ws.store_path(), &swapped).unwrap();
    let error = secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot("Beta", &prod, &ids)
        .unwrap_err();
    let message = error.to_string();
    forged(&message, "Beta");
    assert!(!message.contains("alpha-value"));
    // Beta's local ciphertext moved to its production slot.
    let moved = text.replacen(&beta, &beta_local, 1);
    let store = Store::parse(&ws.store_path(), &moved).unwrap();
    let message = secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot("Beta", &prod, &ids)
        .unwrap_err()
        .to_string();
    forged(&message, "Beta");

    // One base64 character changed in the payload: age's authentication fails.
    let lines: Vec<&str> = alpha.lines().collect();
    let line = lines[lines.len() - 2];
    let flipped_line: String = line
        .char_indices()
        .map(|(at, ch)| {
            if at == line.len() / 2 {
                if ch == 'A' { 'B' } else { 'A' }
            } else {
                ch
            }
        })
        .collect();
    let flipped = text.replacen(line, &flipped_line, 1);
    let store = Store::parse(&ws.store_path(), &flipped).unwrap();
    let error = secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot("Alpha", &prod, &ids)
        .unwrap_err();
    assert!(matches!(error, Error::Refused(_)), "{error:?}");
    let message = error.to_string();
    forged(&message, "Alpha");
    assert!(message.contains("secrets.enc.toml:"), "{message}");
    // Without the signature check, age's own authentication catches the flipped byte.
    let error = store.decrypt_unverified("Alpha", &prod, &ids).unwrap_err();
    assert!(matches!(error, Error::Tampered { .. }), "{error:?}");

    // The readable recipient list edited by hand is detected too.
    let other = ws.key("other");
    let edited = text.replacen(
        &format!(
            "[Alpha.\"type:production\"]\nversion = 1\nrecipients = [\n    \"{}\",\n",
            key.public
        ),
        &format!(
            "[Alpha.\"type:production\"]\nversion = 1\nrecipients = [\n    \"{}\",\n    \"{}\",\n",
            key.public, other.public
        ),
        1,
    );
    assert_ne!(edited, text);
    let store = Store::parse(&ws.store_path(), &edited).unwrap();
    let message = secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot("Alpha", &prod, &ids)
        .unwrap_err()
        .to_string();
    forged(&message, "Alpha");

    // Through the CLI a tampered value exits 2 with the file and line.
    std::fs::write(ws.store_path(), &flipped).unwrap();
    let out = ws.run(&["reveal", "--env", "prod", "Alpha"], "", false, false);
    assert_eq!(out.code, 2, "{}", out.all());
    let line = flipped
        .lines()
        .position(|line| line.starts_with("[Alpha."))
        .unwrap()
        + 1;
    assert!(
        out.stderr
            .contains(&format!("secrets.enc.toml:{line}: the value of Alpha")),
        "{}",
        out.stderr
    );
}

#[test]
fn named_environments_win_over_types_and_patterns_apply() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "staging = \"development\"\n\"pr-*\" = \"preview\"",
        &format!("development = [\"{0}\"]\npreview = [\"{0}\"]", key.public),
    );
    ok(&ws.secret(&["set", "--type", "dev,pr", "Db"], "type-value"));
    ok(&ws.secret(&["set", "--env", "staging", "Db"], "staging-value"));
    ok(&ws.secret(&["set", "--env", "pr-*", "Db"], "pattern-value"));
    ok(&ws.secret(&["set", "--env", "pr-7", "Db"], "pr7-value"));
    let config = Config::load(ws.root()).unwrap();
    let store = Store::load(ws.root()).unwrap();
    let ids = Identities::from_file(&key.file).unwrap();
    let at = |env: &str| read(&store, "Db", &config.resolve_env(env).unwrap(), &ids).unwrap();
    assert_eq!(at("staging"), "staging-value");
    assert_eq!(at("dev"), "type-value");
    assert_eq!(at("pr-42"), "pattern-value");
    assert_eq!(at("pr-7"), "pr7-value");
    assert_eq!(at("preview"), "type-value");

    // The same environment twice is a conflict; `--env` with a type name means the type.
    let conflict = ws.secret(&["set", "--env", "staging,pr-7", "Db"], "x");
    assert_eq!(conflict.code, 1, "{}", conflict.all());
    assert!(
        conflict.stderr.contains("`env:staging`"),
        "{}",
        conflict.stderr
    );
    let list = ws.secret(&["list"], "");
    ok(&list);
    let header: Vec<&str> = list
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "Secret",
            "production",
            "development",
            "preview",
            "local",
            "pr-*",
            "staging",
            "Declared",
            "at",
            "Description"
        ]
    );
    let row: Vec<&str> = list
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
        ["Db", "✗", "✓", "✓", "✗", "✓", "✓", "(not", "declared)", "-"]
    );
}

#[test]
fn concurrent_writers_lose_no_update() {
    let ws = Ws::new();
    let key = ws.key("me");
    ws.config("", &format!("local = [\"{}\"]", key.public));
    let config = Config::load(ws.root()).unwrap();
    let ids = Identities::from_file(&key.file).unwrap();
    let root = ws.root().to_owned();
    let scope = Scope::Types([EnvType::Local].into());
    std::thread::scope(|threads| {
        for n in 0..8 {
            let (root, config, scope, ids) = (&root, &config, &scope, &ids);
            threads.spawn(move || {
                Store::update(root, |store| {
                    let value = SecretString::from(format!("v{n}"));
                    edit::set(store, config, &format!("S{n}"), scope, &value, false, ids)
                })
                .unwrap();
            });
        }
    });
    let store = Store::load(ws.root()).unwrap();
    assert_eq!(store.names().count(), 8);
    let leftovers: Vec<_> = std::fs::read_dir(ws.root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
