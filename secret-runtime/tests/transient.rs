//! A failure that may pass ([`secret_runtime::Error::unavailable`], what the Vault/OpenBao
//! source returns when the server is unreachable or answers 5xx) is not kept by a handle:
//! the next `expose()` asks again. A missing value is kept, and asked once.
//!
//! One test function: the resolver is process-wide.

// This repository has no `secrets.toml`: the `secret!` build-time check warns that the
// declarations here are unchecked (`secrets_unchecked`), which is expected.
#![allow(deprecated)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use secret_runtime::source::{Lookup, Source};
use secret_runtime::{EnvType, Environment, Error, Resolver, Secret, secret};

/// Fails `Flaky` twice with a transient error, then has it; never has `Absent`.
#[derive(Debug)]
struct FlakySource {
    flaky: Arc<AtomicUsize>,
    absent: Arc<AtomicUsize>,
}

impl Source for FlakySource {
    fn describe(&self, _name: &str) -> String {
        "the flaky test source".to_owned()
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, Error> {
        match name {
            "Flaky" => {
                if self.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Error::unavailable(
                        name,
                        self.describe(name),
                        "the server did not answer",
                    ))
                } else {
                    Ok(Lookup::Found("flaky-value".into()))
                }
            }
            _ => {
                self.absent.fetch_add(1, Ordering::SeqCst);
                Ok(Lookup::NotFound("not known".to_owned()))
            }
        }
    }
}

static FLAKY: Secret = secret!("Flaky");
static FLAKY_AGAIN: Secret = secret!("Flaky");
static ABSENT: Secret = secret!("Absent");

// Regression test: `Secret::expose()` kept the first error forever, so one transient
// failure made the secret unreadable for the life of the process.
#[test]
fn a_transient_failure_is_asked_again_and_a_missing_value_is_not() {
    let flaky = Arc::new(AtomicUsize::new(0));
    let absent = Arc::new(AtomicUsize::new(0));
    let resolver =
        Resolver::new(Environment::of_type(EnvType::Production)).with_source(FlakySource {
            flaky: Arc::clone(&flaky),
            absent: Arc::clone(&absent),
        });
    secret_runtime::install(resolver).unwrap();

    for attempt in 1..=2 {
        let error = FLAKY.expose().unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert_eq!(
            error.to_string(),
            "secret `Flaky` could not be read from the flaky test source for now: the server did not answer"
        );
        assert!(!FLAKY.is_resolved(), "{FLAKY:?}");
        assert_eq!(format!("{FLAKY:?}"), "Secret(\"Flaky\", unresolved)");
        assert_eq!(flaky.load(Ordering::SeqCst), attempt);
    }
    assert_eq!(FLAKY.expose().unwrap(), "flaky-value");
    assert_eq!(FLAKY_AGAIN.expose().unwrap(), "flaky-value");
    assert_eq!(FLAKY.expose().unwrap(), "flaky-value");
    assert_eq!(flaky.load(Ordering::SeqCst), 3, "a value is resolved once");
    assert!(FLAKY.is_resolved());

    for _ in 0..3 {
        let error = ABSENT.expose().unwrap_err();
        assert!(error.is_missing() && !error.is_transient(), "{error}");
    }
    assert_eq!(absent.load(Ordering::SeqCst), 1, "a missing value is kept");
    assert_eq!(format!("{ABSENT:?}"), "Secret(\"Absent\", missing)");
}
