//! The `secret` CLI end to end in a temporary workspace: init, set, list, conflicts and
//! moves, unset, import, rekey and reveal.

use crate::store_support::{Ws, ok};
use secret_core::secrecy::ExposeSecret;
use secret_core::{Config, EnvType, Environment, Identities, Store};

const DEV_VALUE: &str = "dev-value-Zq81xkP";
const PROD_VALUE: &str = "prod-value-Yw93mcT";

#[test]
fn init_set_list_and_resolve() {
    let ws = Ws::new();
    // A member crate declaring two secrets, for `list`'s declaration columns.
    ws.with_app(
        "/// Personal access token\nstatic TOKEN: Secret = secret!(\"GitHubAPIToken\");\nstatic OTHER: Secret = secret!(\"Missing\");\nfn main() {}\n",
    );
    let init = ws.secret(&["init"], "");
    ok(&init);
    // The identity is created private, its public key printed, the private key never.
    let identity = ws.home.path().join(".config/secrets/identity.txt");
    let text = std::fs::read_to_string(&identity).unwrap();
    assert!(text.contains("AGE-SECRET-KEY-1"));
    assert!(!init.all().contains("AGE-SECRET-KEY-1"), "{}", init.all());
    let ids = Identities::from_file(&identity).unwrap();
    let public = &ids.public_keys()[0];
    assert!(
        init.stdout.contains(&format!("public key: {public}")),
        "{}",
        init.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&identity), 0o600);
        assert_eq!(mode(identity.parent().unwrap()), 0o700);
    }
    let config = Config::load(ws.root()).unwrap();
    for ty in EnvType::ALL {
        assert_eq!(config.recipients[ty.name()], std::slice::from_ref(public));
    }
    let gitignore = std::fs::read_to_string(ws.root().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|line| line == ".secrets.local.toml"));
    assert!(gitignore.lines().any(|line| line == ".secrets.local.cue"));
    // A second init changes nothing and reuses the identity.
    let again = ws.secret(&["init"], "");
    ok(&again);
    assert_eq!(std::fs::read_to_string(&identity).unwrap(), text);
    assert_eq!(
        std::fs::read_to_string(ws.root().join(".gitignore")).unwrap(),
        gitignore
    );

    let dev = ws.secret(
        &["set", "--type", "dev,local", "GitHubAPIToken"],
        &format!("{DEV_VALUE}\n"),
    );
    ok(&dev);
    assert!(
        dev.stdout
            .contains("set GitHubAPIToken for development, local"),
        "{}",
        dev.stdout
    );
    let prod = ws.secret(&["set", "--type", "prod", "GitHubAPIToken"], PROD_VALUE);
    ok(&prod);

    let list = ws.secret(&["list"], "");
    ok(&list);
    let lines: Vec<Vec<&str>> = list
        .stdout
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "Secret",
            "production",
            "development",
            "preview",
            "local",
            "Declared",
            "at",
            "Description"
        ]
    );
    assert_eq!(
        lines[1],
        [
            "GitHubAPIToken",
            "✓",
            "✓",
            "✗",
            "✓",
            "app/src/main.rs:2",
            "Personal",
            "access",
            "token"
        ]
    );
    // Declared but not set: a row of ✗.
    assert_eq!(
        lines[2],
        ["Missing", "✗", "✗", "✗", "✗", "app/src/main.rs:3", "-"]
    );

    let json = ws.secret(&["list", "--format", "json"], "");
    ok(&json);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let secret = &doc["secrets"][0];
    assert_eq!(secret["name"], "GitHubAPIToken");
    assert_eq!(secret["coverage"]["local"], "type:development,local");
    assert_eq!(secret["coverage"]["production"], "type:production");
    assert_eq!(secret["coverage"]["preview"], serde_json::Value::Null);
    assert_eq!(secret["values"][0]["recipients"][0], public.as_str());
    assert_eq!(secret["description"], "Personal access token");
    assert_eq!(secret["declared_at"][0]["path"], "app/src/main.rs");
    assert_eq!(secret["declared_at"][0]["line"], 2);
    assert_eq!(doc["secrets"][1]["name"], "Missing");
    assert_eq!(doc["secrets"][1]["values"], serde_json::json!([]));

    // Resolution through the library, as the run time does it.
    let store = Store::load(ws.root()).unwrap();
    for (ty, expected) in [
        (EnvType::Local, DEV_VALUE),
        (EnvType::Production, PROD_VALUE),
    ] {
        let (scope, _) = store
            .lookup("GitHubAPIToken", &Environment::of_type(ty))
            .unwrap();
        let value =
            secret_core::state::State::new(Config::load(ws.root()).unwrap(), store.clone(), None)
                .decrypt_slot("GitHubAPIToken", scope, &ids)
                .unwrap();
        assert_eq!(value.expose_secret(), expected);
    }
    assert!(
        store
            .lookup("GitHubAPIToken", &Environment::of_type(EnvType::Preview))
            .is_none()
    );

    // The plaintext is nowhere: not in the store, not in any output.
    let stored = String::from_utf8(ws.store_bytes()).unwrap();
    for value in [DEV_VALUE, PROD_VALUE] {
        assert!(!stored.contains(value));
        for out in [&dev, &prod, &list, &json] {
            assert!(!out.all().contains(value), "{}", out.all());
        }
    }
    assert!(stored.starts_with("# Written by"), "{stored}");
    assert!(stored.contains("version = 3\n\n[_rules.1]\nsigned = \""));
}

#[test]
fn conflicting_set_fails_before_reading_and_leaves_the_store_unchanged() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "",
        &format!(
            "production = [\"{0}\"]\ndevelopment = [\"{0}\"]\nlocal = [\"{0}\"]",
            key.public
        ),
    );
    ok(&ws.secret(&["set", "--type", "dev,local", "Token"], "one"));
    let before = ws.store_bytes();

    let conflict = ws.secret(&["set", "--type", "dev", "Token"], "two-secret-value");
    assert_eq!(conflict.code, 1, "{}", conflict.all());
    assert!(
        conflict.stderr.starts_with("error: "),
        "{}",
        conflict.stderr
    );
    assert!(
        conflict.stderr.contains("`type:development,local`"),
        "{}",
        conflict.stderr
    );
    assert!(
        conflict.stderr.contains(
            "help: to take development away from the other value and set it here, run `cargo xtask secret set --type dev --move Token`"
        ),
        "{}",
        conflict.stderr
    );
    assert!(!conflict.all().contains("two-secret-value"));
    assert_eq!(ws.store_bytes(), before, "the store changed byte for byte");

    // A prompt would come after the check: on a terminal nothing is read either.
    let on_tty = ws.run(&["set", "--type", "local", "Token"], "", true, false);
    assert_eq!(on_tty.code, 1, "{}", on_tty.all());

    // Bad flags and names fail before reading too, with exit 2.
    let bad_type = ws.secret(&["set", "--type", "devel", "Token"], "x");
    assert_eq!(bad_type.code, 2);
    assert!(
        bad_type.stderr.contains("did you mean `development`?"),
        "{}",
        bad_type.stderr
    );
    let bad_name = ws.secret(&["set", "--type", "dev", "9Token"], "x");
    assert_eq!(bad_name.code, 2);
    assert!(
        bad_name.stderr.contains("starts with the digit `9`"),
        "{}",
        bad_name.stderr
    );
    assert_eq!(ws.store_bytes(), before);

    // --move takes development away from the other value, which keeps local.
    let moved = ws.secret(&["set", "--type", "dev", "--move", "Token"], "two");
    ok(&moved);
    let store = Store::load(ws.root()).unwrap();
    let scopes: Vec<String> = store.slots("Token").map(|(scope, _)| scope.key()).collect();
    assert_eq!(scopes, ["type:development", "type:local"]);
    let ids = Identities::from_file(&key.file).unwrap();
    let read = |ty| {
        let (scope, _) = store.lookup("Token", &Environment::of_type(ty)).unwrap();
        secret_core::state::State::new(Config::load(ws.root()).unwrap(), store.clone(), None)
            .decrypt_slot("Token", scope, &ids)
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    assert_eq!(read(EnvType::Local), "one");
    assert_eq!(read(EnvType::Development), "two");

    // unset removes a whole value; unsetting what is not set fails with exit 1.
    ok(&ws.secret(&["unset", "--type", "local", "Token"], ""));
    let store = Store::load(ws.root()).unwrap();
    assert_eq!(store.slots("Token").count(), 1);
    let missing = ws.secret(&["unset", "--type", "local", "Token"], "");
    assert_eq!(missing.code, 1, "{}", missing.all());
}

#[test]
fn zero_recipients_is_an_error_naming_the_fix() {
    let ws = Ws::new();
    ws.config("", "");
    let out = ws.secret(&["set", "--type", "prod", "Token"], "v");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("secrets.toml: no recipients for production"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cargo xtask secret init"),
        "{}",
        out.stderr
    );
    assert!(!ws.store_path().exists());
}

#[test]
fn reveal_never_prints_to_a_terminal_by_accident() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config("", &format!("local = [\"{}\"]", key.public));
    ok(&ws.secret(&["set", "--type", "local", "Token"], "revealed-value\n"));

    let refused = ws.run(&["reveal", "--env", "local", "Token"], "", false, true);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("refusing to print the value of Token to a terminal")
    );
    assert!(
        refused.stderr.contains("--output FILE"),
        "{}",
        refused.stderr
    );
    assert!(!refused.all().contains("revealed-value"));

    let piped = ws.run(&["reveal", "--env", "local", "Token"], "", false, false);
    ok(&piped);
    assert_eq!(piped.stdout, "revealed-value");

    let shown = ws.run(
        &["reveal", "--env", "local", "--show", "Token"],
        "",
        false,
        true,
    );
    ok(&shown);
    assert_eq!(shown.stdout, "revealed-value\n");

    let file = ws.home.path().join("out.txt");
    let written = ws.run(
        &[
            "reveal",
            "--env",
            "local",
            "--output",
            file.to_str().unwrap(),
            "Token",
        ],
        "",
        false,
        true,
    );
    ok(&written);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "revealed-value");
    assert!(!written.all().contains("revealed-value"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn import_sets_every_line_or_nothing() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config("", &format!("development = [\"{}\"]", key.public));
    ws.write(
        "dev.env",
        "# comment\nDatabaseUrl=\"postgres://u:imported-pw@h/db\"\nexport ApiKey=imported-key\n",
    );
    let out = ws.secret(&["import", "--type", "dev", "dev.env"], "");
    ok(&out);
    assert!(!out.all().contains("imported-pw") && !out.all().contains("imported-key"));
    let store = Store::load(ws.root()).unwrap();
    assert_eq!(store.names().collect::<Vec<_>>(), ["ApiKey", "DatabaseUrl"]);
    let ids = Identities::from_file(&key.file).unwrap();
    let scope = store
        .lookup("DatabaseUrl", &Environment::of_type(EnvType::Development))
        .unwrap()
        .0;
    assert_eq!(
        secret_core::state::State::new(Config::load(ws.root()).unwrap(), store.clone(), None)
            .decrypt_slot("DatabaseUrl", scope, &ids)
            .unwrap()
            .expose_secret(),
        "postgres://u:imported-pw@h/db"
    );

    // A bad line anywhere: nothing is written, the line is named, the value is not shown.
    let before = ws.store_bytes();
    ws.write("bad.env", "Fresh=ok\nnot a line with-value-x9\n");
    let bad = ws.secret(&["import", "--type", "dev", "bad.env"], "");
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("bad.env:2: this line has no `=`"),
        "{}",
        bad.stderr
    );
    assert!(!bad.all().contains("with-value-x9"));
    assert_eq!(ws.store_bytes(), before);
}

#[test]
fn rekey_gives_a_new_recipient_access() {
    let mut ws = Ws::new();
    let alice = ws.key("alice");
    let bob = ws.key("bob");
    ws.use_key(&alice);
    ws.config("", &format!("production = [\"{}\"]", alice.public));
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "shared"));
    let bob_ids = Identities::from_file(&bob.file).unwrap();
    let store = Store::load(ws.root()).unwrap();
    let scope = store.slots("Token").next().unwrap().0.clone();
    assert!(
        secret_core::state::State::new(Config::load(ws.root()).unwrap(), store.clone(), None)
            .decrypt_slot("Token", &scope, &bob_ids)
            .is_err()
    );

    ws.config(
        "",
        &format!("production = [\"{}\", \"{}\"]", alice.public, bob.public),
    );
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout
            .contains("re-encrypted Token for production to 2 recipients"),
        "{}",
        out.stdout
    );
    let store = Store::load(ws.root()).unwrap();
    assert_eq!(
        secret_core::state::State::new(Config::load(ws.root()).unwrap(), store.clone(), None)
            .decrypt_slot("Token", &scope, &bob_ids)
            .unwrap()
            .expose_secret(),
        "shared"
    );
    // Nothing left to do: the store is not rewritten.
    let before = ws.store_bytes();
    ok(&ws.secret(&["rekey", "--yes"], ""));
    assert_eq!(ws.store_bytes(), before);
}
