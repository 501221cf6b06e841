//! Reading what the store holds for the check: names, scopes and lines, never values.
//! With `[backend]` in `secrets.toml` the names and scopes come from the Vault/OpenBao KV
//! engine, which needs a token allowed to read the secrets (see [`crate::backend`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use secret_core::{Config, FileError, Store};

use super::report::{Audit, StoredValue};
use crate::backend::Backend;

/// The store file relative to `root` (or the KV folder's URL), and its values' names and
/// scopes. Credentials for a `[backend]` come from the process environment.
pub fn stored_values(root: &Path) -> Result<(PathBuf, Vec<StoredValue>), FileError> {
    stored_values_with(root, &|name| std::env::var_os(name))
}

/// [`stored_values`], reading `VAULT_TOKEN` and the like through `vars`.
pub fn stored_values_with(
    root: &Path,
    vars: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(PathBuf, Vec<StoredValue>), FileError> {
    let config = Config::load(root)?;
    if config.backend.is_none() {
        // The file store: names, scopes and lines, each value audited (signatures,
        // recipients, exposures) without a key, from one read of the file.
        let store = Store::load(root)?;
        let mut values = Vec::new();
        for name in store.names() {
            for (scope, entry) in store.slots(name) {
                values.push(StoredValue {
                    name: name.to_owned(),
                    scope: scope.clone(),
                    line: (entry.line > 0).then_some(entry.line),
                    audit: Some(Audit::of(&config, name, scope, entry)),
                });
            }
        }
        return Ok((PathBuf::from(secret_core::STORE_FILE), values));
    }
    let listing = Backend::open(root, &config, vars, false)
        .and_then(|backend| backend.listing())
        .map_err(|error| error.report())?;
    let location = PathBuf::from(&listing.location);
    let path = location
        .strip_prefix(root)
        .map(Path::to_owned)
        .unwrap_or(location.clone());
    let values = listing
        .values
        .into_iter()
        .map(|listed| StoredValue {
            name: listed.name,
            scope: listed.scope,
            line: listed.line,
            audit: None,
        })
        .collect();
    Ok((path, values))
}
