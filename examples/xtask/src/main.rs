//! `cargo xtask secret ...` and `cargo xtask check-secrets` for this workspace: all a
//! workspace needs is this file, a three-line `Cargo.toml` and the alias in
//! `.cargo/config.toml`.

fn main() -> std::process::ExitCode {
    secret_build::cli::main()
}
