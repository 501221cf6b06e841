//! Shared by the `check_*` tests: a small user workspace in a temporary folder, with a
//! `secrets.toml`, one identity as recipient of every type, and values stored through the
//! store's own API.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use secret_build::check::Format;
use secret_core::secrecy::SecretString;
use secret_core::{Scope, Store};

/// The app's source: two declarations with doc comments.
pub const MAIN_RS: &str = r#"//! A user's service.
use secret_runtime::{Secret, secret};

/// Personal access token for deployments
static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");

/// Where the database lives
static DATABASE: Secret = secret!("DatabaseUrl");

fn main() {
    let _ = (&GITHUB_TOKEN, &DATABASE);
}
"#;

/// A user workspace: `app` declaring `GitHubAPIToken` and `DatabaseUrl`, a named
/// environment `staging` of type development, and an empty store.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub recipient: String,
    /// The one identity: recipient and writer of every type.
    pub identities: secret_core::Identities,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (identity, _) = secret_core::identity::generate_identity();
        let recipient = identity.to_public().to_string();
        let identities = secret_core::Identities::from_identity(
            identity,
            secret_core::identity::IdentitySource::None,
        );
        let workspace = Self {
            dir,
            recipient,
            identities,
        };
        workspace.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n",
        );
        workspace.write(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        workspace.write("app/src/main.rs", MAIN_RS);
        let r = &workspace.recipient;
        workspace.write(
            "secrets.toml",
            &format!(
                "[environments]\nstaging = \"development\"\n\n[recipients]\nproduction = [\"{r}\"]\ndevelopment = [\"{r}\"]\npreview = [\"{r}\"]\nlocal = [\"{r}\"]\n"
            ),
        );
        workspace
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Stores a value for `name` under `scope` (`type:production`, `env:staging`).
    pub fn set(&self, name: &str, scope: &str) {
        let scope = Scope::parse_key(scope).unwrap();
        let config = secret_core::Config::load(self.root()).unwrap();
        Store::update(self.root(), |store| {
            secret_core::edit::set(
                store,
                &config,
                name,
                &scope,
                &SecretString::from("not-checked".to_owned()),
                false,
                &self.identities,
            )
        })
        .unwrap();
    }

    /// Runs the check as the CLI does and returns its exit status (as `Debug` text, since
    /// `ExitCode` has no equality).
    pub fn run(&self, envs: &[&str], format: Format) -> String {
        self.run_packages(envs, &[], format)
    }

    /// [`Workspace::run`] with `--package` for each of `packages`.
    pub fn run_packages(&self, envs: &[&str], packages: &[&str], format: Format) -> String {
        let format = match format {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            _ => unreachable!("a format this test does not know"),
        };
        let mut args = vec!["xtask".to_owned(), "check-secrets".to_owned()];
        args.extend(["--workspace".to_owned(), self.root().display().to_string()]);
        for env in envs {
            args.extend(["--env".to_owned(), (*env).to_owned()]);
        }
        args.extend(["--format".to_owned(), format.to_owned()]);
        for package in packages {
            args.extend(["-p".to_owned(), (*package).to_owned()]);
        }
        let vars = |name: &str| std::env::var_os(name);
        self.cli(&args, &vars).0
    }
}

impl Workspace {
    /// Runs the CLI in-process on `args` (the first is the program name), from the
    /// workspace's root, reading variables through `vars`; returns the exit status (as
    /// [`exit`] text), stdout and stderr.
    pub fn cli(
        &self,
        args: &[String],
        vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    ) -> (String, String, String) {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut io = secret_build::cli::Io {
            stdin: &mut std::io::empty(),
            stdin_is_terminal: false,
            stdout: &mut stdout,
            stdout_is_terminal: false,
            stderr: &mut stderr,
            cwd: self.root().to_owned(),
            vars,
        };
        let code = format!("{:?}", secret_build::cli::run_with(args, &mut io));
        (
            code,
            String::from_utf8(stdout).unwrap(),
            String::from_utf8(stderr).unwrap(),
        )
    }
}

/// `ExitCode::from(code)` as `Debug` text, to compare with [`Workspace::run`].
pub fn exit(code: u8) -> String {
    format!("{:?}", ExitCode::from(code))
}

/// Compares `actual` with the snapshot `tests/snapshots/<name>`; `SNAPSHOTS=overwrite`
/// writes it instead.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(name);
    if std::env::var_os("SNAPSHOTS").is_some_and(|value| value == "overwrite") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot at {}; run with SNAPSHOTS=overwrite to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "output differs from {} (SNAPSHOTS=overwrite updates it)",
        path.display()
    );
}
