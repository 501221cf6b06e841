//! Resolution from the encrypted store: the right value per environment, precedence of a
//! named environment over its type, and a development-only key that cannot read production.

// This repository has no `secrets.toml`: the `secret!` build-time check warns once that the
// declarations here are unchecked (`secrets_unchecked`), which is expected.
#![allow(deprecated)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use secret_runtime::Resolver;
use secret_store::identity::Identities;
use secret_store::store::Store;
use secret_store::{Config, EnvType, Scope};

struct Keys {
    dev: age::x25519::Identity,
    prod: age::x25519::Identity,
}

/// A workspace whose development and local values are readable by `dev`, production by
/// `prod`, with GitHubAPIToken set for dev+local, prod, and the named env `staging`.
fn workspace(keys: &Keys) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (dev, prod) = (keys.dev.to_public(), keys.prod.to_public());
    let config = format!(
        "[environments]\nstaging = \"development\"\n\n[recipients]\nproduction = [\"{prod}\"]\ndevelopment = [\"{dev}\"]\nlocal = [\"{dev}\"]\n"
    );
    std::fs::write(dir.path().join("secrets.toml"), config).unwrap();
    let config = Config::load(dir.path()).unwrap();
    let mut store = Store::load(dir.path()).unwrap();
    let none = Identities::none();
    let mut set = |scope: Scope, value: &str| {
        secret_store::edit::set(
            &mut store,
            &config,
            "GitHubAPIToken",
            &scope,
            &SecretString::from(value),
            false,
            &none,
        )
        .unwrap();
    };
    set(
        Scope::Types([EnvType::Development, EnvType::Local].into()),
        "dev-token",
    );
    set(Scope::Types([EnvType::Production].into()), "prod-token");
    set(Scope::Envs(["staging".to_owned()].into()), "staging-token");
    store.write().unwrap();
    dir
}

fn resolve(
    root: &Path,
    env: &str,
    key: &age::x25519::Identity,
) -> Result<String, secret_runtime::Error> {
    let vars: HashMap<&str, OsString> = HashMap::from([
        ("SECRETS_WORKSPACE", root.as_os_str().to_owned()),
        ("SECRETS_ENV", env.into()),
        (
            "SECRETS_IDENTITY_KEY",
            key.to_string().expose_secret().into(),
        ),
        ("HOME", root.join("no-home").into()),
    ]);
    let resolver = Resolver::from_vars(Arc::new(move |name| vars.get(name).cloned()), None, None)?;
    resolver
        .resolve("GitHubAPIToken")
        .map(|value| value.expose_secret().to_owned())
}

#[test]
fn resolves_the_value_of_the_environment() {
    let keys = Keys {
        dev: age::x25519::Identity::generate(),
        prod: age::x25519::Identity::generate(),
    };
    let ws = workspace(&keys);
    assert_eq!(resolve(ws.path(), "local", &keys.dev).unwrap(), "dev-token");
    assert_eq!(resolve(ws.path(), "dev", &keys.dev).unwrap(), "dev-token");
    assert_eq!(
        resolve(ws.path(), "prod", &keys.prod).unwrap(),
        "prod-token"
    );
    assert_eq!(
        resolve(ws.path(), "staging", &keys.dev).unwrap(),
        "staging-token",
        "a named environment beats its type"
    );
}

#[test]
fn a_development_key_cannot_read_production() {
    let keys = Keys {
        dev: age::x25519::Identity::generate(),
        prod: age::x25519::Identity::generate(),
    };
    let ws = workspace(&keys);
    let error = resolve(ws.path(), "prod", &keys.dev)
        .unwrap_err()
        .to_string();
    assert!(error.contains("GitHubAPIToken"), "{error}");
    assert!(
        error.contains(&keys.prod.to_public().to_string()),
        "the error names who can decrypt: {error}"
    );
    assert!(
        !error.contains("prod-token") && !error.contains("dev-token"),
        "{error}"
    );
}

#[test]
fn local_overrides_beat_the_store() {
    let keys = Keys {
        dev: age::x25519::Identity::generate(),
        prod: age::x25519::Identity::generate(),
    };
    let ws = workspace(&keys);
    std::fs::write(
        ws.path().join(".secrets.local.toml"),
        "GitHubAPIToken = \"mine\"\n",
    )
    .unwrap();
    assert_eq!(resolve(ws.path(), "local", &keys.dev).unwrap(), "mine");
    assert_eq!(
        resolve(ws.path(), "prod", &keys.prod).unwrap(),
        "prod-token",
        "overrides are for local only"
    );
}

/// Declared like a program would; read by the child process below.
static GITHUB_TOKEN: secret_runtime::Secret = secret_runtime::secret!("GitHubAPIToken");

/// The child half of `a_program_resolves_per_secrets_env`: prints the value when run by it.
#[test]
fn child_prints_the_token() {
    if std::env::var_os("SECRETS_TEST_CHILD").is_some() {
        match GITHUB_TOKEN.expose() {
            Ok(value) => println!("value=<{value}>"),
            Err(error) => println!("error=<{error}>"),
        }
    }
}

#[test]
fn a_program_resolves_per_secrets_env() {
    let keys = Keys {
        dev: age::x25519::Identity::generate(),
        prod: age::x25519::Identity::generate(),
    };
    let ws = workspace(&keys);
    let run = |env: &str, key: &age::x25519::Identity| {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_prints_the_token",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SECRETS_TEST_CHILD", "1")
            .env("SECRETS_WORKSPACE", ws.path())
            .env("SECRETS_ENV", env)
            .env("SECRETS_IDENTITY_KEY", key.to_string().expose_secret())
            .env_remove("SECRET_GitHubAPIToken")
            .env_remove("SECRETS_IDENTITY")
            .env_remove("SECRETS_DIR")
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        // libtest prints `test child_prints_the_token ... ` before the child's line.
        let at = stdout
            .find("value=<")
            .or_else(|| stdout.find("error=<"))
            .unwrap_or(stdout.len());
        stdout[at..].lines().next().unwrap_or_default().to_owned()
    };
    assert_eq!(run("local", &keys.dev), "value=<dev-token>");
    assert_eq!(run("prod", &keys.prod), "value=<prod-token>");
    assert_eq!(run("staging", &keys.dev), "value=<staging-token>");
    assert!(run("prod", &keys.dev).starts_with("error=<secret `GitHubAPIToken` could not be read"));
}
