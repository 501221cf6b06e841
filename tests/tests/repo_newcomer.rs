//! A newcomer's first commands: the README's test command leaves the clone clean and builds
//! into the shared target directory, and `cargo xtask` shows its progress.

use std::process::Command;

use secret_tests::repo;

/// `cargo metadata` in `dir` for `manifest`, without the caller's `CARGO_TARGET_DIR` (a
/// newcomer has none).
fn metadata(dir: &std::path::Path, manifest: &str, extra: &[&str]) -> std::process::Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .args(extra)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap()
}

/// `path` with its `..` components applied (the folder may not exist yet).
fn lexical(path: &std::path::Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[test]
fn the_examples_lock_file_is_current() {
    // `--locked` fails when cargo would have to rewrite `examples/Cargo.lock`.
    let out = metadata(&repo(), "examples/Cargo.toml", &["--locked"]);
    assert!(
        out.status.success(),
        "examples/Cargo.lock is stale; update it with `cargo update --workspace --manifest-path examples/Cargo.toml`:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_example_builds_into_the_shared_target_directory_from_the_root_and_from_its_folder() {
    let root = repo();
    for (dir, manifest) in [
        (root.clone(), "examples/Cargo.toml"),
        (root.join("examples"), "Cargo.toml"),
    ] {
        let out = metadata(&dir, manifest, &["--no-deps", "--offline"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            lexical(std::path::Path::new(
                json["target_directory"].as_str().unwrap()
            )),
            root.join("target"),
            "from {}",
            dir.display()
        );
    }
}

#[test]
fn the_xtask_alias_shows_cargos_progress() {
    for config in [".cargo/config.toml", "examples/.cargo/config.toml"] {
        let text = std::fs::read_to_string(repo().join(config)).unwrap();
        let alias = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("xtask = "))
            .unwrap_or_else(|| panic!("{config}: no `xtask` alias"));
        assert!(
            !alias
                .split_whitespace()
                .any(|word| word == "--quiet" || word == "-q"),
            "{config}: `{alias}` hides the first build, which takes minutes"
        );
    }
}
