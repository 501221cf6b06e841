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

/// What [`Store::parse`] read from `text`, without the lines: names, scopes and every
/// field of every value.
fn contents(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            out.push(format!(
                "{name} {} {:?} {:?} {:?} {:?}",
                scope.key(),
                entry.recipients,
                entry.signed,
                entry.exposed,
                entry.ciphertext()
            ));
        }
    }
    out
}

/// Regression (fuzz target `store_parse`, the CI run of a fresh clone): a `\r` escape in a
/// value's `"""` string was read as a carriage return and written back raw, so the
/// rendered store no longer parsed ("invalid character in string: `\r`") and the next
/// `set` would have written a broken store. The renderer now escapes it, and every other
/// string it writes, so the store reads back the same.
#[test]
fn a_carriage_return_escape_in_a_value_is_written_back_escaped() {
    let text = "version = 2\n\n[Token.\"type:local\"]\nrecipients = [\"age1abc\"]\nvalue = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\\rYWJj\n-----END AGE ENCRYPTED FILE-----\\r\"\"\"\n";
    let path = Path::new("secrets.enc.toml");
    let store = Store::parse(path, text).unwrap();
    let rendered = store.render();
    assert!(
        rendered.contains("YWJj\\rYWJj\n-----END AGE ENCRYPTED FILE-----\\r\"\"\"\n"),
        "{rendered}"
    );
    let again = Store::parse(path, &rendered).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(contents(&again), contents(&store));
    assert_eq!(
        again
            .get(
                "Token",
                &secret_core::Scope::parse_key("type:local").unwrap()
            )
            .unwrap()
            .ciphertext(),
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\rYWJj\n-----END AGE ENCRYPTED FILE-----\r"
    );
}

/// Regression (fuzz target `store_parse`, found in a 15-second CI run; the input is
/// `fuzz/corpus/store_parse/regression-rules-change-backslash`): a change of a rules version
/// holding a quote and an escaped backslash was written back without escapes, so the
/// rendered store read back a different change (`\\` became `\`) than the one signed.
/// Changes are written with the same multi-line string writer as values.
#[test]
fn a_rules_change_with_a_quote_and_a_backslash_is_written_back_escaped() {
    let text = "version = 3\n\n[_rules.1]\nsigned = \"2026-12-06T05:13:17Z\"\nsignatures = [\n    \"age1abc c2ln\",\n]\nchanges = \"\"\"\n+ recipient pre\"\\\\\\\\age1abc\n+ recipient local age1abc\n\"\"\"\n";
    let path = Path::new("secrets.enc.toml");
    let store = Store::parse(path, text).unwrap_or_else(|error| panic!("{error}"));
    let changes = |store: &Store| -> Vec<String> {
        store
            .rules()
            .iter()
            .flat_map(|rules| rules.changes.clone())
            .collect()
    };
    assert_eq!(
        changes(&store),
        ["+ recipient pre\"\\\\age1abc", "+ recipient local age1abc"]
    );
    let rendered = store.render();
    assert!(
        rendered.contains("changes = \"\"\"\n+ recipient pre\\\"\\\\\\\\age1abc\n+ recipient local age1abc\n\"\"\"\n"),
        "{rendered}"
    );
    let again = Store::parse(path, &rendered).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(changes(&again), changes(&store));
    assert_eq!(again.render(), rendered);
}

/// Regression (fuzz target `scan_source`, found in a 15-second CI run; the input is
/// `fuzz/corpus/scan_source/regression-argument-after-a-multibyte-character`): a string
/// literal passed as an argument, with a non-ASCII character that is not alphanumeric
/// (U+059E) before the callee's name, made the credential pass slice inside that character
/// and panic, so `check-secrets` would have crashed on such a file. The callee's start is
/// now taken after the whole character.
#[test]
fn an_argument_after_a_multibyte_character_is_scanned_not_a_panic() {
    let text = "/REhncludeSecRENAMED: Secret = declare\u{059e}dec|aret\u{059e}d!(\"RenamedImopr999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999\"et,e);p\n*";
    assert!(text.contains('\u{59e}'));
    let declarations = secret_build::scan::scan_source(text, &["declare"]);
    assert!(declarations.is_ok(), "{declarations:?}");
}
