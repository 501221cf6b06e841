//! Finding the workspace root: the folder of the workspace's root `Cargo.toml`.

use std::path::{Path, PathBuf};

/// Walks up from `start` and returns the workspace root: the Cargo workspace's root (the
/// nearest folder whose `Cargo.toml` has a `[workspace]` table, else the nearest holding a
/// `Cargo.toml`), or the nearest folder holding `secrets.toml` at or below that root.
///
/// The walk never uses a `secrets.toml` above the Cargo workspace: a project without one
/// does not pick up the configuration of a folder it happens to sit in. Only where there is
/// no `Cargo.toml` at all (a deployed program) is the nearest `secrets.toml` the root.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let mut nearest_config = None;
    let mut nearest_package = None;
    for dir in start.ancestors() {
        if nearest_config.is_none() && dir.join(crate::CONFIG_FILE).is_file() {
            nearest_config = Some(dir);
        }
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if text.lines().any(|line| line.trim() == "[workspace]") {
                return Some(nearest_config.unwrap_or(dir).to_owned());
            }
            nearest_package.get_or_insert(dir);
        }
    }
    match (nearest_config, nearest_package) {
        (Some(config), Some(package)) if config.starts_with(package) => Some(config.to_owned()),
        (_, Some(package)) => Some(package.to_owned()),
        (config, None) => config.map(Path::to_owned),
    }
}

/// The workspace a command works on: `given` (`--workspace DIR`, relative to `cwd`), else
/// the workspace enclosing `cwd` (see [`find_root`]).
pub fn resolve(given: Option<&Path>, cwd: &Path) -> Result<PathBuf, crate::FileError> {
    match given {
        Some(dir) => {
            // Rebuilt from its components: `--workspace .` would otherwise show as
            // `<cwd>/./secrets.toml` in every message.
            let dir: PathBuf = cwd.join(dir).components().collect();
            let is_workspace =
                dir.join("Cargo.toml").is_file() || dir.join(crate::CONFIG_FILE).is_file();
            if dir.is_dir() && !is_workspace {
                Err(crate::FileError {
                    path: dir,
                    line: None,
                    message: "--workspace: not a workspace (no Cargo.toml or secrets.toml in it)"
                        .to_owned(),
                    help: Some("pass the folder of the workspace's root Cargo.toml".to_owned()),
                })
            } else if dir.is_dir() {
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
