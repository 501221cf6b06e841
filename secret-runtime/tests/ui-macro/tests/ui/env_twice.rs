use secret_runtime::{Secret, secret};

static DATABASE: Secret = secret!("DatabaseURL", env = "DATABASE_URL", env = "PG_URL");

fn main() {}
