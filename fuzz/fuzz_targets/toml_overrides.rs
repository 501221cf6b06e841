//! The `.secrets.local.toml` parser: any text parses or is an error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = secret_core::overrides::parse_toml(Path::new(".secrets.local.toml"), text);
});
