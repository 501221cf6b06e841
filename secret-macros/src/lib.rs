//! The `secret!` proc macro. Use it through `secret_runtime::secret!`.
//!
//! The macro is a thin door: [`secret_syntax::parse_invocation`] decides what a valid
//! invocation is (the workspace scanner calls the same function), and [`expand`] turns a
//! valid one into a `const`-evaluable handle. The macro never reads a secret value.

mod check;

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use secret_syntax::Invocation;

use crate::check::{Diagnostic, Outcome};

/// Declares a secret by name and evaluates to a `secret_runtime::Secret` handle.
///
/// ```ignore
/// static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");
/// ```
///
/// The argument is one string literal: an ASCII letter, then ASCII letters, digits or `_`,
/// at most 128 characters; `secret!("SentryDSN", optional)` declares a secret that may
/// have no value (read it with `Secret::get`).
///
/// `secret_runtime::secret!` calls it with the runtime's path first, in brackets
/// (`[$crate] "Name"`), so the expansion names the runtime the way the caller can reach it
/// (renamed dependency, re-export); without that prefix it uses `::secret_runtime`.
#[proc_macro]
pub fn secret(input: TokenStream) -> TokenStream {
    let (krate, input) = split_crate_path(input.into());
    match secret_syntax::parse_invocation(input) {
        Ok(invocation) => expand(&invocation, &krate),
        Err(error) => fallback(&error, &krate),
    }
    .into()
}

/// Splits the leading `[path]` that `secret_runtime::secret!` adds off the user's tokens.
fn split_crate_path(
    input: proc_macro2::TokenStream,
) -> (proc_macro2::TokenStream, proc_macro2::TokenStream) {
    let mut tokens = input.clone().into_iter();
    match tokens.next() {
        Some(proc_macro2::TokenTree::Group(group))
            if group.delimiter() == proc_macro2::Delimiter::Bracket =>
        {
            (group.stream(), tokens.collect())
        }
        _ => (quote!(::secret_runtime), input),
    }
}

/// The expansion of a valid invocation: a declaration registered in the binary's list of
/// secrets, and the handle that points at it; plus the build-time check's tracking item and
/// diagnostic (see [`check`]).
fn expand(
    invocation: &Invocation,
    krate_path: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let name = &invocation.name;
    let optional = invocation.optional;
    let mut outcome = check::check(name);
    if optional {
        // An optional secret may have no value anywhere: nothing to warn about.
        outcome.diagnostic = None;
    }
    let feedback = feedback(&outcome, invocation.span);
    // Where the declaration is, computed here rather than by expanding `env!`, `file!`,
    // `line!` and `column!` in every invocation: a crate with many declarations compiles
    // measurably faster with literals. The place is the name literal's: it comes from the
    // user's file even when `secret!` is reached through a `macro_rules!` wrapper, whose call
    // site would be in the wrapper's crate.
    let place = invocation.span.unwrap();
    let (file, line, column) = (place.file(), place.line() as u32, place.column() as u32);
    let krate = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    let manifest_dir = match std::env::var("CARGO_MANIFEST_DIR") {
        Ok(dir) => quote!(::core::option::Option::Some(#dir)),
        Err(_) => quote!(::core::option::Option::None),
    };
    quote_spanned! {invocation.span=>
        {
            #feedback
            static __SECRET_DECLARATION: #krate_path::__private::Declaration =
                #krate_path::__private::Declaration::__new(#name, #krate, #file, #line, #column, #manifest_dir)
                    .__optional(#optional);
            #krate_path::__private::register!(__SECRET_DECLARATION);
            #krate_path::Secret::__from_declaration(&__SECRET_DECLARATION)
        }
    }
}

/// The tokens that make rustc track the store and the variables, and show the diagnostic
/// at `at`, the name literal (the one place of the user's file a `macro_rules!` wrapper
/// cannot hide). Stable Rust has no warning API for proc macros: a warning is the use
/// of a `#[deprecated]` constant whose note is the message.
fn feedback(outcome: &Outcome, at: proc_macro2::Span) -> proc_macro2::TokenStream {
    let mut tokens = proc_macro2::TokenStream::new();
    if outcome.track {
        let files = outcome
            .tracked_files
            .iter()
            .map(|file| file.to_string_lossy().into_owned());
        tokens.extend(quote! {
            const _: () = {
                #( let _ = ::core::include_bytes!(#files); )*
                let _ = ::core::option_env!("SECRETS_ENV");
                let _ = ::core::option_env!("SECRETS_BUILD_CHECK");
            };
        });
    }
    match &outcome.diagnostic {
        None => {}
        Some(Diagnostic::Warning(message)) => tokens.extend(quote_spanned! {at=>
            #[deprecated(note = #message)]
            #[allow(non_upper_case_globals)]
            const missing_secret: () = ();
            let () = missing_secret;
        }),
        Some(Diagnostic::Unchecked(message)) => tokens.extend(quote_spanned! {at=>
            #[deprecated(note = #message)]
            #[allow(non_upper_case_globals)]
            const secrets_unchecked: () = ();
            let () = secrets_unchecked;
        }),
        Some(Diagnostic::Error(message)) => tokens.extend(quote_spanned! {at=>
            ::core::compile_error!(#message);
        }),
    }
    tokens
}

/// One `compile_error!` at the offending tokens plus a correctly typed placeholder, so the
/// user sees one error and no follow-on type errors.
fn fallback(error: &syn::Error, krate_path: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let compile_error = error.to_compile_error();
    quote! {
        {
            #compile_error
            #krate_path::Secret::__invalid()
        }
    }
}
