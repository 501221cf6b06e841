//! The `secret!` grammar: `validate_name` on any string, and `parse_invocation` on the
//! tokens of any text that lexes. A name the invocation grammar accepts is a valid name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;

fuzz_target!(|text: &str| {
    let valid = secret_syntax::validate_name(text).is_ok();
    if valid {
        assert!(text.len() <= 128 && text.is_ascii());
    }
    if let Ok(tokens) = text.parse::<TokenStream>() {
        if let Ok(invocation) = secret_syntax::parse_invocation(tokens) {
            assert!(secret_syntax::validate_name(&invocation.name).is_ok());
        }
    }
});
