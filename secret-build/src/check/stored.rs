//! Reading what the store holds for the check: names, scopes and lines, never values.

use std::path::{Path, PathBuf};

use secret_store::FileError;
use secret_store::store::Store;

use super::report::StoredValue;

/// The store file relative to `root`, and its values' names and scopes.
pub fn stored_values(root: &Path) -> Result<(PathBuf, Vec<StoredValue>), FileError> {
    let store = Store::load(root).map_err(|error| error.report())?;
    let path = store
        .path()
        .strip_prefix(root)
        .map(Path::to_owned)
        .unwrap_or_else(|_| store.path().to_owned());
    let mut values = Vec::new();
    for name in store.names() {
        for (scope, entry) in store.slots(name) {
            values.push(StoredValue {
                name: name.to_owned(),
                scope: scope.clone(),
                line: (entry.line > 0).then_some(entry.line),
            });
        }
    }
    Ok((path, values))
}
