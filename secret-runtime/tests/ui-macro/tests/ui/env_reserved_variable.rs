use secret_runtime::{Secret, secret};

static DATABASE: Secret = secret!("DatabaseURL", env = "SECRETS_DIR");

fn main() {}
