//! The KV engine's side of `set`, `unset`, `import` and `sync`: the one-value-per-type
//! rules of [`secret_core::edit`] on a KV secret's values, written with check-and-set, only
//! on secrets this workspace owns, and marked as its own.

use std::path::PathBuf;

use secrecy::SecretString;
use secret_core::backend::BackendError;
use secret_core::edit::{self, Narrowed};
use secret_core::text::escape_control;
use secret_core::{Environment, Error, Scope};

use crate::Client;
use crate::kv::{Conflict, Ignored, Ownership, Versioned, conflict_fix};

/// One KV secret read for a change: its values and version, and the client to write with.
#[derive(Debug)]
pub struct VaultEdit<'a> {
    client: &'a Client,
    name: String,
    current: Versioned,
}

/// What a write did.
#[derive(Debug)]
pub struct Applied {
    /// How the other values' scopes changed.
    pub narrowed: Vec<Narrowed>,
    /// The KV version written.
    pub version: u64,
}

impl<'a> VaultEdit<'a> {
    /// Reads the current values of `name` for a change: an error when the KV secret is
    /// not one this tool wrote, when another workspace owns it, or when `[backend]` names
    /// no owner for this workspace.
    pub fn read(client: &'a Client, name: &str) -> Result<Self, Error> {
        let edit = Self::open(client, name)?.map_err(|ignored| {
            let path = client.config().data_path(name);
            Error::from(
                error(
                    client,
                    format!(
                        "{path} was not written by this tool ({}); it is left alone",
                        ignored.reason
                    ),
                )
                .with_help(format!(
                    "see whose it is with `bao kv get {path}`; give this workspace its own `prefix` in [backend] so its secrets do not share a folder with others"
                )),
            )
        })?;
        edit.writable()?;
        Ok(edit)
    }

    /// Reads the current values of `name` (one request), or says why the KV secret is not
    /// one this tool wrote (see [`Ignored`]). Ownership is the caller's to check
    /// ([`VaultEdit::ownership`]).
    pub fn open(client: &'a Client, name: &str) -> Result<Result<Self, Ignored>, Error> {
        if let Err(error) = secret_core::validate_name(name) {
            return Ok(Err(Ignored {
                name: name.to_owned(),
                reason: format!("not a secret name ({error})"),
            }));
        }
        let current = client.read(name)?;
        if let Some(reason) = current.foreign {
            return Ok(Err(Ignored {
                name: name.to_owned(),
                reason,
            }));
        }
        Ok(Ok(Self {
            client,
            name: name.to_owned(),
            current,
        }))
    }

    /// Whose the secret is, for this workspace.
    pub fn ownership(&self) -> Ownership {
        self.current.ownership(self.client.owner())
    }

    /// The values as read.
    pub fn current(&self) -> &Versioned {
        &self.current
    }

    /// An error unless this workspace may write the secret: it has an owner, and the
    /// secret is its own or not marked.
    pub fn writable(&self) -> Result<(), Error> {
        let config = self.client.config();
        let Some(mine) = self.client.owner() else {
            return Err(error(
                self.client,
                format!(
                    "[backend] names no `owner` and no `prefix`, so this workspace cannot mark {} as its own; nothing was written",
                    self.name
                ),
            )
            .with_help(format!(
                "add `prefix = \"<this workspace's folder>\"` (or `owner = \"<a name for this workspace>\"`) to [backend] in {}: another workspace sharing the mount keeps its secrets",
                config.config.display()
            ))
            .into());
        };
        match self.ownership() {
            Ownership::Mine | Ownership::Unmarked => Ok(()),
            Ownership::Theirs(owner) => Err(error(
                self.client,
                format!(
                    "{} is owned by `{}` (custom metadata secrets-owner), not by this workspace (`{mine}`); it is left alone",
                    config.data_path(&self.name),
                    escape_control(&owner)
                ),
            )
            .with_help("give this workspace its own `prefix` in [backend], or set `owner` to the workspace that owns these secrets")
            .into()),
        }
    }

    /// Where the secret is kept, for errors.
    fn path(&self) -> PathBuf {
        PathBuf::from(self.client.config().data_path(&self.name))
    }

    /// Fails with [`Error::Conflict`] when `scope` overlaps another value and not `moving`
    /// (the rule of [`edit::plan_set`], shared with the file store).
    pub fn preflight(&self, scope: &Scope, moving: bool) -> Result<(), Error> {
        edit::plan_set(
            self.current.values.keys(),
            &self.name,
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
    ) -> Result<Applied, Error> {
        let plan = edit::plan_set(
            self.current.values.keys(),
            &self.name,
            scope,
            moving,
            &self.path(),
        )?;
        self.apply(&plan);
        self.current.values.insert(scope.clone(), value);
        self.unresolved(&plan, Some(scope))?;
        let version = self.write()?;
        Ok(Applied {
            narrowed: plan,
            version,
        })
    }

    /// Removes `scope` from the values of the secret ([`edit::plan_unset`]);
    /// [`Error::NotSet`] when none covers any of it.
    pub fn unset(mut self, scope: &Scope) -> Result<Applied, Error> {
        let plan = edit::plan_unset(self.current.values.keys(), &self.name, scope, &self.path())?;
        self.apply(&plan);
        self.unresolved(&plan, None)?;
        let version = self.write()?;
        Ok(Applied {
            narrowed: plan,
            version,
        })
    }

    /// Takes `scope` away from the values that overlap it (if any), writes the result,
    /// and returns what is left.
    pub fn unset_for(mut self, scope: &Scope) -> Result<Versioned, Error> {
        match edit::plan_unset(self.current.values.keys(), &self.name, scope, &self.path()) {
            Ok(plan) => {
                self.apply(&plan);
                self.unresolved(&plan, None)?;
                self.current.version = self.write()?;
                self.current.conflicts.clear();
            }
            Err(Error::NotSet { .. }) => {}
            Err(error) => return Err(error),
        }
        Ok(self.current)
    }

    /// Marks the secret as this workspace's without changing its values.
    pub fn claim(&self) -> Result<(), Error> {
        self.writable()?;
        self.mark()
    }

    /// The backend's value that applies to `env`, with its scope; an error when two values
    /// cover one type or environment.
    pub fn lookup(&self, env: &Environment) -> Result<Option<(&Scope, &SecretString)>, Error> {
        lookup(self.client, &self.name, &self.current, env)
    }

    /// Writes the values with check-and-set, then marks the secret as this workspace's
    /// when it was not.
    fn write(&self) -> Result<u64, Error> {
        self.writable()?;
        let version = self
            .client
            .write(&self.name, &self.current.values, self.current.version)?;
        if self.ownership() != Ownership::Mine {
            self.mark().map_err(|error| match error {
                Error::Backend(mut backend) => {
                    backend.message = format!(
                        "{} was written (version {version}), but not marked as this workspace's: {}",
                        &self.name, backend.message
                    );
                    Error::Backend(backend)
                }
                other => other,
            })?;
        }
        Ok(version)
    }

    fn mark(&self) -> Result<(), Error> {
        let owner = self.client.owner().unwrap_or_default();
        self.client.mark(&self.name, owner, &self.current.custom)
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

    /// An error when a conflict the secret had (two values for one type) would still be
    /// there after `plan` (and setting `set`): a write never keeps one of two values
    /// silently.
    fn unresolved(&self, plan: &[Narrowed], set: Option<&Scope>) -> Result<(), Error> {
        let left = self.current.conflicts.iter().find(|conflict| {
            let (a, b) = &conflict.scopes;
            if a == b {
                let removed = plan
                    .iter()
                    .any(|narrowed| &narrowed.from == a && narrowed.to.is_none());
                !(removed || set == Some(a))
            } else {
                let scopes: Vec<&Scope> = self.current.values.keys().collect();
                scopes
                    .iter()
                    .enumerate()
                    .any(|(i, x)| scopes[i + 1..].iter().any(|y| x.overlaps(y)))
            }
        });
        match left {
            None => Ok(()),
            Some(conflict) => Err(conflict_error(self.client, &self.name, conflict).into()),
        }
    }
}

/// [`Versioned::lookup`], its conflict an error naming the secret and the fix.
pub fn lookup<'v>(
    client: &Client,
    name: &str,
    read: &'v Versioned,
    env: &Environment,
) -> Result<Option<(&'v Scope, &'v SecretString)>, Error> {
    usable(client, name, read)?;
    Ok(read.lookup(env).unwrap_or(None))
}

/// An error naming the secret, its two keys and the fix when two of its values cover one
/// type or environment: no reader uses such a secret.
pub fn usable(client: &Client, name: &str, read: &Versioned) -> Result<(), Error> {
    match read.conflicts.first() {
        Some(conflict) => Err(conflict_error(client, name, conflict).into()),
        None => Ok(()),
    }
}

fn conflict_error(client: &Client, name: &str, conflict: &Conflict) -> BackendError {
    error(
        client,
        format!(
            "{} holds two values for one type or environment: {conflict}; no value of {name} is used until one is removed",
            client.config().data_path(name)
        ),
    )
    .with_help(conflict_fix(conflict, name))
}

fn error(client: &Client, message: String) -> BackendError {
    client.error(message)
}
