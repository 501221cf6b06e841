//! The grammar of secrets: what a valid secret name is ([`name`]) and what a valid
//! `secret!` declaration is (feature `tokens`, on by default).
//!
//! Both the `secret!` proc macro (`secret-macros`) and the workspace scanner
//! (`secret-build`) call `parse_invocation` on the tokens between the macro's delimiters,
//! so the macro and the check can never disagree about what a declaration is; the store and
//! the run time check names with [`validate_name`] through `secret-core`, which uses this
//! crate without the feature (no dependency at all).
//!
//! ```
//! let tokens: proc_macro2::TokenStream = r#""GitHubAPIToken""#.parse().unwrap();
//! let invocation = secret_syntax::parse_invocation(tokens).unwrap();
//! assert_eq!(invocation.name, "GitHubAPIToken");
//! ```
#![deny(missing_docs)]

pub mod name;

pub use name::{MAX_NAME_LEN, NAME_RULE, NameError, validate_name};

#[cfg(feature = "tokens")]
mod invocation;
#[cfg(feature = "tokens")]
pub use invocation::*;
