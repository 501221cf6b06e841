//! Compile-fail and compile-pass tests of `secret!`: each bad invocation gives exactly one
//! error, at the argument, saying what is allowed and what was found.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
