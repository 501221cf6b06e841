//! What a reader may trust in a workspace: `secrets.toml` as written, the store, the signed
//! access rules verified from the store, and what this clone remembers having trusted. Every
//! reader — the run time, `reveal`, `run`, `export`, `sync`, the dashboard, the build-time
//! check — asks [`State::lookup`] which value applies to an environment and whether it may
//! be used, so they all give the same answer.
//!
//! Readers work from the *signed* rules, never from `secrets.toml` directly: a change to
//! `secrets.toml` (a new recipient, a writer, an environment) takes effect only once someone
//! who held the authority signs it (`cargo xtask secret rekey`). Until then it is
//! [`State::pending`], shown by the check and named in refusals it explains.

use std::path::Path;

use crate::config::Config;
use crate::env::{Environment, Scope};
use crate::file_error::FileError;
use crate::memory::Memory;
use crate::rules::chain::{self, ChainError, Change, Pin, Verified};
use crate::rules::facts::facts_of;
use crate::store::{Entry, Store};
use crate::trust::{Authority, Trust};

/// A workspace's configuration and store, with the signed rules verified.
#[derive(Debug, Clone)]
pub struct State {
    config: Config,
    store: Store,
    rules: Result<Verified, ChainError>,
    pending: Vec<Change>,
    memory: Option<Memory>,
}

/// Why a reader refuses the value that applies to an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The value itself is not trusted (its signature, writer, header, or the rules).
    Untrusted(Trust),
    /// Two values of the secret apply equally (two values for one type or one environment,
    /// as a careless merge leaves): neither is used.
    Ambiguous {
        /// The scopes of the values that apply.
        scopes: Vec<Scope>,
    },
    /// This clone has seen a newer version of the slot: an older value was copied back.
    RolledBack {
        /// The version this clone trusted.
        seen: u64,
        /// The version in the store.
        found: u64,
    },
    /// This clone trusted a value for a more specific scope that is gone without a signed
    /// removal: the value found would otherwise be used in its place.
    Vanished {
        /// The scope of the value that disappeared.
        scope: Scope,
        /// The version this clone trusted.
        seen: u64,
    },
}

impl Refusal {
    /// Why the value of `scope` is refused, as what follows "the value of NAME (SCOPE)" in a
    /// sentence.
    pub fn describe(&self, scope: &Scope) -> String {
        use crate::text::escape_control as esc;
        match self {
            Self::Untrusted(trust) => describe_trust(trust, scope),
            Self::Ambiguous { scopes } => {
                let keys: Vec<String> = scopes
                    .iter()
                    .map(|scope| esc(&scope.key()).into_owned())
                    .collect();
                format!(
                    "is one of {} values that apply at once ({}): a secret has one value per type and per environment",
                    keys.len(),
                    keys.join(", ")
                )
            }
            Self::RolledBack { seen, found } => format!(
                "is version {found}, older than version {seen} already trusted (by this clone or in the store's history): an older value was copied back"
            ),
            Self::Vanished { scope, seen } => format!(
                "for {} (version {seen}, already trusted) is gone from the store without a signed removal",
                esc(&scope.key())
            ),
        }
    }
}

/// Why a value of `scope` with this verdict is refused, as what follows "the value of NAME
/// (SCOPE)" in a sentence (empty for a trusted one).
pub fn describe_trust(trust: &Trust, scope: &Scope) -> String {
    use crate::text::escape_control as esc;
    match trust {
        Trust::Signed { .. } => String::new(),
        Trust::Unsigned => "is not signed, so nobody can tell who wrote it".to_owned(),
        Trust::Legacy { writer } => format!(
            "is signed by {} the way store format 2 signed values, without the repository or a version",
            esc(writer)
        ),
        Trust::BadSignature { writer } => format!(
            "claims to be written by {}, but its signature does not verify: it was changed after signing, signed for another repository, or forged",
            esc(writer)
        ),
        Trust::NotAllowed {
            writer,
            unsigned_grant,
            ..
        } => {
            if *unsigned_grant {
                format!(
                    "was written by {}, who may write it only by a change to secrets.toml that nobody allowed to has signed",
                    esc(writer)
                )
            } else {
                format!(
                    "was written by {}, who may not write {}",
                    esc(writer),
                    scope.describe()
                )
            }
        }
        Trust::HiddenReaders {
            x25519,
            recipients,
            other,
            ..
        } => {
            let mut text = format!(
                "has an age header with {x25519} X25519 stanza{} for {recipients} signed recipient{}",
                if *x25519 == 1 { "" } else { "s" },
                if *recipients == 1 { "" } else { "s" }
            );
            if !other.is_empty() {
                text.push_str(&format!(" and stanzas of type {}", other.join(", ")));
            }
            text.push_str(": it may be readable by keys nobody listed");
            text
        }
        Trust::RulesUntrusted { reason } => {
            format!("cannot be trusted, because the access rules cannot be: {reason}")
        }
    }
}

/// A slot the store holds at an older version than this clone (or the store's own history)
/// trusted, or no longer holds at all without a signed removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    /// The secret.
    pub name: String,
    /// The slot's scope.
    pub scope: Scope,
    /// The version trusted before.
    pub seen: u64,
    /// The version in the store; `None` when the slot is gone without a signed removal.
    pub found: Option<u64>,
    /// The line of the slot's table in the store (0 when gone).
    pub line: usize,
}

/// What applies to an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// No value applies.
    None,
    /// This value applies and may be used.
    Found {
        /// Its scope.
        scope: &'a Scope,
        /// The value.
        entry: &'a Entry,
    },
    /// No value applies, but this clone trusted one that is gone from the store without a
    /// signed removal.
    Vanished {
        /// The scope of the value that disappeared.
        scope: Scope,
        /// The version this clone trusted.
        seen: u64,
    },
    /// A value applies but readers refuse it.
    Refused {
        /// The scope of the value that applies.
        scope: &'a Scope,
        /// The value.
        entry: &'a Entry,
        /// Why.
        refusal: Refusal,
    },
}

impl State {
    /// Reads `secrets.toml` and `secrets.enc.toml` in `root` and verifies the signed rules
    /// (against `pin` when given). A file that cannot be read or parsed is an error; rules
    /// that cannot be trusted are not (every value is refused, each saying why).
    pub fn load(root: &Path, pin: Option<&Pin>) -> Result<State, FileError> {
        let config = Config::load(root)?;
        let store = Store::load(root)?;
        Ok(Self::new(config, store, pin))
    }

    /// The state of `config` and `store`, the signed rules verified against `pin`.
    pub fn new(config: Config, store: Store, pin: Option<&Pin>) -> State {
        let rules = chain::verify(store.rules(), &config.path, pin);
        let pending = match &rules {
            Ok(verified) => chain::diff(&verified.facts, &facts_of(&config, &verified.repository)),
            Err(_) => Vec::new(),
        };
        State {
            config,
            store,
            rules,
            pending,
            memory: None,
        }
    }

    /// Also judges by what this clone remembers having trusted ([`Memory`]): an older rules
    /// version or slot version than remembered, or a remembered slot that vanished, is
    /// refused.
    pub fn with_memory(mut self, memory: Option<Memory>) -> State {
        match (&memory, &self.rules) {
            (Some(memory), Ok(verified)) => {
                if let Err(reason) = memory.check_rules(verified) {
                    self.rules = Err(ChainError::Malformed {
                        version: verified.newest().version,
                        line: 0,
                        reason,
                    });
                }
            }
            // Every version removed (and the store marked as an older format, which
            // `migrate` would sign a new root for): rolled back to none.
            (Some(memory), Err(ChainError::Missing)) if !memory.root.is_empty() => {
                self.rules = Err(ChainError::Malformed {
                    version: memory.rules,
                    line: 0,
                    reason: format!(
                        "the store has no signed access rules, and this clone trusted version {} of them: they were removed",
                        memory.rules
                    ),
                });
            }
            _ => {}
        }
        self.memory = memory;
        self
    }

    /// `secrets.toml` as written.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The verified signed rules, or why they cannot be trusted.
    pub fn rules(&self) -> Result<&Verified, &ChainError> {
        self.rules.as_ref()
    }

    /// The memory this state was judged with, if any.
    pub fn memory(&self) -> Option<&Memory> {
        self.memory.as_ref()
    }

    /// The rules readers go by: the signed ones; `secrets.toml` as written while the store
    /// has no signed rules (no value is trusted then anyway).
    pub fn effective(&self) -> &Config {
        match &self.rules {
            Ok(verified) if !self.pending.is_empty() => &verified.config,
            _ => &self.config,
        }
    }

    /// The rules to act on where acting on unsigned ones would be unsafe — which server to
    /// send values to (`[backend]`), which environment a name stands for: the signed rules;
    /// `secrets.toml` as written only while nothing was ever signed (no rules, no value, no
    /// removal in the store). Otherwise why the rules cannot be trusted.
    pub fn trusted_config(&self) -> Result<&Config, String> {
        match &self.rules {
            Ok(verified) if self.pending.is_empty() => {
                let _ = verified;
                Ok(&self.config)
            }
            Ok(verified) => Ok(&verified.config),
            Err(ChainError::Missing)
                if self.store.is_empty() && self.store.all_removals().next().is_none() =>
            {
                Ok(&self.config)
            }
            Err(error) => Err(self.rules_problem(error)),
        }
    }

    /// The changes `secrets.toml` makes to the signed rules that nobody signed yet.
    pub fn pending(&self) -> &[Change] {
        &self.pending
    }

    /// The signed rules and repository a value is judged by, if the rules are trusted.
    pub fn authority(&self) -> Option<Authority<'_>> {
        self.rules.as_ref().ok().map(|verified| Authority {
            config: self.effective(),
            repository: &verified.repository,
        })
    }

    /// Resolves an environment named on the command line or in `SECRETS_ENV` by the signed
    /// rules. An environment that only an unsigned change declares is an error saying so.
    pub fn resolve_env(&self, text: &str) -> Result<Environment, FileError> {
        let effective = self.effective();
        match effective.resolve_env(text) {
            Ok(env) => Ok(env),
            Err(error) => match self.config.resolve_env(text) {
                Ok(_) => Err(FileError {
                    path: self.config.path.clone(),
                    line: None,
                    message: format!(
                        "the environment `{}` is declared in secrets.toml by a change nobody has signed yet",
                        crate::text::escape_control(text)
                    ),
                    help: Some(
                        "a writer of its type signs the change with `cargo xtask secret rekey`"
                            .to_owned(),
                    ),
                }),
                Err(_) => Err(error),
            },
        }
    }

    /// What readers conclude from the value stored for (`name`, `scope`).
    pub fn trust(&self, name: &str, scope: &Scope, entry: &Entry) -> Trust {
        match &self.rules {
            Ok(_) => {
                let authority = self.authority().expect("the rules are trusted");
                crate::trust::trust(authority, Some(&self.config), name, scope, entry)
            }
            // A store from before signed rules: each value says what it lacks (refused all
            // the same, until `migrate`).
            Err(ChainError::Missing) if self.store.format() < crate::store::FORMAT_VERSION => {
                match crate::trust::legacy_trust(&self.config, name, scope, entry) {
                    Trust::Signed { writer } => Trust::Legacy { writer },
                    other => other,
                }
            }
            Err(error) => Trust::RulesUntrusted {
                reason: self.rules_problem(error),
            },
        }
    }

    /// Why the rules cannot be trusted, in one sentence with what to do.
    pub fn rules_problem(&self, error: &ChainError) -> String {
        match error {
            ChainError::Missing if self.store.format() < crate::store::FORMAT_VERSION => format!(
                "the store is in format {}, from before signed access rules; a production writer upgrades it with `cargo xtask secret migrate`",
                self.store.format()
            ),
            ChainError::Missing => {
                "the store has values but no signed access rules (they were removed from the file)"
                    .to_owned()
            }
            other => other.describe(),
        }
    }

    /// Checks the signatures of the values `names` receive in `env` in one batch, so each
    /// [`State::lookup`] after is cheaper (for programs that read many values at once).
    pub fn prepare(&self, names: &[&str], env: &Environment) {
        if let Ok(verified) = &self.rules {
            crate::trust::preverify(
                &verified.repository,
                names.iter().filter_map(|&name| {
                    self.store
                        .lookup(name, env)
                        .map(|(scope, entry)| (name, scope, entry))
                }),
            );
        }
    }

    /// The value of `name` that applies to `env`, and whether readers may use it.
    pub fn lookup(&self, name: &str, env: &Environment) -> Lookup<'_> {
        let mut ranked: Vec<(u8, &Scope, &Entry)> = self
            .store
            .slots(name)
            .filter_map(|(scope, entry)| scope.rank(env).map(|rank| (rank, scope, entry)))
            .collect();
        ranked.sort_by_key(|(rank, _, _)| *rank);
        let Some(&(best, scope, entry)) = ranked.first() else {
            return match self.vanished(name, env, None) {
                Some((scope, seen)) => Lookup::Vanished { scope, seen },
                None => Lookup::None,
            };
        };
        let refuse = |refusal| Lookup::Refused {
            scope,
            entry,
            refusal,
        };
        let tied: Vec<Scope> = ranked
            .iter()
            .filter(|(rank, _, _)| *rank == best)
            .map(|(_, scope, _)| (*scope).clone())
            .collect();
        if tied.len() > 1 {
            return refuse(Refusal::Ambiguous { scopes: tied });
        }
        let trust = self.trust(name, scope, entry);
        if !trust.is_trusted() {
            return refuse(Refusal::Untrusted(trust));
        }
        if let Some(memory) = &self.memory {
            let seen = memory.slot(name, scope);
            let found = entry.version.unwrap_or(0);
            if seen > found {
                return refuse(Refusal::RolledBack { seen, found });
            }
        }
        if let Some((gone, seen)) = self.vanished(name, env, Some(best)) {
            return refuse(Refusal::Vanished { scope: gone, seen });
        }
        Lookup::Found { scope, entry }
    }

    /// Every slot the store holds at an older version than remembered, or lost without a
    /// signed removal (empty without a memory).
    pub fn behind(&self) -> Vec<Behind> {
        let Some(memory) = &self.memory else {
            return Vec::new();
        };
        let mut behind = Vec::new();
        for (name, scope, seen) in memory.all_slots() {
            let value = self.store.get(name, &scope);
            let removal = self.signed_removal(name, &scope);
            let (found, line) = match (value, removal) {
                (Some(entry), _) => (Some(entry.version.unwrap_or(0)), entry.line),
                (None, Some(removal)) => (Some(removal.version), removal.line),
                (None, None) => (None, 0),
            };
            if found.is_none_or(|found| found < seen) {
                behind.push(Behind {
                    name: name.to_owned(),
                    scope,
                    seen,
                    found,
                    line,
                });
            }
        }
        behind
    }

    /// A slot this clone remembers, more specific for `env` than rank `than` (any, when
    /// `None`), that is neither in the store nor removed by a signed removal.
    fn vanished(&self, name: &str, env: &Environment, than: Option<u8>) -> Option<(Scope, u64)> {
        let memory = self.memory.as_ref()?;
        memory.slots_of(name).find_map(|(scope, seen)| {
            let rank = scope.rank(env)?;
            if than.is_some_and(|than| rank >= than) {
                return None;
            }
            let present = self.store.get(name, &scope).is_some()
                || self
                    .signed_removal(name, &scope)
                    .is_some_and(|removal| removal.version >= seen);
            (!present).then_some((scope, seen))
        })
    }

    /// The removal of (`name`, `scope`) in the store, if one of the scope's writers signed it
    /// under the signed rules: a removal anyone else wrote does not account for a value that
    /// is gone.
    fn signed_removal(&self, name: &str, scope: &Scope) -> Option<&crate::store::Removal> {
        let authority = self.authority()?;
        self.store
            .removals(name)
            .find(|(removed, _)| *removed == scope)
            .map(|(_, removal)| removal)
            .filter(|removal| {
                crate::trust::removal_trust(authority, name, scope, removal).is_trusted()
            })
    }
}
/// What a clone learns from a state (here, so that the memory knows nothing of states).
impl Memory {
    /// Remembers what readers trust in `state`: its rules, when they continue the ones
    /// remembered, and the version of every value and signed removal they accept. Returns
    /// whether the rules were taken (`false`: a state whose rules do not continue the
    /// remembered ones teaches nothing).
    pub fn record(&mut self, state: &State) -> bool {
        let Ok(verified) = state.rules() else {
            return false;
        };
        if self.check_rules(verified).is_err() {
            return false;
        }
        self.remember_rules(verified);
        let store = state.store();
        for name in store.names() {
            for (scope, entry) in store.slots(name) {
                if let Some(version) = entry.version
                    && state.trust(name, scope, entry).is_trusted()
                {
                    self.remember_slot(name, scope, version);
                }
            }
        }
        if let Some(authority) = state.authority() {
            for (name, scope, removal) in store.all_removals() {
                if crate::trust::removal_trust(authority, name, scope, removal).is_trusted() {
                    self.remember_slot(name, scope, removal.version);
                }
            }
        }
        true
    }
}
