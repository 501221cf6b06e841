//! `secret!` compiles under a renamed dependency and through another crate's `macro_rules!`
//! wrappers: the expansion names the runtime by the path the caller can reach, not by
//! `::secret_runtime` (which is not a dependency of these test crates).

#[test]
fn secret_macro_works_renamed_and_wrapped() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/pass/*.rs");
}
