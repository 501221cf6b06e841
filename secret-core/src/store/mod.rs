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

mod file;
mod format;

pub use file::{LOCK_WAIT_DEFAULT, LOCK_WAIT_VAR, temp_files};
pub(crate) use format::render_entry;

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
        let signature = signer.sign(message.as_bytes()).map_err(|error| {
            Error::File(
                crate::FileError::at(&self.path, "", None, format!("cannot sign {name}: {error}"))
                    .with_help("nothing was written; run the command again once the system's random number generator works"),
            )
        })?;
        let signature = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(signature)
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
