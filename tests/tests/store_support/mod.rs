//! Helpers for the store and CLI tests: a temporary workspace with its own home folder,
//! generated identities, and running the CLI in-process with captured streams.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use secret_build::cli::{Io, run_with};
use secret_core::identity::generate_identity;
use secret_core::secrecy::ExposeSecret;

/// A temporary Cargo workspace and home folder.
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub vars: BTreeMap<String, OsString>,
}

/// What a command printed and its exit status.
#[derive(Debug)]
pub struct Out {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A generated identity: its file and public key.
pub struct Key {
    pub file: PathBuf,
    pub public: String,
}

impl Ws {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut vars = BTreeMap::new();
        vars.insert("HOME".to_owned(), home.path().as_os_str().to_owned());
        Self { dir, home, vars }
    }

    /// Makes the workspace have one member, `app`, whose `src/main.rs` is `main_rs`.
    pub fn with_app(&self, main_rs: &str) {
        self.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n",
        );
        std::fs::create_dir_all(self.root().join("app/src")).unwrap();
        self.write(
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        self.write("app/src/main.rs", main_rs);
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn store_path(&self) -> PathBuf {
        self.root().join("secrets.enc.toml")
    }

    pub fn store_bytes(&self) -> Vec<u8> {
        std::fs::read(self.store_path()).unwrap_or_default()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.root().join(name), text).unwrap();
    }

    /// Generates an identity file outside the workspace; never committed anywhere.
    pub fn key(&self, name: &str) -> Key {
        let (key, text) = generate_identity();
        let file = self.home.path().join(format!("{name}.txt"));
        std::fs::write(&file, text.expose_secret()).unwrap();
        // Private, as `secret init` and `age-keygen -o` write it (else every command warns).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Key {
            file,
            public: key.to_public().to_string(),
        }
    }

    /// Uses `key` for the following commands (through `SECRETS_IDENTITY`).
    pub fn use_key(&mut self, key: &Key) {
        self.vars.insert(
            "SECRETS_IDENTITY".to_owned(),
            key.file.as_os_str().to_owned(),
        );
    }

    /// Runs `cargo xtask secret <args> --workspace <root>` with `stdin` piped in.
    pub fn secret(&self, args: &[&str], stdin: &str) -> Out {
        self.run(args, stdin, false, false)
    }

    pub fn run(&self, args: &[&str], stdin: &str, stdin_tty: bool, stdout_tty: bool) -> Out {
        self.xtask("secret", args, stdin, stdin_tty, stdout_tty)
    }

    /// Runs `cargo xtask check-secrets <args> --workspace <root>`.
    pub fn check(&self, args: &[&str]) -> Out {
        self.xtask("check-secrets", args, "", false, false)
    }

    /// Runs `cargo xtask <command> <args> --workspace <root>` in process.
    fn xtask(
        &self,
        command: &str,
        args: &[&str],
        stdin: &str,
        stdin_tty: bool,
        stdout_tty: bool,
    ) -> Out {
        let mut argv: Vec<OsString> = vec!["xtask".into(), command.into()];
        argv.extend(args.iter().map(OsString::from));
        argv.push("--workspace".into());
        argv.push(self.root().as_os_str().to_owned());
        let mut input = stdin.as_bytes();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let vars = |name: &str| self.vars.get(name).cloned();
        let mut io = Io {
            stdin: &mut input,
            stdin_is_terminal: stdin_tty,
            stdout: &mut stdout,
            stdout_is_terminal: stdout_tty,
            stderr: &mut stderr,
            cwd: self.root().to_owned(),
            vars: &vars,
        };
        let code = run_with(argv, &mut io);
        Out {
            code: code_of(code),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    /// `secrets.toml` with `[environments]` and recipients given as TOML lines.
    pub fn config(&self, environments: &str, recipients: &str) {
        self.write(
            "secrets.toml",
            &format!("[environments]\n{environments}\n[recipients]\n{recipients}\n"),
        );
    }
}

pub fn code_of(code: ExitCode) -> u8 {
    (0..=255u8)
        .find(|n| ExitCode::from(*n) == code)
        .expect("an exit code")
}

/// Asserts a command succeeded, showing its output otherwise.
#[track_caller]
pub fn ok(out: &Out) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// Runs git in `dir` with no user or system configuration and a fixed author; returns what it
/// printed and its status.
pub fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Tester")
        .env("GIT_AUTHOR_EMAIL", "tester@example.invalid")
        .env("GIT_COMMITTER_NAME", "Tester")
        .env("GIT_COMMITTER_EMAIL", "tester@example.invalid")
        .output()
        .expect("git runs")
}

/// [`git`], asserting it succeeded; returns its standard output.
#[track_caller]
pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An armored age file of `value` encrypted to `recipients`, made with the `age` crate the
/// way the `age` tool writes it (what someone without the tool's keys can write).
pub fn age_encrypt(recipients: &[&str], value: &str) -> String {
    use std::io::Write as _;
    use std::str::FromStr as _;
    let keys: Vec<age::x25519::Recipient> = recipients
        .iter()
        .map(|key| age::x25519::Recipient::from_str(key).unwrap())
        .collect();
    let encryptor = age::Encryptor::with_recipients(keys.iter().map(|key| key as _)).unwrap();
    let mut out = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut writer = encryptor.wrap_output(armor).unwrap();
    writer.write_all(value.as_bytes()).unwrap();
    writer.finish().unwrap().finish().unwrap();
    String::from_utf8(out).unwrap()
}
