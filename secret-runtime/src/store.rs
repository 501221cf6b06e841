//! The encrypted store `secrets.enc.toml` as the last source of the chain.
//!
//! The store file is read on the first lookup; the identity only when a value must
//! actually be decrypted, so a program whose values all come from the environment needs no
//! key. Values are judged as every reader judges them ([`secret_core::state::State`]): by
//! the signed access rules (anchored at `SECRETS_TRUST` when set), and by what the clone
//! running the program remembers having trusted, which the run time reads but never writes.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use secret_core::identity::Identities;
use secret_core::memory::Memory;
use secret_core::rules::chain::Pin;
use secret_core::state::State;
use secret_core::{Config, Environment, FileError, Store};

use crate::Error;
use crate::source::{Lookup, Source, VarReader};

/// Values from the workspace's `secrets.enc.toml`, decrypted with the identity from
/// `SECRETS_IDENTITY_KEY`, `SECRETS_IDENTITY` or the default identity file.
pub struct StoreSource {
    root: PathBuf,
    /// `secrets.toml`, when the caller read it already.
    config: Option<Config>,
    /// The state readers go by, and whether the store file exists.
    store: OnceLock<Result<(State, bool), Error>>,
    identities: OnceLock<Result<Identities, Error>>,
    vars: VarReader,
}

impl StoreSource {
    /// The store in the workspace `root`.
    pub fn new(root: PathBuf, vars: VarReader) -> Self {
        Self {
            root,
            config: None,
            store: OnceLock::new(),
            identities: OnceLock::new(),
            vars,
        }
    }
}

impl StoreSource {
    /// The store in the workspace `root`, whose `secrets.toml` the caller has read as
    /// `config` (so it is not parsed again).
    pub(crate) fn with_config(root: PathBuf, config: Config, vars: VarReader) -> Self {
        Self {
            config: Some(config),
            ..Self::new(root, vars)
        }
    }
}

impl fmt::Debug for StoreSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSource")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl StoreSource {
    /// The store and its configuration, read on first use; errors name the secret `name`
    /// being resolved when they happened.
    fn loaded(&self, name: &str) -> Result<&(State, bool), Error> {
        self.store
            .get_or_init(|| self.load(name))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn load(&self, name: &str) -> Result<(State, bool), Error> {
        let pin = match (self.vars)("SECRETS_TRUST") {
            Some(text) if !text.is_empty() => Some(
                Pin::parse(&text.to_string_lossy())
                    .map_err(|error| Error::from_source(name, "SECRETS_TRUST", error))?,
            ),
            _ => None,
        };
        let failed =
            |error: FileError| Error::from_source(name, self.describe(name), error.to_string());
        let config = match &self.config {
            Some(config) => config.clone(),
            None => Config::load(&self.root).map_err(failed)?,
        };
        let store = Store::load(&self.root).map_err(failed)?;
        let state = State::new(config, store, pin.as_ref());
        let memory = Memory::load(&self.root).map_err(failed)?;
        let exists = self.root.join(secret_core::store::STORE_FILE).is_file();
        Ok((state.with_memory(memory), exists))
    }

    /// The environment `text` names by the store's signed access rules (the store is read
    /// now and kept for the lookups); `None` when the store cannot be read, which its first
    /// lookup reports.
    pub(crate) fn environment(&self, text: &str) -> Option<Result<Environment, FileError>> {
        if self.store.get().is_none() {
            let state = self.load("").ok()?;
            let _ = self.store.set(Ok(state));
        }
        match self.store.get()? {
            Ok((state, _)) => Some(state.resolve_env(text)),
            Err(_) => None,
        }
    }
}

impl Source for StoreSource {
    fn describe(&self, _name: &str) -> String {
        format!(
            "store {}",
            self.root.join(secret_core::store::STORE_FILE).display()
        )
    }

    fn prepare(&self, names: &[&str], env: &Environment) {
        let Some(&first) = names.first() else {
            return;
        };
        if let Ok((state, _)) = self.loaded(first) {
            state.prepare(names, env);
        }
    }

    fn lookup(&self, name: &str, env: &Environment) -> Result<Lookup, Error> {
        let (state, exists) = self.loaded(name)?;
        if !*exists {
            // Not "no value for local": there is no store at all in this workspace.
            return Ok(Lookup::NotFound(
                "no such file: `cargo xtask secret init` creates it".to_owned(),
            ));
        }
        let failed = |error: secret_core::Error| {
            Error::from_source(name, self.describe(name), error.to_string())
        };
        match state.lookup(name, env) {
            secret_core::state::Lookup::None => {
                return Ok(Lookup::NotFound(format!("no value for {env}")));
            }
            secret_core::state::Lookup::Found { .. } => {}
            // Refused whatever the key: say why without asking for one.
            _ => {
                return match state.decrypt(name, env, &Identities::none()) {
                    Err(error) => Err(failed(error)),
                    Ok(_) => Ok(Lookup::NotFound(format!("no value for {env}"))),
                };
            }
        }
        let identities = self
            .identities
            .get_or_init(|| {
                Identities::from_vars(|name| (self.vars)(name))
                    .map_err(|error| Error::from_source(name, "the identity", error.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        match state.decrypt(name, env, identities) {
            Ok(Some((_, value))) => Ok(Lookup::Found(value)),
            Ok(None) => Ok(Lookup::NotFound(format!("no value for {env}"))),
            Err(error) => Err(failed(error)),
        }
    }
}
