//! Helpers for the safety tests: a seeded random generator (the seed is printed so a
//! failure can be replayed with `SAFETY_SEED=<n>`), a temporary workspace whose
//! `secrets.toml` makes a generated identity the recipient of every type, and running the
//! real `secret-cli` executable in it.
#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use secret_core::identity::generate_identity;
use secret_core::secrecy::ExposeSecret;

/// The CLI executable (`tests/src/bin/secret-cli.rs`).
pub const CLI: &str = env!("CARGO_BIN_EXE_secret-cli");

/// splitmix64: small, seedable, good enough to pick test inputs.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `SAFETY_SEED`, else from the clock; prints the seed.
    pub fn from_env(test: &str) -> Self {
        let seed = std::env::var("SAFETY_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                now.as_nanos() as u64 ^ (u64::from(std::process::id()) << 32)
            });
        eprintln!("{test}: SAFETY_SEED={seed}");
        Self(seed)
    }

    pub fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// `len` random alphanumeric characters.
    pub fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char)
            .collect()
    }

    /// A random string of any characters: ASCII punctuation, quotes, backslashes, `=`,
    /// `#`, `$`, control characters, tabs, non-ASCII letters and emoji. Never empty.
    pub fn any_string(&mut self, max_len: usize) -> String {
        const PIECES: &[&str] = &[
            "\"", "'", "\\", "=", "#", "$", "{", "}", "`", " ", "\t", "\n", "\r", "\0", "\u{1}",
            "é", "ß", "日本", "😀", "\u{feff}", "\u{7f}", "\\n", "${X}", "\"\"\"", "//", "+", "/",
            "-", "_",
        ];
        let len = 1 + self.below(max_len as u64) as usize;
        let mut out = String::new();
        while out.chars().count() < len {
            if self.below(3) == 0 {
                out.push_str(PIECES[self.below(PIECES.len() as u64) as usize]);
            } else {
                let ch = char::from_u32(0x20 + self.below(0x5f) as u32).unwrap();
                out.push(ch);
            }
        }
        out
    }
}

/// A temporary workspace with an identity that is the recipient of every type.
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    pub identity: PathBuf,
    pub public: String,
}

impl Ws {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let (key, text) = generate_identity();
        let identity = home.path().join("identity.txt");
        std::fs::write(&identity, text.expose_secret()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let public = key.to_public().to_string();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        std::fs::write(
            dir.path().join("secrets.toml"),
            format!(
                "[environments]\nstaging = \"development\"\n\n[recipients]\nproduction = [\"{public}\"]\ndevelopment = [\"{public}\"]\npreview = [\"{public}\"]\nlocal = [\"{public}\"]\n"
            ),
        )
        .unwrap();
        Self {
            dir,
            home,
            identity,
            public,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The CLI with this workspace's environment: `HOME`, `SECRETS_IDENTITY`, no colour.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(CLI);
        command
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("SECRETS_IDENTITY", &self.identity)
            .env("NO_COLOR", "1");
        // `cargo metadata` (the check's scanner) needs the toolchain, found from the real
        // home folder.
        let real_home = std::env::var_os("HOME").map(PathBuf::from);
        for (var, default) in [("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")] {
            match (std::env::var_os(var), &real_home) {
                (Some(value), _) => {
                    command.env(var, value);
                }
                (None, Some(home)) => {
                    command.env(var, home.join(default));
                }
                (None, None) => {}
            }
        }
        for var in ["CARGO", "RUSTUP_TOOLCHAIN"] {
            if let Some(value) = std::env::var_os(var) {
                command.env(var, value);
            }
        }
        command
    }

    /// Runs the CLI with `stdin` piped in.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// `secret set --type <types> <name>` with `value` on stdin; asserts success.
    pub fn set(&self, types: &str, name: &str, value: &str) -> Output {
        let output = self.run(&["secret", "set", "--type", types, name], value.as_bytes());
        assert_success(&output);
        output
    }

    pub fn identities(&self) -> secret_core::Identities {
        secret_core::Identities::from_file(&self.identity).unwrap()
    }
}

#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
