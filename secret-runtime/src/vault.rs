//! The Vault/OpenBao KV v2 engine of `[backend]` as the last source of the chain (feature
//! `vault`, the `secret-vault` client): blocking HTTP with rustls, no async runtime.
//!
//! The client connects on the first lookup (server from `VAULT_ADDR` or `address`; token
//! from `VAULT_TOKEN`/`BAO_TOKEN` or `~/.vault-token`, or AppRole with
//! `VAULT_ROLE_ID`/`VAULT_SECRET_ID`) and checks the mount; it renews the token or logs in
//! again two thirds into its lease, and keeps trying while the current token is valid.
//! Each lookup reads the secret's KV entry `<mount>/data/<prefix>/<Name>` and picks the
//! value for the environment (environment > pattern > type); a secret holding two values
//! for one type is an error, never a pick.
//!
//! Failures are of two kinds. Permanent ones (a rejected token, a wrong mount, two values
//! for one type) are errors as they are: a failed connection is remembered for the process
//! (without the first secret's name; each error names its own). Transient ones (no
//! connection, no answer, 5xx, 429 on every attempt within the time budget
//! `timeout_seconds`) are [`crate::ErrorKind::Unavailable`] and never remembered by a
//! handle: the next `expose()` asks again. So that a program resolving many secrets against
//! a dead server waits one budget and not one per secret, lookups in the next
//! `timeout_seconds` after such a failure fail at once with it; the first lookup after
//! that asks the server again.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use secret_core::Environment;
use secret_core::backend::{BackendConfig, BackendErrorKind};
use secret_vault::Client;

use crate::Error;
use crate::source::{Lookup, Source, VarReader};

/// Values from the Vault/OpenBao KV v2 engine that `secrets.toml` selects.
pub struct VaultSource {
    config: BackendConfig,
    /// `OpenBao at http://...`, with the address in use (`VAULT_ADDR` or `address`).
    server: String,
    vars: VarReader,
    /// The connection, or the permanent failure to connect.
    client: OnceLock<Result<Arc<Client>, String>>,
    /// Held while connecting, so that one thread connects and the others wait for it.
    connecting: Mutex<()>,
    /// The last transient failure and when it happened.
    unavailable: Mutex<Option<(Instant, String)>>,
}

/// A failed lookup: the message, and whether asking again later may succeed.
struct Failure {
    message: String,
    transient: bool,
}

impl From<secret_core::Error> for Failure {
    fn from(error: secret_core::Error) -> Self {
        let transient = matches!(
            &error,
            secret_core::Error::Backend(backend) if backend.kind == BackendErrorKind::Transient
        );
        Self {
            message: error.to_string(),
            transient,
        }
    }
}

impl VaultSource {
    /// The backend `config`, with credentials read through `vars`.
    pub fn new(config: BackendConfig, vars: VarReader) -> Self {
        let server = secret_vault::Settings::resolve(&config, &|var| vars(var))
            .map_or_else(|_| config.describe(), |settings| settings.describe());
        Self {
            config,
            server,
            vars,
            client: OnceLock::new(),
            connecting: Mutex::new(()),
            unavailable: Mutex::new(None),
        }
    }

    /// How long lookups fail at once after a transient failure.
    fn hold_down(&self) -> Duration {
        Duration::from_secs(self.config.timeout_seconds)
    }

    /// The connected client; a transient failure to connect is not remembered.
    fn client(&self) -> Result<Arc<Client>, Failure> {
        let connected = |result: &Result<Arc<Client>, String>| {
            result.clone().map_err(|message| Failure {
                message,
                transient: false,
            })
        };
        if let Some(result) = self.client.get() {
            return connected(result);
        }
        let _connecting = self
            .connecting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(result) = self.client.get() {
            return connected(result);
        }
        match Client::connect(&self.config, &|var| (self.vars)(var)) {
            Ok(client) => connected(self.client.get_or_init(|| Ok(Arc::new(client)))),
            Err(error) => {
                let failure = Failure::from(error);
                if failure.transient {
                    return Err(failure);
                }
                connected(self.client.get_or_init(|| Err(failure.message)))
            }
        }
    }

    fn read(&self, name: &str, env: &Environment) -> Result<Lookup, Failure> {
        let client = self.client()?;
        let read = client.read(name)?;
        if let Some(reason) = &read.foreign {
            return Ok(Lookup::NotFound(format!(
                "the KV secret was not written by this tool ({reason})"
            )));
        }
        Ok(
            match secret_vault::edit::lookup(&client, name, &read, env)? {
                Some((_, value)) => Lookup::Found(value.clone()),
                None => Lookup::NotFound(format!("no value for {env}")),
            },
        )
    }
}

impl fmt::Debug for VaultSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSource")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Source for VaultSource {
    fn describe(&self, name: &str) -> String {
        format!("{} ({})", self.server, self.config.data_path(name))
    }

    fn lookup(&self, name: &str, env: &Environment) -> Result<Lookup, Error> {
        {
            let unavailable = self
                .unavailable
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if let Some((when, message)) = unavailable.as_ref()
                && when.elapsed() < self.hold_down()
            {
                return Err(Error::unavailable(
                    name,
                    self.describe(name),
                    format!(
                        "{message}\n  note: the server is not asked again until {} s (`timeout_seconds`) after that failure; asking later tries again",
                        self.config.timeout_seconds
                    ),
                ));
            }
        }
        match self.read(name, env) {
            Ok(lookup) => {
                *self
                    .unavailable
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner()) = None;
                Ok(lookup)
            }
            Err(Failure {
                message,
                transient: true,
            }) => {
                *self
                    .unavailable
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner()) =
                    Some((Instant::now(), message.clone()));
                Err(Error::unavailable(name, self.describe(name), message))
            }
            Err(Failure { message, .. }) => {
                Err(Error::from_source(name, self.describe(name), message))
            }
        }
    }
}
