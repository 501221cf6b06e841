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
use toml::Spanned;
use toml::de::{DeTable, DeValue};

#[cfg(feature = "crypto")]
use crate::cipher::{self, Slot};
use crate::env::{Environment, Scope};
use crate::error::{Error, FileError};
#[cfg(feature = "crypto")]
use crate::identity::Identities;

/// The file name of the store, at the workspace root.
pub const STORE_FILE: &str = "secrets.enc.toml";
/// The lock file taken while writing the store (left in place; ignored by git).
pub const LOCK_FILE: &str = "secrets.enc.toml.lock";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: i64 = 1;

const HEADER_COMMENT: &str =
    "# Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.\n";

/// One stored value: who can read it and its ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The age public keys the value is encrypted to, sorted.
    pub recipients: Vec<String>,
    /// The line of the value's table in the store file (0 for a value not yet written).
    pub line: usize,
    ciphertext: String,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("recipients", &self.recipients)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// The contents of `secrets.enc.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    path: PathBuf,
    /// name -> scope key -> (scope, entry)
    entries: BTreeMap<String, BTreeMap<String, (Scope, Entry)>>,
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
        let root = DeTable::parse(text).map_err(|error| {
            FileError::at(
                path,
                text,
                error.span().map(|span| span.start),
                error.message().trim().to_owned(),
            )
            .with_help(restore)
        })?;
        let mut store = Self::empty(path.to_owned());
        let lines = LineIndex::new(text);
        let root = root.into_inner();
        if root.is_empty() {
            return Ok(store);
        }
        match root.iter().find(|(key, _)| key.get_ref() == "version") {
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
                let version = match value.get_ref() {
                    DeValue::Integer(integer) => integer.as_str().parse::<i64>().ok(),
                    _ => None,
                };
                if version != Some(FORMAT_VERSION) {
                    let help = if version.is_some_and(|v| v > FORMAT_VERSION) {
                        "the file was written by a newer version of the secrets tool; upgrade it (update the secret-build and secret-runtime dependencies)".to_owned()
                    } else {
                        restore.to_owned()
                    };
                    return Err(at(
                        value.span().start,
                        format!(
                            "unsupported store format version {}; this tool reads version {FORMAT_VERSION}",
                            &text[value.span()]
                        ),
                    )
                    .with_help(help)
                    .into());
                }
            }
        }
        for (name, table) in root.iter() {
            if name.get_ref() == "version" {
                continue;
            }
            if !is_name(name.get_ref()) {
                return Err(at(
                    name.span().start,
                    format!("`{}` is not a valid secret name", name.get_ref()),
                )
                .with_help(restore)
                .into());
            }
            let DeValue::Table(scopes) = table.get_ref() else {
                return Err(at(
                    name.span().start,
                    format!("`{}` should be a table of values by scope", name.get_ref()),
                )
                .with_help(restore)
                .into());
            };
            let slots = store.entries.entry(name.get_ref().to_string()).or_default();
            for (key, slot) in scopes.iter() {
                let scope = Scope::parse_key(key.get_ref())
                    .map_err(|message| at(key.span().start, message).with_help(restore))?;
                let line = lines.line(key.span().start);
                let entry = parse_entry(path, text, key, slot, line)?;
                if scope.key() != key.get_ref().as_ref() {
                    return Err(at(
                        key.span().start,
                        format!(
                            "the scope `{}` is not written canonically (expected `{}`)",
                            key.get_ref(),
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
    /// Decrypts one slot, verifying the ciphertext is bound to (`name`, `scope`) and to the
    /// slot's recipient list.
    pub fn decrypt(
        &self,
        name: &str,
        scope: &Scope,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.get(name, scope).ok_or_else(|| Error::NotSet {
            name: name.to_owned(),
            scope: scope.key(),
            path: self.path.clone(),
        })?;
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
        )
    }

    #[cfg(feature = "crypto")]
    /// Encrypts `value` for (`name`, `scope`) to `recipients` and stores it, replacing any
    /// value with exactly that scope. Does not check the one-value-per-type rule (see
    /// [`crate::edit`]). `config` names `secrets.toml` in errors.
    pub fn insert(
        &mut self,
        name: &str,
        scope: &Scope,
        recipients: &[String],
        value: &SecretString,
        config: &Path,
    ) -> Result<(), Error> {
        let mut recipients = recipients.to_vec();
        recipients.sort();
        recipients.dedup();
        if recipients.is_empty() {
            return Err(Error::NoRecipients {
                name: name.to_owned(),
                scope: scope.clone(),
                config: config.to_owned(),
            });
        }
        let ciphertext = cipher::seal(name, scope, &recipients, value, config)?;
        self.entries.entry(name.to_owned()).or_default().insert(
            scope.key(),
            (
                scope.clone(),
                Entry {
                    recipients,
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
                out.push_str(&format!("\n[{name}.\"{}\"]\nrecipients = [\n", escape(key)));
                for recipient in &entry.recipients {
                    out.push_str(&format!("    \"{}\",\n", escape(recipient)));
                }
                out.push_str("]\nvalue = \"\"\"\n");
                out.push_str(entry.ciphertext.trim_end());
                out.push_str("\n\"\"\"\n");
            }
        }
        out
    }

    /// Locks the store in `root`, re-reads it, applies `change`, and writes the result
    /// atomically when `change` succeeds and changed something. On error nothing is
    /// written and no temporary file is left behind.
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
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| io_error(&lock_path, "create the lock file", error))?;
        lock.lock()
            .map_err(|error| io_error(&lock_path, "lock the store", error))?;
        remove_stale_temp_files(root);
        let mut store = Self::load(root)?;
        let before = store.clone();
        let result = change(&mut store)?;
        if store != before {
            store.write()?;
        }
        drop(lock);
        Ok(result)
    }

    /// Writes the store atomically (temporary file, fsync, rename). Prefer
    /// [`Store::update`], which also locks: an unlocked write racing a locked one may find
    /// its temporary file removed as a leftover, and then fails with the store unchanged.
    pub fn write(&self) -> Result<(), Error> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{unique}{TEMP_SUFFIX}",
            std::process::id()
        ));
        let result = write_new(&temp, self.render().as_bytes())
            .and_then(|()| fs::rename(&temp, &self.path))
            .and_then(|()| File::open(dir).and_then(|dir| dir.sync_all()).or(Ok(())));
        result.map_err(|error| {
            let _ = fs::remove_file(&temp);
            FileError {
                path: self.path.clone(),
                line: None,
                message: format!("cannot write the store: {error}"),
                help: Some("the store was left unchanged".to_owned()),
            }
            .into()
        })
    }
}

/// The 1-based line of a byte offset, found by binary search over the newline offsets:
/// counting newlines from the start for every value made parsing quadratic in the number of
/// values (2 s for a `set` in a store of 400 values, in a debug build).
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        Self(
            text.bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(at, _)| at)
                .collect(),
        )
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&newline| newline < offset) + 1
    }
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
    key: &Spanned<std::borrow::Cow<'_, str>>,
    slot: &Spanned<DeValue<'_>>,
    line: usize,
) -> Result<Entry, Error> {
    let restore =
        "restore the file from git history, or set the value again with `cargo xtask secret set`";
    let at = |offset: usize, message: String| {
        Error::from(FileError::at(path, text, Some(offset), message).with_help(restore))
    };
    let DeValue::Table(fields) = slot.get_ref() else {
        return Err(at(
            key.span().start,
            format!(
                "`{}` should be a table with `recipients` and `value`",
                key.get_ref()
            ),
        ));
    };
    let mut recipients = None;
    let mut ciphertext = None;
    for (field, value) in fields.iter() {
        match (field.get_ref().as_ref(), value.get_ref()) {
            ("recipients", DeValue::Array(list)) => {
                let mut keys = Vec::new();
                for item in list.iter() {
                    match item.get_ref() {
                        DeValue::String(recipient) => keys.push(recipient.to_string()),
                        _ => {
                            return Err(at(
                                item.span().start,
                                "a recipient should be a string".to_owned(),
                            ));
                        }
                    }
                }
                recipients = Some(keys);
            }
            ("value", DeValue::String(text)) => {
                // Only age armor (base64, `=`, the BEGIN/END lines): anything else was not
                // written by the tool, and rendering it back could produce TOML that no
                // longer parses (found by fuzzing `Store::parse`).
                if !text
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"+/=- \r\n".contains(&byte))
                {
                    return Err(at(
                        value.span().start,
                        format!(
                            "the value of `{}` is not an age-armored ciphertext",
                            key.get_ref()
                        ),
                    ));
                }
                ciphertext = Some(text.to_string());
            }
            ("recipients" | "value", _) => {
                return Err(at(
                    value.span().start,
                    format!("`{}` has the wrong type", field.get_ref()),
                ));
            }
            (other, _) => {
                return Err(at(
                    field.span().start,
                    format!("unknown key `{other}`; a value has `recipients` and `value`"),
                ));
            }
        }
    }
    let missing = |what: &str| {
        Error::from(FileError {
            path: path.to_owned(),
            line: Some(line),
            message: format!("the value `{}` has no `{what}`", key.get_ref()),
            help: Some(restore.to_owned()),
        })
    };
    Ok(Entry {
        recipients: recipients.ok_or_else(|| missing("recipients"))?,
        line,
        ciphertext: ciphertext.ok_or_else(|| missing("value"))?,
    })
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

/// Whether `name` follows the secret naming rule (an ASCII letter, then ASCII letters,
/// digits or `_`, at most 128 characters). `secret_syntax::validate_name` is the full check
/// with messages; this crate stays free of the parser.
pub(crate) fn is_name(name: &str) -> bool {
    name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphabetic())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvType;

    fn assert_cacheable<T: Clone + Send + Sync + 'static>() {}

    #[test]
    fn errors_can_be_cached() {
        assert_cacheable::<Error>();
    }

    #[test]
    fn render_is_deterministic_and_parses_back() {
        let (key, _) = crate::identity::generate_identity();
        let public = key.to_public().to_string();
        let mut store = Store::empty(PathBuf::from(STORE_FILE));
        let value = SecretString::from("v");
        let prod = Scope::Types([EnvType::Production].into());
        let staging = Scope::Envs(["staging".to_owned()].into());
        for (name, scope) in [("Zed", &prod), ("Alpha", &staging), ("Alpha", &prod)] {
            store
                .insert(
                    name,
                    scope,
                    std::slice::from_ref(&public),
                    &value,
                    Path::new("secrets.toml"),
                )
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
