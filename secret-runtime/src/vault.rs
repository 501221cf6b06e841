//! The Vault/OpenBao KV v2 engine of `[backend]` as the last source of the chain (feature
//! `vault`): blocking HTTP with rustls and the table's timeout, no async runtime.
//!
//! The client logs in on the first lookup (token from `VAULT_TOKEN`/`BAO_TOKEN`, or
//! AppRole with `VAULT_ROLE_ID`/`VAULT_SECRET_ID`); each lookup reads the secret's KV entry
//! `<mount>/data/<prefix>/<Name>` and picks the value for the environment (environment >
//! pattern > type). Handles cache what they resolve, so each name is read once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use secret_store::Environment;
use secret_store::backend::BackendConfig;
use secret_store::vault::Client;

use crate::Error;
use crate::source::{Lookup, Source, VarReader};

/// Values from the Vault/OpenBao KV v2 engine that `secrets.toml` selects.
pub struct VaultSource {
    config: BackendConfig,
    vars: VarReader,
    client: OnceLock<Result<Arc<Client>, Error>>,
}

impl VaultSource {
    /// The backend `config`, with credentials read through `vars`.
    pub fn new(config: BackendConfig, vars: VarReader) -> Self {
        Self {
            config,
            vars,
            client: OnceLock::new(),
        }
    }
}

impl fmt::Debug for VaultSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSource")
            .field("server", &self.config.describe())
            .finish_non_exhaustive()
    }
}

impl Source for VaultSource {
    fn describe(&self, name: &str) -> String {
        format!(
            "{} ({})",
            self.config.describe(),
            self.config.data_path(name)
        )
    }

    fn lookup(&self, name: &str, env: &Environment) -> Result<Lookup, Error> {
        let client = self
            .client
            .get_or_init(|| {
                Client::connect(&self.config, &|var| (self.vars)(var))
                    .map(Arc::new)
                    .map_err(|error| Error::source(name, self.describe(name), error.to_string()))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        let read = client
            .read(name)
            .map_err(|error| Error::source(name, self.describe(name), error.to_string()))?;
        match read.lookup(env) {
            Some((_, value)) => Ok(Lookup::Found(value.clone())),
            None => Ok(Lookup::NotFound(format!("no value for {env}"))),
        }
    }
}
