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
use secret_core::identity::Identities;
use secret_core::store::Store;
use secret_core::{Config, EnvType, Scope};
use secret_runtime::Resolver;

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
    // Values are signed by their writer: the dev key writes dev+local and staging, the
    // production key production.
    let writers = Identities::parse(
        Path::new("writers"),
        &format!(
            "{}\n{}\n",
            keys.dev.to_string().expose_secret(),
            keys.prod.to_string().expose_secret()
        ),
    )
    .unwrap();
    let mut set = |scope: Scope, value: &str| {
        secret_core::edit::set(
            &mut store,
            &config,
            "GitHubAPIToken",
            &scope,
            &SecretString::from(value),
            false,
            &writers,
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

#[test]
fn a_value_the_production_key_did_not_sign_is_refused() {
    let keys = Keys {
        dev: age::x25519::Identity::generate(),
        prod: age::x25519::Identity::generate(),
    };
    let ws = workspace(&keys);
    // Someone who can push replaces the production ciphertext with their own, encrypted
    // to the production key and copied under the existing signature.
    let path = ws.path().join("secrets.enc.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("[GitHubAPIToken.\"type:production\"]").unwrap();
    let from = start + text[start..].find("value = \"\"\"\n").unwrap() + 12;
    let to = from + text[from..].find("\"\"\"").unwrap();
    let forged = {
        use std::io::Write as _;
        let recipient = keys.prod.to_public();
        let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _)).unwrap();
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut writer = encryptor.wrap_output(armor).unwrap();
        writer.write_all(b"attacker-token").unwrap();
        writer.finish().unwrap().finish().unwrap();
        String::from_utf8(out).unwrap()
    };
    std::fs::write(
        &path,
        format!("{}{}\n{}", &text[..from], forged.trim_end(), &text[to..]),
    )
    .unwrap();
    let error = resolve(ws.path(), "prod", &keys.prod)
        .unwrap_err()
        .to_string();
    assert!(error.contains("signature does not verify"), "{error}");
    assert!(!error.contains("attacker-token"), "{error}");
    // The other values are untouched and still resolve.
    assert_eq!(resolve(ws.path(), "local", &keys.dev).unwrap(), "dev-token");
}

/// Declared like a program would; read by the child process below.
static GITHUB_TOKEN: secret_runtime::Secret = secret_runtime::secret!("GitHubAPIToken");

/// The child half of `a_program_resolves_per_secrets_env`, which runs it (with `--ignored`)
/// in a child process: prints the value. Not a test of its own, so ignored in the suite.
#[test]
#[ignore = "the child process of a_program_resolves_per_secrets_env, which runs it"]
fn child_prints_the_token() {
    assert!(
        std::env::var_os("SECRETS_TEST_CHILD").is_some(),
        "run by a_program_resolves_per_secrets_env, not on its own"
    );
    match GITHUB_TOKEN.expose() {
        Ok(value) => println!("value=<{value}>"),
        Err(error) => println!("error=<{error}>"),
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
                "--ignored",
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
