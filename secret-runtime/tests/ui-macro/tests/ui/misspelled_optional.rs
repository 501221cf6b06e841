use secret_runtime::{Secret, secret};

static SENTRY_DSN: Secret = secret!("SentryDSN", optinal);

fn main() {}
