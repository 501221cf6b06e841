//! The state every command reads the file store through: the signed access rules anchored
//! at `SECRETS_TRUST` when set, the store's own first-parent git history, and what this
//! clone remembers having trusted ([`secret_core::memory::Memory`]).
//!
//! The history gives a keyless reader in a fresh clone what a long-lived clone remembers:
//! walking every commit that changed the store, oldest first, it learns the newest version
//! of every slot and of the rules that verified at the time, so a value copied back from
//! history (an older version), a value deleted without a signed removal, or rules that do
//! not continue the ones before are refused now, exactly as a clone that saw them would.
//! What was walked is remembered (per branch, in `.git/secrets/`), so the next command only
//! walks the commits since.

use std::ffi::OsString;
use std::path::Path;

use secret_core::memory::Memory;
use secret_core::rules::chain::Pin;
use secret_core::state::State;
use secret_core::{Config, FileError, Store};

/// The variable that pins the trust root from outside the repository (a CI setting): an age
/// public key that signed version 1 of the rules, or a rules version's `sha256:` digest.
pub const TRUST_VAR: &str = "SECRETS_TRUST";

/// A workspace's state, judged with its history and this clone's memory.
#[derive(Debug)]
pub struct Trusted {
    /// The state readers go by.
    pub state: State,
    /// What to tell the user loudly: the rules changed since this clone last looked, the
    /// branch's history was rewritten.
    pub notes: Vec<String>,
    /// This clone's memory for the branch (to update after the command), and the commit
    /// walked to.
    saved: Option<Memory>,
    head: Option<String>,
}

/// The pin named by `SECRETS_TRUST` (through `vars`), if any.
pub fn pin(vars: &dyn Fn(&str) -> Option<OsString>) -> Result<Option<Pin>, FileError> {
    match vars(TRUST_VAR) {
        Some(text) if !text.is_empty() => Pin::parse(&text.to_string_lossy())
            .map(Some)
            .map_err(|message| FileError {
                path: TRUST_VAR.into(),
                line: None,
                message,
                help: Some(
                    "set it to the key that signed version 1 of the access rules, or to a version's digest, as `cargo xtask secret rules` prints them".to_owned(),
                ),
            }),
        _ => Ok(None),
    }
}

impl Trusted {
    /// Reads the workspace at `root` and judges it (see the module docs).
    pub fn open(
        root: &Path,
        vars: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Trusted, FileError> {
        let pin = pin(vars)?;
        let config = Config::load(root)?;
        let store = Store::load(root)?;
        Self::judge(root, config, store, pin.as_ref())
    }

    /// Judges `config` and `store` (read from `root`) with the history and the memory.
    pub fn judge(
        root: &Path,
        config: Config,
        store: Store,
        pin: Option<&Pin>,
    ) -> Result<Trusted, FileError> {
        let mut notes = Vec::new();
        let saved = Memory::load(root)?;
        let head = crate::git::head(root);
        let mut memory = saved.clone().unwrap_or_default();
        if let Some(head) = &head {
            let since = saved
                .as_ref()
                .map(|saved| saved.commit.as_str())
                .filter(|commit| !commit.is_empty());
            let since = match since {
                Some(commit) if crate::git::is_ancestor(root, commit) => Some(commit.to_owned()),
                Some(commit) => {
                    notes.push(format!(
                        "the history of this branch no longer contains commit {}, up to which this clone had checked {}: it was rewritten; the store is judged by what this clone trusted then and by the history as it is now",
                        short(commit),
                        secret_core::STORE_FILE
                    ));
                    None
                }
                None => None,
            };
            let history = crate::git::store_history_to(root, store.path(), since.as_deref(), head)
                .unwrap_or_default();
            let mut walked = Memory::default();
            for revision in &history {
                let Ok(then) = Store::parse(store.path(), &revision.text) else {
                    continue;
                };
                walked.record(&State::new(config.clone(), then, pin));
            }
            memory.merge(&walked);
            memory.commit = head.clone();
        }
        let before = saved.as_ref().map(|saved| saved.rules).unwrap_or(0);
        let mut store = store;
        memory.raise_versions(&mut store);
        let state = State::new(config, store, pin).with_memory(Some(memory));
        if let (Ok(verified), true) = (state.rules(), before > 0) {
            for version in verified
                .versions
                .iter()
                .filter(|version| version.version > before)
            {
                let changes: Vec<String> = version
                    .changes
                    .iter()
                    .map(|change| {
                        secret_core::text::escape_control(&change.to_string()).into_owned()
                    })
                    .collect();
                notes.push(format!(
                    "the access rules changed since this clone last checked them: version {} signed by {} on {}: {}",
                    version.version,
                    secret_core::text::escape_control(&version.signers.join(", ")),
                    version.signed,
                    changes.join("; ")
                ));
            }
        }
        let saved = saved.or_else(|| Memory::location(root).map(Memory::empty));
        // What the history taught (only what verified) is kept at once, so that a write this
        // command makes takes versions above it ([`raise_versions`]); the walk resumes past
        // `commit` only once a store verified ([`Trusted::remember`]).
        if let (Some(saved), Some(walked)) = (&saved, state.memory()) {
            let mut kept = saved.clone();
            kept.merge(walked);
            if &kept != saved {
                let _ = kept.save();
            }
        }
        Ok(Trusted {
            state,
            notes,
            saved,
            head,
        })
    }

    /// Records in this clone's memory what the command trusted (only what verified; never
    /// lowering what is remembered). Failing to write it is not an error of the command.
    pub fn remember(&self) {
        self.remember_state(&self.state);
    }

    /// [`Trusted::remember`] for the state after a write.
    pub(crate) fn remember_state(&self, state: &State) {
        let Some(saved) = &self.saved else {
            return;
        };
        let mut memory = saved.clone();
        // What the history taught is kept even when the store now fails verification (a
        // fresh clone whose check found the rules rolled back must remember the newer
        // ones, or the run time would accept them); only what verified is in it.
        if let Some(walked) = state.memory() {
            memory.merge(walked);
        }
        // The walk resumes after `commit` next time: only past a store that verified, so
        // that a history judged with the wrong pin is walked again.
        if memory.record(state)
            && let Some(head) = &self.head
        {
            memory.commit = head.clone();
        }
        if &memory != saved {
            let _ = memory.save();
        }
    }
}

/// Tells `store` (about to be written, read from `root`) the slot versions this clone
/// trusted, so that every write takes a version above them even where the file holds an
/// older table copied back.
#[cfg(feature = "cli")]
pub(crate) fn raise_versions(root: &Path, store: &mut Store) -> Result<(), FileError> {
    if let Some(memory) = Memory::load(root)? {
        memory.raise_versions(store);
    }
    Ok(())
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}
