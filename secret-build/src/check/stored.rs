//! Reading what the store holds for the check: names, scopes and lines, never values.
//! With `[backend]` in `secrets.toml` the names and scopes come from the Vault/OpenBao KV
//! engine, which needs a token allowed to read the secrets (see [`crate::backend`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use secret_core::{Config, FileError};

use secret_core::trust::{drift, trust};

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
    let listing = Backend::open(root, &config, vars, false)
        .and_then(|backend| backend.listing())
        .map_err(|error| error.report())?;
    let location = PathBuf::from(&listing.location);
    let path = location
        .strip_prefix(root)
        .map(Path::to_owned)
        .unwrap_or(location.clone());
    // The file store's values are audited (signatures, recipients, exposures) without a key.
    let store = match config.backend {
        None => Some(secret_core::Store::load(root).map_err(|error| error.report())?),
        Some(_) => None,
    };
    let values = listing
        .values
        .into_iter()
        .map(|listed| {
            let audit = store.as_ref().and_then(|store| {
                let entry = store.get(&listed.name, &listed.scope)?;
                Some(Audit {
                    trust: trust(&config, &listed.name, &listed.scope, entry),
                    drift: drift(&config, &listed.scope, entry),
                    exposed: entry.exposed.clone(),
                    recipients: entry.recipients.clone(),
                })
            });
            StoredValue {
                name: listed.name,
                scope: listed.scope,
                line: listed.line,
                audit,
            }
        })
        .collect();
    Ok((path, values))
}
