//! Helpers shared by the integration tests in `tests/` (fixture workspaces are in
//! `fixtures/`): where this repository and its build output are, for tests that build a
//! user workspace with cargo and reuse the dependencies already compiled for the suite.

use std::path::{Path, PathBuf};

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// The dependency profile of this repository's `Cargo.toml`, for the root manifest of a
/// fixture workspace built in [`target_dir`]: with the same profile (and features) cargo
/// reuses the dependencies compiled for the suite instead of building them again with debug
/// info.
pub const FIXTURE_PROFILE: &str = "\n[profile.dev.package.\"*\"]\ndebug = false\n\
    [profile.dev.package.curve25519-dalek]\nopt-level = 3\n\
    [profile.dev.package.sha2]\nopt-level = 3\n\
    [profile.dev.package.chacha20]\nopt-level = 3\n\
    [profile.dev.package.poly1305]\nopt-level = 3\n\
    [profile.dev.package.toml-span]\nopt-level = 3\n\
    [profile.dev.package.memchr]\nopt-level = 3\n\
    [profile.dev.package.aho-corasick]\nopt-level = 3\n";

/// Tables for the manifest of each package of a fixture workspace built in [`target_dir`]:
/// dependencies on `tests/fixtures/shared-deps`, which name the registry crates the fixtures
/// use with the features the suite's build gives them (`scripts/fixture-deps.py` writes
/// them). Cargo compiles a crate again for every new combination of features, so without
/// these a fixture depending on `secret-runtime` alone would compile `digest`, `sha2`,
/// `curve25519-dalek` and what they hold up once more. They change nothing the fixture's
/// code sees; target tables (`cfg(all())` always holds) can follow any other table.
pub fn shared_deps() -> String {
    let shared = repo().join("tests/fixtures/shared-deps");
    format!(
        "\n[target.'cfg(all())'.dependencies]\nshared-deps = {{ path = {:?} }}\n\
         [target.'cfg(all())'.build-dependencies]\nshared-host-deps = {{ path = {:?} }}\n",
        shared.join("target"),
        shared.join("host"),
    )
}

/// The target directory the running test binary was built in (it runs from
/// `<target>/debug/deps/<test>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("<target>/debug/deps/<test>")
        .to_owned()
}
