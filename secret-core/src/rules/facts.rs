//! The access rules as facts: one short line each (`recipient production age1...`), the unit
//! that is signed, compared with `secrets.toml` and shown to reviewers.
//!
//! `secrets.toml` is turned into a set of facts ([`facts_of`]); a set of facts is turned
//! back into a `secrets.toml` text that says exactly that (`canonical_toml`), which the
//! same parser reads (`config_of`). So the signed rules and the hand-edited file are
//! compared fact by fact, and a reader that works from the signed rules gets a
//! [`Config`] read the same way as the file.
//!
//! The facts, one per line, fields separated by one space:
//!
//! | fact | meaning |
//! | --- | --- |
//! | `repository <id>` | the store's identity, chosen when the first rules were signed; in every signature |
//! | `admin <key>` | may sign any change to the rules (top-level `admins`) |
//! | `types <type>,<type>` | the environment types the project uses (top-level `types`), when not all four |
//! | `person <name> <key>` | a person's name for a key (`[people]`) |
//! | `environment <name> <type>` | a named environment or pattern and its type |
//! | `recipient <level> <key>` | may read values of a type or environment |
//! | `writer <level> <key>` | may write values of a type or environment (`[writers]`) |
//! | `backend <setting> <value>` | one setting of `[backend]`, its value in canonical TOML |
//! | `aws <setting> <value>` | one setting of `[aws]` (`secret sync --to aws`), its value in canonical TOML |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use crate::config::Config;
use crate::env::EnvType;
use crate::file_error::FileError;
use crate::toml_write::basic as quote;

/// One fact of the access rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    /// The store's identity.
    Repository(String),
    /// A key that may sign any change to the rules.
    Admin(String),
    /// The environment types the project uses, when not all four.
    Types(Vec<EnvType>),
    /// A person's name for a key.
    Person {
        /// The name (`alice`).
        name: String,
        /// The age public key.
        key: String,
    },
    /// A named environment (or pattern) and its type.
    Environment {
        /// The name or pattern.
        name: String,
        /// Its type.
        ty: EnvType,
    },
    /// A key that may read the values of a type or environment.
    Recipient {
        /// A type's long name, or an environment's name or pattern.
        level: String,
        /// The age public key.
        key: String,
    },
    /// A key that may write the values of a type or environment.
    Writer {
        /// A type's long name, or an environment's name or pattern.
        level: String,
        /// The age public key.
        key: String,
    },
    /// One setting of the `[backend]` table.
    Backend {
        /// The setting's name (`address`).
        setting: String,
        /// Its value in canonical TOML (`"https://bao.example.com"`).
        value: String,
    },
    /// One setting of the `[aws]` table.
    Aws {
        /// The setting's name (`region`).
        setting: String,
        /// Its value in canonical TOML (`"eu-west-1"`, `{ "team" = "payments" }`).
        value: String,
    },
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repository(id) => write!(f, "repository {id}"),
            Self::Admin(key) => write!(f, "admin {key}"),
            Self::Types(types) => {
                let names: Vec<&str> = types.iter().map(|ty| ty.name()).collect();
                write!(f, "types {}", names.join(","))
            }
            Self::Person { name, key } => write!(f, "person {name} {key}"),
            Self::Environment { name, ty } => write!(f, "environment {name} {ty}"),
            Self::Recipient { level, key } => write!(f, "recipient {level} {key}"),
            Self::Writer { level, key } => write!(f, "writer {level} {key}"),
            Self::Backend { setting, value } => write!(f, "backend {setting} {value}"),
            Self::Aws { setting, value } => write!(f, "aws {setting} {value}"),
        }
    }
}

impl Fact {
    /// Reads a fact written by [`Fact`]'s `Display`. The words are checked as
    /// `secrets.toml` checks them, so a fact that parses means the same in both places.
    pub fn parse(line: &str) -> Result<Fact, String> {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let words: Vec<&str> = rest.split(' ').collect();
        let key = |word: &str| -> Result<String, String> {
            crate::recipient::check_recipient(word)
                .map(|()| word.to_owned())
                .map_err(|reason| format!("`{word}` is not an age recipient: {reason}"))
        };
        let level = |word: &str| -> Result<String, String> {
            if EnvType::parse(word).is_some_and(|ty| ty.name() == word)
                || crate::config::env_name_problem(word, true).is_none()
            {
                Ok(word.to_owned())
            } else {
                Err(format!(
                    "`{word}` is neither a type nor an environment name"
                ))
            }
        };
        let fact = match (kind, words.as_slice()) {
            ("repository", [id])
                if (16..=64).contains(&id.len())
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Fact::Repository((*id).to_owned())
            }
            ("admin", [k]) => Fact::Admin(key(k)?),
            ("types", [list]) => {
                let types: Option<Vec<EnvType>> = list
                    .split(',')
                    .map(|ty| EnvType::parse(ty).filter(|parsed| parsed.name() == ty))
                    .collect();
                match types {
                    Some(types) if !types.is_empty() => Fact::Types(types),
                    _ => return Err(format!("`{list}` is not a list of environment types")),
                }
            }
            ("person", [name, k])
                if !name.is_empty()
                    && !name.starts_with("age1")
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')) =>
            {
                Fact::Person {
                    name: (*name).to_owned(),
                    key: key(k)?,
                }
            }
            ("environment", [name, ty]) => {
                if let Some((message, _)) = crate::config::env_name_problem(name, true) {
                    return Err(message);
                }
                let ty = EnvType::parse(ty)
                    .filter(|parsed| parsed.name() == *ty)
                    .ok_or_else(|| format!("`{ty}` is not an environment type"))?;
                Fact::Environment {
                    name: (*name).to_owned(),
                    ty,
                }
            }
            ("recipient", [l, k]) => Fact::Recipient {
                level: level(l)?,
                key: key(k)?,
            },
            ("writer", [l, k]) => Fact::Writer {
                level: level(l)?,
                key: key(k)?,
            },
            (table @ ("backend" | "aws"), [setting, ..])
                if !setting.is_empty()
                    && setting.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && rest.len() > setting.len() + 1 =>
            {
                let (setting, value) =
                    ((*setting).to_owned(), rest[setting.len() + 1..].to_owned());
                if table == "aws" {
                    Fact::Aws { setting, value }
                } else {
                    Fact::Backend { setting, value }
                }
            }
            _ => {
                return Err(format!(
                    "`{}` is not a fact this version of the tool knows (written by a newer version?)",
                    crate::text::escape_control(line)
                ));
            }
        };
        Ok(fact)
    }

    /// The type or environment this fact is about, for messages (`production`, `staging`);
    /// `None` for facts about the whole store.
    pub fn level(&self) -> Option<&str> {
        match self {
            Self::Environment { name, .. } => Some(name),
            Self::Recipient { level, .. } | Self::Writer { level, .. } => Some(level),
            Self::Repository(_)
            | Self::Admin(_)
            | Self::Types(_)
            | Self::Person { .. }
            | Self::Backend { .. }
            | Self::Aws { .. } => None,
        }
    }
}

/// The facts `config` states, with the store's identity `repository`.
pub fn facts_of(config: &Config, repository: &str) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    facts.insert(Fact::Repository(repository.to_owned()));
    facts.extend(config.admins.iter().cloned().map(Fact::Admin));
    if config.types.len() != EnvType::ALL.len() {
        facts.insert(Fact::Types(config.types.clone()));
    }
    facts.extend(config.people.iter().map(|(name, key)| Fact::Person {
        name: name.clone(),
        key: key.clone(),
    }));
    facts.extend(
        config
            .environments
            .iter()
            .map(|(name, ty)| Fact::Environment {
                name: name.clone(),
                ty: *ty,
            }),
    );
    for (level, keys) in &config.recipients {
        facts.extend(keys.iter().map(|key| Fact::Recipient {
            level: level.clone(),
            key: key.clone(),
        }));
    }
    for (level, keys) in &config.writers {
        facts.extend(keys.iter().map(|key| Fact::Writer {
            level: level.clone(),
            key: key.clone(),
        }));
    }
    facts.extend(
        config
            .backend_settings
            .iter()
            .map(|(setting, value)| Fact::Backend {
                setting: setting.clone(),
                value: value.clone(),
            }),
    );
    facts.extend(
        config
            .aws_settings
            .iter()
            .map(|(setting, value)| Fact::Aws {
                setting: setting.clone(),
                value: value.clone(),
            }),
    );
    facts
}

/// A `secrets.toml` text that states exactly `facts` (the repository's identity is not part
/// of `secrets.toml` and is left out).
pub(crate) fn canonical_toml(facts: &BTreeSet<Fact>) -> String {
    let mut admins = Vec::new();
    let mut types = None;
    let mut people = Vec::new();
    let mut environments = Vec::new();
    let mut recipients: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut writers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut backend = Vec::new();
    let mut aws = Vec::new();
    for fact in facts {
        match fact {
            Fact::Repository(_) => {}
            Fact::Admin(key) => admins.push(quote(key)),
            Fact::Types(list) => {
                let names: Vec<String> = list.iter().map(|ty| quote(ty.name())).collect();
                types = Some(names.join(", "));
            }
            Fact::Person { name, key } => people.push(format!("{} = {}", quote(name), quote(key))),
            Fact::Environment { name, ty } => {
                environments.push(format!("{} = {}", quote(name), quote(ty.name())))
            }
            Fact::Recipient { level, key } => recipients.entry(level).or_default().push(key),
            Fact::Writer { level, key } => writers.entry(level).or_default().push(key),
            Fact::Backend { setting, value } => backend.push(format!("{setting} = {value}")),
            Fact::Aws { setting, value } => aws.push(format!("{setting} = {value}")),
        }
    }
    let mut text = String::new();
    if !admins.is_empty() {
        text.push_str(&format!("admins = [{}]\n", admins.join(", ")));
    }
    if let Some(types) = types {
        text.push_str(&format!("types = [{types}]\n"));
    }
    if !people.is_empty() {
        text.push_str("[people]\n");
        for line in people {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text.push_str("[environments]\n");
    for line in environments {
        text.push_str(&line);
        text.push('\n');
    }
    for (table, levels) in [("recipients", recipients), ("writers", writers)] {
        text.push_str(&format!("[{table}]\n"));
        for (level, keys) in levels {
            let keys: Vec<String> = keys.into_iter().map(quote).collect();
            text.push_str(&format!("{} = [{}]\n", quote(level), keys.join(", ")));
        }
    }
    if !backend.is_empty() {
        text.push_str("[backend]\n");
        for line in backend {
            text.push_str(&line);
            text.push('\n');
        }
    }
    if !aws.is_empty() {
        text.push_str("[aws]\n");
        for line in aws {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

/// The [`Config`] `facts` state, read by the same parser as `secrets.toml` (its `path`,
/// for messages, is `path`). An error means the facts do not make a valid `secrets.toml`
/// (a writer for an undeclared environment, an unknown backend setting).
pub(crate) fn config_of(facts: &BTreeSet<Fact>, path: &Path) -> Result<Config, FileError> {
    Config::parse(path, &canonical_toml(facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_through_their_text_and_through_secrets_toml() {
        let key = "age1ltf5lyhmk209nj2an4053era4jmu50lydjjn0ga9m39l53f4d4wq4jdtem";
        let text = format!(
            "admins = [\"{key}\"]\ntypes = [\"production\", \"development\", \"preview\"]\n\
             [people]\nalice = \"{key}\"\n[environments]\nstaging = \"dev\"\n\"pr-*\" = \"preview\"\n\
             [recipients]\nproduction = [\"{key}\"]\nstaging = [\"{key}\"]\n\
             [writers]\n\"pr-*\" = [\"{key}\"]\n\
             [backend]\nkind = \"openbao\"\naddress = \"https://bao.example:8200\"\n"
        );
        let config = Config::parse(Path::new("secrets.toml"), &text).unwrap();
        let facts = facts_of(&config, "0123456789abcdef0123456789abcdef");
        for fact in &facts {
            assert_eq!(&Fact::parse(&fact.to_string()).unwrap(), fact, "{fact}");
        }
        let again = config_of(&facts, Path::new("secrets.toml")).unwrap();
        assert_eq!(facts_of(&again, "0123456789abcdef0123456789abcdef"), facts);
        assert!(facts.contains(&Fact::Environment {
            name: "staging".into(),
            ty: EnvType::Development
        }));
        assert!(facts.contains(&Fact::Types(vec![
            EnvType::Production,
            EnvType::Development,
            EnvType::Preview
        ])));
        assert!(facts.contains(&Fact::Person {
            name: "alice".into(),
            key: key.into()
        }));
    }

    #[test]
    fn unknown_or_malformed_facts_are_refused() {
        for line in [
            "threshold production 2",
            "recipient production age1notakey",
            "environment prod production",
            "environment x\u{1b} development",
            "repository XYZ",
            "backend address",
        ] {
            assert!(Fact::parse(line).is_err(), "{line}");
        }
    }
}
