//! Finding the workspace root: the folder of the workspace's root `Cargo.toml`.

use std::path::{Path, PathBuf};

/// Walks up from `start` and returns the workspace root: the nearest folder holding
/// `secrets.toml`, else the nearest whose `Cargo.toml` has a `[workspace]` table, else the
/// nearest holding a `Cargo.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let mut nearest_package = None;
    let mut nearest_workspace = None;
    for dir in start.ancestors() {
        if dir.join(crate::CONFIG_FILE).is_file() {
            return Some(dir.to_owned());
        }
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if nearest_workspace.is_none() && text.lines().any(|line| line.trim() == "[workspace]")
            {
                nearest_workspace = Some(dir.to_owned());
            }
            nearest_package.get_or_insert_with(|| dir.to_owned());
        }
    }
    nearest_workspace.or(nearest_package)
}
