use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!("GitHub-API-Token");

fn main() {}
