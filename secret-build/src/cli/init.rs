//! `secret init`: sets a workspace and a developer up.
//!
//! - finds the identity (`SECRETS_IDENTITY_KEY`, `SECRETS_IDENTITY`, the default file) or
//!   creates `$HOME/.config/secrets/identity.txt` (`0600`, folder `0700`), or the file named
//!   by `SECRETS_IDENTITY`; prints the public key, never the private one;
//! - creates `secrets.toml` with commented examples if it is missing;
//! - when `secrets.toml` lists no recipient at all, adds the public key for all four types;
//! - creates an empty `secrets.enc.toml` if it is missing;
//! - appends `.secrets.local.toml`, `.secrets.local.cue` and the store's lock file to
//!   `.gitignore` when missing;
//! - adds the store's merge and diff drivers to `.gitattributes` and, in a git clone, to its
//!   `.git/config`, running a copy of this program kept in the clone's git folder (or the
//!   command in `SECRETS_GIT_COMMAND`);
//! - with `--hook`, installs the pre-commit hook of [`super::hook`].

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use secret_core::identity::{IdentitySource, generate_identity};
use secret_core::{CONFIG_FILE, Config, FileError, Identities};

use super::{Failure, Io, escaped};

const GITIGNORE_LINES: [&str; 3] = [
    secret_core::overrides::OVERRIDE_TOML,
    secret_core::overrides::OVERRIDE_CUE,
    secret_core::store::LOCK_FILE,
];

/// Arguments of `secret init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Also install a pre-commit hook in this clone that checks the staged Rust files for
    /// credentials written into them (opt-in; `git commit --no-verify` skips it)
    #[arg(long)]
    hook: bool,
}

pub(crate) fn run(root: &Path, args: &InitArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let public = identity(io)?;
    let config_path = root.join(CONFIG_FILE);
    let existing = match std::fs::read_to_string(&config_path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(Failure::usage(format!(
                "{}: cannot read the file: {error}",
                config_path.display()
            )));
        }
    };
    match existing {
        None => {
            write_file(&config_path, &template(&public))?;
            let _ = writeln!(
                io.stdout,
                "created {} with your key as recipient for every type",
                config_path.display()
            );
        }
        Some(text) => {
            let config = Config::parse(&config_path, &text)?;
            let all: Vec<&String> = config.recipients.values().flatten().collect();
            if all.is_empty() {
                write_file(&config_path, &add_recipients(&text, &config.types, &public))?;
                Config::load(root)?;
                let _ = writeln!(
                    io.stdout,
                    "added your key to [recipients] in {} for every type it uses",
                    config_path.display()
                );
            } else if !all.contains(&&public) {
                let _ = writeln!(
                    io.stdout,
                    "note: your key is not a recipient yet; ask a teammate who is to add it to [recipients] in {CONFIG_FILE} and run `cargo xtask secret rekey`"
                );
            }
        }
    }
    create_store(root, io)?;
    update_gitignore(root, io)?;
    setup_git(root, io);
    if args.hook {
        super::hook::install(root, io)?;
    }
    Ok(())
}

/// The merge and diff drivers for the store: `.gitattributes` (committed) and this clone's
/// git configuration. A failure is a warning: the store works without them.
fn setup_git(root: &Path, io: &mut Io<'_>) {
    let command = (io.vars)(crate::git::DRIVER_COMMAND_VAR)
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.trim().is_empty());
    match crate::git::configure(root, command.as_deref()) {
        Ok(done) => {
            if done.attributes_added {
                let _ = writeln!(
                    io.stdout,
                    "added the store's merge and diff drivers to .gitattributes (commit it)"
                );
            }
            if done.no_repository {
                let _ = writeln!(
                    io.stdout,
                    "note: not a git repository yet: after `git init`, run `cargo xtask secret init` again to set up this clone's merge and diff drivers"
                );
            }
            if !done.commands.is_empty() {
                let _ = writeln!(
                    io.stdout,
                    "configured this clone's git to merge secrets.enc.toml per secret and scope and to diff it one line per value, with a copy of this tool in the clone's git folder (git never builds or runs the checked-out code for it; run `init` again after upgrading the tool)"
                );
            }
            if done.uncached {
                let _ = writeln!(
                    io.stdout,
                    "note: git has no identity here (user.name, user.email), which its cache of the store's diff lines needs: each diff converts the store again; run `cargo xtask secret init` again after setting one"
                );
            }
        }
        Err(error) => {
            let _ = writeln!(
                io.stderr,
                "warning: could not set up git's merge driver for the store: {}",
                escaped(&error)
            );
        }
    }
}

/// Marks the workspace's `Cargo.toml` as modified, so that crates built before
/// the store existed are rebuilt and the `secret!` macro's build-time check runs (the
/// macro tracks that manifest while there is no `secrets.toml`). Best effort.
fn touch_manifest(root: &Path) {
    let manifest = root.join("Cargo.toml");
    if let Ok(file) = std::fs::OpenOptions::new().append(true).open(&manifest) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

/// Writes an empty `secrets.enc.toml` when there is none, so that the file exists from the
/// start: the `secret!` macro names it for rebuild tracking only when it exists, and a
/// build must notice the first `set`.
fn create_store(root: &Path, io: &mut Io<'_>) -> Result<(), Failure> {
    let path = root.join(secret_core::STORE_FILE);
    if path.exists() {
        return Ok(());
    }
    secret_core::Store::empty(path.clone()).write()?;
    touch_manifest(root);
    let _ = writeln!(io.stdout, "created {}", path.display());
    Ok(())
}

/// Finds or creates the identity; returns its public key.
fn identity(io: &mut Io<'_>) -> Result<String, Failure> {
    let found = Identities::from_vars(io.vars)?;
    if let Some(public) = found.public_keys().first() {
        let _ = writeln!(io.stdout, "identity: {} (from {})", public, found.source());
        let _ = writeln!(io.stdout, "public key: {public}");
        return Ok(public.clone());
    }
    let path: PathBuf = match found.source() {
        IdentitySource::File { path, .. } => path.clone(),
        IdentitySource::KeyVar => {
            return Err(
                Failure::usage("SECRETS_IDENTITY_KEY holds no age identity".to_owned())
                    .with_help("set it to an `AGE-SECRET-KEY-1...` key, or unset it"),
            );
        }
        IdentitySource::None => {
            return Err(Failure::usage(
                "no place for an identity: HOME and SECRETS_IDENTITY are not set".to_owned(),
            )
            .with_help("set SECRETS_IDENTITY to the path of the identity file to create"));
        }
    };
    let (key, text) = generate_identity();
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(|error| {
            Failure::usage(format!(
                "{}: cannot create the folder: {error}",
                dir.display()
            ))
        })?;
    }
    secret_core::files::create_private(&path, text.expose_secret().as_bytes()).map_err(
        |error| {
            Failure::usage(format!(
                "{}: cannot create the identity: {error}",
                path.display()
            ))
        },
    )?;
    let public = key.to_public().to_string();
    let _ = writeln!(io.stdout, "created identity {}", path.display());
    let _ = writeln!(io.stdout, "public key: {public}");
    Ok(public)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// One `type = ["key"]` line per type the project uses.
fn recipients_block(types: &[secret_core::EnvType], public: &str) -> String {
    let mut block = String::new();
    for ty in types {
        block.push_str(&format!("{} = [\"{public}\"]\n", ty.name()));
    }
    block
}

fn template(public: &str) -> String {
    format!(
        "# Secrets of this workspace: environments, who can read and who can write values.
# Values are stored age-encrypted in secrets.enc.toml (`cargo xtask secret set`).
#
# These are the access rules. Readers go by the rules as they were last signed, so a change
# here takes effect once someone allowed to make it signs it: `cargo xtask secret rekey`
# shows who gains and who loses access, then signs the change (a production writer signs
# changes to production) and re-encrypts the values.

# Who may sign any change to these rules (default: the writers of production).
# admins = [\"age1...\"]

# The environment types this project uses (all four when absent); a type left out is
# never checked nor missing anywhere.
# types = [\"production\", \"development\", \"local\"]

# The people of the team, whose names [recipients] and [writers] may use instead of keys.
# [people]
# alice = \"age1...\"

# Named environments and their types (production, development, preview, local).
[environments]
# staging = \"development\"
# prod-eu = \"production\"
# \"pr-*\" = \"preview\"

# Who can decrypt values, per type or per named environment: age public keys
# (`age1...`, printed by `cargo xtask secret init` or `age-keygen -y`).
[recipients]
{}
# Who may write values, per type or environment, when it is not the recipients: a CI key
# that sets production values without reading them, say. A type without an entry here is
# written by its recipients.
# [writers]
# production = [\"age1...ops\", \"age1...ci-bot\"]

# Optional: keep values in Vault/OpenBao (KV v2) instead of secrets.enc.toml;
# see docs/delivery.md for every key.
# [backend]
# kind = \"openbao\"
# address = \"https://bao.example.internal:8200\"
# mount = \"secret\"
# prefix = \"my-service\"
",
        recipients_block(&secret_core::EnvType::ALL, public)
    )
}

/// Adds the recipients to a `secrets.toml` that has none: under an empty `[recipients]`
/// header if there is one, else as a new table at the end.
fn add_recipients(text: &str, types: &[secret_core::EnvType], public: &str) -> String {
    let block = recipients_block(types, public);
    let mut out = String::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if !done && line.trim() == "[recipients]" {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&block);
            done = true;
        }
    }
    if !done {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n[recipients]\n");
        out.push_str(&block);
    }
    out
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|error| {
        Failure::from_file(FileError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot write the file: {error}"),
            help: None,
        })
    })
}

fn update_gitignore(root: &Path, io: &mut Io<'_>) -> Result<(), Failure> {
    let path = root.join(".gitignore");
    let failure = |what: &str, error: std::io::Error| {
        Failure::from_file(FileError {
            path: path.clone(),
            line: None,
            message: format!("cannot {what} the file: {error}"),
            help: Some("nothing was changed in it".to_owned()),
        })
    };
    // Bytes, not text: a `.gitignore` that is not UTF-8 is still the user's, and is only
    // ever appended to.
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(failure("read", error)),
    };
    let present: Vec<&[u8]> = bytes
        .split(|&byte| byte == b'\n')
        .map(<[u8]>::trim_ascii)
        .collect();
    let missing: Vec<&str> = GITIGNORE_LINES
        .into_iter()
        .filter(|line| {
            !present.contains(&line.as_bytes()) && !present.contains(&format!("/{line}").as_bytes())
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        out.push('\n');
    }
    out.push_str("# local secret overrides and the store's lock file (cargo xtask secret)\n");
    for line in &missing {
        out.push_str(line);
        out.push('\n');
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|error| failure("open", error))?;
    std::io::Write::write_all(&mut file, out.as_bytes())
        .map_err(|error| failure("append to", error))?;
    let _ = writeln!(io.stdout, "added {} to .gitignore", missing.join(", "));
    Ok(())
}
