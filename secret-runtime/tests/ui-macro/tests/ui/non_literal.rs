use secret_runtime::{Secret, secret};

const NAME: &str = "GitHubAPIToken";
static TOKEN: Secret = secret!(NAME);

fn main() {}
