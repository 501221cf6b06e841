//! Optional secrets in a real process: `get()` gives `None` only for "no value anywhere",
//! still errors for a broken source, and `check_all()` passes over an unset optional
//! secret but not over a name that is also declared required.
//!
//! One test function: the resolver is process-wide.

use secret_runtime::source::{Lookup, Source};
use secret_runtime::{EnvType, Environment, Resolver, Secret, secret};

/// Has `SentryDSN`; fails for `Broken` as an undecryptable store value would.
#[derive(Debug)]
struct TestSource;

impl Source for TestSource {
    fn describe(&self, _name: &str) -> String {
        "the test source".to_owned()
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, secret_runtime::Error> {
        match name {
            "SentryDSN" => Ok(Lookup::Found("https://key@sentry.example/1".into())),
            "Broken" => {
                // A real non-missing error: the one for an unknown `SECRETS_ENV`.
                Err(Resolver::from_vars(
                    std::sync::Arc::new(|var| (var == "SECRETS_ENV").then(|| "no-such-env".into())),
                    None,
                    None,
                )
                .unwrap_err())
            }
            _ => Ok(Lookup::NotFound("not known".to_owned())),
        }
    }
}

static SENTRY_DSN: Secret = secret!("SentryDSN", optional);
static METRICS_KEY: Secret = secret!("MetricsKey", optional);
static BROKEN: Secret = secret!("Broken", optional);
static MIXED_OPTIONAL: Secret = secret!("Mixed", optional);
static MIXED_REQUIRED: Secret = secret!("Mixed");

#[test]
fn optional_secrets_are_none_when_unset_and_errors_stay_errors() {
    secret_runtime::install(
        Resolver::new(Environment::of_type(EnvType::Production)).with_source(TestSource),
    )
    .unwrap();

    assert_eq!(
        SENTRY_DSN.get().unwrap(),
        Some("https://key@sentry.example/1")
    );
    assert_eq!(METRICS_KEY.get().unwrap(), None, "no value anywhere");
    assert!(
        METRICS_KEY.expose().unwrap_err().is_missing(),
        "expose still says it is missing"
    );
    let broken = BROKEN.get().unwrap_err();
    assert!(!broken.is_missing());
    assert!(
        broken
            .to_string()
            .contains("unknown environment `no-such-env`"),
        "{broken}"
    );

    let optional: Vec<_> = secret_runtime::declarations()
        .iter()
        .map(|d| (d.name(), d.is_optional()))
        .collect();
    assert_eq!(
        optional,
        [
            ("Broken", true),
            ("MetricsKey", true),
            ("Mixed", true),
            ("Mixed", false),
            ("SentryDSN", true)
        ]
    );

    let message = secret_runtime::check_all().unwrap_err().to_string();
    assert!(
        message.starts_with("2 secrets could not be resolved\n"),
        "{message}"
    );
    assert!(
        message.contains("unknown environment `no-such-env`"),
        "{message}"
    );
    assert!(
        message.contains("secret `Mixed` has no value for environment production"),
        "required somewhere, so required: {message}"
    );
    assert!(!message.contains("MetricsKey"), "{message}");
    assert_eq!(MIXED_OPTIONAL.get().unwrap(), None);
    assert!(MIXED_REQUIRED.expose().is_err());
}
