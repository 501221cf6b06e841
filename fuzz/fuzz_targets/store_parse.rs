//! The store parser (`secrets.enc.toml`): any text parses or is an error, never a panic;
//! what parses renders to text that parses back to the same store.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use secret_core::Store;

fuzz_target!(|text: &str| {
    let path = Path::new("secrets.enc.toml");
    if let Ok(store) = Store::parse(path, text) {
        let rendered = store.render();
        let again = Store::parse(path, &rendered).expect("a rendered store parses");
        assert_eq!(again.render(), rendered);
    }
});
