//! The store parser (`secrets.enc.toml`): any text parses or is an error, never a panic;
//! what parses renders to text that parses back to the same store (every name, scope and
//! field), and renders the same again.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use secret_core::Store;

/// Every field of every value, without the lines they were read from.
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
