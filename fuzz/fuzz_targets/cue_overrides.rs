//! The `.secrets.local.cue` parser: any text parses or is an error with a line inside the
//! text, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(error) = secret_core::cue::parse(text) {
        assert!(error.line >= 1 && error.line <= text.lines().count().max(1) + 1);
    }
});
