//! `cargo xtask`: this workspace's tasks — `cargo xtask secret ...` and
//! `cargo xtask check-secrets`. The whole CLI lives in `secret_build::cli`, so any workspace
//! gets it with the same three lines.

fn main() -> std::process::ExitCode {
    secret_build::cli::main()
}
