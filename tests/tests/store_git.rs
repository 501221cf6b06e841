//! The store's layout is merge-friendly: two branches that change different secrets merge
//! in git without a conflict, and the merged store holds both changes.

use crate::store_support::{Ws, git_ok as git, ok};
use secret_core::secrecy::ExposeSecret;
use secret_core::{EnvType, Environment, Identities, Store};

#[test]
fn branches_changing_different_secrets_merge_cleanly() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.use_key(&key);
    ws.config(
        "",
        &format!("production = [\"{0}\"]\nlocal = [\"{0}\"]", key.public),
    );
    for name in ["Alpha", "Beta", "Gamma"] {
        ok(&ws.secret(&["set", "--type", "prod", name], &format!("{name}-1")));
        ok(&ws.secret(&["set", "--type", "local", name], &format!("{name}-local")));
    }
    let dir = ws.root();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Test"]);
    git(dir, &["config", "user.email", "test@example.invalid"]);
    git(
        dir,
        &["add", "Cargo.toml", "secrets.toml", "secrets.enc.toml"],
    );
    git(dir, &["commit", "-q", "-m", "base"]);

    git(dir, &["checkout", "-q", "-b", "one"]);
    ok(&ws.secret(&["set", "--type", "prod", "Alpha"], "Alpha-2"));
    let diff = git(dir, &["diff", "--stat"]);
    assert!(diff.contains("secrets.enc.toml"), "{diff}");
    git(dir, &["commit", "-q", "-am", "alpha"]);

    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["checkout", "-q", "-b", "two"]);
    ok(&ws.secret(&["set", "--type", "prod", "Gamma"], "Gamma-2"));
    ok(&ws.secret(&["set", "--type", "local", "Beta"], "Beta-local-2"));
    git(dir, &["commit", "-q", "-am", "gamma and beta"]);

    git(dir, &["merge", "-q", "--no-edit", "one"]);
    let store = Store::load(dir).unwrap();
    let ids = Identities::from_file(&key.file).unwrap();
    let config = secret_core::Config::load(dir).unwrap();
    let read = |name: &str, ty| {
        let (scope, _) = store.lookup(name, &Environment::of_type(ty)).unwrap();
        secret_core::state::State::new(config.clone(), store.clone(), None)
            .decrypt_slot(name, scope, &ids)
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    assert_eq!(read("Alpha", EnvType::Production), "Alpha-2");
    assert_eq!(read("Beta", EnvType::Local), "Beta-local-2");
    assert_eq!(read("Gamma", EnvType::Production), "Gamma-2");
    assert_eq!(read("Beta", EnvType::Production), "Beta-1");
    // The merged file is exactly what the tool would write.
    assert_eq!(
        std::fs::read_to_string(store.path()).unwrap(),
        store.render()
    );
}
