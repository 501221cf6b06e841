//! The tooling side of the project: the workspace scanner, the check, store editing, the
//! CLI engine behind `cargo xtask secret ...` and `cargo xtask check-secrets`, and the
//! build-script helper.
//!
//! Libraries return data; only [`cli`] prints and chooses exit codes.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod backend;
#[cfg(feature = "build-helper")]
pub mod build;
pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod git;
pub mod scan;
#[cfg(feature = "cli")]
mod table;
