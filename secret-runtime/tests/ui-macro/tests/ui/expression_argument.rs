use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!(concat!("GitHub", "APIToken"));

fn main() {}
