//! The handle in a real process: resolved once across threads, `Debug` without the value,
//! and the start-up check reporting every missing secret at once.
//!
//! One test function: the resolver is process-wide, so the steps share one installation.

// This repository has no `secrets.toml`: the `secret!` build-time check warns once that the
// declarations here are unchecked (`secrets_unchecked`), which is expected.
#![allow(deprecated)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use secret_runtime::source::{Lookup, Source};
use secret_runtime::{EnvType, Environment, Resolver, Secret, secret};

/// Counts how often each name is asked for; knows only `Shared`.
#[derive(Debug)]
struct CountingSource(Arc<AtomicUsize>);

impl Source for CountingSource {
    fn describe(&self, _name: &str) -> String {
        "the counting test source".to_owned()
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, secret_runtime::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        Ok(match name {
            "Shared" => Lookup::Found("s3cr3t-value".into()),
            _ => Lookup::NotFound("not known".to_owned()),
        })
    }
}

/// Token shared by the threads
static SHARED: Secret = secret!("Shared");
static SHARED_AGAIN: Secret = secret!("Shared");
static MISSING_ONE: Secret = secret!("MissingOne");

fn declared_elsewhere() -> Secret {
    secret!("MissingTwo")
}

#[test]
fn handle_resolves_once_hides_its_value_and_reports_all_missing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let resolver = Resolver::new(Environment::of_type(EnvType::Production))
        .with_source(CountingSource(calls.clone()));
    secret_runtime::install(resolver).unwrap();

    assert_eq!(format!("{SHARED:?}"), "Secret(\"Shared\", unresolved)");

    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                SHARED.expose().unwrap().to_owned()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), "s3cr3t-value");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "8 threads, one resolution");

    assert_eq!(SHARED_AGAIN.expose().unwrap(), "s3cr3t-value");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a second handle with the same name shares the value"
    );

    for shown in [
        format!("{SHARED:?}"),
        format!("{SHARED}"),
        format!("{:#?}", SHARED),
    ] {
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
    assert_eq!(format!("{SHARED:?}"), "Secret(\"Shared\", set)");

    let names: Vec<_> = secret_runtime::declarations()
        .iter()
        .map(|d| d.name())
        .collect();
    assert_eq!(names, ["MissingOne", "MissingTwo", "Shared", "Shared"]);
    let first = secret_runtime::declarations()[0];
    assert_eq!(
        (first.krate(), first.file()),
        ("secret-runtime", "secret-runtime/tests/handle.rs")
    );
    assert_eq!((first.line(), first.column()), (38, 38));

    let missing = secret_runtime::check_all().unwrap_err();
    let message = missing.to_string();
    assert!(message.starts_with("2 secrets could not be resolved\n\nsecret `MissingOne` has no value for environment production"), "{message}");
    assert!(
        message.contains("secret `MissingTwo` has no value for environment production"),
        "{message}"
    );
    assert!(
        message.contains("tried: the counting test source (not known)"),
        "{message}"
    );
    assert!(
        message.contains("help: set it with `cargo xtask secret set --type prod MissingTwo`"),
        "{message}"
    );

    let error = MISSING_ONE.expose().unwrap_err();
    assert!(error.is_missing());
    assert_eq!(
        format!("{MISSING_ONE:?}"),
        "Secret(\"MissingOne\", missing)"
    );
    assert!(declared_elsewhere().expose().is_err());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "check_all cached both failures: {calls:?}"
    );
}
