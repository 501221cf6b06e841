use secret_runtime::{Secret, secret};

static DATABASE: Secret = secret!("DatabaseURL", env = "DATABASE_URL");
static SENTRY: Secret = secret!("SentryDSN", optional, env = "SENTRY_DSN");

fn main() {
    let declaration = DATABASE.declaration().unwrap();
    assert_eq!(declaration.env_var(), Some("DATABASE_URL"));
    assert!(SENTRY.declaration().unwrap().is_optional());
    assert_eq!(SENTRY.declaration().unwrap().env_var(), Some("SENTRY_DSN"));
}
