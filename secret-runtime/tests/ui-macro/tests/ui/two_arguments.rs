use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!("GitHubAPIToken", "Other");

fn main() {}
