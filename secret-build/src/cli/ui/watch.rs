//! Keeping the page's state current: a fingerprint of every file the state is computed
//! from, the last computed state (computed again only when the fingerprint changes), and a
//! channel the waiting page requests listen on.
//!
//! The state is computed once at start, so the first page load only sends it. While a page
//! waits for changes the server looks at the fingerprint twice a second, computes the
//! state once for every tab, and wakes them all.

use std::ffi::OsString;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::state::{self, Snapshot};
use crate::check::OVERRIDE_FILES;

/// Reads an environment variable (the identity's), from any thread.
pub(super) type Vars = Box<dyn Fn(&str) -> Option<OsString> + Send + Sync>;

/// The state of one workspace, as recently as the files say.
pub(super) struct Watch {
    root: PathBuf,
    vars: Vars,
    /// The last computed state; receivers are the page requests waiting for a change.
    sender: watch::Sender<Arc<Snapshot>>,
    /// Held while the fingerprint is compared and the state computed, so two requests
    /// never compute the same state twice.
    computing: Mutex<()>,
}

impl Watch {
    pub(super) fn new(root: PathBuf, vars: Vars) -> Self {
        Self {
            root,
            vars,
            sender: watch::Sender::new(Arc::new(Snapshot::empty())),
            computing: Mutex::new(()),
        }
    }

    /// The state as the files are now: the last one, or a new one when a file changed.
    /// Blocks (reads files, runs the check): call it off the server's thread.
    pub(super) fn current(&self) -> Arc<Snapshot> {
        let _computing = self
            .computing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let version = fingerprint(&self.root);
        let last = self.sender.borrow().clone();
        if last.version == version {
            return last;
        }
        let snapshot = Arc::new(state::snapshot(version, &self.root, &*self.vars));
        self.sender.send_replace(snapshot.clone());
        snapshot
    }

    /// The last computed state, without looking at the files.
    pub(super) fn last(&self) -> Arc<Snapshot> {
        self.sender.borrow().clone()
    }

    /// A receiver woken by the next new state.
    pub(super) fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.sender.subscribe()
    }

    /// Whether a page request is waiting for a change.
    pub(super) fn watched(&self) -> bool {
        self.sender.receiver_count() > 0
    }
}

/// Whether the file called `name` is one the state is computed from.
fn watched_file(name: &str) -> bool {
    name.ends_with(".rs")
        || name == "Cargo.toml"
        || name == secret_core::CONFIG_FILE
        || name == secret_core::STORE_FILE
        || OVERRIDE_FILES.contains(&name)
}

/// Changes when `secrets.toml`, the store, a local override file or a file the scanner
/// reads changes (by the CLI, an editor or `git checkout`): path, size and modification
/// time of each.
pub(super) fn fingerprint(root: &Path) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
    for entry in walk.flatten() {
        if entry.file_type().is_dir() || !watched_file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        entry.path().hash(&mut hasher);
        // Through a symbolic link (a store kept elsewhere) to the file itself.
        if let Ok(meta) = std::fs::metadata(entry.path()) {
            meta.len().hash(&mut hasher);
            meta.modified().ok().hash(&mut hasher);
        }
    }
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_override_files_are_part_of_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        let mut seen = vec![fingerprint(root)];
        for (file, text) in [
            (".secrets.local.toml", "ApiKey = \"x\"\n"),
            (".secrets.local.cue", "ApiKey: \"x\"\n"),
            ("secrets.toml", "[environments]\n"),
            ("secrets.enc.toml", ""),
        ] {
            std::fs::write(root.join(file), text).unwrap();
            let now = fingerprint(root);
            assert!(
                !seen.contains(&now),
                "{file} did not change the fingerprint"
            );
            seen.push(now);
        }
        // The lock file and files nobody reads do not.
        let before = fingerprint(root);
        std::fs::write(root.join("secrets.enc.toml.lock"), "pid 1").unwrap();
        std::fs::write(root.join("notes.txt"), "x").unwrap();
        std::fs::create_dir(root.join("target")).unwrap();
        std::fs::write(root.join("target/x.rs"), "x").unwrap();
        assert_eq!(fingerprint(root), before);
    }
}
