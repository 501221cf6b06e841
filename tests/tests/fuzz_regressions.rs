//! Inputs the fuzz targets in `fuzz/` found crashing, kept as regression tests. Each test
//! is named after what broke and says so in one comment.

use std::path::Path;

use secret_core::Store;

/// Regression (fuzz target `store_parse`): a `value` holding TOML escapes (`\\`) parsed,
/// and rendering the store back wrote the unescaped text into a `"""` string, which no
/// longer parsed: the next `set` would have written a broken store. Such a value is now
/// refused when the store is read, at its line.
#[test]
fn a_value_that_is_not_age_armor_is_refused_not_rewritten_broken() {
    let text = "version = 1\n\n[GitHubAPIToken.\"type:development,local\"]\nrecipients = [\n    \"agg1qyqszyqszqgpqyqs3290gq\",\n]\nvalue = \"\"\"\n-----BEGIN AGE ENCRYPTo$\\\\ 1\n\n[GiAGE EoCRYPTED FILE-----\n\"\"\"\n";
    let error = Store::parse(Path::new("secrets.enc.toml"), text).unwrap_err();
    let report = error;
    assert_eq!(report.line, Some(7), "{report}");
    assert!(
        report
            .message
            .contains("the value of `type:development,local` is not an age-armored ciphertext"),
        "{report}"
    );
    // Whatever parses renders to text that parses back to the same store.
    let good = text.replace(
        "o$\\\\ 1\n\n[GiAGE Eo",
        "ED FILE-----\nYWJj\n-----END AGE EN",
    );
    let store = Store::parse(Path::new("secrets.enc.toml"), &good).unwrap();
    let again = Store::parse(Path::new("secrets.enc.toml"), &store.render()).unwrap();
    assert_eq!(again.render(), store.render());
}
