//! The access rules: who reads (the recipients), who writes (the writers) the values of
//! each type and environment, and who may change the rules (the admins) — as `secrets.toml`
//! states them ([`recipients_for`], [`writers_for`], [`admins`]: pure functions of a
//! [`Config`]), as facts ([`facts`]), and as the signed chain of versions in the store that
//! readers trust instead of the hand-edited file ([`chain`]).

use std::collections::BTreeSet;

use crate::config::Config;
use crate::env::{EnvKind, EnvType, Scope};

#[cfg(feature = "verify")]
pub mod chain;
pub mod facts;

/// Who may sign any change to the rules: the top-level `admins` of `secrets.toml`, else the
/// writers of the most sensitive type that has any (production, then development, preview,
/// local) — in a store without production readers yet, whoever may write development
/// values sets it up.
pub fn admins(config: &Config) -> Vec<String> {
    if !config.admins.is_empty() {
        return config.admins.clone();
    }
    EnvType::ALL
        .iter()
        .map(|ty| writers_for(config, &Scope::Types([*ty].into())))
        .find(|writers| !writers.is_empty())
        .unwrap_or_default()
}

/// The recipients of a value for `scope`, sorted and without duplicates: for types, the
/// union of `[recipients]` of each type; for environments, the union of each environment's
/// own list, else its pattern's, else its type's.
pub fn recipients_for(config: &Config, scope: &Scope) -> Vec<String> {
    let mut keys = BTreeSet::new();
    match scope {
        Scope::Types(types) => {
            for ty in types {
                keys.extend(config.recipients.get(ty.name()).into_iter().flatten());
            }
        }
        Scope::Envs(envs) => {
            for env in envs {
                if let Some(own) = config.recipients.get(env) {
                    keys.extend(own);
                    continue;
                }
                if let Ok(resolved) = config.resolve_env(env) {
                    match resolved.kind {
                        EnvKind::Pattern(pattern) => {
                            keys.extend(config.recipients_for_env(&pattern))
                        }
                        EnvKind::Named => keys.extend(config.recipients_for_env(env)),
                        EnvKind::Type => keys.extend(
                            config
                                .recipients
                                .get(resolved.ty.name())
                                .into_iter()
                                .flatten(),
                        ),
                    }
                }
            }
        }
    }
    keys.into_iter().cloned().collect()
}

/// Who may write a value for `scope`: for each type or environment it covers, the most
/// specific level of `secrets.toml` that names anyone (the environment itself, then its
/// pattern, then its type) gives its `[writers]` list, or else its `[recipients]`; a value
/// for several types or environments may be written by those allowed for all of them.
pub fn writers_for(config: &Config, scope: &Scope) -> Vec<String> {
    let level = |key: &str| -> Option<BTreeSet<String>> {
        config
            .writers
            .get(key)
            .or_else(|| config.recipients.get(key))
            .map(|list| list.iter().cloned().collect())
    };
    let members: Vec<BTreeSet<String>> = match scope {
        Scope::Types(types) => types
            .iter()
            .map(|ty| level(ty.name()).unwrap_or_default())
            .collect(),
        Scope::Envs(envs) => envs
            .iter()
            .map(|env| {
                let mut levels = vec![env.clone()];
                if let Ok(resolved) = config.resolve_env(env) {
                    if let EnvKind::Pattern(pattern) = &resolved.kind {
                        levels.push(pattern.clone());
                    }
                    levels.push(resolved.ty.name().to_owned());
                }
                levels.iter().find_map(|key| level(key)).unwrap_or_default()
            })
            .collect(),
    };
    let mut members = members.into_iter();
    let first = members.next().unwrap_or_default();
    members
        .fold(first, |all, next| &all & &next)
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "write")]
    use crate::env::EnvType;

    #[cfg(feature = "write")]
    #[test]
    fn writers_default_to_recipients_and_narrow_by_level() {
        let key = || {
            crate::identity::generate_identity()
                .0
                .to_public()
                .to_string()
        };
        let (ops, dev) = (key(), key());
        let config = Config::parse(
            std::path::Path::new("secrets.toml"),
            &format!(
                "[environments]\nstaging = \"development\"\n\"pr-*\" = \"preview\"\n\
                 [recipients]\nproduction = [\"{ops}\"]\ndevelopment = [\"{dev}\", \"{ops}\"]\n\
                 local = [\"{dev}\"]\npreview = [\"{dev}\"]\nstaging = [\"{ops}\"]\n\
                 [writers]\nproduction = [\"{ops}\", \"{dev}\"]\n"
            ),
        )
        .unwrap();
        let sorted = |mut list: Vec<&String>| {
            list.sort();
            list.into_iter().cloned().collect::<Vec<String>>()
        };
        let types = |list: &[EnvType]| Scope::Types(list.iter().copied().collect());
        assert_eq!(
            writers_for(&config, &types(&[EnvType::Production])),
            sorted(vec![&ops, &dev])
        );
        assert_eq!(
            writers_for(&config, &types(&[EnvType::Development, EnvType::Local])),
            std::slice::from_ref(&dev)
        );
        let envs = |list: &[&str]| Scope::Envs(list.iter().map(|e| (*e).to_owned()).collect());
        assert_eq!(
            writers_for(&config, &envs(&["staging"])),
            std::slice::from_ref(&ops)
        );
        assert_eq!(
            writers_for(&config, &envs(&["pr-7"])),
            std::slice::from_ref(&dev)
        );
    }
}
