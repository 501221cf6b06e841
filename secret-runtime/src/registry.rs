//! The list of every secret compiled into the binary, and the start-up check over it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::handle::Declaration;
use crate::{MissingSecrets, resolver};

/// One `secret!` invocation, registered at link time.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registered(pub &'static Declaration);

inventory::collect!(Registered);

/// Every `secret!` declaration compiled into this binary, from every crate, sorted by name,
/// then crate, file and line.
pub fn declarations() -> Vec<&'static Declaration> {
    let mut all: Vec<&'static Declaration> = inventory::iter::<Registered>
        .into_iter()
        .map(|registered| registered.0)
        .collect();
    all.sort_by_key(|d| (d.name(), d.krate(), d.file(), d.line(), d.column()));
    all
}

/// The conventional variables the declarations of `name` compiled into this binary name
/// (`secret!("DatabaseURL", env = "DATABASE_URL")`), each once, from a map built on first
/// use.
pub(crate) fn env_vars(name: &str) -> Vec<&'static str> {
    static MAP: std::sync::OnceLock<BTreeMap<&'static str, Vec<&'static str>>> =
        std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut map: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for declaration in declarations() {
            if let Some(variable) = declaration.env_var() {
                let vars = map.entry(declaration.name()).or_default();
                if !vars.contains(&variable) {
                    vars.push(variable);
                }
            }
        }
        map
    });
    map.get(name).cloned().unwrap_or_default()
}

/// Resolves every secret compiled into the binary and returns every one that failed, at
/// once. Call it at start-up to fail fast with one complete message instead of one missing
/// secret per deploy.
///
/// Resolved values are cached, so later `expose()` calls do not resolve again.
///
/// A secret every declaration of which is `optional` may be missing; a broken store or
/// wrong key is still reported for it. A name declared both ways is required.
pub fn check_all() -> Result<(), MissingSecrets> {
    // Name -> (manifest folder, optional everywhere).
    let mut names: BTreeMap<&'static str, (Option<&'static str>, bool)> = BTreeMap::new();
    for declaration in declarations() {
        let entry = names
            .entry(declaration.name())
            .or_insert((declaration.manifest_dir(), true));
        entry.1 &= declaration.is_optional();
    }
    // Resolved on one thread per core: each store value is a signature check and a key
    // exchange. The results come back in name order.
    let names: Vec<_> = names.into_iter().collect();
    let errors: Vec<_> = resolver::in_parallel_parts(&names, |part| {
        if let Some((_, (manifest_dir, _))) = part.first()
            && let Ok(resolver) = resolver::global(manifest_dir.map(Path::new))
        {
            let part_names: Vec<&str> = part.iter().map(|(name, _)| *name).collect();
            resolver.prepare(&part_names);
        }
        part.iter()
            .map(|&(name, (manifest_dir, optional))| {
                resolver::resolve_cached(name, manifest_dir.map(Path::new))
                    .err()
                    .filter(|error| !(optional && error.is_missing()))
            })
            .collect()
    })
    .into_iter()
    .flatten()
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(MissingSecrets { errors })
    }
}
