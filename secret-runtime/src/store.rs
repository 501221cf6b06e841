//! The encrypted store `secrets.enc.toml` as the last source of the chain.
//!
//! The store file is read on the first lookup; the identity only when a value must
//! actually be decrypted, so a program whose values all come from the environment needs no
//! key.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use secret_core::identity::Identities;
use secret_core::store::Store;
use secret_core::{Config, Environment};

use crate::Error;
use crate::source::{Lookup, Source, VarReader};

/// Values from the workspace's `secrets.enc.toml`, decrypted with the identity from
/// `SECRETS_IDENTITY_KEY`, `SECRETS_IDENTITY` or the default identity file.
pub struct StoreSource {
    root: PathBuf,
    /// The store, its configuration, and whether the store file exists.
    store: OnceLock<Result<(Store, Config, bool), Error>>,
    identities: OnceLock<Result<Identities, Error>>,
    vars: VarReader,
}

impl StoreSource {
    /// The store in the workspace `root`.
    pub fn new(root: PathBuf, vars: VarReader) -> Self {
        Self {
            root,
            store: OnceLock::new(),
            identities: OnceLock::new(),
            vars,
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
    fn loaded(&self, name: &str) -> Result<&(Store, Config, bool), Error> {
        self.store
            .get_or_init(|| {
                let config = Config::load(&self.root)
                    .map_err(|error| Error::from_source(name, "secrets.toml", error.to_string()))?;
                let exists = self.root.join(secret_core::store::STORE_FILE).is_file();
                let store = Store::load(&self.root).map_err(|error| {
                    Error::from_source(name, self.describe(name), error.to_string())
                })?;
                Ok((store, config, exists))
            })
            .as_ref()
            .map_err(Clone::clone)
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
        if let Ok((store, _, _)) = self.loaded(first) {
            secret_core::trust::preverify(names.iter().filter_map(|&name| {
                store
                    .lookup(name, env)
                    .map(|(scope, entry)| (name, scope, entry))
            }));
        }
    }

    fn lookup(&self, name: &str, env: &Environment) -> Result<Lookup, Error> {
        let (store, config, exists) = self.loaded(name)?;
        if !exists {
            // Not "no value for local": there is no store at all in this workspace.
            return Ok(Lookup::NotFound(
                "no such file: `cargo xtask secret init` creates it".to_owned(),
            ));
        }
        let Some((scope, _entry)) = store.lookup(name, env) else {
            return Ok(Lookup::NotFound(format!("no value for {env}")));
        };
        let identities = self
            .identities
            .get_or_init(|| {
                Identities::from_vars(|name| (self.vars)(name))
                    .map_err(|error| Error::from_source(name, "the identity", error.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        store
            .decrypt(name, scope, config, identities)
            .map(Lookup::Found)
            .map_err(|error| Error::from_source(name, self.describe(name), error.to_string()))
    }
}
