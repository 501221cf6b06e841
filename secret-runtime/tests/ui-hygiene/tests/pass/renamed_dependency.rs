// `secrets = { package = "secret-runtime", ... }`: the macro under the new name.
use secrets::{Secret, secret};

static TOKEN: Secret = secret!("GitHubAPIToken");

fn main() {
    let inline = secrets::secret!("InlineToken");
    assert_eq!(TOKEN.name(), "GitHubAPIToken");
    assert_eq!(inline.name(), "InlineToken");
    let all = secrets::declarations();
    let names: Vec<&str> = all.iter().map(|d| d.name()).collect();
    assert!(names.contains(&"GitHubAPIToken") && names.contains(&"InlineToken"), "{names:?}");
    // The declaration's place is the user's file, not the macro's.
    let token = all.iter().find(|d| d.name() == "GitHubAPIToken").unwrap();
    assert!(token.file().ends_with("renamed_dependency.rs"), "{}", token.file());
    assert_eq!((token.line(), token.column()), (4, 32));
}
