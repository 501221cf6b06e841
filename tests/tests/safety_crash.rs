//! Crashes and concurrent writers against the real `secret` executable.
//!
//! - `set` killed with SIGKILL at random moments, 500 times: after each kill the store
//!   parses and holds either the old or the new value, never a mix; a temporary file a
//!   killed writer could not remove is gone after the next write, and never read. Where
//!   the kills land depends on timing, so the two states a kill can leave (nothing written
//!   yet; a torn temporary file before the rename) are also made on purpose.
//! - Two processes each making 200 `set`s of different secrets at the same time: all 400
//!   values are present and correct at the end.

use std::io::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::safety_support::{Rng, Ws, assert_success};
use secret_core::secrecy::ExposeSecret;
use secret_core::store::temp_files;
use secret_core::{EnvType, Scope, Store};

fn production() -> Scope {
    Scope::Types([EnvType::Production].into())
}

/// The value stored for `name` in production, decrypted.
fn stored(ws: &Ws, ids: &secret_core::Identities, name: &str) -> String {
    let store = Store::load(ws.root()).unwrap_or_else(|error| {
        panic!(
            "the store does not parse: {}\n{}",
            error,
            std::fs::read_to_string(ws.root().join("secrets.enc.toml")).unwrap_or_default()
        )
    });
    let config = secret_core::Config::load(ws.root()).unwrap();
    secret_core::state::State::new(config.clone(), store.clone(), None)
        .decrypt_slot(name, &production(), ids)
        .unwrap_or_else(|error| panic!("cannot decrypt {name}: {}", error.report()))
        .expose_secret()
        .to_owned()
}

/// The two states a killed `set` can leave, each made on purpose: killed before it wrote
/// anything (waiting for its value), and killed after writing its temporary file but
/// before the rename (a torn temporary file next to the store). Readers see the old value
/// in both; the next write removes the leftover and writes the new value.
#[test]
#[cfg(unix)]
fn a_set_killed_before_writing_or_before_its_rename_leaves_the_old_value() {
    let ws = Ws::new();
    let ids = ws.identities();
    ws.set("prod", "Other", "other-value");
    ws.set("prod", "Crash", "old-value");

    // Killed while waiting for its value: nothing written.
    let mut child = ws
        .command(&["secret", "set", "--type", "prod", "Crash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    assert_eq!(stored(&ws, &ids, "Crash"), "old-value");
    assert!(
        temp_files(ws.root()).is_empty(),
        "{:?}",
        temp_files(ws.root())
    );

    // Killed between writing its temporary file and the rename: half a store is left.
    let store = std::fs::read(ws.root().join("secrets.enc.toml")).unwrap();
    let leftover = ws.root().join(".secrets.enc.toml.4194303-0.tmp");
    std::fs::write(&leftover, &store[..store.len() / 2]).unwrap();
    assert_eq!(temp_files(ws.root()), std::slice::from_ref(&leftover));
    assert_eq!(stored(&ws, &ids, "Crash"), "old-value");
    assert_eq!(stored(&ws, &ids, "Other"), "other-value");

    ws.set("prod", "Crash", "new-value");
    assert!(!leftover.exists(), "the next write removes the leftover");
    assert!(temp_files(ws.root()).is_empty());
    assert_eq!(stored(&ws, &ids, "Crash"), "new-value");
    assert_eq!(stored(&ws, &ids, "Other"), "other-value");
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    #[test]
    #[cfg(unix)]
    #[ignore = "slow: a scale test of the debug build; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn set_killed_at_random_moments_leaves_the_old_or_the_new_value() {
        let mut rng = Rng::from_env("crash");
        let ws = Ws::new();
        let ids = ws.identities();
        // Other secrets around the one being changed, so a torn write would show.
        ws.set("prod", "Before", "before-value");
        ws.set("prod", "After", "after-value");
        let mut current = format!("initial-{}", rng.alnum(20));
        ws.set("prod", "Crash", &current);

        // How long one complete `set` takes, to spread the kills over its whole life.
        let started = Instant::now();
        ws.set("prod", "Crash", &current);
        let full = started.elapsed().as_micros() as u64;
        let window = (full * 3 / 2).max(2_000);

        let (mut old_kept, mut new_written, mut finished, mut leftovers) = (0, 0, 0, 0);
        for round in 0..500 {
            let len = 8 + rng.below(64) as usize;
            let next = format!("value-{round}-{}", rng.alnum(len));
            let mut child = ws
                .command(&["secret", "set", "--type", "prod", "Crash"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // The pipe is closed when the child dies first: ignore that error.
            let _ = child.stdin.take().unwrap().write_all(next.as_bytes());
            std::thread::sleep(Duration::from_micros(rng.below(window)));
            let _ = child.kill(); // SIGKILL
            let status = child.wait().unwrap();

            let value = stored(&ws, &ids, "Crash");
            assert!(
                value == current || value == next,
                "round {round}: the store holds neither the old nor the new value"
            );
            assert_eq!(stored(&ws, &ids, "Before"), "before-value");
            assert_eq!(stored(&ws, &ids, "After"), "after-value");
            if value == next {
                new_written += 1;
                current = next;
            } else {
                old_kept += 1;
            }
            let temps = temp_files(ws.root());
            if status.success() {
                finished += 1;
                // A completed write removed every leftover of the writers killed before it.
                assert!(
                    temps.is_empty(),
                    "round {round}: temporary files after a complete write: {temps:?}"
                );
            } else if !temps.is_empty() {
                leftovers += 1;
            }
        }
        eprintln!(
            "crash: {old_kept} kills kept the old value, {new_written} rounds wrote the new one ({finished} finished before the kill); {leftovers} kills left a temporary file"
        );
        // Where the random kills land depends on the machine's timing, so that is only
        // reported; the two states a kill can leave are each made below without timing.
        // The next command cleans up whatever the last kill left.
        ws.set("prod", "Crash", "final");
        assert!(temp_files(ws.root()).is_empty());
        assert_eq!(stored(&ws, &ids, "Crash"), "final");
    }

    #[test]
    #[ignore = "slow: a scale test of the debug build; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn two_processes_setting_200_secrets_each_lose_nothing() {
        let mut rng = Rng::from_env("concurrency");
        let ws = Ws::new();
        let ids = ws.identities();
        let values: Vec<Vec<(String, String)>> = ["A", "B"]
            .iter()
            .map(|prefix| {
                (0..200)
                    .map(|index| (format!("{prefix}{index}"), rng.alnum(16)))
                    .collect()
            })
            .collect();
        std::thread::scope(|scope| {
            for batch in &values {
                let ws = &ws;
                scope.spawn(move || {
                    for (name, value) in batch {
                        let output =
                            ws.run(&["secret", "set", "--type", "prod", name], value.as_bytes());
                        assert_success(&output);
                    }
                });
            }
        });
        let store = Store::load(ws.root()).unwrap();
        let config = secret_core::Config::load(ws.root()).unwrap();
        assert_eq!(store.names().count(), 400);
        let state = secret_core::state::State::new(config, store, None);
        for (name, value) in values.iter().flatten() {
            let stored = state.decrypt_slot(name, &production(), &ids).unwrap();
            assert_eq!(stored.expose_secret(), value, "{name}");
        }
        assert!(temp_files(ws.root()).is_empty());
    }
}
