use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!("1GitHubAPIToken");

fn main() {}
