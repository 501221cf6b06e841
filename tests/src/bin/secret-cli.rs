//! The `secret` CLI as a real executable for the safety tests, which kill it, run it
//! concurrently and search its output (`env!("CARGO_BIN_EXE_secret-cli")`). The same
//! three lines a user's xtask has.

fn main() -> std::process::ExitCode {
    secret_build::cli::main()
}
