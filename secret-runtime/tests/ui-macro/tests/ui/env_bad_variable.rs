use secret_runtime::{Secret, secret};

static DATABASE: Secret = secret!("DatabaseURL", env = "DATABASE-URL");

fn main() {}
