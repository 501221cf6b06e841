//! The on-disk formats shared by the run time and the tooling: `secrets.toml` (environments,
//! recipients, backend) and `secrets.enc.toml` (the age-encrypted values).
//!
//! Architecture invariant: nothing here ever prints, logs or formats a secret value; values
//! only leave this crate inside [`secrecy`] wrappers.
#![deny(missing_docs)]

pub mod config;
pub mod env;
pub mod error;
pub mod workspace;

pub use config::{CONFIG_FILE, Config};
pub use env::{EnvKind, EnvType, Environment, Scope};
pub use error::FileError;
