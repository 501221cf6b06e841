//! One KV v2 secret as this tool reads it: its values by scope, the version they were read
//! at, who owns it, and what makes it unusable (keys that are not scopes, two values for
//! one type).
//!
//! Ownership: every KV secret this tool writes carries the custom metadata
//! `secrets-owner = <owner>`, the `owner` of `[backend]` (by default its `prefix`). A
//! workspace writes and deletes only secrets marked with its owner, or not marked at all
//! (written by hand, or before the mark existed), which it marks on its first write.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use secret_core::text::escape_control;
use secret_core::{EnvKind, Environment, Scope};

/// The custom-metadata key that names the workspace that owns a KV secret.
pub const OWNER_KEY: &str = "secrets-owner";

/// The values of one secret in the backend: scope -> value, and the KV version they were
/// read at (0 when the secret does not exist), for the next check-and-set write.
pub struct Versioned {
    /// The KV metadata version (`options.cas` of the next write).
    pub version: u64,
    /// The values by scope.
    pub values: BTreeMap<Scope, SecretString>,
    /// The owner its custom metadata names (`secrets-owner`), if any.
    pub owner: Option<String>,
    /// Its other custom metadata, kept as it is when the owner is marked.
    pub(crate) custom: BTreeMap<String, String>,
    /// Why this tool does not use the secret at all, when its keys are not what
    /// `secret set` writes (another team's secret, a value that is not a string): `values`
    /// is then empty, and the secret is reported, never written.
    pub foreign: Option<String>,
    /// Pairs of keys whose values both cover one type or one named environment: readers
    /// refuse the secret until one is removed.
    pub conflicts: Vec<Conflict>,
}

/// Two keys of one KV secret whose values cover the same type or named environment
/// (`type:production` and `type:production,development`, or `type:prod` and
/// `type:production`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The first key, as the server sent it.
    pub first: String,
    /// The second key, as the server sent it.
    pub second: String,
    /// The scope of each.
    pub scopes: (Scope, Scope),
}

impl Conflict {
    /// What both keys cover: `production`, or `production, development`.
    pub fn covered(&self) -> String {
        let common: Vec<String> = match &self.scopes {
            (Scope::Types(a), Scope::Types(b)) => {
                a.intersection(b).map(|ty| ty.name().to_owned()).collect()
            }
            (Scope::Envs(a), Scope::Envs(b)) => a.intersection(b).cloned().collect(),
            _ => Vec::new(),
        };
        common.join(", ")
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` and `{}` both hold a value for {}",
            escape_control(&self.first),
            escape_control(&self.second),
            self.covered()
        )
    }
}

impl fmt::Debug for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("version", &self.version)
            .field("scopes", &self.values.keys().collect::<Vec<_>>())
            .field("owner", &self.owner)
            .field("foreign", &self.foreign)
            .field("conflicts", &self.conflicts)
            .finish()
    }
}

/// Whose a KV secret is, as a workspace with owner `mine` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Marked with this workspace's owner.
    Mine,
    /// Not marked: written by hand or before the mark existed. Writing it marks it.
    Unmarked,
    /// Marked with another owner: never written or deleted.
    Theirs(String),
}

impl Versioned {
    /// A secret that does not exist (version 0).
    pub fn absent() -> Self {
        Self::at(0)
    }

    /// No values at `version` (a secret whose latest version is deleted).
    pub(crate) fn at(version: u64) -> Self {
        Self {
            version,
            values: BTreeMap::new(),
            owner: None,
            custom: BTreeMap::new(),
            foreign: None,
            conflicts: Vec::new(),
        }
    }

    #[cfg(feature = "http")]
    /// Reads the `data` of a KV answer: each key a scope, each value a string. Returns
    /// the values and, when a key is not a scope or a value not a string, why the secret
    /// is foreign; pairs of keys covering one type or environment become conflicts.
    pub(crate) fn from_pairs<'a>(
        version: u64,
        pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        let mut read = Self::at(version);
        let mut keys: Vec<(String, Scope)> = Vec::new();
        let mut problems = Vec::new();
        for (key, value) in pairs {
            let Ok(scope) = Scope::parse_key(key) else {
                problems.push(format!("`{}` is not a scope", clean_key(key)));
                continue;
            };
            let Some(value) = value else {
                problems.push(format!("the value of `{}` is not a string", clean_key(key)));
                continue;
            };
            for (first, other) in &keys {
                if other == &scope || other.overlaps(&scope) {
                    read.conflicts.push(Conflict {
                        first: clean_key(first),
                        second: clean_key(key),
                        scopes: (other.clone(), scope.clone()),
                    });
                }
            }
            keys.push((key.to_owned(), scope.clone()));
            // Of two keys for one scope, the first stays here; the conflict makes every
            // reader refuse the secret, so neither is ever picked.
            read.values
                .entry(scope)
                .or_insert_with(|| SecretString::from(value));
        }
        if !problems.is_empty() {
            read.values.clear();
            read.conflicts.clear();
            read.foreign = Some(problems.join(", "));
        }
        read
    }

    /// Whose the secret is for a workspace whose owner is `mine`.
    pub fn ownership(&self, mine: Option<&str>) -> Ownership {
        match (&self.owner, mine) {
            (None, _) => Ownership::Unmarked,
            (Some(owner), Some(mine)) if owner == mine => Ownership::Mine,
            (Some(owner), _) => Ownership::Theirs(owner.clone()),
        }
    }

    /// The value that applies to `env` (environment > pattern > type), with its scope; an
    /// error naming the keys when two values cover one type or environment (no reader
    /// picks one of them).
    pub fn lookup(&self, env: &Environment) -> Result<Option<(&Scope, &SecretString)>, String> {
        if let Some(conflict) = self.conflicts.first() {
            return Err(conflict.to_string());
        }
        Ok(self
            .values
            .iter()
            .filter_map(|(scope, value)| scope.rank(env).map(|rank| (rank, scope, value)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, scope, value)| (scope, value)))
    }
}

/// The commands that settle a conflicting secret, by the rule `unset` follows (a value for
/// exactly the scope named is the one removed): keep one value by removing the other, or,
/// for two spellings of one scope, store one value in their place.
pub(crate) fn conflict_fix(conflict: &Conflict, name: &str) -> String {
    let (first, second) = &conflict.scopes;
    if first == second {
        return format!(
            "`cargo xtask secret set {} {name}` stores one value in their place",
            first.flags()
        );
    }
    format!(
        "keep one of them: remove the other with `cargo xtask secret unset {} {name}` or `cargo xtask secret unset {} {name}`",
        first.flags(),
        second.flags()
    )
}

/// A KV secret under the prefix that this tool does not use: its name is not a secret
/// name, or its keys are not the scopes `secret set` writes (another team's secret in the
/// same mount, a key added by hand). It is never written or deleted, only reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The KV secret's name under the prefix, as the server sent it.
    pub name: String,
    /// Why it is left alone.
    pub reason: String,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ignored `{}` in the backend, which this tool did not write: {}",
            escape_control(&self.name),
            self.reason
        )
    }
}

/// The scope a `sync` or a run for `env` writes: `type:<type>` for a type,
/// `env:<name>` for a named environment.
pub fn own_scope(env: &Environment) -> Scope {
    match &env.kind {
        EnvKind::Type => Scope::Types([env.ty].into()),
        EnvKind::Named | EnvKind::Pattern(_) => Scope::Envs([env.name.clone()].into()),
    }
}

#[cfg(feature = "http")]
/// A key from the server, fit for a message: escaped and at most 100 characters.
fn clean_key(key: &str) -> String {
    crate::mask::cut(&escape_control(key), 100)
}

#[cfg(all(test, feature = "http"))]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn read(pairs: &[(&str, Option<&str>)]) -> Versioned {
        Versioned::from_pairs(3, pairs.iter().map(|(k, v)| (*k, *v)))
    }

    // Regression test: a secret holding two values for one type was used silently (one was
    // picked, exit 0).
    #[test]
    fn two_values_for_one_type_are_an_error_for_every_environment() {
        let prod: Environment = Environment::of_type(secret_core::EnvType::Production);
        for pairs in [
            &[
                ("type:production", Some("a")),
                ("type:production,development", Some("b")),
            ][..],
            &[("type:prod", Some("a")), ("type:production", Some("b"))],
            &[("env:a,b", Some("a")), ("env:b", Some("b"))],
        ] {
            let secret = read(pairs);
            assert_eq!(secret.conflicts.len(), 1, "{pairs:?}");
            let error = secret.lookup(&prod).unwrap_err();
            assert!(error.contains("both hold a value for"), "{error}");
        }
        let error = read(&[("type:prod", Some("a")), ("type:production", Some("b"))])
            .lookup(&prod)
            .unwrap_err();
        assert_eq!(
            error,
            "`type:prod` and `type:production` both hold a value for production"
        );
    }

    #[test]
    fn scopes_and_precedence() {
        let secret = read(&[
            ("type:production", Some("p")),
            ("type:development,local", Some("d")),
        ]);
        assert!(secret.conflicts.is_empty() && secret.foreign.is_none());
        let prod = Environment::of_type(secret_core::EnvType::Production);
        let (scope, value) = secret.lookup(&prod).unwrap().unwrap();
        assert_eq!(
            (scope.key().as_str(), value.expose_secret()),
            ("type:production", "p")
        );
    }

    #[test]
    fn keys_that_are_not_scopes_make_a_foreign_secret() {
        let secret = read(&[("user", Some("admin")), ("type:production", None)]);
        assert!(secret.values.is_empty());
        assert_eq!(
            secret.foreign.as_deref(),
            Some("`user` is not a scope, the value of `type:production` is not a string")
        );
        let secret = read(&[("\u{1b}[2J\u{202e}", Some("x"))]);
        let foreign = secret.foreign.unwrap();
        assert!(
            !foreign.contains('\u{1b}') && !foreign.contains('\u{202e}'),
            "{foreign}"
        );
    }

    #[test]
    fn ownership_by_the_mark() {
        let mut secret = Versioned::absent();
        assert_eq!(secret.ownership(Some("a")), Ownership::Unmarked);
        secret.owner = Some("a".into());
        assert_eq!(secret.ownership(Some("a")), Ownership::Mine);
        assert_eq!(secret.ownership(Some("b")), Ownership::Theirs("a".into()));
        assert_eq!(secret.ownership(None), Ownership::Theirs("a".into()));
    }
}
