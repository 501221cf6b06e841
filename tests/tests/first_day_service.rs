//! The README's "Use it in your workspace", end to end, on a new service workspace as a team
//! would write it: `billing` and `mailer` sharing a library, eight secrets (three optional),
//! set up with the README's own dependency lines, xtask and alias. The dependency lines name
//! the project's repository; here they point at a temporary clone of this repository
//! through a `file://` git URL (its committed state, as a user's cargo would fetch it), so
//! the git-dependency form itself is what builds. Then: the same CLI installed as one
//! program (`cargo install` of `secret-build` from the clone) runs `export` in the workspace
//! with no xtask; and a binary built like a release build ignores the workspace it was
//! built in.
//!
//! Everything builds in the suite's target directory with this repository's `Cargo.lock`,
//! so only our crates and the service are compiled; no request leaves the machine (the
//! lock file pins every registry package, whose sources cargo already holds).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};

/// The canonical repository URL, from `[workspace.package]` of the manifest.
fn repository() -> String {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|line| line.starts_with("repository = \""))
        .unwrap();
    line.split('"').nth(1).unwrap().to_owned()
}

/// The README's code block whose first line is `first_line` (its language's comment naming
/// the file), without that line's indentation.
fn readme_block(first_line: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.trim() == first_line)
        .unwrap_or_else(|| panic!("the README has no block starting `{first_line}`"));
    let indent = lines[start].len() - lines[start].trim_start().len();
    let mut block = String::new();
    for line in &lines[start..] {
        if line.trim_start().starts_with("```") {
            break;
        }
        block.push_str(line.get(indent..).unwrap_or_default());
        block.push('\n');
    }
    block
}

struct Service {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl Service {
    /// `program` with the service's environment: its own home (identity), the suite's
    /// target directory, no inherited secret variables, and a proxy on a closed local
    /// port, so that nothing could reach the network unnoticed.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&self.root)
            .env("HOME", &self.home)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("NO_COLOR", "1")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("CARGO_HTTP_TIMEOUT", "2")
            .env("CARGO_NET_RETRY", "0")
            .env_remove("RUSTFLAGS")
            .env_remove("SECRETS_ENV")
            .env_remove("SECRETS_BUILD_CHECK")
            .env_remove("SECRETS_WORKSPACE")
            .env_remove("SECRETS_IDENTITY")
            .env_remove("SECRETS_IDENTITY_KEY")
            .env_remove("SECRETS_DIR");
        command
    }

    fn cargo(&self, args: &[&str]) -> Command {
        self.command(env!("CARGO"), args)
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[track_caller]
fn run(mut command: Command, stdin: Option<&str>) -> Output {
    use std::io::Write as _;
    let described = format!("{command:?}");
    command.stdin(std::process::Stdio::piped());
    command.stdout(std::process::Stdio::piped());
    command.stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{described}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SHARED: &str = r#"//! What both services use.
use secret_runtime::{Secret, secret};

/// Postgres connection string (sqlx and diesel read DATABASE_URL)
pub static DATABASE_URL: Secret = secret!("DatabaseURL", env = "DATABASE_URL");
/// Error reporting; the service runs without it
pub static SENTRY_DSN: Secret = secret!("SentryDSN", optional);
"#;

const BILLING: &str = r#"use secret_runtime::{Secret, secret};

static STRIPE_KEY: Secret = secret!("StripeKey");
static STRIPE_WEBHOOK: Secret = secret!("StripeWebhookSecret");
static TAX_API: Secret = secret!("TaxAPIKey", optional);

fn main() -> std::process::ExitCode {
    if let Err(missing) = secret_runtime::check_all() {
        eprintln!("error: {missing}");
        return std::process::ExitCode::FAILURE;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| "unset".to_owned());
    println!(
        "billing db={} stripe={} webhook={} tax={:?} sentry={:?} DATABASE_URL={} SECRET_SmtpPassword={}",
        shared::DATABASE_URL.expose().unwrap(),
        STRIPE_KEY.expose().unwrap(),
        STRIPE_WEBHOOK.expose().unwrap(),
        TAX_API.get().unwrap(),
        shared::SENTRY_DSN.get().unwrap(),
        var("DATABASE_URL"),
        var("SECRET_SmtpPassword"),
    );
    std::process::ExitCode::SUCCESS
}
"#;

const MAILER: &str = r#"use secret_runtime::{Secret, secret};

static SMTP_PASSWORD: Secret = secret!("SmtpPassword");
static MAILGUN_KEY: Secret = secret!("MailgunKey");
static UNSUBSCRIBE: Secret = secret!("UnsubscribeSecret", optional);

fn main() {
    let _ = (&SMTP_PASSWORD, &MAILGUN_KEY, &UNSUBSCRIBE, &shared::DATABASE_URL);
}
"#;

/// The three crates, the xtask and the alias, from the README's lines; the dependency line
/// points at `url` instead of the public repository.
fn service(url: &str, dir: tempfile::TempDir) -> Service {
    let root = dir.path().join("service");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let service = Service {
        root,
        home,
        _dir: dir,
    };
    let public = repository();
    let ours = |block: String| block.replace(&public, url);
    let dependency = ours(readme_block(
        "# billing/Cargo.toml, mailer/Cargo.toml, shared/Cargo.toml",
    ));
    assert!(
        dependency.contains(&format!("git = \"{url}\"")),
        "{dependency}"
    );
    service.write(
        "Cargo.toml",
        &(readme_block("# Cargo.toml of the workspace") + FIXTURE_PROFILE),
    );
    service.write(
        "shared/Cargo.toml",
        &format!(
            "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{dependency}{}",
            shared_deps(),
        ),
    );
    service.write("shared/src/lib.rs", SHARED);
    for (name, main) in [("billing", BILLING), ("mailer", MAILER)] {
        service.write(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{dependency}shared = {{ path = \"../shared\" }}\n{}",
                shared_deps(),
            ),
        );
        service.write(&format!("{name}/src/main.rs"), main);
    }
    service.write(
        "xtask/Cargo.toml",
        &(ours(readme_block("# xtask/Cargo.toml")) + &shared_deps()),
    );
    service.write("xtask/src/main.rs", &readme_block("// xtask/src/main.rs"));
    service.write(".cargo/config.toml", &readme_block("# .cargo/config.toml"));
    std::fs::copy(repo().join("Cargo.lock"), service.root.join("Cargo.lock")).unwrap();
    service
}

/// A clone of this repository's committed state (its `HEAD`), as its `file://` URL.
fn clone(dir: &Path) -> String {
    let clone = dir.join("secrets");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repo())
        .arg(&clone)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("file://{}", clone.display())
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn the_readme_workspace_works_for_a_new_three_crate_service() {
        let dir = tempfile::tempdir().unwrap();
        let url = clone(dir.path());
        let service = service(&url, dir);

        // Set up, as the README says: init, then the types this team uses, then values.
        run(service.cargo(&["xtask", "secret", "init"]), None);
        let config = std::fs::read_to_string(service.root.join("secrets.toml")).unwrap();
        service.write(
            "secrets.toml",
            &format!("types = [\"production\", \"development\", \"local\"]\n{config}"),
        );
        service.write(".env", "DATABASE_URL=postgres://dev-db\n");
        let import = run(
            service.cargo(&["xtask", "secret", "import", "--type", "dev,local", ".env"]),
            None,
        );
        assert!(
            String::from_utf8_lossy(&import.stderr)
                .contains("DATABASE_URL is the declared secret DatabaseURL"),
            "{import:?}"
        );
        let values = [
            ("prod", "DatabaseURL", "postgres://prod-db"),
            ("dev,local", "StripeKey", "sk_test"),
            ("prod", "StripeKey", "sk_live"),
            ("dev,local,prod", "StripeWebhookSecret", "whsec"),
            ("dev,local,prod", "SmtpPassword", "smtp-pw"),
            ("dev,local,prod", "MailgunKey", "mg-key"),
        ];
        for (types, name, value) in values {
            run(
                service.cargo(&["xtask", "secret", "set", "--type", types, name]),
                Some(value),
            );
        }

        // The check: production complete, and no error for the type the team does not use.
        run(
            service.cargo(&["xtask", "check-secrets", "--env", "prod"]),
            None,
        );
        let all = run(service.cargo(&["xtask", "check-secrets"]), None);
        assert!(!text(&all).contains("preview"), "{}", text(&all));

        // `run -p billing`: billing's secrets only, DatabaseURL also as DATABASE_URL.
        run(service.cargo(&["build", "--quiet", "-p", "billing"]), None);
        let billing = target_dir().join("debug/billing");
        let out = run(
            service.cargo(&[
                "xtask",
                "secret",
                "run",
                "--env",
                "dev",
                "-p",
                "billing",
                "--",
                billing.to_str().unwrap(),
            ]),
            None,
        );
        assert_eq!(
            text(&out),
            "billing db=postgres://dev-db stripe=sk_test webhook=whsec tax=None sentry=None DATABASE_URL=postgres://dev-db SECRET_SmtpPassword=unset\n"
        );

        // A debug build finds the workspace it was built in from any folder.
        let elsewhere = tempfile::tempdir().unwrap();
        let mut debug = service.command(&billing, &[]);
        debug.current_dir(elsewhere.path());
        let out = run(debug, None);
        assert!(
            text(&out).starts_with("billing db=postgres://dev-db stripe=sk_test"),
            "{}",
            text(&out)
        );

        // The installed program, in the workspace without its xtask. Installed from the clone
        // by path and offline: `cargo install --git` (the README's form) would update the
        // crates.io index first, which a test may not do; the package is the same.
        let bin = service.root.parent().unwrap().join("installed");
        let package = url.trim_start_matches("file://").to_owned() + "/secret-build";
        run(
            service.cargo(&[
                "install",
                "--quiet",
                "--locked",
                "--offline",
                "--debug",
                "--path",
                &package,
                "--root",
                bin.to_str().unwrap(),
            ]),
            None,
        );
        std::fs::remove_dir_all(service.root.join("xtask")).unwrap();
        std::fs::remove_dir_all(service.root.join(".cargo")).unwrap();
        let manifest = std::fs::read_to_string(service.root.join("Cargo.toml")).unwrap();
        service.write("Cargo.toml", &manifest.replace(", \"xtask\"", ""));
        let secret = bin.join("bin/secret");
        let out = run(
            service.command(
                &secret,
                &[
                    "export", "--env", "prod", "-p", "mailer", "--format", "dotenv",
                ],
            ),
            None,
        );
        assert_eq!(
            text(&out),
            "SECRET_DatabaseURL='postgres://prod-db'\nSECRET_MailgunKey='mg-key'\nSECRET_SmtpPassword='smtp-pw'\nDATABASE_URL='postgres://prod-db'\n"
        );
        let out = run(
            service.command(&secret, &["check-secrets", "--env", "prod"]),
            None,
        );
        assert!(
            text(&out).contains("check-secrets passed: 8 secrets"),
            "{}",
            text(&out)
        );

        // Built the way a release build compiles the run time (no debug assertions), the
        // binary ignores the workspace it was built in: copied to a server, it reads no store.
        let manifest = std::fs::read_to_string(service.root.join("Cargo.toml")).unwrap();
        service.write(
            "Cargo.toml",
            &format!(
                "{manifest}\n[profile.dev.package.secret-runtime]\ndebug-assertions = false\n"
            ),
        );
        run(service.cargo(&["build", "--quiet", "-p", "billing"]), None);
        let mut release = service.command(&billing, &[]);
        release.current_dir(elsewhere.path());
        let out = release.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("a release build does not look in the folder it was built in"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("sk_test") && !stderr.contains("dev-db"),
            "{stderr}"
        );
        // Given the workspace explicitly, it reads it.
        let mut told = service.command(&billing, &[]);
        told.current_dir(elsewhere.path())
            .env("SECRETS_WORKSPACE", &service.root);
        run(told, None);
    }
}
