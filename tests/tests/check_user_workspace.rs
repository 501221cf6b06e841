//! The check from a user's own workspace: a workspace outside this repository whose xtask
//! depends on `secret-build` by path and is the three lines the README shows. It is built
//! with `cargo` (sharing this repository's target directory and lock file, so it reuses
//! the compiled dependencies) and `cargo xtask check-secrets` is run in it.

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};
use std::path::Path;
use std::process::{Command, Output};

use crate::check_support::{MAIN_RS, Workspace};

fn cargo_xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .current_dir(root)
        .arg("xtask")
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn check_secrets_runs_from_a_users_own_xtask() {
        let ws = Workspace::new();
        let repo = repo();
        ws.write(
            "Cargo.toml",
            &format!(
                "[workspace]\nresolver = \"3\"\nmembers = [\"app\", \"xtask\"]\n{FIXTURE_PROFILE}"
            ),
        );
        ws.write(
        "app/Cargo.toml",
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {:?} }}\n{}",
            repo.join("secret-runtime"),
            shared_deps(),
        ),
    );
        ws.write("app/src/main.rs", MAIN_RS);
        // What the README tells users to write.
        ws.write(
            ".cargo/config.toml",
            "[alias]\nxtask = \"run --quiet --package xtask --\"\n",
        );
        ws.write(
        "xtask/Cargo.toml",
        &format!(
            "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nsecret-build = {{ path = {:?} }}\n{}",
            repo.join("secret-build"),
            shared_deps(),
        ),
    );
        ws.write(
            "xtask/src/main.rs",
            "fn main() -> std::process::ExitCode {\n    secret_build::cli::main()\n}\n",
        );
        // Pin the dependency versions this repository was tested with.
        std::fs::copy(repo.join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();

        ws.set("GitHubAPIToken", "type:development,local");
        ws.set("DatabaseUrl", "type:production,development,local");
        let output = cargo_xtask(ws.root(), &["check-secrets", "--env", "prod"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
        stdout.contains(
            "error[missing-secret]: secret `GitHubAPIToken` has no value for production\n --> app/src/main.rs:5:31\n"
        ),
        "{stdout}"
    );
        assert!(
            stdout.contains("= help: cargo xtask secret set --type prod GitHubAPIToken"),
            "{stdout}"
        );

        ws.set("GitHubAPIToken", "type:production");
        let output = cargo_xtask(
            ws.root(),
            &["check-secrets", "--env", "prod", "--format", "github"],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{stdout}");
        assert_eq!(stdout, "check-secrets: 0 errors, 0 warnings\n");
    }
}
