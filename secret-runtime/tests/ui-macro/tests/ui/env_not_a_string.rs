use secret_runtime::{Secret, secret};

static DATABASE: Secret = secret!("DatabaseURL", env = DATABASE_URL);

fn main() {}
