//! The start-up check: every secret compiled into the binary resolved at once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::registry::declarations;
use crate::{MissingSecrets, resolver};

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
