//! The scanner's per-file pass (pre-filter, lexer, token walk) on any text, looking for
//! `secret!` and an alias: a count or the lexer's message, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = secret_build::scan::scan_source(text, &["declare"]);
});
