//! `secrets.enc.toml`: the age-encrypted values, one TOML table per (secret, scope).
//!
//! ```toml
//! # Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.
//! version = 1
//!
//! [GitHubAPIToken."type:development,local"]
//! recipients = [
//!     "age1...",
//! ]
//! value = """
//! -----BEGIN AGE ENCRYPTED FILE-----
//! ...
//! -----END AGE ENCRYPTED FILE-----
//! """
//! ```
//!
//! The tool writes the file deterministically: `version` first, tables sorted by secret name
//! then scope key, a blank line between tables, unchanged ciphertexts kept byte for byte. So
//! changing one secret touches only that secret's lines, and two branches changing different
//! secrets merge cleanly. Names, scopes and recipients are readable without a key.
//!
//! Writes ([`Store::update`]) take an exclusive lock on `secrets.enc.toml.lock`, re-read the
//! file, apply the change, write a temporary file (`0600`) in the same folder, fsync it and
//! rename it over the store: a crash or a concurrent writer never leaves a half-written file
//! or loses an update.
//!
//! A writer killed between creating its temporary file (`.secrets.enc.toml.<pid>-<n>.tmp`)
//! and the rename (SIGKILL, power loss) cannot remove it: nothing runs at kill time. The
//! store itself is then the old one, intact. The next write removes such leftovers while it
//! holds the lock (every writer creates its temporary file under the lock, so any one found
//! then belongs to a dead writer), and reading never looks at them. The leftover holds only
//! ciphertext, `0600`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

#[cfg(feature = "crypto")]
use secrecy::SecretString;

#[cfg(feature = "crypto")]
use crate::cipher::{self, Slot};
use crate::env::{Environment, Scope};
use crate::error::{Error, FileError, LineIndex};
#[cfg(feature = "crypto")]
use crate::identity::Identities;
use crate::toml_file::{self, Key, Value, ValueInner};

/// The file name of the store, at the workspace root.
pub const STORE_FILE: &str = "secrets.enc.toml";
/// The lock file taken while writing the store (left in place; ignored by git).
pub const LOCK_FILE: &str = "secrets.enc.toml.lock";
/// The format version this build writes. Version 2 added signed values (`writer`,
/// `written`, `signature`) and `exposed`; version 1 files are still read, and their values are
/// reported as unsigned until `cargo xtask secret migrate` signs them.
pub const FORMAT_VERSION: i64 = 2;
/// The oldest format version this build reads.
pub const OLDEST_FORMAT_VERSION: i64 = 1;

pub(crate) const HEADER_COMMENT: &str =
    "# Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.\n";

/// One stored value: who can read it, who wrote it, and its ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The age public keys the value is encrypted to, sorted.
    pub recipients: Vec<String>,
    /// Who wrote the value and the proof of it; `None` for a value written by a version of
    /// the tool that did not sign (store format 1).
    pub signed: Option<Signed>,
    /// The people who could read this value once and no longer can: until the value is
    /// replaced, it is due for rotation.
    pub exposed: Vec<Exposure>,
    /// The line of the value's table in the store file (0 for a value not yet written).
    pub line: usize,
    pub(crate) ciphertext: String,
}

/// The writer's signature over a value: it binds the ciphertext to its secret name, scope,
/// recipients and exposure list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The writer's age public key (`age1...`), which verifies the signature.
    pub writer: String,
    /// When the value was written (UTC, RFC 3339, as claimed by the writer and signed).
    pub written: String,
    /// The signature, base64.
    pub signature: String,
}

/// What a reader may conclude from a stored value's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Signed by one of the scope's writers.
    Signed {
        /// The writer's age public key.
        writer: String,
    },
    /// No signature: written by a version of the tool that did not sign (store format 1),
    /// or by hand.
    Unsigned,
    /// The signature does not verify for the writer it names: the value, its recipients or
    /// its place were changed after signing, or the signature was made up.
    BadSignature {
        /// The writer the value claims.
        writer: String,
    },
    /// A valid signature by someone who may not write this scope.
    NotAllowed {
        /// The writer.
        writer: String,
        /// Who may write the scope.
        allowed: Vec<String>,
    },
}

impl Trust {
    /// Whether readers accept the value.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Signed { .. })
    }

    /// The writer the value names, if it names one.
    pub fn writer(&self) -> Option<&str> {
        match self {
            Self::Signed { writer }
            | Self::BadSignature { writer }
            | Self::NotAllowed { writer, .. } => Some(writer),
            Self::Unsigned => None,
        }
    }
}

/// A person who lost access to a value they could read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exposure {
    /// Their age public key.
    pub recipient: String,
    /// When they lost access (UTC, RFC 3339).
    pub since: String,
}

impl Entry {
    /// A fingerprint of the ciphertext (the first 16 hex digits of its SHA-256): tells two
    /// values apart without revealing anything about the plaintext.
    #[cfg(feature = "verify")]
    pub fn fingerprint(&self) -> String {
        let digest = crate::sign::sha256_hex(normalized_armor(&self.ciphertext).as_bytes());
        digest[..16].to_owned()
    }

    /// The ciphertext as stored (age armor). Public: it reveals nothing without a key.
    pub fn ciphertext(&self) -> &str {
        &self.ciphertext
    }
}

/// The armor's lines without trailing white space or blank lines, joined by `\n`: the form
/// that is signed and fingerprinted, so a checkout with CRLF line ends verifies too.
#[cfg(feature = "verify")]
pub(crate) fn normalized_armor(ciphertext: &str) -> String {
    ciphertext
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("recipients", &self.recipients)
            .field("signed", &self.signed)
            .field("exposed", &self.exposed)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// The contents of `secrets.enc.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    path: PathBuf,
    /// name -> scope key -> (scope, entry)
    pub(crate) entries: BTreeMap<String, BTreeMap<String, (Scope, Entry)>>,
}

impl Store {
    /// Reads `secrets.enc.toml` in `root`; a missing file is an empty store.
    pub fn load(root: &Path) -> Result<Store, Error> {
        let path = root.join(STORE_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::empty(path)),
            Err(error) => Err(FileError {
                path,
                line: None,
                message: format!("cannot read the store: {error}"),
                help: None,
            }
            .into()),
        }
    }

    /// An empty store that would be written to `path`.
    pub fn empty(path: PathBuf) -> Self {
        Self {
            path,
            entries: BTreeMap::new(),
        }
    }

    /// Parses the text of a store read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Store, Error> {
        let at = |offset: usize, message: String| FileError::at(path, text, Some(offset), message);
        let restore = "restore the file from git history; it is written by `cargo xtask secret` and should not be edited by hand";
        if let Some(index) = text.lines().position(|line| {
            line.starts_with("<<<<<<< ") || line == "=======" || line.starts_with(">>>>>>> ")
        }) {
            return Err(FileError {
                path: path.to_owned(),
                line: Some(index + 1),
                message: "the store has an unresolved merge conflict".to_owned(),
                help: Some("keep one of the two tables between the markers (or neither), remove the marker lines, then `git add` the file; or set the value again with `cargo xtask secret set`. `cargo xtask secret init` sets up git's merge driver so that only the same value changed on two branches conflicts".to_owned()),
            }
            .into());
        }
        let root = toml_file::parse(path, text).map_err(|error| error.with_help(restore))?;
        let mut store = Self::empty(path.to_owned());
        let lines = LineIndex::new(text);
        if root.is_empty() {
            return Ok(store);
        }
        match root.iter().find(|(key, _)| key.name == "version") {
            None => {
                return Err(FileError {
                    path: path.to_owned(),
                    line: Some(1),
                    message: "the store has no `version`".to_owned(),
                    help: Some(restore.to_owned()),
                }
                .into());
            }
            Some((_, value)) => {
                let version = value.as_integer();
                if !version.is_some_and(|v| (OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&v)) {
                    let help = if version.is_some_and(|v| v > FORMAT_VERSION) {
                        "the file was written by a newer version of the secrets tool; upgrade it (update the secret-build and secret-runtime dependencies)".to_owned()
                    } else {
                        restore.to_owned()
                    };
                    return Err(at(
                        value.span.start,
                        format!(
                            "unsupported store format version {}; this tool reads versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}",
                            &text[value.span.start..value.span.end]
                        ),
                    )
                    .with_help(help)
                    .into());
                }
            }
        }
        for (name, table) in root.iter() {
            if name.name == "version" {
                continue;
            }
            if !is_name(&name.name) {
                return Err(at(
                    name.span.start,
                    format!("`{}` is not a valid secret name", name.name),
                )
                .with_help(restore)
                .into());
            }
            let Some(scopes) = table.as_table() else {
                return Err(at(
                    name.span.start,
                    format!("`{}` should be a table of values by scope", name.name),
                )
                .with_help(restore)
                .into());
            };
            let slots = store.entries.entry(name.name.to_string()).or_default();
            for (key, slot) in scopes.iter() {
                let scope = Scope::parse_key(&key.name)
                    .map_err(|message| at(key.span.start, message).with_help(restore))?;
                let line = lines.line(key.span.start);
                let entry = parse_entry(path, text, key, slot, line)?;
                if scope.key() != key.name {
                    return Err(at(
                        key.span.start,
                        format!(
                            "the scope `{}` is not written canonically (expected `{}`)",
                            key.name,
                            scope.key()
                        ),
                    )
                    .with_help(restore)
                    .into());
                }
                slots.insert(scope.key(), (scope, entry));
            }
        }
        Ok(store)
    }

    /// Where the store is read from and written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the store has no value at all.
    pub fn is_empty(&self) -> bool {
        self.entries.values().all(BTreeMap::is_empty)
    }

    /// The names of the secrets with at least one value, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|(_, slots)| !slots.is_empty())
            .map(|(name, _)| name.as_str())
    }

    /// The values of `name`, sorted by scope key.
    pub fn slots(&self, name: &str) -> impl Iterator<Item = (&Scope, &Entry)> {
        self.entries
            .get(name)
            .into_iter()
            .flat_map(|slots| slots.values().map(|(scope, entry)| (scope, entry)))
    }

    /// The value stored for exactly `scope`, if any.
    pub fn get(&self, name: &str, scope: &Scope) -> Option<&Entry> {
        self.entries
            .get(name)?
            .get(&scope.key())
            .map(|(_, entry)| entry)
    }

    /// The value slot that applies to `env` (best [`Scope::rank`]: named env > pattern >
    /// type), if any.
    pub fn lookup(&self, name: &str, env: &Environment) -> Option<(&Scope, &Entry)> {
        self.slots(name)
            .filter_map(|(scope, entry)| scope.rank(env).map(|rank| (rank, scope, entry)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, scope, entry)| (scope, entry))
    }

    #[cfg(feature = "crypto")]
    /// Decrypts one slot after checking that it is signed by one of the scope's writers in
    /// `config` ([`crate::trust`]): an unsigned or forged value is an [`Error::Untrusted`],
    /// whatever the key.
    pub fn decrypt(
        &self,
        name: &str,
        scope: &Scope,
        config: &crate::Config,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.entry(name, scope)?;
        let trust = crate::trust::trust(config, name, scope, entry);
        if !trust.is_trusted() {
            return Err(Error::Untrusted(Box::new(crate::error::Untrusted {
                name: name.to_owned(),
                scope: scope.clone(),
                path: self.path.clone(),
                line: entry.line,
                trust,
            })));
        }
        self.open(name, scope, entry, identities)
    }

    #[cfg(feature = "crypto")]
    /// Decrypts one slot without checking who wrote it: only for `secret migrate`, which
    /// signs values of format 1 on the word of the person migrating, and for `--leaks`,
    /// which looks for any stored value in plain text.
    pub fn decrypt_unverified(
        &self,
        name: &str,
        scope: &Scope,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.entry(name, scope)?;
        self.open(name, scope, entry, identities)
    }

    #[cfg(feature = "crypto")]
    fn entry(&self, name: &str, scope: &Scope) -> Result<&Entry, Error> {
        self.get(name, scope).ok_or_else(|| Error::NotSet {
            name: name.to_owned(),
            scope: scope.key(),
            path: self.path.clone(),
        })
    }

    #[cfg(feature = "crypto")]
    fn open(
        &self,
        name: &str,
        scope: &Scope,
        entry: &Entry,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        cipher::open(
            &Slot {
                name,
                scope,
                recipients: &entry.recipients,
                path: &self.path,
                line: entry.line,
            },
            &entry.ciphertext,
            identities,
            entry.signed.is_none(),
        )
    }

    #[cfg(feature = "write")]
    /// Encrypts `value` for (`name`, `scope`) to the recipients `config` gives the scope,
    /// signs it with the first of `identities` allowed to write the scope, and stores it,
    /// replacing any value with exactly that scope. Does not check the one-value-per-type
    /// rule (see [`crate::edit`]).
    ///
    /// `previous` is the entry `value` was read from when the same value is re-encrypted
    /// (rekey, a narrowed scope): whoever could read it then and cannot now is recorded in
    /// [`Entry::exposed`], and earlier exposures are kept. A new value (`None`) starts with
    /// no exposure: replacing a value is how it is rotated.
    pub fn insert(
        &mut self,
        name: &str,
        scope: &Scope,
        value: &SecretString,
        config: &crate::Config,
        identities: &Identities,
        previous: Option<&Entry>,
    ) -> Result<(), Error> {
        let recipients = crate::edit::recipients_for(config, scope);
        if recipients.is_empty() {
            return Err(Error::NoRecipients {
                name: name.to_owned(),
                scope: scope.clone(),
                config: config.path.clone(),
            });
        }
        let signer = crate::edit::signer(config, name, scope, identities)?;
        let mut exposed = Vec::new();
        if let Some(previous) = previous {
            let since = crate::trust::now();
            exposed.extend(previous.exposed.iter().cloned());
            for recipient in &previous.recipients {
                if !recipients.contains(recipient)
                    && !exposed.iter().any(|e: &Exposure| &e.recipient == recipient)
                {
                    exposed.push(Exposure {
                        recipient: recipient.clone(),
                        since: since.clone(),
                    });
                }
            }
            exposed.retain(|exposure| !recipients.contains(&exposure.recipient));
            exposed.sort();
        }
        let ciphertext = cipher::seal(&recipients, value, &config.path)?;
        let written = crate::trust::now();
        let message = crate::trust::message(
            name,
            scope,
            &recipients,
            &exposed,
            signer.recipient(),
            &written,
            &ciphertext,
        );
        let signature = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(signer.sign(message.as_bytes()))
        };
        let signed = Signed {
            writer: signer.recipient().to_owned(),
            written,
            signature,
        };
        self.entries.entry(name.to_owned()).or_default().insert(
            scope.key(),
            (
                scope.clone(),
                Entry {
                    recipients,
                    signed: Some(signed),
                    exposed,
                    line: 0,
                    ciphertext,
                },
            ),
        );
        Ok(())
    }

    /// Removes the value stored for exactly `scope`; returns whether there was one.
    pub fn remove(&mut self, name: &str, scope: &Scope) -> bool {
        let Some(slots) = self.entries.get_mut(name) else {
            return false;
        };
        let removed = slots.remove(&scope.key()).is_some();
        if slots.is_empty() {
            self.entries.remove(name);
        }
        removed
    }

    /// The file's text as the tool writes it.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER_COMMENT);
        out.push_str(&format!("version = {FORMAT_VERSION}\n"));
        for (name, slots) in &self.entries {
            for (key, (_, entry)) in slots {
                out.push('\n');
                render_entry(&mut out, name, key, entry);
            }
        }
        out
    }

    /// Locks the store in `root`, re-reads it, applies `change`, and writes the result
    /// atomically when `change` succeeds and changed something. On error nothing is
    /// written and no temporary file is left behind.
    ///
    /// The lock file names its holder (pid, host, command) while it is held. A writer that
    /// cannot take the lock polls for [`LOCK_WAIT_VAR`] seconds (10 by default), then fails
    /// with an error naming the holder: it never waits forever in silence.
    pub fn update<T>(
        root: &Path,
        change: impl FnOnce(&mut Store) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let lock_path = root.join(LOCK_FILE);
        let io_error = |path: &Path, what: &str, error: std::io::Error| {
            Error::from(FileError {
                path: path.to_owned(),
                line: None,
                message: format!("cannot {what}: {error}"),
                help: None,
            })
        };
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|error| io_error(&lock_path, "create the lock file", error))?;
        take_lock(&lock, &lock_path)?;
        write_holder(&mut lock);
        let result = Self::load(root).and_then(|mut store| {
            remove_stale_temp_files(root);
            if let Some(dir) = store.write_target().ok().as_deref().and_then(Path::parent)
                && dir != root
            {
                remove_stale_temp_files(dir);
            }
            let before = store.clone();
            let result = change(&mut store)?;
            if store != before {
                store.write()?;
            }
            Ok(result)
        });
        // The holder is gone: leave an empty lock file behind.
        let _ = lock.set_len(0);
        drop(lock);
        result
    }

    /// The file a write replaces: the store itself, or the final target of a store that is
    /// a symbolic link (the link is kept; its target is replaced atomically in its folder).
    fn write_target(&self) -> std::io::Result<PathBuf> {
        let is_link = fs::symlink_metadata(&self.path).is_ok_and(|meta| meta.is_symlink());
        if is_link {
            fs::canonicalize(&self.path)
        } else {
            Ok(self.path.clone())
        }
    }

    /// Writes the store atomically (temporary file, fsync, rename). Prefer
    /// [`Store::update`], which also locks: an unlocked write racing a locked one may find
    /// its temporary file removed as a leftover, and then fails with the store unchanged.
    ///
    /// A store that is a symbolic link stays one: the link's target is written, through a
    /// temporary file next to it. An existing store keeps its permissions (a new one is
    /// `0600`).
    pub fn write(&self) -> Result<(), Error> {
        let failure = |message: String| -> Error {
            FileError {
                path: self.path.clone(),
                line: None,
                message,
                help: Some("the store was left unchanged".to_owned()),
            }
            .into()
        };
        let target = self.write_target().map_err(|error| {
            failure(format!(
                "cannot write the store: it is a symbolic link whose target cannot be \
                 resolved: {error}"
            ))
        })?;
        let dir = target.parent().unwrap_or(Path::new("."));
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{unique}{TEMP_SUFFIX}",
            std::process::id()
        ));
        let permissions = fs::metadata(&target).ok().map(|meta| meta.permissions());
        let result = write_new(&temp, self.render().as_bytes())
            .and_then(|()| match permissions {
                Some(permissions) => fs::set_permissions(&temp, permissions),
                None => Ok(()),
            })
            .and_then(|()| fs::rename(&temp, &target))
            .and_then(|()| File::open(dir).and_then(|dir| dir.sync_all()).or(Ok(())));
        result.map_err(|error| {
            let _ = fs::remove_file(&temp);
            failure(format!("cannot write the store: {error}"))
        })
    }
}

/// The environment variable bounding how long a write waits for the store's lock, in
/// seconds (default [`LOCK_WAIT_DEFAULT`]).
pub const LOCK_WAIT_VAR: &str = "SECRETS_LOCK_TIMEOUT";
/// How long a write waits for the store's lock by default, in seconds.
pub const LOCK_WAIT_DEFAULT: f64 = 10.0;

/// Takes the exclusive lock on `lock`, polling until the bound of [`LOCK_WAIT_VAR`]; then
/// fails naming the holder written in the lock file.
fn take_lock(lock: &File, lock_path: &Path) -> Result<(), Error> {
    let wait = std::env::var(LOCK_WAIT_VAR)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .unwrap_or(LOCK_WAIT_DEFAULT);
    // A bound too large for the clock means no bound.
    let deadline = std::time::Duration::try_from_secs_f64(wait)
        .ok()
        .and_then(|wait| std::time::Instant::now().checked_add(wait));
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock)
                if deadline.is_none_or(|deadline| std::time::Instant::now() < deadline) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(lock_path).unwrap_or_default();
                let holder = holder.trim();
                let pid = holder
                    .lines()
                    .find_map(|line| line.strip_prefix("pid: "))
                    .unwrap_or("");
                let who = if holder.is_empty() {
                    "another process (it did not say which)".to_owned()
                } else {
                    format!(
                        "another process ({})",
                        holder
                            .lines()
                            .map(|line| line.chars().filter(|ch| !ch.is_control()).collect())
                            .collect::<Vec<String>>()
                            .join(", ")
                    )
                };
                let stop = if pid.is_empty() {
                    "stop that process".to_owned()
                } else {
                    format!("stop it (`kill {pid}`)")
                };
                return Err(FileError {
                    path: lock_path.to_owned(),
                    line: None,
                    message: format!(
                        "the store is locked by {who}; gave up after waiting {wait} s"
                    ),
                    help: Some(format!(
                        "wait for it to finish and run the command again; if it is stuck, \
                         {stop}: the lock is released when it exits. To wait longer, set \
                         {LOCK_WAIT_VAR}=<seconds>"
                    )),
                }
                .into());
            }
            Err(fs::TryLockError::Error(error)) => {
                return Err(FileError {
                    path: lock_path.to_owned(),
                    line: None,
                    message: format!("cannot lock the store: {error}"),
                    help: None,
                }
                .into());
            }
        }
    }
}

/// Writes who holds the lock into the lock file (best effort: the lock works without it).
fn write_holder(lock: &mut File) {
    use std::io::{Seek, Write};
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let host = host.trim();
    // The command line (a value never travels in argv), kept short.
    let command: String = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|ch| !ch.is_control())
        .take(200)
        .collect();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |time| time.as_secs());
    let text = format!(
        "pid: {}\nhost: {}\ncommand: {command}\nsince: {since} (Unix time)\n",
        std::process::id(),
        if host.is_empty() { "unknown" } else { host },
    );
    let _ = lock
        .set_len(0)
        .and_then(|()| lock.rewind())
        .and_then(|()| lock.write_all(text.as_bytes()));
}

/// Temporary files are named `.secrets.enc.toml.<pid>-<n>.tmp`.
const TEMP_PREFIX: &str = ".secrets.enc.toml.";
const TEMP_SUFFIX: &str = ".tmp";

/// The temporary files of writers in `root` (leftovers of killed writers when the lock is
/// held).
pub fn temp_files(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && entry.file_type().is_ok_and(|kind| kind.is_file())
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

/// Removes the temporary files of writers that died before renaming them. Called with the
/// lock held: a live writer only has a temporary file while it holds the lock.
fn remove_stale_temp_files(root: &Path) {
    for path in temp_files(root) {
        let _ = fs::remove_file(path);
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    crate::files::create_private(path, bytes)
}

fn parse_entry(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    slot: &Value<'_>,
    line: usize,
) -> Result<Entry, Error> {
    let restore =
        "restore the file from git history, or set the value again with `cargo xtask secret set`";
    let at = |offset: usize, message: String| {
        Error::from(FileError::at(path, text, Some(offset), message).with_help(restore))
    };
    let Some(fields) = slot.as_table() else {
        return Err(at(
            key.span.start,
            format!(
                "`{}` should be a table with `recipients` and `value`",
                key.name
            ),
        ));
    };
    // A field's text must be one of these characters, so that rendering it back can never
    // produce TOML that no longer parses (found by fuzzing `Store::parse`).
    let plain = |value: &Value<'_>, field: &str, allowed: &dyn Fn(u8) -> bool| match value.as_ref()
    {
        ValueInner::String(text) if !text.is_empty() && text.bytes().all(allowed) => {
            Ok(text.to_string())
        }
        ValueInner::String(_) => Err(at(
            value.span.start,
            format!("`{field}` of `{}` is malformed", key.name),
        )),
        _ => Err(at(
            value.span.start,
            format!("`{field}` has the wrong type"),
        )),
    };
    let is_key = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let is_time = |byte: u8| byte.is_ascii_digit() || b"-:TZ".contains(&byte);
    let is_base64 = |byte: u8| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte);
    let mut recipients = None;
    let mut ciphertext = None;
    let (mut writer, mut written, mut signature) = (None, None, None);
    let mut exposed = Vec::new();
    for (field, value) in fields.iter() {
        match (field.name.as_ref(), value.as_ref()) {
            ("recipients", ValueInner::Array(list)) => {
                let mut keys = Vec::new();
                for item in list.iter() {
                    keys.push(plain(item, "recipients", &is_key).map_err(|_| {
                        at(
                            item.span.start,
                            "a recipient should be an age public key (`age1...`)".to_owned(),
                        )
                    })?);
                }
                if keys.is_empty() {
                    return Err(at(
                        value.span.start,
                        format!("`{}` has no recipients: nobody can read it", key.name),
                    ));
                }
                recipients = Some(keys);
            }
            ("value", ValueInner::String(text)) => {
                // Only age armor (base64, `=`, the BEGIN/END lines).
                if text.trim().is_empty()
                    || !text
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"+/=- \r\n".contains(&byte))
                {
                    return Err(at(
                        value.span.start,
                        format!(
                            "the value of `{}` is not an age-armored ciphertext",
                            key.name
                        ),
                    ));
                }
                ciphertext = Some(text.to_string());
            }
            ("writer", _) => writer = Some(plain(value, "writer", &is_key)?),
            ("written", _) => written = Some(plain(value, "written", &is_time)?),
            ("signature", _) => signature = Some(plain(value, "signature", &is_base64)?),
            ("exposed", ValueInner::Array(list)) => {
                for item in list.iter() {
                    let Some(pair) = item.as_table() else {
                        return Err(at(
                            item.span.start,
                            "an exposure should be `{ recipient = \"age1...\", since = \"...\" }`"
                                .to_owned(),
                        ));
                    };
                    let (mut recipient, mut since) = (None, None);
                    for (name, value) in pair.iter() {
                        match name.name.as_ref() {
                            "recipient" => recipient = Some(plain(value, "recipient", &is_key)?),
                            "since" => since = Some(plain(value, "since", &is_time)?),
                            other => {
                                return Err(at(
                                    name.span.start,
                                    format!(
                                        "unknown key `{other}`; an exposure has `recipient` and `since`"
                                    ),
                                ));
                            }
                        }
                    }
                    match (recipient, since) {
                        (Some(recipient), Some(since)) => {
                            exposed.push(Exposure { recipient, since })
                        }
                        _ => {
                            return Err(at(
                                item.span.start,
                                "an exposure needs `recipient` and `since`".to_owned(),
                            ));
                        }
                    }
                }
            }
            ("recipients" | "value" | "exposed", _) => {
                return Err(at(
                    value.span.start,
                    format!("`{}` has the wrong type", field.name),
                ));
            }
            (other, _) => {
                return Err(at(
                    field.span.start,
                    format!(
                        "unknown key `{other}`; a value has `recipients`, `exposed`, `writer`, `written`, `signature` and `value`"
                    ),
                ));
            }
        }
    }
    let missing = |what: &str| {
        Error::from(FileError {
            path: path.to_owned(),
            line: Some(line),
            message: format!("the value `{}` has no `{what}`", key.name),
            help: Some(restore.to_owned()),
        })
    };
    let signed = match (writer, written, signature) {
        (None, None, None) => None,
        (Some(writer), Some(written), Some(signature)) => Some(Signed {
            writer,
            written,
            signature,
        }),
        (writer, written, _) => {
            return Err(missing(if writer.is_none() {
                "writer"
            } else if written.is_none() {
                "written"
            } else {
                "signature"
            }));
        }
    };
    exposed.sort();
    exposed.dedup();
    Ok(Entry {
        recipients: recipients.ok_or_else(|| missing("recipients"))?,
        signed,
        exposed,
        line,
        ciphertext: ciphertext.ok_or_else(|| missing("value"))?,
    })
}

/// One value's table, as [`Store::render`] writes it: recipients, exposures, writer, time,
/// signature, then the ciphertext.
pub(crate) fn render_entry(out: &mut String, name: &str, key: &str, entry: &Entry) {
    out.push_str(&format!("[{name}.\"{}\"]\nrecipients = [\n", escape(key)));
    for recipient in &entry.recipients {
        out.push_str(&format!("    \"{}\",\n", escape(recipient)));
    }
    out.push_str("]\n");
    if !entry.exposed.is_empty() {
        out.push_str("exposed = [\n");
        for exposure in &entry.exposed {
            out.push_str(&format!(
                "    {{ recipient = \"{}\", since = \"{}\" }},\n",
                escape(&exposure.recipient),
                escape(&exposure.since)
            ));
        }
        out.push_str("]\n");
    }
    if let Some(signed) = &entry.signed {
        out.push_str(&format!(
            "writer = \"{}\"\nwritten = \"{}\"\nsignature = \"{}\"\n",
            escape(&signed.writer),
            escape(&signed.written),
            escape(&signed.signature)
        ));
    }
    out.push_str("value = \"\"\"\n");
    out.push_str(entry.ciphertext.trim_end());
    out.push_str("\n\"\"\"\n");
}

/// `text` for a TOML basic string: `\\`, `\"` and control characters escaped (a recipient
/// read from a hand-edited file may hold any of them; found by fuzzing).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            ch if ch.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out
}

/// Whether `name` follows the secret naming rule ([`crate::name::validate_name`]).
pub(crate) fn is_name(name: &str) -> bool {
    crate::name::validate_name(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "write")]
    use crate::env::EnvType;
    #[cfg(feature = "write")]
    use secrecy::ExposeSecret;

    fn assert_cacheable<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn errors_can_be_cached() {
        assert_cacheable::<Error>();
    }

    #[cfg(feature = "write")]
    #[test]
    fn render_is_deterministic_and_parses_back() {
        let (key, _) = crate::identity::generate_identity();
        let public = key.to_public().to_string();
        let config = crate::Config::parse(
            Path::new("secrets.toml"),
            &format!(
                "[environments]\nstaging = \"development\"\n[recipients]\nproduction = [\"{public}\"]\nstaging = [\"{public}\"]\n"
            ),
        )
        .unwrap();
        let identities = Identities::from_identity(key, crate::identity::IdentitySource::None);
        let mut store = Store::empty(PathBuf::from(STORE_FILE));
        let value = SecretString::from("v");
        let prod = Scope::Types([EnvType::Production].into());
        let staging = Scope::Envs(["staging".to_owned()].into());
        for (name, scope) in [("Zed", &prod), ("Alpha", &staging), ("Alpha", &prod)] {
            store
                .insert(name, scope, &value, &config, &identities, None)
                .unwrap();
        }
        let text = store.render();
        let headers: Vec<&str> = text.lines().filter(|line| line.starts_with('[')).collect();
        assert_eq!(
            headers,
            [
                "[Alpha.\"env:staging\"]",
                "[Alpha.\"type:production\"]",
                "[Zed.\"type:production\"]"
            ]
        );
        let parsed = Store::parse(Path::new(STORE_FILE), &text).unwrap();
        assert_eq!(parsed.render(), text);
        let zed_line = text
            .lines()
            .position(|line| line.starts_with("[Zed"))
            .unwrap()
            + 1;
        assert_eq!(parsed.get("Zed", &prod).unwrap().line, zed_line);
        assert!(format!("{:?}", parsed.get("Zed", &prod).unwrap()).contains("recipients"));
        assert!(!format!("{parsed:?}").contains("BEGIN AGE"));
        let entry = parsed.get("Zed", &prod).unwrap();
        assert_eq!(entry.signed.as_ref().unwrap().writer, public);
        assert_eq!(
            parsed
                .decrypt("Zed", &prod, &config, &identities)
                .unwrap()
                .expose_secret(),
            "v"
        );
        // The signature binds the value to its slot: the same table under another name is
        // refused before any decryption.
        let moved = text.replace("[Zed.", "[Yak.");
        let moved = Store::parse(Path::new(STORE_FILE), &moved).unwrap();
        let error = moved
            .decrypt("Yak", &prod, &config, &identities)
            .unwrap_err();
        assert!(
            error.to_string().contains("signature does not verify"),
            "{error}"
        );
    }

    #[test]
    fn empty_and_versionless_files() {
        assert!(Store::parse(Path::new("s"), "").unwrap().is_empty());
        assert!(
            Store::parse(Path::new("s"), "# nothing\n")
                .unwrap()
                .is_empty()
        );
        let error = Store::parse(
            Path::new("s"),
            "[A.\"type:local\"]\nrecipients = []\nvalue = \"\"\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("no `version`"), "{error}");
    }
}
