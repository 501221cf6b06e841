//! `secret`: the CLI of `cargo xtask secret` as one program, for machines without the
//! workspace's xtask (`cargo install --git <repository> secret-build`; see the README).

fn main() -> std::process::ExitCode {
    secret_build::cli::standalone::main()
}
