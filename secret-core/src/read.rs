//! Reading a value: the signature checked first ([`crate::trust`]), then the ciphertext
//! opened with the reader's identities ([`crate::cipher`]). Every reader decrypts through
//! [`Store::decrypt`]; only `migrate` and `--leaks` use [`Store::decrypt_unverified`].

use secrecy::SecretString;

use crate::cipher::{self, Slot};
use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;
use crate::store::{Entry, Store};

impl Store {
    /// Decrypts one slot after checking that it is signed by one of the scope's writers in
    /// `config` ([`crate::trust`]): an unsigned or forged value is an [`Error::Untrusted`],
    /// whatever the key.
    pub fn decrypt(
        &self,
        name: &str,
        scope: &Scope,
        config: &crate::Config,
        identities: &Identities,
    ) -> Result<SecretString, Error> {
        let entry = self.entry(name, scope)?;
        let trust = crate::trust::trust(config, name, scope, entry);
        if !trust.is_trusted() {
            return Err(Error::Untrusted(Box::new(crate::error::Untrusted {
                name: name.to_owned(),
                scope: scope.clone(),
                path: self.path().to_owned(),
                line: entry.line,
                trust,
            })));
        }
        self.open(name, scope, entry, identities)
    }

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
