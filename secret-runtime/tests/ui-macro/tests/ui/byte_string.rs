use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!(b"GitHubAPIToken");

fn main() {}
