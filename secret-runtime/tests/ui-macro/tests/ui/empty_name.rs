use secret_runtime::{Secret, secret};

static TOKEN: Secret = secret!("");

fn main() {}
