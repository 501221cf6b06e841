//! Where the values live: the encrypted file store `secrets.enc.toml`, or the Vault/OpenBao
//! KV v2 engine selected by `[backend]` in `secrets.toml`. The commands and the check go
//! through [`Backend`] and do not care which.
//!
//! - [`Backend::listing`]: names and scopes, never values (`list`, `check-secrets`). The file
//!   store needs no key; the KV engine needs a token allowed to read the secrets (KV v2 keeps
//!   the scope keys inside the secret's data).
//! - [`Backend::values_for`]: every value that applies to an environment, decrypted
//!   (`run`, `export`, `sync`).
//! - [`Backend::set`] / [`Backend::unset`]: the one-value-per-type rule of
//!   [`secret_core::edit`] for both; the KV engine is written with check-and-set, so a
//!   concurrent change fails instead of being lost.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
#[cfg(feature = "cli")]
use secret_core::Identities;
use secret_core::edit::{self, Narrowed};
use secret_core::vault::Client;
use secret_core::{Config, Environment, Error, Scope, Store};

/// Reads an environment variable (the CLI's `Io::vars`, or the process environment).
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The place values are read from and written to.
#[derive(Debug)]
pub enum Backend {
    /// `secrets.enc.toml` in the workspace root.
    File {
        /// The workspace root.
        root: PathBuf,
    },
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
    /// The values.
    pub values: Vec<Listed>,
    /// The KV secrets this tool did not write and leaves alone (KV engine only).
    pub ignored: Vec<Ignored>,
}

/// A KV secret under the prefix that this tool does not use: its name is not a secret
/// name, or its keys are not the scopes `secret set` writes (another team's secret in the
/// same mount, a key added by hand). It is never written or deleted, only reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The KV secret's name under the prefix.
    pub name: String,
    /// Why it is left alone.
    pub reason: String,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ignored `{}` in the backend, which this tool did not write: {}",
            self.name, self.reason
        )
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

/// The usable KV secrets by name, each read once.
type Usable = Vec<(String, secret_core::vault::Versioned)>;

/// The KV secrets under the prefix, each read once: the usable ones, and those ignored.
fn read_all(client: &Client) -> Result<(Usable, Vec<Ignored>), Error> {
    let mut read = Vec::new();
    let mut ignored = Vec::new();
    for name in client.list()? {
        if let Err(error) = secret_syntax::validate_name(&name) {
            ignored.push(Ignored {
                reason: format!("not a secret name ({error})"),
                name,
            });
            continue;
        }
        let versioned = client.read(&name)?;
        match &versioned.problem {
            Some(problem) => ignored.push(Ignored {
                name,
                reason: problem.clone(),
            }),
            None => read.push((name, versioned)),
        }
    }
    Ok((read, ignored))
}

impl Listing {
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

impl Backend {
    /// The backend `config` selects for the workspace `root`: the KV engine of `[backend]`
    /// (connecting with the credentials in `vars`), else the file store. `file_store`
    /// forces the file store.
    pub fn open(
        root: &Path,
        config: &Config,
        vars: Vars<'_>,
        file_store: bool,
    ) -> Result<Self, Error> {
        match &config.backend {
            Some(backend) if !file_store => {
                Ok(Self::Vault(Box::new(Client::connect(backend, vars)?)))
            }
            _ => Ok(Self::File {
                root: root.to_owned(),
            }),
        }
    }

    /// The file store of `root`.
    pub fn file(root: &Path) -> Self {
        Self::File {
            root: root.to_owned(),
        }
    }

    /// `store secrets.enc.toml` or `OpenBao at http://...`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::File { root } => {
                format!("the store {}", root.join(secret_core::STORE_FILE).display())
            }
            Self::Vault(client) => client.describe(),
        }
    }

    /// Every value's name and scope, without reading the file store's values.
    pub fn listing(&self) -> Result<Listing, Error> {
        match self {
            Self::File { root } => {
                let store = Store::load(root)?;
                let mut listing = Listing {
                    location: store.path().display().to_string(),
                    values: Vec::new(),
                    ignored: Vec::new(),
                };
                for name in store.names() {
                    for (scope, entry) in store.slots(name) {
                        listing.values.push(Listed {
                            name: name.to_owned(),
                            scope: scope.clone(),
                            recipients: entry.recipients.clone(),
                            line: (entry.line > 0).then_some(entry.line),
                        });
                    }
                }
                Ok(listing)
            }
            Self::Vault(client) => {
                let config = client.config();
                let mut listing = Listing {
                    location: format!(
                        "{}/v1/{}",
                        config.address,
                        config.data_path("").trim_end_matches('/')
                    ),
                    values: Vec::new(),
                    ignored: Vec::new(),
                };
                let (read, ignored) = read_all(client)?;
                listing.ignored = ignored;
                for (name, versioned) in read {
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
    pub fn values_for(
        &self,
        env: &Environment,
        vars: Vars<'_>,
    ) -> Result<BTreeMap<String, SecretString>, Error> {
        Ok(self.values_and_ignored(env, vars)?.values)
    }

    /// [`Backend::values_for`], with the KV secrets it left alone, for the commands to
    /// report.
    #[cfg(feature = "cli")] // decrypts: the build-script helper never does
    pub fn values_and_ignored(&self, env: &Environment, vars: Vars<'_>) -> Result<Values, Error> {
        let mut values = BTreeMap::new();
        let mut ignored = Vec::new();
        match self {
            Self::File { root } => {
                let trusted = crate::trusted::Trusted::open(root, vars)?;
                let state = &trusted.state;
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
                let decrypted = decrypt_all();
                // Remembered even when a value is refused: what the history taught.
                trusted.remember();
                decrypted?;
            }
            Self::Vault(client) => {
                let (read, left) = read_all(client)?;
                ignored = left;
                for (name, versioned) in read {
                    if let Some((_, value)) = versioned.lookup(env) {
                        values.insert(name, value.clone());
                    }
                }
            }
        }
        Ok(Values { values, ignored })
    }

    /// The value of `name` for `env`, with its scope; `None` when not set.
    #[cfg(feature = "cli")] // decrypts: the build-script helper never does
    pub fn value_for(
        &self,
        name: &str,
        env: &Environment,
        vars: Vars<'_>,
    ) -> Result<Option<(Scope, SecretString)>, Error> {
        match self {
            Self::File { root } => {
                let trusted = crate::trusted::Trusted::open(root, vars)?;
                let state = &trusted.state;
                let ids = match state.lookup(name, env) {
                    secret_core::state::Lookup::None => return Ok(None),
                    secret_core::state::Lookup::Found { .. } => Identities::from_vars(vars)?,
                    // Refused whatever the key: say why without asking for one.
                    _ => Identities::none(),
                };
                let value = state.decrypt(name, env, &ids);
                // Remembered even when the value is refused: what the history taught.
                trusted.remember();
                value
            }
            Self::Vault(client) => Ok(VaultEdit::read(client, name)?
                .lookup(env)
                .map(|(scope, value)| (scope.clone(), value.clone()))),
        }
    }
}

/// The KV engine's side of `set` and `unset`: the same rules as [`secret_core::edit`] on
/// plain values, written with check-and-set.
#[derive(Debug)]
pub struct VaultEdit<'a> {
    client: &'a Client,
    name: &'a str,
    current: secret_core::vault::Versioned,
}

impl<'a> VaultEdit<'a> {
    /// Reads the current values of `name`; an error when the KV secret is not one this
    /// tool wrote (it is never overwritten).
    pub fn read(client: &'a Client, name: &'a str) -> Result<Self, Error> {
        Self::open(client, name)?.map_err(|ignored| {
            let path = client.config().data_path(name);
            secret_core::backend::BackendError::new(
                client.config(),
                format!(
                    "{path} was not written by this tool ({}); it is left alone",
                    ignored.reason
                ),
            )
            .with_help(format!(
                "see whose it is with `bao kv get {path}`; give this workspace its own `prefix` in [backend] so its secrets do not share a folder with others"
            ))
            .into()
        })
    }

    /// Reads the current values of `name` (one request), or says why the KV secret is not
    /// one this tool wrote (see [`Ignored`]).
    pub fn open(client: &'a Client, name: &'a str) -> Result<Result<Self, Ignored>, Error> {
        if let Err(error) = secret_syntax::validate_name(name) {
            return Ok(Err(Ignored {
                name: name.to_owned(),
                reason: format!("not a secret name ({error})"),
            }));
        }
        let current = client.read(name)?;
        if let Some(reason) = current.problem {
            return Ok(Err(Ignored {
                name: name.to_owned(),
                reason,
            }));
        }
        Ok(Ok(Self {
            client,
            name,
            current,
        }))
    }

    /// Where the secret is kept, for errors.
    fn path(&self) -> PathBuf {
        PathBuf::from(self.client.config().data_path(self.name))
    }

    /// Fails with [`Error::Conflict`] when `scope` overlaps another value and not `moving`
    /// (the rule of [`edit::plan_set`], shared with the file store).
    pub fn preflight(&self, scope: &Scope, moving: bool) -> Result<(), Error> {
        edit::plan_set(
            self.current.values.keys(),
            self.name,
            scope,
            moving,
            &self.path(),
        )
        .map(drop)
    }

    /// Sets `value` for `scope`, taking the overlapping types or environments away from
    /// other values when `moving` ([`edit::plan_set`]).
    pub fn set(
        mut self,
        scope: &Scope,
        value: SecretString,
        moving: bool,
    ) -> Result<Vec<Narrowed>, Error> {
        let plan = edit::plan_set(
            self.current.values.keys(),
            self.name,
            scope,
            moving,
            &self.path(),
        )?;
        self.apply(&plan);
        self.current.values.insert(scope.clone(), value);
        self.client
            .write(self.name, &self.current.values, self.current.version)?;
        Ok(plan)
    }

    /// Removes `scope` from the values of the secret ([`edit::plan_unset`]);
    /// [`Error::NotSet`] when none covers any of it.
    pub fn unset(mut self, scope: &Scope) -> Result<Vec<Narrowed>, Error> {
        let plan = edit::plan_unset(self.current.values.keys(), self.name, scope, &self.path())?;
        self.apply(&plan);
        self.client
            .write(self.name, &self.current.values, self.current.version)?;
        Ok(plan)
    }

    /// The backend's value that applies to `env`, with its scope.
    pub fn lookup(&self, env: &Environment) -> Option<(&Scope, &SecretString)> {
        self.current.lookup(env)
    }

    /// Takes `scope` away from the values that overlap it (if any), writes the result,
    /// and returns what is left.
    pub fn unset_for(mut self, scope: &Scope) -> Result<secret_core::vault::Versioned, Error> {
        match edit::plan_unset(self.current.values.keys(), self.name, scope, &self.path()) {
            Ok(plan) => {
                self.apply(&plan);
                self.client
                    .write(self.name, &self.current.values, self.current.version)?;
            }
            Err(Error::NotSet { .. }) => {}
            Err(error) => return Err(error),
        }
        Ok(self.current)
    }

    /// Carries out a plan in the KV secret's values (written by the caller).
    fn apply(&mut self, plan: &[Narrowed]) {
        for Narrowed { from, to } in plan {
            if let Some(value) = self.current.values.remove(from)
                && let Some(rest) = to
            {
                self.current.values.insert(rest.clone(), value);
            }
        }
    }
}
