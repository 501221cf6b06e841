use secret_runtime::{Secret, secret};

/// A raw string literal is a string literal too.
static TOKEN: Secret = secret!(r#"GitHubAPIToken"#);

/// Usable in a `const`-initialised field and inline in a function.
struct Client {
    token: Secret,
}

const CLIENT: Client = Client { token: secret!("ClientToken") };

fn main() {
    let inline = secret!("InlineToken");
    assert_eq!(TOKEN.name(), "GitHubAPIToken");
    assert_eq!(CLIENT.token.name(), "ClientToken");
    assert_eq!(inline.name(), "InlineToken");
}
