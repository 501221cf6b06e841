//! Writing under the signed access rules: [`Writer`] encrypts values to the recipients the
//! signed rules give their scope, signs them (and removals) with the slot's next version,
//! and [`sign_rules`] signs the changes `secrets.toml` makes to the rules — the trust root
//! when the store has none yet.

use base64::Engine as _;
use secrecy::SecretString;

use super::{Narrowed, plan_set_in, plan_unset_in, signer};
use crate::cipher;
use crate::config::Config;
use crate::env::Scope;
use crate::error::Error;
use crate::identity::Identities;
use crate::rules::chain::{self, ChainError, Change};
use crate::rules::facts::facts_of;
use crate::rules::recipients_for;
use crate::state::State;
use crate::store::{Entry, Exposure, Removal, RulesVersion, Signed, Store};

/// A version of the access rules just signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSigned {
    /// Its number (1: the trust root).
    pub version: u64,
    /// Its changes.
    pub changes: Vec<Change>,
    /// Who signed it.
    pub signers: Vec<String>,
}

/// Signs, with `identities`, the changes `config` (`secrets.toml` as written) makes to the
/// signed rules of `store`, as the next rules version. When the store has no rules and holds
/// nothing, this creates the trust root (version 1, with a new repository identity), which an
/// admin of `config` signs. `Ok(None)` when there is nothing to sign.
///
/// Each change needs a signature by someone who could make it under the rules before
/// ([`chain::authority`], or an admin): every identity that may sign one of the changes
/// signs the version, and the version is refused when a change is left that none may sign.
pub(crate) fn sign_rules(
    store: &mut Store,
    config: &Config,
    identities: &Identities,
) -> Result<Option<RulesSigned>, Error> {
    let state = State::new(config.clone(), store.clone(), None);
    let rules_error = |message: String, help: &str| Error::Rules {
        path: store.path().to_owned(),
        message,
        help: help.to_owned(),
    };
    let (repository, old_facts, old_config, previous) = match state.rules() {
        Ok(verified) => (
            verified.repository.clone(),
            verified.facts.clone(),
            verified.config.clone(),
            Some(verified.newest().digest.clone()),
        ),
        Err(ChainError::Missing) if store.is_empty() && store.all_removals().next().is_none() => (
            new_repository()?,
            Default::default(),
            Config::default(),
            None,
        ),
        Err(ChainError::Missing) => {
            return Err(rules_error(
                state.rules_problem(&ChainError::Missing),
                "run `cargo xtask secret migrate`",
            ));
        }
        Err(error) => {
            return Err(rules_error(
                format!(
                    "cannot change the access rules: {}",
                    state.rules_problem(error)
                ),
                "restore secrets.enc.toml from git history; `cargo xtask check-secrets` explains what is wrong",
            ));
        }
    };
    let new_facts = facts_of(config, &repository);
    let changes = chain::diff(&old_facts, &new_facts);
    if changes.is_empty() {
        return Ok(None);
    }
    let version = store.rules().len() as u64 + 1;
    let allowed_for = |change: &Change| -> Vec<String> {
        if previous.is_none() {
            return crate::rules::admins(config);
        }
        let mut allowed = chain::authority(&old_config, config, &change.fact);
        allowed.extend(crate::rules::admins(&old_config));
        allowed
    };
    let mut signers: Vec<&crate::sign::SigningKey> = Vec::new();
    for change in &changes {
        let allowed = allowed_for(change);
        match identities.signer_for(&allowed) {
            Some(key) => {
                if !signers.iter().any(|s| s.recipient() == key.recipient()) {
                    signers.push(key);
                }
            }
            None => {
                let mut allowed = allowed;
                allowed.sort();
                allowed.dedup();
                let who = if allowed.is_empty() {
                    "nobody".to_owned()
                } else {
                    allowed.join(", ")
                };
                let yours = if identities.is_empty() {
                    format!("no identity was found ({})", identities.source())
                } else {
                    format!("your key is {}", identities.public_keys().join(", "))
                };
                return Err(rules_error(
                    format!(
                        "cannot sign the change `{}` to the access rules: only {who} may sign it, and {yours}",
                        crate::text::escape_control(&change.to_string())
                    ),
                    if previous.is_none() {
                        "the first access rules are signed by an admin (the top-level `admins` of secrets.toml, else the writers of production, or of the most sensitive type that has writers): one of them runs the command"
                    } else {
                        "one of them runs `cargo xtask secret rekey`, which shows the change before signing it"
                    },
                ));
            }
        }
    }
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    let signed = crate::trust::now();
    let message = chain::message(&repository, version, previous.as_deref(), &signed, &lines);
    let mut signatures = Vec::new();
    for key in &signers {
        signatures.push((key.recipient().to_owned(), sign(key, &message)?));
    }
    store.rules.push(RulesVersion {
        version,
        signed,
        signatures,
        changes: lines,
        line: 0,
    });
    store.format = crate::store::FORMAT_VERSION;
    Ok(Some(RulesSigned {
        version,
        changes,
        signers: signers
            .iter()
            .map(|key| key.recipient().to_owned())
            .collect(),
    }))
}

/// A new repository identity: 128 random bits, hex.
fn new_repository() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|error| Error::Rules {
        path: std::path::PathBuf::from(crate::store::STORE_FILE),
        message: format!("the operating system's random number generator failed: {error}"),
        help: "try again".to_owned(),
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// `message` signed with `key`, base64. Fails closed when the system's random number
/// generator does: nothing is signed, so nothing is written.
fn sign(key: &crate::sign::SigningKey, message: &str) -> Result<String, Error> {
    let signature = key.sign(message.as_bytes()).map_err(|error| Error::Rules {
        path: std::path::PathBuf::from(crate::store::STORE_FILE),
        message: format!("cannot sign: {error}"),
        help: "nothing was written; run the command again once the system's random number generator works".to_owned(),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// Writes values and removals into a store under its signed access rules, with the
/// identities of the person writing.
#[derive(Debug)]
pub struct Writer<'a> {
    state: State,
    identities: &'a Identities,
    /// The rules version signed to create the trust root, if this writer created it.
    pub rules_signed: Option<RulesSigned>,
}

impl<'a> Writer<'a> {
    /// A writer for `store` under `config` (`secrets.toml` as written). A store without
    /// signed rules and without values gets its trust root first (see `sign_rules`); a
    /// store whose rules cannot be trusted, or that predates them, is not written.
    pub fn new(
        store: &mut Store,
        config: &Config,
        identities: &'a Identities,
    ) -> Result<Writer<'a>, Error> {
        let mut rules_signed = None;
        if store.rules().is_empty() && store.is_empty() && store.all_removals().next().is_none() {
            rules_signed = sign_rules(store, config, identities)?;
        }
        let state = State::new(config.clone(), store.clone(), None);
        if let Err(error) = state.rules() {
            let migrate = matches!(error, ChainError::Missing);
            return Err(Error::Rules {
                path: store.path().to_owned(),
                message: format!("cannot write: {}", state.rules_problem(error)),
                help: if migrate {
                    "run `cargo xtask secret migrate`".to_owned()
                } else {
                    "restore secrets.enc.toml from git history; `cargo xtask check-secrets` explains what is wrong".to_owned()
                },
            });
        }
        Ok(Writer {
            state,
            identities,
            rules_signed,
        })
    }

    /// The state the writer started from (its signed rules decide every write).
    pub fn state(&self) -> &State {
        &self.state
    }

    fn rules(&self) -> &Config {
        self.state.effective()
    }

    fn repository(&self) -> &str {
        &self
            .state
            .rules()
            .expect("a writer has trusted rules")
            .repository
    }

    /// Encrypts `value` for (`name`, `scope`) to the recipients the signed rules give the
    /// scope, signs it with the first identity allowed to write the scope, and stores it
    /// with the slot's next version, replacing any value with exactly that scope.
    ///
    /// `previous` is the entry `value` was read from when the same value is re-encrypted
    /// (rekey, a narrowed scope): whoever could read it then and cannot now is recorded in
    /// [`Entry::exposed`], and earlier exposures are kept. A new value (`None`) starts with
    /// no exposure: replacing a value is how it is rotated. `known_to` adds people who knew
    /// the value without being its recipients (its former writer).
    pub fn put(
        &self,
        store: &mut Store,
        name: &str,
        scope: &Scope,
        value: &SecretString,
        previous: Option<&Entry>,
        known_to: &[String],
    ) -> Result<(), Error> {
        let recipients = recipients_for(self.rules(), scope);
        if recipients.is_empty() {
            return Err(Error::NoRecipients {
                name: name.to_owned(),
                scope: scope.clone(),
                config: self.rules().path.clone(),
            });
        }
        let ciphertext = cipher::seal(&recipients, value, &self.rules().path)?;
        let exposed = exposures(previous, &recipients, known_to);
        self.store_signed(store, name, scope, recipients, exposed, ciphertext)
    }

    /// Signs again, unchanged, the ciphertext of the value stored for (`name`, `scope`):
    /// for a value whose writer lost the right to write it, vouched for by a writer who
    /// still has it (no key to read it needed). `known_to` are recorded as exposed.
    pub fn vouch(
        &self,
        store: &mut Store,
        name: &str,
        scope: &Scope,
        known_to: &[String],
    ) -> Result<(), Error> {
        let entry = store
            .get(name, scope)
            .cloned()
            .ok_or_else(|| Error::NotSet {
                name: name.to_owned(),
                scope: scope.key(),
                path: store.path().to_owned(),
            })?;
        let exposed = exposures(Some(&entry), &entry.recipients, known_to);
        self.store_signed(
            store,
            name,
            scope,
            entry.recipients.clone(),
            exposed,
            entry.ciphertext,
        )
    }

    fn store_signed(
        &self,
        store: &mut Store,
        name: &str,
        scope: &Scope,
        recipients: Vec<String>,
        exposed: Vec<Exposure>,
        ciphertext: String,
    ) -> Result<(), Error> {
        let key = signer(self.rules(), name, scope, self.identities)?;
        let version = store.slot_version(name, scope) + 1;
        let written = crate::trust::now();
        let message = crate::trust::message(
            self.repository(),
            name,
            scope,
            version,
            &recipients,
            &exposed,
            key.recipient(),
            &written,
            &ciphertext,
        );
        let signed = Signed {
            writer: key.recipient().to_owned(),
            written,
            signature: sign(key, &message)?,
        };
        if let Some(removals) = store.removals.get_mut(name) {
            removals.remove(&scope.key());
            if removals.is_empty() {
                store.removals.remove(name);
            }
        }
        store.entries.entry(name.to_owned()).or_default().insert(
            scope.key(),
            (
                scope.clone(),
                Entry {
                    recipients,
                    signed: Some(signed),
                    exposed,
                    line: 0,
                    version: Some(version),
                    ciphertext,
                },
            ),
        );
        Ok(())
    }

    /// Removes the value stored for exactly (`name`, `scope`), leaving a signed removal
    /// with the slot's next version.
    pub fn remove(&self, store: &mut Store, name: &str, scope: &Scope) -> Result<(), Error> {
        let key = signer(self.rules(), name, scope, self.identities)?;
        let version = store.slot_version(name, scope) + 1;
        let written = crate::trust::now();
        let message = crate::trust::removal_message(
            self.repository(),
            name,
            scope,
            version,
            key.recipient(),
            &written,
        );
        let signed = Signed {
            writer: key.recipient().to_owned(),
            written,
            signature: sign(key, &message)?,
        };
        store.remove(name, scope);
        store.removals.entry(name.to_owned()).or_default().insert(
            scope.key(),
            (
                scope.clone(),
                Removal {
                    version,
                    signed,
                    line: 0,
                },
            ),
        );
        Ok(())
    }

    /// Carries out a set or unset plan: a value keeping part of its scope is decrypted and
    /// stored again for the rest; the old slot gets a signed removal.
    fn apply(&self, store: &mut Store, name: &str, plan: &[Narrowed]) -> Result<(), Error> {
        for Narrowed { from, to } in plan {
            if let Some(rest) = to {
                let value = self.state.decrypt_slot(name, from, self.identities)?;
                let previous = store.get(name, from).cloned();
                self.put(store, name, rest, &value, previous.as_ref(), &[])?;
            }
            self.remove(store, name, from)?;
        }
        Ok(())
    }
}

/// The exposure list of a value written to `recipients`: the exposures of `previous`, plus
/// its recipients who are not among `recipients`, plus `known_to`; minus the new recipients.
fn exposures(
    previous: Option<&Entry>,
    recipients: &[String],
    known_to: &[String],
) -> Vec<Exposure> {
    let since = crate::trust::now();
    let mut exposed: Vec<Exposure> = Vec::new();
    if let Some(previous) = previous {
        exposed.extend(previous.exposed.iter().cloned());
        for recipient in previous.recipients.iter().chain(known_to) {
            if !exposed.iter().any(|e| &e.recipient == recipient) {
                exposed.push(Exposure {
                    recipient: recipient.clone(),
                    since: since.clone(),
                });
            }
        }
    }
    exposed.retain(|exposure| !recipients.contains(&exposure.recipient));
    exposed.sort();
    exposed.dedup_by(|a, b| a.recipient == b.recipient);
    exposed
}

/// Sets `value` for (`name`, `scope`) under [`super::plan_set`]'s rule, as one of the scope's
/// writers under the signed rules. Values that keep part of their scope are re-encrypted for
/// the rest. On error the store is unchanged.
pub fn set(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    value: &SecretString,
    move_scopes: bool,
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let mut next = store.clone();
    let writer = Writer::new(&mut next, config, identities)?;
    let plan = plan_set_in(&next, name, scope, move_scopes)?;
    writer.apply(&mut next, name, &plan)?;
    writer.put(&mut next, name, scope, value, None, &[])?;
    *store = next;
    Ok(plan)
}

/// Removes `scope` from the values of `name` under [`super::plan_unset`]'s rule: values
/// entirely inside it are removed (leaving signed removals), values that also cover other
/// types or environments are re-encrypted for the rest. On error the store is unchanged.
pub fn unset(
    store: &mut Store,
    config: &Config,
    name: &str,
    scope: &Scope,
    identities: &Identities,
) -> Result<Vec<Narrowed>, Error> {
    let mut next = store.clone();
    let writer = Writer::new(&mut next, config, identities)?;
    let plan = plan_unset_in(&next, name, scope)?;
    writer.apply(&mut next, name, &plan)?;
    *store = next;
    Ok(plan)
}
