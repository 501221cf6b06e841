//! Declare secrets where they are used and resolve their values at run time.
//!
//! ```no_run
//! use secret_runtime::{secret, Secret};
//!
//! /// Personal access token for deployments
//! static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");
//!
//! fn call_github() -> Result<(), secret_runtime::Error> {
//!     let token = GITHUB_TOKEN.expose()?; // resolved on first use, cached afterwards
//!     let _header = format!("Authorization: Bearer {token}");
//!     Ok(())
//! }
//! ```
//!
//! `SECRETS_ENV` selects the environment (default `local`). A handle resolves from, first
//! hit wins:
//! 1. for `local` environments only, the override files `.secrets.local.toml` and
//!    `.secrets.local.cue` at the workspace root;
//! 2. the environment variable `SECRET_<Name>`, then the variable a declaration names with
//!    `secret!("DatabaseURL", env = "DATABASE_URL")`;
//! 3. the file `$SECRETS_DIR/<Name>`;
//! 4. the encrypted store `secrets.enc.toml` (feature `store`, on by default), or, when
//!    `secrets.toml` has a `[backend]` table, the Vault/OpenBao KV v2 engine (feature
//!    `vault`).
//!
//! The workspace root is `SECRETS_WORKSPACE` if set, else (debug builds only) found from
//! the crate's build-time manifest folder, else from the current folder: a release binary
//! copied to a server never reads the development store of the folder it was built in.
//!
//! Architecture invariant: this crate never parses Rust and never writes a file; values are
//! held in [`secrecy`] wrappers, zeroed on drop, and appear in no message.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod check;
mod error;
mod handle;
mod registry;
mod resolver;
pub mod source;
#[cfg(feature = "store")]
mod store;
#[cfg(feature = "store")]
pub use store::StoreSource;
#[cfg(feature = "vault")]
mod vault;
#[cfg(feature = "vault")]
pub use vault::VaultSource;

pub use check::check_all;
pub use error::{Error, ErrorKind, MissingSecrets};
pub use handle::Secret;
pub use registry::{Declaration, declarations};
pub use resolver::{Resolver, install};
/// The `secrecy` crate, whose [`secrecy::SecretString`] [`Resolver::resolve`] and
/// [`source::Lookup`] carry values in.
pub use secrecy;
pub use secret_core::{EnvKind, EnvType, Environment, FileError};

/// Declares a secret by name and evaluates to a [`Secret`] handle.
///
/// ```
/// use secret_runtime::{Secret, secret};
/// static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");
/// ```
///
/// The argument is one string literal: an ASCII letter, then ASCII letters, digits or `_`,
/// at most 128 characters. The macro works under a renamed dependency
/// (`secrets = { package = "secret-runtime", ... }` then `secrets::secret!`) and from another
/// crate's `macro_rules!` that re-exports this crate: the items that name this crate are
/// written with `$crate`, never `::secret_runtime`.
#[macro_export]
macro_rules! secret {
    // The proc macro expands only to what depends on the invocation (the declaration's
    // fields, and the build-time check's diagnostics); the items that name this crate are
    // written here, by `$crate`, which is the fastest way for the compiler to expand them.
    ($($invocation:tt)*) => {{
        $crate::__private::declaration!($($invocation)*);
        static __SECRET_DECLARATION: $crate::__private::Declaration =
            $crate::__private::Declaration::__declare(__SECRET_FIELDS);
        $crate::__private::register!(__SECRET_DECLARATION);
        $crate::Secret::__from_declaration(&__SECRET_DECLARATION)
    }};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::Declaration;
    pub use crate::registry::Registered;
    pub use inventory;
    /// The proc macro behind [`secret!`](crate::secret): the `const __SECRET_FIELDS` of a
    /// [`Declaration`], after the build-time check's diagnostics.
    pub use secret_macros::declaration;
    /// The whole expansion of [`secret!`](crate::secret) in one proc macro, for a wrapper
    /// that hands it this crate's path: `__private::secret!([$crate::path] "Name")`.
    pub use secret_macros::secret;

    /// Registers a declaration in the binary's list of secrets.
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __secret_register {
        ($declaration:ident) => {
            $crate::__private::inventory::submit! {
                $crate::__private::Registered(&$declaration)
            }
        };
    }
    pub use crate::__secret_register as register;
}
