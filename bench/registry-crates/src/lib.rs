//! Nothing: the package only names crates for the scan benchmark (see Cargo.toml).
