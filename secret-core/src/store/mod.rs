//! `secrets.enc.toml`: the age-encrypted values, one TOML table per (secret, scope).
//!
//! ```toml
//! # Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.
//! version = 3
//!
//! [_rules.1]
//! signed = "2026-12-06T05:13:17Z"
//! signatures = [
//!     "age1... <signature>",
//! ]
//! changes = """
//! + repository 255ddd9301fdda75ca4f134220e3a7ec
//! + recipient development age1...
//! """
//!
//! [GitHubAPIToken."type:development,local"]
//! version = 1
//! recipients = [
//!     "age1...",
//! ]
//! writer = "age1..."
//! written = "2026-12-06T05:13:17Z"
//! signature = "<base64>"
//! value = """
//! -----BEGIN AGE ENCRYPTED FILE-----
//! ...
//! -----END AGE ENCRYPTED FILE-----
//! """
//! ```
//!
//! The tool writes the file deterministically: `version` first, the signed versions of the
//! access rules (`_rules.N`), then the tables sorted by secret name then scope key, a blank line between tables, unchanged ciphertexts kept byte for byte. So
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

use crate::env::{Environment, Scope};
use crate::file_error::{FileError, LineIndex};
use crate::toml_file::{self, Key, Value, ValueInner};

mod file;
mod format;

pub use file::temp_files;
pub(crate) use format::TableKey;

/// The file name of the store, at the workspace root.
pub const STORE_FILE: &str = "secrets.enc.toml";
/// The lock file taken while writing the store (left in place; ignored by git).
pub const LOCK_FILE: &str = "secrets.enc.toml.lock";
/// The format version this build writes. Version 2 added signed values (`writer`,
/// `written`, `signature`) and `exposed`; version 3 the signed access rules (`_rules`), a
/// version per value that only grows, signed removals, and the repository's identity in
/// every signature. Versions 1 and 2 are still read, so that `cargo xtask secret migrate`
/// can bring them to version 3; readers refuse their values until then.
pub const FORMAT_VERSION: i64 = 3;
/// The oldest format version this build reads.
pub(crate) const OLDEST_FORMAT_VERSION: i64 = 1;

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
    /// The slot's version: every write of the slot (a new value, a re-encryption, a
    /// removal) takes the next one, and the signature covers it, so an older table copied
    /// back is told apart from the current one. `None` for a value of store format 1 or 2.
    pub version: Option<u64>,
    pub(crate) ciphertext: String,
}

/// A signed removal: the slot once held a value, and one of its writers removed it. Kept in
/// the store (a few lines) so that a value that simply vanished — deleted from the file by
/// hand — is told apart from one its writers removed, and so that the slot's next value
/// takes a higher version than any before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The version the removal took (one more than the removed value's).
    pub version: u64,
    /// Who removed it, when, and the signature.
    pub signed: Signed,
    /// The line of the removal's table in the store file (0 when not yet written).
    pub line: usize,
}

/// One version of the signed access rules (`[_rules.N]`): the changes it makes to the
/// version before, when it was signed, and the signatures. What the facts mean and who may
/// sign them is [`crate::rules`]'s business; the store only keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesVersion {
    /// The version number: 1 for the first (the trust root), then one more each time.
    pub version: u64,
    /// When it was signed (UTC, RFC 3339, as claimed by the signers and signed).
    pub signed: String,
    /// `(signer, signature)`: age public keys and base64 signatures over the version's
    /// message.
    pub signatures: Vec<(String, String)>,
    /// The changes, one fact a line: `+ recipient production age1...`, `- writer staging age1...`.
    pub changes: Vec<String>,
    /// The line of the table in the store file (0 when not yet written).
    pub line: usize,
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

/// A person who lost access to a value they could read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Exposure {
    /// Their age public key.
    pub recipient: String,
    /// When they lost access (UTC, RFC 3339).
    pub since: String,
}

impl Entry {
    /// A fingerprint of the signed value (32 hex digits of the SHA-256 of its signature,
    /// which covers the repository, the name, the scope, the slot's version and the
    /// ciphertext): changes with every write of the slot, says nothing about the plaintext.
    /// Without a signature (store format 1), the ciphertext's [`Entry::fingerprint`].
    /// `secret sync --to aws` tags each secret with it to tell, without reading a value,
    /// whether the copy is current.
    #[cfg(feature = "verify")]
    pub fn signature_fingerprint(&self) -> String {
        match &self.signed {
            Some(signed) => {
                let digest = crate::sign::sha256_hex(
                    format!(
                        "secrets-toolkit signature fingerprint\n{}",
                        signed.signature
                    )
                    .as_bytes(),
                );
                digest[..32].to_owned()
            }
            None => self.fingerprint(),
        }
    }

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
    /// The format version the file was read with ([`FORMAT_VERSION`] for a new store).
    pub(crate) format: i64,
    /// The signed access rules, oldest first.
    pub(crate) rules: Vec<RulesVersion>,
    /// name -> scope key -> (scope, entry)
    pub(crate) entries: BTreeMap<String, BTreeMap<String, (Scope, Entry)>>,
    /// name -> scope key -> (scope, removal)
    pub(crate) removals: BTreeMap<String, BTreeMap<String, (Scope, Removal)>>,
    /// name -> scope key -> a version of the slot trusted before (by this clone, or in the
    /// store's history) that the file may no longer show, since an older table was copied
    /// back: never written; a write takes a version above it, and `rekey` leaves a value
    /// below it alone (see `Memory::raise_versions`).
    pub(crate) trusted_versions: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Store {
    /// Reads `secrets.enc.toml` in `root`; a missing file is an empty store.
    pub fn load(root: &Path) -> Result<Store, FileError> {
        let path = root.join(STORE_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::empty(path)),
            Err(error) => Err(FileError {
                path,
                line: None,
                message: format!("cannot read the store: {error}"),
                help: None,
            }),
        }
    }

    /// An empty store that would be written to `path`.
    pub fn empty(path: PathBuf) -> Self {
        Self {
            path,
            format: FORMAT_VERSION,
            rules: Vec::new(),
            entries: BTreeMap::new(),
            removals: BTreeMap::new(),
            trusted_versions: BTreeMap::new(),
        }
    }

    /// The format version the file was written in: [`FORMAT_VERSION`], or an older one that
    /// `cargo xtask secret migrate` brings up to date.
    pub fn format(&self) -> i64 {
        self.format
    }

    /// The signed access rules, oldest first (empty in a store of format 1 or 2, or a new one).
    pub fn rules(&self) -> &[RulesVersion] {
        &self.rules
    }

    /// The signed removals of `name`, sorted by scope key.
    pub fn removals(&self, name: &str) -> impl Iterator<Item = (&Scope, &Removal)> {
        self.removals
            .get(name)
            .into_iter()
            .flat_map(|slots| slots.values().map(|(scope, removal)| (scope, removal)))
    }

    /// Every signed removal: `(name, scope, removal)`, sorted by name then scope key.
    pub fn all_removals(&self) -> impl Iterator<Item = (&str, &Scope, &Removal)> {
        self.removals.iter().flat_map(|(name, slots)| {
            slots
                .values()
                .map(move |(scope, removal)| (name.as_str(), scope, removal))
        })
    }

    /// The highest version the slot (`name`, `scope`) has had in this store: its value's, its
    /// removal's, or one trusted before that the file no longer shows; 0 when it never had one
    /// (or only unversioned values of format 1 or 2). A write takes the next one.
    pub fn slot_version(&self, name: &str, scope: &Scope) -> u64 {
        self.written_version(name, scope)
            .max(self.trusted_version(name, scope))
    }

    /// The highest version of the slot trusted before, as far as this store was told (0:
    /// none).
    pub(crate) fn trusted_version(&self, name: &str, scope: &Scope) -> u64 {
        self.trusted_versions
            .get(name)
            .and_then(|slots| slots.get(&scope.key()))
            .copied()
            .unwrap_or(0)
    }

    /// The highest version of the slot the file shows: its value's or its removal's.
    fn written_version(&self, name: &str, scope: &Scope) -> u64 {
        let key = scope.key();
        let value = self
            .entries
            .get(name)
            .and_then(|slots| slots.get(&key))
            .and_then(|(_, entry)| entry.version);
        let removal = self
            .removals
            .get(name)
            .and_then(|slots| slots.get(&key))
            .map(|(_, removal)| removal.version);
        value.into_iter().chain(removal).max().unwrap_or(0)
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

/// Whether `name` follows the secret naming rule ([`secret_syntax::name::validate_name`]).
pub(crate) fn is_name(name: &str) -> bool {
    secret_syntax::name::validate_name(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "write")]
    use crate::env::EnvType;
    #[cfg(feature = "write")]
    use crate::identity::Identities;
    #[cfg(feature = "write")]
    use secrecy::ExposeSecret;
    #[cfg(feature = "write")]
    use secrecy::SecretString;

    fn assert_cacheable<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn errors_can_be_cached() {
        assert_cacheable::<crate::Error>();
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
            crate::edit::set(&mut store, &config, name, scope, &value, false, &identities).unwrap();
        }
        let text = store.render();
        let headers: Vec<&str> = text.lines().filter(|line| line.starts_with('[')).collect();
        assert_eq!(
            headers,
            [
                "[_rules.1]",
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
        let production = Environment::of_type(EnvType::Production);
        let state = crate::state::State::new(config.clone(), parsed, None);
        let (_, found) = state
            .decrypt("Zed", &production, &identities)
            .unwrap()
            .unwrap();
        assert_eq!(found.expose_secret(), "v");
        // The signature binds the value to its slot: the same table under another name is
        // refused before any decryption.
        let moved = text.replace("[Zed.", "[Yak.");
        let moved = Store::parse(Path::new(STORE_FILE), &moved).unwrap();
        let state = crate::state::State::new(config, moved, None);
        let error = state.decrypt("Yak", &production, &identities).unwrap_err();
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
