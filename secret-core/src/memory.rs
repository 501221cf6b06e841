//! What this clone has trusted: the repository's identity, the root and newest version of
//! the signed access rules, and the newest version of every slot. Kept outside the work tree,
//! in the clone's git folder (`.git/secrets/`), so nothing a pusher commits can change it.
//!
//! TUF's clients keep the newest metadata they trusted for the same reason: a signature
//! proves who wrote a version, not that it is the newest. With the memory, a reader that has
//! seen version 5 of a value refuses version 4 copied back from history, refuses rules
//! rolled back or replaced by another root, and notices a value deleted without a signed
//! removal. Only the command-line tools write it, after a check passed and only for what
//! verified (a rolled-back store never lowers what is remembered); the run time reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::env::Scope;
use crate::file_error::FileError;
use crate::rules::chain::Verified;
use crate::toml_file::{self, ValueInner};
use crate::toml_write::basic as quote;

/// The clone's memory of one workspace's store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// Where it is kept.
    pub path: PathBuf,
    /// The repository's identity.
    pub repository: String,
    /// The digest of rules version 1 (the root).
    pub root: String,
    /// The newest rules version trusted.
    pub rules: u64,
    /// Its digest.
    pub rules_digest: String,
    /// The newest commit whose history was walked into this memory (empty: none).
    pub commit: String,
    /// name -> scope key -> the newest version trusted.
    slots: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Memory {
    /// Where the memory of the workspace at `root` is kept for the branch checked out: in
    /// the git folder of the repository holding it (`.git/secrets/trusted-<hash>.toml`, the
    /// hash naming the workspace's folder and the branch). `None` outside a git repository
    /// and on a detached `HEAD` (no branch to remember for).
    pub fn location(root: &Path) -> Option<PathBuf> {
        let root = root.canonicalize().ok()?;
        let (top, git) = root.ancestors().find_map(|dir| {
            let dot_git = dir.join(".git");
            if dot_git.is_dir() {
                return Some((dir.to_owned(), dot_git));
            }
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            Some((dir.to_owned(), dir.join(target)))
        })?;
        let relative = root.strip_prefix(&top).ok()?.to_string_lossy().into_owned();
        let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
        let branch = head.trim().strip_prefix("ref: ")?;
        let id = crate::sign::sha256_hex(format!("{relative}\n{branch}").as_bytes());
        // Worktrees share the repository's folder: keep the memory there.
        let common = std::fs::read_to_string(git.join("commondir"))
            .map(|dir| git.join(dir.trim()))
            .unwrap_or(git);
        Some(
            common
                .join("secrets")
                .join(format!("trusted-{}.toml", &id[..16])),
        )
    }

    /// The memory of the workspace at `root`: `None` outside git or before this clone
    /// trusted anything.
    pub fn load(root: &Path) -> Result<Option<Memory>, FileError> {
        let Some(path) = Self::location(root) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(FileError {
                path,
                line: None,
                message: format!("cannot read what this clone trusted: {error}"),
                help: None,
            }),
        }
    }

    /// An empty memory kept at `path`.
    pub fn empty(path: PathBuf) -> Memory {
        Memory {
            path,
            ..Memory::default()
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Memory, FileError> {
        let bad = |message: &str| FileError {
            path: path.to_owned(),
            line: None,
            message: message.to_owned(),
            help: Some(format!(
                "the file is written by the secrets tool; delete it to trust the store afresh ({})",
                path.display()
            )),
        };
        let root = toml_file::parse(path, text)?;
        let mut memory = Memory::empty(path.to_owned());
        for (key, value) in root.iter() {
            match (key.name.as_ref(), value.as_ref()) {
                ("repository", ValueInner::String(text)) => memory.repository = text.to_string(),
                ("root", ValueInner::String(text)) => memory.root = text.to_string(),
                ("rules", ValueInner::Integer(number)) if *number >= 0 => {
                    memory.rules = *number as u64
                }
                ("rules_digest", ValueInner::String(text)) => {
                    memory.rules_digest = text.to_string()
                }
                ("commit", ValueInner::String(text)) => memory.commit = text.to_string(),
                ("slots", ValueInner::Table(slots)) => {
                    for (slot, version) in slots.iter() {
                        let (Some((name, scope)), Some(version)) =
                            (slot.name.split_once(' '), version.as_integer())
                        else {
                            return Err(bad("a remembered slot is malformed"));
                        };
                        memory
                            .slots
                            .entry(name.to_owned())
                            .or_default()
                            .insert(scope.to_owned(), version.max(0) as u64);
                    }
                }
                _ => return Err(bad("the file is malformed")),
            }
        }
        Ok(memory)
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# What this clone has trusted in the workspace's secrets.enc.toml, written by the\n# secrets tool. Delete it to trust the store afresh.\n",
        );
        text.push_str(&format!(
            "repository = {}\nroot = {}\nrules = {}\nrules_digest = {}\ncommit = {}\n\n[slots]\n",
            quote(&self.repository),
            quote(&self.root),
            self.rules,
            quote(&self.rules_digest),
            quote(&self.commit)
        ));
        for (name, slots) in &self.slots {
            for (scope, version) in slots {
                text.push_str(&format!(
                    "{} = {version}\n",
                    quote(&format!("{name} {scope}"))
                ));
            }
        }
        text
    }

    /// Writes the memory (creating `.git/secrets/`), replacing the file atomically.
    pub fn save(&self) -> Result<(), FileError> {
        let failure = |error: std::io::Error| FileError {
            path: self.path.clone(),
            line: None,
            message: format!("cannot record what this clone trusted: {error}"),
            help: None,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failure)?;
        }
        let temp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temp, self.render()).map_err(failure)?;
        std::fs::rename(&temp, &self.path).map_err(failure)
    }

    /// The newest version of the slot this clone trusted (0: never).
    pub fn slot(&self, name: &str, scope: &Scope) -> u64 {
        self.slots
            .get(name)
            .and_then(|slots| slots.get(&scope.key()))
            .copied()
            .unwrap_or(0)
    }

    /// Every slot of `name` this clone trusted, with its version.
    pub(crate) fn slots_of(&self, name: &str) -> impl Iterator<Item = (Scope, u64)> + '_ {
        self.slots.get(name).into_iter().flat_map(|slots| {
            slots
                .iter()
                .filter_map(|(key, version)| Scope::parse_key(key).ok().map(|s| (s, *version)))
        })
    }

    /// Remembers that the slot was trusted at `version` (never lowers what is remembered).
    pub(crate) fn remember_slot(&mut self, name: &str, scope: &Scope, version: u64) {
        let slot = self
            .slots
            .entry(name.to_owned())
            .or_default()
            .entry(scope.key())
            .or_default();
        *slot = (*slot).max(version);
    }

    /// Fails when `verified` is not a continuation of the rules this clone trusted: another
    /// repository, another root, an older newest version, or another version where this
    /// clone trusted one.
    pub fn check_rules(&self, verified: &Verified) -> Result<(), String> {
        if self.root.is_empty() {
            return Ok(());
        }
        if verified.repository != self.repository {
            return Err(format!(
                "the store now names repository {}, and this clone trusted repository {}: the store was replaced",
                verified.repository, self.repository
            ));
        }
        if verified.root().digest != self.root {
            return Err(format!(
                "version 1 of the access rules is {}, and this clone trusted {}: the rules were replaced by another root",
                verified.root().digest,
                self.root
            ));
        }
        let newest = verified.newest().version;
        if newest < self.rules {
            return Err(format!(
                "the access rules are at version {newest}, and this clone trusted version {}: they were rolled back",
                self.rules
            ));
        }
        let ours = &verified.versions[(self.rules as usize).saturating_sub(1)];
        if self.rules > 0 && ours.digest != self.rules_digest {
            return Err(format!(
                "version {} of the access rules is not the one this clone trusted: the history was rewritten",
                self.rules
            ));
        }
        Ok(())
    }

    /// Takes in everything `other` remembers: the newer rules (when they continue these),
    /// and the higher version of every slot.
    pub fn merge(&mut self, other: &Memory) {
        if self.root.is_empty() || (other.root == self.root && other.rules > self.rules) {
            self.repository = other.repository.clone();
            self.root = other.root.clone();
            self.rules = other.rules;
            self.rules_digest = other.rules_digest.clone();
        }
        for (name, slots) in &other.slots {
            for (scope, version) in slots {
                let slot = self
                    .slots
                    .entry(name.clone())
                    .or_default()
                    .entry(scope.clone())
                    .or_default();
                *slot = (*slot).max(*version);
            }
        }
    }

    /// Tells `store` the version of every slot this clone trusted, so that a write takes a
    /// version above it even when the file holds an older table copied back (a new value
    /// with the version of the one it replaced would let that one be copied back in turn),
    /// and `rekey` leaves such a rolled-back value alone.
    pub fn raise_versions(&self, store: &mut crate::store::Store) {
        for (name, slots) in &self.slots {
            for (scope, version) in slots {
                let known = store
                    .trusted_versions
                    .entry(name.clone())
                    .or_default()
                    .entry(scope.clone())
                    .or_default();
                *known = (*known).max(*version);
            }
        }
    }

    /// Every remembered slot: `(name, scope, version)`.
    pub(crate) fn all_slots(&self) -> impl Iterator<Item = (&str, Scope, u64)> + '_ {
        self.slots.iter().flat_map(|(name, slots)| {
            slots.iter().filter_map(move |(key, version)| {
                Scope::parse_key(key)
                    .ok()
                    .map(|scope| (name.as_str(), scope, *version))
            })
        })
    }

    /// Remembers the rules `verified` (after [`Memory::check_rules`] passed).
    pub(crate) fn remember_rules(&mut self, verified: &Verified) {
        self.repository = verified.repository.clone();
        self.root = verified.root().digest.clone();
        let newest = verified.newest();
        if newest.version >= self.rules {
            self.rules = newest.version;
            self.rules_digest = newest.digest.clone();
        }
    }
}
