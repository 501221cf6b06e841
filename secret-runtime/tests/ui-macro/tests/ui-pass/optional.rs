use secret_runtime::{Secret, secret};

static SENTRY_DSN: Secret = secret!("SentryDSN", optional);
static TRAILING: Secret = secret!("TrailingComma", optional,);

fn main() {
    let _: Option<&str> = SENTRY_DSN.get().unwrap_or_default();
    let _ = TRAILING.name();
}
