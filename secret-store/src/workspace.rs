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

/// The workspace a command works on: `given` (`--workspace DIR`, relative to `cwd`), else
/// the workspace enclosing `cwd` (see [`find_root`]).
pub fn resolve(given: Option<&Path>, cwd: &Path) -> Result<PathBuf, crate::FileError> {
    match given {
        Some(dir) => {
            // Rebuilt from its components: `--workspace .` would otherwise show as
            // `<cwd>/./secrets.toml` in every message.
            let dir: PathBuf = cwd.join(dir).components().collect();
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(crate::FileError {
                    path: dir,
                    line: None,
                    message: "--workspace: no such directory".to_owned(),
                    help: Some("pass the folder of the workspace's root Cargo.toml".to_owned()),
                })
            }
        }
        None => find_root(cwd).ok_or_else(|| crate::FileError {
            path: cwd.to_owned(),
            line: None,
            message: "not inside a Cargo workspace".to_owned(),
            help: Some(
                "run the command inside the workspace, or pass `--workspace DIR`".to_owned(),
            ),
        }),
    }
}
