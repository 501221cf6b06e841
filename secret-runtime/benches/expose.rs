//! Run-time cost of a secret, for docs/BENCHMARKS.md (run by `bench/run.sh`):
//!
//! - `access/expose_resolved` against `access/static_str`: reading a resolved handle's value
//!   against reading a `static &str` (target: within 2x);
//! - `store/first_resolution_of_100`: a fresh resolver over a store of 100 values encrypted
//!   to one identity, resolving all 100 names (target: under 5 ms).

// This repository has no `secrets.toml`: the `secret!` build-time check warns once that the
// declarations here are unchecked (`secrets_unchecked`), which is expected.
#![allow(deprecated)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::{ExposeSecret, SecretString};
use secret_core::identity::Identities;
use secret_core::store::Store;
use secret_core::{Config, EnvType, Scope};
use secret_runtime::{Resolver, Secret, secret};

static PLAIN: &str = "plain-static-value";
static TOKEN: Secret = secret!("BenchToken");

fn access(c: &mut Criterion) {
    let vars: HashMap<&str, OsString> = HashMap::from([
        ("SECRET_BenchToken", OsString::from("resolved-value")),
        ("SECRETS_ENV", OsString::from("production")),
    ]);
    let resolver = Resolver::from_vars(Arc::new(move |name| vars.get(name).cloned()), None, None)
        .expect("a resolver from variables");
    secret_runtime::install(resolver).expect("installed before the first expose()");
    assert_eq!(TOKEN.expose().unwrap(), "resolved-value");

    let mut group = c.benchmark_group("access");
    group.bench_function("static_str", |b| b.iter(|| black_box(*black_box(&PLAIN))));
    group.bench_function("expose_resolved", |b| {
        b.iter(|| black_box(black_box(&TOKEN).expose().unwrap()))
    });
    group.finish();
}

/// A workspace whose store holds local values for `Bench0`..`Bench99`, encrypted to `key`
/// and `team` other generated keys, and signed with `key` (`identities` holds it).
fn store_workspace(
    key: &age::x25519::Identity,
    identities: &Identities,
    names: &[String],
    team: usize,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut recipients = vec![key.to_public().to_string()];
    recipients.extend((0..team).map(|_| age::x25519::Identity::generate().to_public().to_string()));
    let quoted: Vec<String> = recipients.iter().map(|r| format!("\"{r}\"")).collect();
    let config = format!("[recipients]\nlocal = [{}]\n", quoted.join(", "));
    std::fs::write(dir.path().join("secrets.toml"), config).unwrap();
    let config = Config::load(dir.path()).unwrap();
    let mut store = Store::load(dir.path()).unwrap();
    let scope = Scope::Types([EnvType::Local].into());
    for (i, name) in names.iter().enumerate() {
        let value = SecretString::from(format!("value-{i}"));
        secret_core::edit::set(&mut store, &config, name, &scope, &value, false, identities)
            .unwrap();
    }
    store.write().unwrap();
    dir
}

fn first_resolution(c: &mut Criterion) {
    let key = age::x25519::Identity::generate();
    let names: Vec<String> = (0..100).map(|i| format!("Bench{i}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let key_vars = |name: &str| {
        (name == "SECRETS_IDENTITY_KEY").then(|| OsString::from(key.to_string().expose_secret()))
    };
    let identities = Identities::from_vars(key_vars).expect("the generated key");
    let dir = store_workspace(&key, &identities, &names, 0);
    // The same values encrypted for a team of five readers (each value has five stanzas;
    // ours is wherever the sorted recipient list puts it, and age's search costs one X25519
    // operation for each stanza up to ours).
    let team_dir = store_workspace(&key, &identities, &names, 4);
    let reader = |dir: &std::path::Path| -> secret_runtime::source::VarReader {
        let vars: HashMap<&str, OsString> = HashMap::from([
            ("SECRETS_WORKSPACE", dir.as_os_str().to_owned()),
            ("SECRETS_ENV", OsString::from("local")),
            (
                "SECRETS_IDENTITY_KEY",
                OsString::from(key.to_string().expose_secret()),
            ),
            ("HOME", dir.join("no-home").into_os_string()),
        ]);
        Arc::new(move |name| vars.get(name).cloned())
    };
    let vars = reader(dir.path());
    let team_vars = reader(team_dir.path());

    let mut group = c.benchmark_group("store");
    group.sample_size(20);
    group.bench_function("first_resolution_of_100", |b| {
        b.iter(|| {
            let resolver = Resolver::from_vars(vars.clone(), None, None).unwrap();
            for name in &names {
                black_box(resolver.resolve(name).unwrap());
            }
        })
    });
    group.bench_function("first_resolution_of_100_resolve_all", |b| {
        b.iter(|| {
            let resolver = Resolver::from_vars(vars.clone(), None, None).unwrap();
            for value in resolver.resolve_all(&name_refs) {
                black_box(value.unwrap());
            }
        })
    });
    group.bench_function("first_resolution_of_100_team_of_5", |b| {
        b.iter(|| {
            let resolver = Resolver::from_vars(team_vars.clone(), None, None).unwrap();
            for name in &names {
                black_box(resolver.resolve(name).unwrap());
            }
        })
    });
    // The baseline: the same 100 ciphertexts decrypted with the `age` crate, one after the
    // other, with no store, no signature check and no resolver. The floor for any design
    // that decrypts each value on one core.
    let ciphertexts: Vec<Vec<u8>> = {
        let store = Store::load(dir.path()).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        armored_values(&text)
    };
    assert_eq!(ciphertexts.len(), names.len());
    group.bench_function("age_decrypt_100", |b| {
        b.iter(|| {
            for ciphertext in &ciphertexts {
                let plain = age::decrypt(&key, ciphertext).unwrap();
                black_box(plain);
            }
        })
    });
    group.finish();
}

/// The age armor blocks in a store file's text.
fn armored_values(text: &str) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line
            .trim()
            .trim_matches(|c| c == '"' || c == ',' || c == '\'');
        if line == "-----BEGIN AGE ENCRYPTED FILE-----" {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line == "-----END AGE ENCRYPTED FILE-----" {
                values.push(current.take().unwrap().into_bytes());
            }
        }
    }
    values
}

criterion_group!(benches, access, first_resolution);
criterion_main!(benches);
