//! The tooling side of the project: the workspace scanner, the check, store editing, the
//! CLI engine behind `cargo xtask secret ...` and `cargo xtask check-secrets`, and the
//! build-script helper.
//!
//! Libraries return data; only [`cli`] prints and chooses exit codes.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

// What the xtask and a build script need is `cli`, `build` and the check's library form;
// `backend` and `git` serve the CLI and the tests, and are not a stable API.
#[doc(hidden)]
pub mod backend;
#[cfg(feature = "build-helper")]
pub mod build;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
#[doc(hidden)]
pub mod git;
pub mod scan;
#[cfg(feature = "cli")]
mod table;
#[doc(hidden)]
pub mod trusted;
