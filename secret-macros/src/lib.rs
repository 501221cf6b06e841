//! The `secret!` proc macro. Use it through `secret_runtime::secret!`.
//!
//! The macro is a thin door: [`secret_syntax::parse_invocation`] decides what a valid
//! invocation is (the workspace scanner calls the same function), and `expand` turns a
//! valid one into the fields of the `Declaration` that `secret_runtime::secret!` records
//! in a `static` next to a `const`-evaluable handle. The macro never reads a secret value.

mod check;

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
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
/// have no value (read it with `Secret::get`), and `secret!("DatabaseURL", env =
/// "DATABASE_URL")` names the environment variable a library reads it from.
///
/// This is the whole expansion in one proc macro, for a wrapper that hands it the runtime's
/// path first, in brackets (`[$crate::secrets] "Name"`), so the expansion names the runtime
/// the way the caller can reach it; without that prefix it uses `::secret_runtime`.
/// `secret_runtime::secret!` itself writes those items with `$crate` and calls
/// [`declaration!`](macro@declaration) for the rest.
#[proc_macro]
pub fn secret(input: TokenStream) -> TokenStream {
    let (krate, input) = split_crate_path(input.into());
    let declaration = proc_macro2::TokenStream::from(declaration(input.into()));
    quote! {
        {
            #declaration
            static __SECRET_DECLARATION: #krate::__private::Declaration =
                #krate::__private::Declaration::__declare(__SECRET_FIELDS);
            #krate::__private::register!(__SECRET_DECLARATION);
            #krate::Secret::__from_declaration(&__SECRET_DECLARATION)
        }
    }
    .into()
}

/// The fields of the `Declaration` that `secret_runtime::secret!` records, as the items
/// and statements that go first in its block:
/// `const __SECRET_FIELDS: (&str, &str, &str, u32, u32, &str, bool, &str) = ("Name",
/// "crate", "src/file.rs", line, column, "/manifest/dir", optional, "ENV_VAR");`, preceded by the build-time
/// check's tracking item and diagnostic when there are any (see [`check`]), which thus sit
/// in the user's item (`TOKEN::missing_secret`). An invalid invocation gives one
/// `compile_error!` at the offending tokens and placeholder fields, so the user sees one
/// error and no follow-on errors.
///
/// This runs once per declaration, so it does the least it can: the name is read from the
/// literal's text when it has no escapes, the check's files are parsed once per process,
/// and the few tokens are built with `proc_macro` directly; the items that name the
/// runtime are written by the `macro_rules!` around it.
#[doc(hidden)]
#[proc_macro]
pub fn declaration(input: TokenStream) -> TokenStream {
    match secret_syntax::parse_invocation(input.into()) {
        Ok(invocation) => expand(&invocation),
        Err(error) => {
            let mut tokens = TokenStream::from(error.to_compile_error());
            tokens.extend(fields(["", "", "", "", ""], 0, 0, false));
            tokens
        }
    }
}

/// Splits the leading `[path]` that a wrapper adds off the user's tokens.
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

/// The fields of a valid invocation, after the build-time check's tracking item and
/// diagnostic (see [`check`]) when there are any.
fn expand(invocation: &Invocation) -> TokenStream {
    let mut outcome = check::check(&invocation.name);
    if invocation.optional {
        // An optional secret may have no value anywhere: nothing to warn about.
        outcome.diagnostic = None;
    }
    // Where the declaration is, computed here rather than by expanding `env!`, `file!`,
    // `line!` and `column!` in every invocation: a crate with many declarations compiles
    // measurably faster with literals. The place is the name literal's: it comes from the
    // user's file even when `secret!` is reached through a `macro_rules!` wrapper, whose call
    // site would be in the wrapper's crate.
    let place = invocation.span.unwrap();
    let (file, line, column) = (place.file(), place.line() as u32, place.column() as u32);
    let krate = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let env = invocation.env.as_deref().unwrap_or_default();
    let fields = fields(
        [&invocation.name, &krate, &file, &manifest_dir, env],
        line,
        column,
        invocation.optional,
    );
    if !outcome.track && outcome.diagnostic.is_none() {
        return fields;
    }
    let mut tokens = TokenStream::from(feedback(&outcome, invocation.span));
    tokens.extend(fields);
    tokens
}

/// `const __SECRET_FIELDS: (&str, &str, &str, u32, u32, &str, bool, &str) = (name, crate,
/// file, line, column, manifest_dir, optional, env);`, the argument of
/// `Declaration::__declare` (`env` is the variable of `env = "..."`, or `""`).
fn fields(
    [name, krate, file, manifest_dir, env]: [&str; 5],
    line: u32,
    column: u32,
    optional: bool,
) -> TokenStream {
    let span = Span::call_site();
    let punct = |ch| TokenTree::from(Punct::new(ch, Spacing::Alone));
    let ident = |name| TokenTree::from(Ident::new(name, span));
    let mut ty = Vec::with_capacity(23);
    for (index, name) in ["str", "str", "str", "u32", "u32", "str", "bool", "str"]
        .into_iter()
        .enumerate()
    {
        if index > 0 {
            ty.push(punct(','));
        }
        if name == "str" {
            ty.push(punct('&'));
        }
        ty.push(ident(name));
    }
    let values: [TokenTree; 15] = [
        Literal::string(name).into(),
        punct(','),
        Literal::string(krate).into(),
        punct(','),
        Literal::string(file).into(),
        punct(','),
        Literal::u32_unsuffixed(line).into(),
        punct(','),
        Literal::u32_unsuffixed(column).into(),
        punct(','),
        Literal::string(manifest_dir).into(),
        punct(','),
        ident(if optional { "true" } else { "false" }),
        punct(','),
        Literal::string(env).into(),
    ];
    [
        ident("const"),
        ident("__SECRET_FIELDS"),
        punct(':'),
        Group::new(Delimiter::Parenthesis, ty.into_iter().collect()).into(),
        punct('='),
        Group::new(Delimiter::Parenthesis, values.into_iter().collect()).into(),
        punct(';'),
    ]
    .into_iter()
    .collect()
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
