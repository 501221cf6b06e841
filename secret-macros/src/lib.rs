//! The `secret!` proc macro. Use it through `secret_runtime::secret!`.
//!
//! The macro is a thin door: [`secret_syntax::parse_invocation`] decides what a valid
//! invocation is (the workspace scanner calls the same function), and [`expand`] turns a
//! valid one into a `const`-evaluable handle. The macro never reads a secret value.

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use secret_syntax::Invocation;

/// Declares a secret by name and evaluates to a `secret_runtime::Secret` handle.
///
/// ```ignore
/// static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");
/// ```
///
/// The argument is one string literal: an ASCII letter, then ASCII letters, digits or `_`,
/// at most 128 characters.
#[proc_macro]
pub fn secret(input: TokenStream) -> TokenStream {
    match secret_syntax::parse_invocation(input.into()) {
        Ok(invocation) => expand(&invocation),
        Err(error) => fallback(&error),
    }
    .into()
}

/// The expansion of a valid invocation: a declaration registered in the binary's list of
/// secrets, and the handle that points at it.
fn expand(invocation: &Invocation) -> proc_macro2::TokenStream {
    let name = &invocation.name;
    quote_spanned! {invocation.span=>
        {
            static __SECRET_DECLARATION: ::secret_runtime::__private::Declaration =
                ::secret_runtime::__private::Declaration::__new(
                    #name,
                    ::core::env!("CARGO_PKG_NAME"),
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    ::core::option_env!("CARGO_MANIFEST_DIR"),
                );
            ::secret_runtime::__private::register!(__SECRET_DECLARATION);
            ::secret_runtime::Secret::__from_declaration(&__SECRET_DECLARATION)
        }
    }
}

/// One `compile_error!` at the offending tokens plus a correctly typed placeholder, so the
/// user sees one error and no follow-on type errors.
fn fallback(error: &syn::Error) -> proc_macro2::TokenStream {
    let compile_error = error.to_compile_error();
    quote! {
        {
            #compile_error
            ::secret_runtime::Secret::__invalid()
        }
    }
}
