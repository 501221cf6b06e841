//! The Vault/OpenBao KV v2 engine as a [`Target`] of sync: E's own scope written with
//! check-and-set (taking E away from a broader value), only in secrets this workspace owns
//! or that no workspace marked.

use secrecy::{ExposeSecret, SecretString};
use secret_core::{EnvKind, Environment, Error, Scope};
use secret_vault::{Client, Ownership, VaultEdit};

use super::{Current, Found, Target};

/// The KV engine of `[backend]`.
pub(super) struct Kv<'a> {
    client: &'a Client,
}

impl<'a> Kv<'a> {
    pub(super) fn new(client: &'a Client) -> Self {
        Self { client }
    }
}

/// Whether sync may remove `scope`'s value for `env`: only when it is E's own part (a type
/// scope holding E's type when E is a type, an environment scope naming E), never a type
/// scope that a named E merely falls under.
fn owned(scope: &Scope, env: &Environment) -> bool {
    match (&env.kind, scope) {
        (EnvKind::Type, Scope::Types(types)) => types.contains(&env.ty),
        (_, Scope::Envs(envs)) => envs.contains(&env.name),
        _ => false,
    }
}

impl<'a> Target for Kv<'a> {
    type Held = VaultEdit<'a>;

    fn describe(&self) -> String {
        self.client.describe()
    }

    fn can_own(&self) -> Result<(), Error> {
        if self.client.owner().is_some() {
            return Ok(());
        }
        let config = self.client.config();
        Err(self
            .client
            .error("[backend] names no `owner` and no `prefix`: sync cannot tell this workspace's secrets from another's in the mount, and writes nothing")
            .with_help(format!(
                "add `prefix = \"<this workspace's folder>\"` (or `owner = \"<a name for this workspace>\"`) to [backend] in {}",
                config.config.display()
            ))
            .into())
    }

    fn names(&self) -> Result<Vec<String>, Error> {
        self.client.list()
    }

    fn inspect(
        &self,
        name: &str,
        env: &Environment,
        wanted: Option<&SecretString>,
    ) -> Result<Found<VaultEdit<'a>>, Error> {
        let edit = match VaultEdit::open(self.client, name)? {
            Ok(edit) => edit,
            Err(foreign) => return Ok(Found::Foreign(foreign.reason)),
        };
        let current = match edit.lookup(env) {
            // Two values for E's type: a write of E's own scope settles it (or refuses).
            Err(_) if wanted.is_some() => Current::Different,
            Err(error) => return Err(error),
            Ok(None) => Current::None,
            Ok(Some((scope, value))) => match wanted {
                Some(wanted) if wanted.expose_secret() == value.expose_secret() => Current::Same,
                Some(_) => Current::Different,
                None if owned(scope, env) => Current::Own,
                None => Current::Broader(scope.clone()),
            },
        };
        Ok(match edit.ownership() {
            Ownership::Theirs(owner) => Found::Theirs(owner, current),
            ownership => Found::Usable {
                held: edit,
                current,
                mine: ownership == Ownership::Mine,
            },
        })
    }

    fn write(
        &self,
        held: VaultEdit<'a>,
        env: &Environment,
        value: SecretString,
    ) -> Result<(), Error> {
        held.set(&secret_vault::kv::own_scope(env), value, true)
            .map(drop)
    }

    fn delete(&self, held: VaultEdit<'a>, env: &Environment) -> Result<Option<Scope>, Error> {
        let after = held.unset_for(&secret_vault::kv::own_scope(env))?;
        Ok(after
            .lookup(env)
            .ok()
            .flatten()
            .map(|(scope, _)| scope.clone()))
    }

    fn claim(&self, held: VaultEdit<'a>) -> Result<(), Error> {
        held.claim()
    }

    fn stop_message(&self, name: &str, why: &str) -> Error {
        self.client
            .error(format!(
                "{} {why}; sync does not overwrite it, and nothing was written",
                self.client.config().data_path(name)
            ))
            .with_help("give this workspace its own `prefix` in [backend], so that its secrets do not share a folder with others")
            .into()
    }
}
