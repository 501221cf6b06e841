//! The Vault/OpenBao KV v2 engine of `[backend]` as the last source of the chain (feature
//! `vault`): blocking HTTP with rustls and the table's timeout, no async runtime.
//!
//! The client logs in on the first lookup (token from `VAULT_TOKEN`/`BAO_TOKEN` or
//! `~/.vault-token`, or AppRole with `VAULT_ROLE_ID`/`VAULT_SECRET_ID`) and checks the
//! mount; it renews the token or logs in again two thirds into its lease, so a
//! long-running process keeps resolving. Each lookup reads the secret's KV entry
//! `<mount>/data/<prefix>/<Name>` and picks the value for the environment (environment >
//! pattern > type). Handles cache what they resolve, so each name is read once. A failed
//! connection is remembered without the first secret's name (each error names its own);
//! an unreachable server is not asked again for 30 seconds, so many secrets cost one
//! timeout.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use secret_core::Environment;
use secret_core::backend::BackendConfig;
use secret_core::vault::Client;

use crate::Error;
use crate::source::{Lookup, Source, VarReader};

/// How long an unreachable server is not asked again: the lookups in that window fail at
/// once with the first failure, so N secrets cost one timeout, not N.
const UNREACHABLE_FOR: Duration = Duration::from_secs(30);

/// Values from the Vault/OpenBao KV v2 engine that `secrets.toml` selects.
pub struct VaultSource {
    config: BackendConfig,
    vars: VarReader,
    client: OnceLock<Result<Arc<Client>, String>>,
    /// The last "cannot reach the server" and when it happened.
    unreachable: Mutex<Option<(Instant, String)>>,
}

impl VaultSource {
    /// The backend `config`, with credentials read through `vars`.
    pub fn new(config: BackendConfig, vars: VarReader) -> Self {
        Self {
            config,
            vars,
            client: OnceLock::new(),
            unreachable: Mutex::new(None),
        }
    }

    /// The lookup, or the error's message and whether the server was unreachable.
    fn read(&self, name: &str, env: &Environment) -> Result<Lookup, (String, bool)> {
        let fail = |error: secret_core::Error| {
            let unreachable =
                matches!(&error, secret_core::Error::Backend(backend) if backend.unreachable);
            (error.to_string(), unreachable)
        };
        let client = match self.client.get() {
            Some(client) => client,
            None => {
                let connected = Client::connect(&self.config, &|var| (self.vars)(var));
                let connected = connected.map_err(fail);
                if let Err((message, true)) = &connected {
                    // Not cached for the process: the server may come back.
                    return Err((message.clone(), true));
                }
                self.client
                    .get_or_init(|| connected.map(Arc::new).map_err(|(message, _)| message))
            }
        };
        let client = client
            .as_ref()
            .map_err(|message| (message.clone(), false))?;
        let read = client.read(name).map_err(fail)?;
        if let Some(problem) = &read.problem {
            return Ok(Lookup::NotFound(format!(
                "the KV secret was not written by this tool ({problem})"
            )));
        }
        Ok(match read.lookup(env) {
            Some((_, value)) => Lookup::Found(value.clone()),
            None => Lookup::NotFound(format!("no value for {env}")),
        })
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
        let mut unreachable = self
            .unreachable
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some((when, message)) = unreachable.as_ref()
            && when.elapsed() < UNREACHABLE_FOR
        {
            return Err(Error::from_source(
                name,
                self.describe(name),
                format!(
                    "{message}\n  note: not asked again for {} seconds after that failure",
                    UNREACHABLE_FOR.as_secs()
                ),
            ));
        }
        // Held while reading: lookups from other threads wait for this one's answer rather
        // than each paying the timeout.
        match self.read(name, env) {
            Ok(lookup) => {
                *unreachable = None;
                Ok(lookup)
            }
            Err((message, was_unreachable)) => {
                if was_unreachable {
                    *unreachable = Some((Instant::now(), message.clone()));
                }
                Err(Error::from_source(name, self.describe(name), message))
            }
        }
    }
}
