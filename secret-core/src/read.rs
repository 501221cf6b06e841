//! Reading a value: which value applies and whether it may be used ([`State::lookup`]),
//! then the ciphertext opened with the reader's identities ([`crate::cipher`]). Every reader
//! decrypts through [`State::decrypt`] (or [`State::decrypt_slot`] for one given slot);
//! only `migrate` and `--leaks` use [`Store::decrypt_unverified`].

use secrecy::SecretString;

use crate::cipher::{self, Slot};
use crate::env::{Environment, Scope};
use crate::error::{Error, Refused};
use crate::identity::Identities;
use crate::state::{Lookup, Refusal, State};
use crate::store::{Entry, Store};

impl State {
    /// The value of `name` for `env`, decrypted: `Ok(None)` when no value applies; an
    /// [`Error::Refused`] when one applies but readers refuse it, whatever the key.
    pub fn decrypt(
        &self,
        name: &str,
        env: &Environment,
        identities: &Identities,
    ) -> Result<Option<(Scope, SecretString)>, Error> {
        match self.lookup(name, env) {
            Lookup::None => Ok(None),
            Lookup::Found { scope, entry } => self
                .store()
                .open(name, scope, entry, identities)
                .map(|value| Some((scope.clone(), value))),
            Lookup::Refused {
                scope,
                entry,
                refusal,
            } => Err(self.refused(name, scope, entry.line, refusal)),
            Lookup::Vanished { scope, seen } => {
                Err(self.refused(name, &scope.clone(), 0, Refusal::Vanished { scope, seen }))
            }
        }
    }

    /// Decrypts the value stored for exactly (`name`, `scope`) after checking that readers
    /// trust it and that it is not older than a version already trusted: for commands that
    /// work on one slot (rekey, narrowing a scope), which would otherwise sign a rolled-back
    /// value anew.
    pub fn decrypt_slot(
        &self,
        name: &str,
        scope: &Scope,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.store().entry(name, scope)?;
        let trust = self.trust(name, scope, entry);
        if !trust.is_trusted() {
            return Err(self.refused(name, scope, entry.line, Refusal::Untrusted(trust)));
        }
        let seen = self
            .memory()
            .map_or(0, |memory| memory.slot(name, scope))
            .max(self.store().trusted_version(name, scope));
        let found = entry.version.unwrap_or(0);
        if seen > found {
            return Err(self.refused(name, scope, entry.line, Refusal::RolledBack { seen, found }));
        }
        self.store().open(name, scope, entry, identities)
    }

    /// The error for a refused value.
    pub fn refused(&self, name: &str, scope: &Scope, line: usize, refusal: Refusal) -> Error {
        Error::Refused(Box::new(Refused {
            name: name.to_owned(),
            scope: scope.clone(),
            path: self.store().path().to_owned(),
            line,
            refusal,
        }))
    }
}

impl Store {
    /// Decrypts one slot without checking who wrote it: only for `secret migrate`, which
    /// signs values of format 1 on the word of the person migrating, and for `--leaks`,
    /// which looks for any stored value in plain text.
    pub fn decrypt_unverified(
        &self,
        name: &str,
        scope: &Scope,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.entry(name, scope)?;
        self.open(name, scope, entry, identities)
    }

    fn entry(&self, name: &str, scope: &Scope) -> Result<&Entry, Error> {
        self.get(name, scope).ok_or_else(|| Error::NotSet {
            name: name.to_owned(),
            scope: scope.key(),
            path: self.path().to_owned(),
        })
    }

    fn open(
        &self,
        name: &str,
        scope: &Scope,
        entry: &Entry,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        cipher::open(
            &Slot {
                name,
                scope,
                recipients: &entry.recipients,
                path: self.path(),
                line: entry.line,
            },
            &entry.ciphertext,
            identities,
            entry.signed.is_none(),
        )
    }
}
