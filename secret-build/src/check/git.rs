//! Asking git which local override files it tracks.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The local override files, by name, at the workspace root.
pub use secret_core::overrides::FILES as OVERRIDE_FILES;

/// The override files in `root` that git tracks, relative to `root`. Outside a git
/// repository, or without git, nothing is tracked.
pub(crate) fn tracked_overrides(root: &Path) -> Vec<PathBuf> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--"])
        .args(OVERRIDE_FILES)
        .output();
    match output {
        Ok(output) if output.status.success() => output
            .stdout
            .split(|&byte| byte == 0)
            .filter(|path| !path.is_empty())
            .map(|path| PathBuf::from(String::from_utf8_lossy(path).into_owned()))
            .collect(),
        _ => Vec::new(),
    }
}
