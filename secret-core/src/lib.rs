//! The on-disk formats shared by the run time and the tooling: `secrets.toml` (environments,
//! recipients, backend) and `secrets.enc.toml` (the age-encrypted values).
//!
//! Architecture invariant: nothing here ever prints, logs or formats a secret value; values
//! only leave this crate inside [`secrecy`] wrappers.
//!
//! Features, each adding to the one before:
//!
//! - none: names, scopes and recipients (checked with `secret-age`'s Bech32 codec): what the
//!   `secret!` macro needs at compile time, kept cheap to build;
//! - `verify`: identities, and who wrote each stored value (signatures, [`trust`]) without
//!   decrypting: what the build-script helper needs;
//! - `crypto`: decryption ([`state::State::decrypt`]): what the run time needs;
//! - `write` (default): encryption, signing, new identities ([`edit`]): what the CLI needs.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod aws;
pub mod backend;
#[cfg(feature = "verify")]
pub mod build_check;
#[cfg(feature = "crypto")]
mod cipher;
pub mod config;
pub mod cue;
#[cfg(feature = "verify")]
pub mod edit;
pub mod env;
pub mod error;
mod file_error;
pub mod files;
#[cfg(feature = "verify")]
pub mod identity;
#[cfg(feature = "verify")]
pub mod memory;
pub mod merge;
pub mod overrides;
#[cfg(feature = "crypto")]
mod read;
pub mod recipient;
pub mod rules;
#[cfg(feature = "verify")]
mod sign;
#[cfg(feature = "verify")]
pub mod state;
pub mod store;
pub mod text;
mod toml_file;
mod toml_write;
pub mod trust;
pub mod workspace;

pub use backend::{BackendConfig, BackendError, BackendErrorKind};
pub use config::{CONFIG_FILE, Config};
pub use env::{EnvKind, EnvType, Environment, Scope};
pub use error::{Error, FileError};
#[cfg(feature = "verify")]
pub use identity::Identities;
pub use store::{Entry, STORE_FILE, Store};

pub use secret_syntax::name::{NAME_RULE, NameError, validate_name};

/// Whether `name` follows [`NAME_RULE`]. Every name read from a file or given to the
/// run time is checked with it, so a name is never a path, a variable assignment or a line
/// break.
pub fn is_secret_name(name: &str) -> bool {
    secret_syntax::name::validate_name(name).is_ok()
}

/// The `secrecy` crate, whose [`secrecy::SecretString`] carries values out of this crate.
pub use secrecy;
