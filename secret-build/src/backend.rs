//! Where the values live: the encrypted file store `secrets.enc.toml`, or the Vault/OpenBao
//! KV v2 engine selected by `[backend]` in `secrets.toml`. The commands and the check go
//! through [`Backend`] and do not care which.
//!
//! A command reads the workspace once ([`crate::trusted::Trusted::open`]: `secrets.toml` and
//! the store parsed and judged with the history and this clone's memory) and
//! [`Backend::select`] borrows that state: the file store is never read again for the
//! listing or the values. Recording what was trusted afterwards
//! ([`crate::trusted::Trusted::remember`]) is the command's, also when a value is refused.
//!
//! - [`Backend::listing`]: names and scopes, never values (`list`, `check-secrets`). The file
//!   store needs no key; the KV engine needs a token allowed to read the secrets (KV v2 keeps
//!   the scope keys inside the secret's data).
//! - `Backend::values_for`: every value that applies to an environment, decrypted
//!   (`run`, `export`, `sync`).
//! - The KV engine's side of `set`, `unset` and `sync` is [`secret_vault::VaultEdit`]: the
//!   one-value-per-type rule of [`secret_core::edit`], check-and-set writes, and only on
//!   secrets this workspace owns.

use std::collections::BTreeMap;
use std::ffi::OsString;

use secrecy::SecretString;
#[cfg(feature = "cli")]
use secret_core::Identities;
use secret_core::state::State;
use secret_core::{Config, Environment, Error, Scope, Store};
pub use secret_vault::{Client, Ignored, VaultEdit};

/// Reads an environment variable (the CLI's `Io::vars`, or the process environment).
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The place values are read from and written to.
#[derive(Debug)]
pub enum Backend<'a> {
    /// `secrets.enc.toml`, read through the workspace's state: the one the command read and
    /// judged (once) before choosing the backend.
    File(&'a State),
    /// The KV v2 engine of `[backend]`.
    Vault(Box<Client>),
}

/// One stored value, without the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The secret.
    pub name: String,
    /// What the value covers.
    pub scope: Scope,
    /// Who can decrypt it (file store only; empty for the KV engine).
    pub recipients: Vec<String>,
    /// The line of its table in `secrets.enc.toml` (file store only).
    pub line: Option<usize>,
}

/// Every stored value's name and scope, sorted by name then scope key.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// `secrets.enc.toml`'s path, or the KV folder's URL.
    pub location: String,
    /// The server the values come from (`OpenBao at http://...`), for the KV engine.
    pub server: Option<String>,
    /// The values.
    pub values: Vec<Listed>,
    /// The KV secrets this tool did not write and leaves alone (KV engine only).
    pub ignored: Vec<Ignored>,
}

/// The configuration the signed access rules of `state` give, or why they cannot be
/// trusted.
pub fn trusted_config(state: &State) -> Result<&Config, Error> {
    match state.trusted_config() {
        Ok(config) => Ok(config),
        // No `[backend]` at all: the file store, whose values readers then refuse one by
        // one, each saying why.
        Err(_) if state.config().backend.is_none() => Ok(state.config()),
        Err(reason) => Err(Error::Rules {
            path: state.store().path().to_owned(),
            message: format!("the access rules (and so `[backend]`) cannot be trusted: {reason}"),
            help: "`cargo xtask check-secrets` says what to do".to_owned(),
        }),
    }
}

/// The values that apply to one environment, and the KV secrets left alone.
#[derive(Debug, Default)]
pub struct Values {
    /// The values by name.
    pub values: BTreeMap<String, SecretString>,
    /// The KV secrets this tool did not write (KV engine only).
    pub ignored: Vec<Ignored>,
}

impl Listing {
    /// The names and scopes of the file store `store`.
    pub fn of_store(store: &Store) -> Self {
        let mut values = Vec::new();
        for name in store.names() {
            for (scope, entry) in store.slots(name) {
                values.push(Listed {
                    name: name.to_owned(),
                    scope: scope.clone(),
                    recipients: entry.recipients.clone(),
                    line: (entry.line > 0).then_some(entry.line),
                });
            }
        }
        Listing {
            location: store.path().display().to_string(),
            server: None,
            values,
            ignored: Vec::new(),
        }
    }

    /// The names with at least one value, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut last: Option<&str> = None;
        self.values.iter().filter_map(move |listed| {
            let name = listed.name.as_str();
            (last.replace(name) != Some(name)).then_some(name)
        })
    }

    /// The values of `name`.
    pub fn slots<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Listed> + 'a {
        self.of(name).iter()
    }

    /// The values of `name`, found by binary search (the values are sorted by name): a
    /// linear scan per name made `list` quadratic, minutes for 100,000 values.
    fn of(&self, name: &str) -> &[Listed] {
        let start = self
            .values
            .partition_point(|listed| listed.name.as_str() < name);
        let len = self.values[start..].partition_point(|listed| listed.name == name);
        &self.values[start..start + len]
    }

    /// The value of `name` that applies to `env` (environment > pattern > type).
    pub fn lookup(&self, name: &str, env: &Environment) -> Option<&Listed> {
        self.of(name)
            .iter()
            .filter_map(|listed| listed.scope.rank(env).map(|rank| (rank, listed)))
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, listed)| listed)
    }
}

impl<'a> Backend<'a> {
    /// The backend the signed access rules of `state` select (see
    /// [`State::trusted_config`]): the KV engine of `[backend]` (connecting with the
    /// credentials in `vars`), else the file store, read through `state`. `file_store`
    /// forces the file store. A `[backend]` that only an unsigned change to `secrets.toml`
    /// names is not connected to: values would be sent to a server nobody allowed.
    pub fn select(state: &'a State, vars: Vars<'_>, file_store: bool) -> Result<Self, Error> {
        if file_store {
            return Ok(Self::File(state));
        }
        match &trusted_config(state)?.backend {
            Some(backend) => Ok(Self::Vault(Box::new(Client::connect(backend, vars)?))),
            None => Ok(Self::File(state)),
        }
    }

    /// `the store secrets.enc.toml` or `OpenBao at http://...`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::File(state) => format!("the store {}", state.store().path().display()),
            Self::Vault(client) => client.describe(),
        }
    }

    /// Every value's name and scope, without reading the file store's values.
    pub fn listing(&self) -> Result<Listing, Error> {
        match self {
            Self::File(state) => Ok(Listing::of_store(state.store())),
            Self::Vault(client) => {
                let config = client.config();
                let mut listing = Listing {
                    location: format!(
                        "{}/v1/{}",
                        config.address,
                        config.data_path("").trim_end_matches('/')
                    ),
                    server: Some(client.describe()),
                    values: Vec::new(),
                    ignored: Vec::new(),
                };
                let folder = secret_vault::read_all(client)?;
                listing.ignored = folder.ignored;
                for (name, versioned) in folder.secrets {
                    // Two values for one type: an error here as in every reader.
                    secret_vault::edit::usable(client, &name, &versioned)?;
                    for scope in versioned.values.keys() {
                        listing.values.push(Listed {
                            name: name.clone(),
                            scope: scope.clone(),
                            recipients: Vec::new(),
                            line: None,
                        });
                    }
                }
                // Sorted by name, as documented (lookups binary-search it).
                listing.values.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(listing)
            }
        }
    }

    /// Every value that applies to `env`, by name (environment > pattern > type). The file
    /// store's identities are loaded through `vars` only when there is a value to decrypt.
    #[cfg(feature = "cli")] // decrypts: the build-script helper never does
    pub(crate) fn values_for(
        &self,
        env: &Environment,
        vars: Vars<'_>,
    ) -> Result<BTreeMap<String, SecretString>, Error> {
        Ok(self.values_and_ignored(env, vars)?.values)
    }

    /// [`Backend::values_for`], with the KV secrets it left alone, for the commands to
    /// report.
    #[cfg(feature = "cli")] // decrypts: the build-script helper never does
    pub(crate) fn values_and_ignored(
        &self,
        env: &Environment,
        vars: Vars<'_>,
    ) -> Result<Values, Error> {
        let mut values = BTreeMap::new();
        let mut ignored = Vec::new();
        match self {
            Self::File(state) => {
                let names: Vec<&str> = state.store().names().collect();
                // Every signature in one batch first; each decrypt then finds its own checked.
                state.prepare(&names, env);
                let mut identities: Option<Identities> = None;
                let decrypt_all = || -> Result<(), Error> {
                    for name in names {
                        if matches!(state.lookup(name, env), secret_core::state::Lookup::None) {
                            continue;
                        }
                        if identities.is_none() {
                            identities = Some(Identities::from_vars(vars)?);
                        }
                        let ids = identities.as_ref().expect("loaded above");
                        if let Some((_, value)) = state.decrypt(name, env, ids)? {
                            values.insert(name.to_owned(), value);
                        }
                    }
                    Ok(())
                };
                decrypt_all()?;
            }
            Self::Vault(client) => {
                let folder = secret_vault::read_all(client)?;
                ignored = folder.ignored;
                for (name, versioned) in folder.secrets {
                    if let Some((_, value)) =
                        secret_vault::edit::lookup(client, &name, &versioned, env)?
                    {
                        values.insert(name, value.clone());
                    }
                }
            }
        }
        Ok(Values { values, ignored })
    }

    /// The value of `name` for `env`, with its scope; `None` when not set.
    #[cfg(feature = "cli")] // decrypts: the build-script helper never does
    pub(crate) fn value_for(
        &self,
        name: &str,
        env: &Environment,
        vars: Vars<'_>,
    ) -> Result<Option<(Scope, SecretString)>, Error> {
        match self {
            Self::File(state) => {
                let ids = match state.lookup(name, env) {
                    secret_core::state::Lookup::None => return Ok(None),
                    secret_core::state::Lookup::Found { .. } => Identities::from_vars(vars)?,
                    // Refused whatever the key: say why without asking for one.
                    _ => Identities::none(),
                };
                state.decrypt(name, env, &ids)
            }
            Self::Vault(client) => {
                let edit = match VaultEdit::open(client, name)? {
                    Ok(edit) => edit,
                    Err(ignored) => {
                        return Err(client
                            .error(format!(
                                "{} was not written by this tool ({}); it is left alone",
                                client.config().data_path(name),
                                ignored.reason
                            ))
                            .into());
                    }
                };
                Ok(edit
                    .lookup(env)?
                    .map(|(scope, value)| (scope.clone(), value.clone())))
            }
        }
    }
}
