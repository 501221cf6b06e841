// Another crate's `macro_rules!` wrappers around `secret!`.
use secret_runtime_hygiene_tests::{app_secret, app_secret_with_path};
use secrets::Secret;

static FORWARDED: Secret = app_secret!("ForwardedToken");
static WITH_PATH: Secret = app_secret_with_path!("PathToken");

fn main() {
    assert_eq!(FORWARDED.name(), "ForwardedToken");
    assert_eq!(WITH_PATH.name(), "PathToken");
    assert_eq!(secret_runtime_hygiene_tests::SHARED_TOKEN.name(), "SharedToken");
    let all = secrets::declarations();
    let forwarded = all.iter().find(|d| d.name() == "ForwardedToken").unwrap();
    assert!(forwarded.file().ends_with("wrapper_macro.rs"), "{}", forwarded.file());
    assert_eq!(forwarded.line(), 5);
}
