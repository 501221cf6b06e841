//! The store parser (`secrets.enc.toml`): any text parses or is an error, never a panic;
//! what parses renders to text that parses back to the same store (every name, scope and
//! field), and renders the same again.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use secret_core::Store;

/// Every field of every value, removal and rules version, without the lines they were
/// read from.
fn contents(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for rules in store.rules() {
        out.push(format!(
            "rules {} {:?} {:?} {:?}",
            rules.version, rules.signed, rules.signatures, rules.changes
        ));
    }
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            out.push(format!(
                "{name} {} {:?} {:?} {:?} {:?} {:?}",
                scope.key(),
                entry.version,
                entry.recipients,
                entry.signed,
                entry.exposed,
                entry.ciphertext()
            ));
        }
    }
    for (name, scope, removal) in store.all_removals() {
        out.push(format!(
            "{name} {} removed {} {:?}",
            scope.key(),
            removal.version,
            removal.signed
        ));
    }
    out
}

fuzz_target!(|text: &str| {
    let path = Path::new("secrets.enc.toml");
    if let Ok(store) = Store::parse(path, text) {
        let rendered = store.render();
        let again = match Store::parse(path, &rendered) {
            Ok(again) => again,
            Err(error) => panic!("the rendered store does not parse: {error}\n{rendered}"),
        };
        assert_eq!(contents(&again), contents(&store), "{rendered}");
        assert_eq!(again.render(), rendered);
    }
});
