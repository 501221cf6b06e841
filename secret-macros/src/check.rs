//! Build-time feedback: does the environment being built for have a value for this secret?
//!
//! Reads only names and scopes: `secrets.toml` (environments), `secrets.enc.toml` (which
//! secret has a value for which scope) and, for `local`, the names in the override files.
//! Never a value: nothing read here is emitted except file paths and names.
//!
//! Rebuild tracking: rustc records files named in `include_bytes!` and variables read
//! with `option_env!` in the crate's dep-info, and cargo rebuilds when they change. Each
//! crate gets one such tracking item (from its first `secret!`), naming only files that
//! exist and hold no value (`secrets.toml`, `secrets.enc.toml`; without `secrets.toml`,
//! the workspace's `Cargo.toml`, which `secret init` touches), plus `SECRETS_ENV` and
//! `SECRETS_BUILD_CHECK`. The override files hold values, so they are read for their names
//! but never included in the build; edits to them show on the crate's next rebuild.
//!
//! The parsed files are cached per process and re-read only when one changes its identity,
//! size or modification time, so a crate with many declarations parses them once; a crate
//! folder's workspace root is found once per process. Every declaration after a crate's
//! first costs map lookups and a `stat` per file, never a clock.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use secret_core::CONFIG_FILE;
use secret_core::build_check::{BuildCheck, Place, Said};
use secret_core::store::STORE_FILE;

/// The environment variable that turns the build-time check down.
const MODE_VAR: &str = "SECRETS_BUILD_CHECK";

/// What the build-time check says about one declaration.
pub(crate) struct Outcome {
    /// Whether this invocation carries the crate's tracking item.
    pub(crate) track: bool,
    /// Files to track (with `SECRETS_ENV` and `SECRETS_BUILD_CHECK`), when `track`.
    pub(crate) tracked_files: Vec<PathBuf>,
    /// A warning or error to show at the call site, if any.
    pub(crate) diagnostic: Option<Diagnostic>,
}

/// A message at the call site.
pub(crate) enum Diagnostic {
    /// A missing local value: a warning.
    Warning(String),
    /// The check could not run for a local build (a malformed file), or the workspace has
    /// no `secrets.toml`: a warning that is not about one secret.
    Unchecked(String),
    /// A missing value for a production, development or preview environment, or a check
    /// that cannot run for one.
    Error(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Warnings for local, errors for cloud environments (the default).
    On,
    /// Errors for cloud environments only: for teams that build with `-D warnings`.
    CloudOnly,
    /// No build-time check.
    Off,
}

/// Everything the check needs about one workspace, cached per process.
struct Workspace {
    stamp: Vec<Stamp>,
    check: BuildCheck,
    tracked_files: Vec<PathBuf>,
}

/// Checks `name` for the environment in `SECRETS_ENV`, for the crate being compiled.
pub(crate) fn check(name: &str) -> Outcome {
    let nothing = Outcome {
        track: false,
        tracked_files: Vec::new(),
        diagnostic: None,
    };
    // The build-script helper reports for this crate instead (it sets this variable with
    // `cargo::rustc-env`).
    if std::env::var_os("SECRETS_MACRO_CHECK").is_some_and(|value| value == "off") {
        return nothing;
    }
    let mode = match std::env::var(MODE_VAR).as_deref() {
        Ok("off") => Mode::Off,
        Ok("cloud-only") => Mode::CloudOnly,
        _ => Mode::On,
    };
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return nothing;
    };
    let env_name = std::env::var("SECRETS_ENV").unwrap_or_else(|_| "local".to_owned());
    let first_in_crate = first_in_crate(&manifest_dir);
    let workspace = match inputs(&manifest_dir, env_name.trim()) {
        Inputs::None => return nothing,
        // No store set up: say once per crate that its secrets are unchecked, and track
        // the workspace manifest, which `secret init` touches when it creates the store.
        Inputs::Unconfigured(manifest) => {
            return match first_in_crate {
                true => Outcome {
                    track: true,
                    tracked_files: vec![manifest],
                    diagnostic: (mode == Mode::On).then(|| {
                        Diagnostic::Unchecked(format!(
                            "this crate declares secrets, but the workspace has no {CONFIG_FILE}, so no build checks that they have values; run `cargo xtask secret init` to start, or set SECRETS_BUILD_CHECK=off to silence this"
                        ))
                    }),
                },
                false => nothing,
            };
        }
        Inputs::Configured(workspace) => workspace,
    };
    let tracked_files = if first_in_crate {
        workspace.tracked_files.clone()
    } else {
        Vec::new()
    };
    if mode == Mode::Off {
        return Outcome {
            track: first_in_crate,
            tracked_files,
            diagnostic: None,
        };
    }
    let check = &workspace.check;
    let diagnostic = match check.problem() {
        Some(problem) if problem.quiet => None,
        // A deploy build that cannot be checked fails, at every declaration (as a missing
        // value would); a local one warns once per crate.
        Some(problem) if problem.fatal || (first_in_crate && mode == Mode::On) => {
            match check.problem_said() {
                Some(Said::Error(message)) => first_in_crate.then_some(Diagnostic::Error(message)),
                Some(Said::Warning(message)) => Some(Diagnostic::Unchecked(message)),
                None => None,
            }
        }
        Some(_) => None,
        None => match check.say(name, Place::default(), mode == Mode::CloudOnly) {
            Some(Said::Warning(message)) => Some(Diagnostic::Warning(message)),
            Some(Said::Error(message)) => Some(Diagnostic::Error(message)),
            None => None,
        },
    };
    Outcome {
        track: first_in_crate,
        tracked_files,
        diagnostic,
    }
}

/// What the check reads for one crate and environment.
#[derive(Clone)]
enum Inputs {
    /// No `Cargo.toml` around the crate.
    None,
    /// A workspace without `secrets.toml`: its manifest.
    Unconfigured(PathBuf),
    /// A workspace with `secrets.toml`, parsed.
    Configured(Arc<Workspace>),
}

/// The inputs of the crate in `manifest_dir` for `env_name`. The workspace root of a crate's
/// folder is found once per process (a walk up the folders, reading each `Cargo.toml`); the
/// parsed files are reused for as long as each keeps its identity, size and modification
/// time ([`load`]), so a long-lived host (rust-analyzer's proc-macro server) sees a changed
/// file at its next expansion, and every declaration after a crate's first costs a map
/// lookup and a `stat` per file.
fn inputs(manifest_dir: &Path, env_name: &str) -> Inputs {
    static ROOTS: OnceLock<Mutex<HashMap<PathBuf, Option<PathBuf>>>> = OnceLock::new();
    let roots = ROOTS.get_or_init(Default::default);
    let root = {
        let mut roots = roots.lock().unwrap_or_else(|poison| poison.into_inner());
        roots
            .entry(manifest_dir.to_owned())
            .or_insert_with(|| secret_core::workspace::find_root(manifest_dir))
            .clone()
    };
    // The workspace root (see `secret_core::workspace::find_root`); it holds `secrets.toml`
    // when the workspace uses the store (never a folder above the Cargo workspace).
    match root {
        Some(root) if root.join(CONFIG_FILE).is_file() => Inputs::Configured(load(&root, env_name)),
        Some(root) if root.join("Cargo.toml").is_file() => {
            Inputs::Unconfigured(root.join("Cargo.toml"))
        }
        _ => Inputs::None,
    }
}

/// Whether this is the first `secret!` expanded for this crate in this process: the one
/// that carries the crate's tracking item.
fn first_in_crate(manifest_dir: &Path) -> bool {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, HashSet<String>>>> = OnceLock::new();
    let crate_name = std::env::var("CARGO_CRATE_NAME").unwrap_or_default();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    match seen.get_mut(manifest_dir) {
        Some(crates) if crates.contains(&crate_name) => false,
        Some(crates) => crates.insert(crate_name),
        None => {
            seen.insert(manifest_dir.to_owned(), HashSet::from([crate_name]));
            true
        }
    }
}

fn files(root: &Path) -> [PathBuf; 4] {
    let [toml, cue] = secret_core::overrides::FILES;
    [
        root.join(CONFIG_FILE),
        root.join(STORE_FILE),
        root.join(toml),
        root.join(cue),
    ]
}

/// What tells one version of a file from another: its identity (device and inode on Unix,
/// so a file replaced by a rename is new), size and modification time.
type Stamp = Option<(u64, u64, SystemTime)>;

fn stamp(files: &[PathBuf]) -> Vec<Stamp> {
    files
        .iter()
        .map(|file| {
            std::fs::metadata(file).ok().map(|meta| {
                #[cfg(unix)]
                let identity = {
                    use std::os::unix::fs::MetadataExt as _;
                    meta.dev() ^ meta.ino().rotate_left(32)
                };
                #[cfg(not(unix))]
                let identity = 0;
                (
                    identity,
                    meta.len(),
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                )
            })
        })
        .collect()
}

/// The workspace's parsed files, from the cache when they have not changed.
fn load(root: &Path, env_name: &str) -> Arc<Workspace> {
    type Cache = HashMap<(PathBuf, String), Arc<Workspace>>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let files = files(root);
    let stamp = stamp(&files);
    let key = (root.to_owned(), env_name.to_owned());
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(cached) = cache.get(&key).filter(|cached| cached.stamp == stamp) {
        return Arc::clone(cached);
    }
    let check = BuildCheck::load(root, env_name);
    let tracked_files = files[..2]
        .iter()
        .zip(&stamp)
        .filter(|(_, stamp)| stamp.is_some())
        .map(|(file, _)| file.clone())
        .collect();
    let workspace = Arc::new(Workspace {
        stamp,
        check,
        tracked_files,
    });
    cache.insert(key, Arc::clone(&workspace));
    workspace
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of its own under the system's temporary folder, removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("secret-macros-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn an_unchanged_store_is_parsed_once() {
        let folder = Folder::new("unchanged");
        std::fs::write(folder.0.join(CONFIG_FILE), "[environments]\n").unwrap();
        let first = load(&folder.0, "local");
        let second = load(&folder.0, "local");
        assert!(Arc::ptr_eq(&first, &second));
    }

    /// An editor saves by writing a new file and renaming it over the old one; within one
    /// second and with the same size, only the file's identity tells the versions apart.
    #[cfg(unix)]
    #[test]
    fn a_store_replaced_by_a_rename_of_the_same_size_and_time_is_read_again() {
        let folder = Folder::new("renamed");
        let config = folder.0.join(CONFIG_FILE);
        std::fs::write(&config, "[environments]\nstaging = \"development\"\n").unwrap();
        let first = load(&folder.0, "staging");
        assert!(first.check.environment().is_some());
        let modified = std::fs::metadata(&config).unwrap().modified().unwrap();
        let fresh = folder.0.join("secrets.toml.new");
        std::fs::write(&fresh, "[environments]\nstaging = \"developmenX\"\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&fresh)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        std::fs::rename(&fresh, &config).unwrap();
        let second = load(&folder.0, "staging");
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(second.check.environment().is_none());
    }
}
