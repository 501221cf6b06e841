//! The tooling side of the project: the workspace scanner, the check, store editing, the
//! CLI engine behind `cargo xtask secret ...` and `cargo xtask check-secrets`, and the
//! build-script helper.
//!
//! Libraries return data; only [`cli`] prints and chooses exit codes.
#![deny(missing_docs)]

pub mod backend;
pub mod build;
pub mod check;
pub mod cli;
pub mod git;
pub mod scan;
mod table;
