//! Writing `secrets.enc.toml` safely: the exclusive lock that names its holder, the bounded
//! wait for it, the temporary file renamed over the store, and the removal of a killed
//! writer's leftovers (see the module above).

use super::*;

impl Store {
    /// Locks the store in `root`, re-reads it, applies `change`, and writes the result
    /// atomically when `change` succeeds and changed something. On error nothing is
    /// written and no temporary file is left behind.
    ///
    /// The lock file names its holder (pid, host, command) while it is held. A writer that
    /// cannot take the lock polls for `SECRETS_LOCK_TIMEOUT` seconds (10 by default), then fails
    /// with an error naming the holder: it never waits forever in silence.
    pub fn update<T, E: From<FileError>>(
        root: &Path,
        change: impl FnOnce(&mut Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let lock_path = root.join(LOCK_FILE);
        let io_error = |path: &Path, what: &str, error: std::io::Error| FileError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot {what}: {error}"),
            help: None,
        };
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|error| io_error(&lock_path, "create the lock file", error))?;
        take_lock(&lock, &lock_path)?;
        write_holder(&mut lock);
        let result = (|| -> Result<T, E> {
            let mut store = Self::load(root)?;
            remove_stale_temp_files(root);
            if let Some(dir) = store.write_target().ok().as_deref().and_then(Path::parent)
                && dir != root
            {
                remove_stale_temp_files(dir);
            }
            let before = store.clone();
            let result = change(&mut store)?;
            if store != before {
                store.write()?;
            }
            Ok(result)
        })();
        // The holder is gone: leave an empty lock file behind.
        let _ = lock.set_len(0);
        drop(lock);
        result
    }

    /// The file a write replaces: the store itself, or the final target of a store that is
    /// a symbolic link (the link is kept; its target is replaced atomically in its folder).
    fn write_target(&self) -> std::io::Result<PathBuf> {
        let is_link = fs::symlink_metadata(&self.path).is_ok_and(|meta| meta.is_symlink());
        if is_link {
            fs::canonicalize(&self.path)
        } else {
            Ok(self.path.clone())
        }
    }

    /// Writes the store atomically (temporary file, fsync, rename). Prefer
    /// [`Store::update`], which also locks: an unlocked write racing a locked one may find
    /// its temporary file removed as a leftover, and then fails with the store unchanged.
    ///
    /// A store that is a symbolic link stays one: the link's target is written, through a
    /// temporary file next to it. An existing store keeps its permissions (a new one is
    /// `0600`).
    pub fn write(&self) -> Result<(), FileError> {
        let failure = |message: String| -> FileError {
            FileError {
                path: self.path.clone(),
                line: None,
                message,
                help: Some("the store was left unchanged".to_owned()),
            }
        };
        let target = self.write_target().map_err(|error| {
            failure(format!(
                "cannot write the store: it is a symbolic link whose target cannot be \
                 resolved: {error}"
            ))
        })?;
        let dir = target.parent().unwrap_or(Path::new("."));
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{unique}{TEMP_SUFFIX}",
            std::process::id()
        ));
        let permissions = fs::metadata(&target).ok().map(|meta| meta.permissions());
        let result = write_new(&temp, self.render().as_bytes())
            .and_then(|()| match permissions {
                Some(permissions) => fs::set_permissions(&temp, permissions),
                None => Ok(()),
            })
            .and_then(|()| fs::rename(&temp, &target))
            .and_then(|()| File::open(dir).and_then(|dir| dir.sync_all()).or(Ok(())));
        result.map_err(|error| {
            let _ = fs::remove_file(&temp);
            failure(format!("cannot write the store: {error}"))
        })
    }
}

/// The environment variable bounding how long a write waits for the store's lock, in
/// seconds (default [`LOCK_WAIT_DEFAULT`]).
pub(crate) const LOCK_WAIT_VAR: &str = "SECRETS_LOCK_TIMEOUT";
/// How long a write waits for the store's lock by default, in seconds.
pub(crate) const LOCK_WAIT_DEFAULT: f64 = 10.0;

/// Takes the exclusive lock on `lock`, polling until the bound of [`LOCK_WAIT_VAR`]; then
/// fails naming the holder written in the lock file.
fn take_lock(lock: &File, lock_path: &Path) -> Result<(), FileError> {
    let wait = std::env::var(LOCK_WAIT_VAR)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .unwrap_or(LOCK_WAIT_DEFAULT);
    // A bound too large for the clock means no bound.
    let deadline = std::time::Duration::try_from_secs_f64(wait)
        .ok()
        .and_then(|wait| std::time::Instant::now().checked_add(wait));
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::WouldBlock)
                if deadline.is_none_or(|deadline| std::time::Instant::now() < deadline) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(lock_path).unwrap_or_default();
                let holder = holder.trim();
                let pid = holder
                    .lines()
                    .find_map(|line| line.strip_prefix("pid: "))
                    .unwrap_or("");
                let who = if holder.is_empty() {
                    "another process (it did not say which)".to_owned()
                } else {
                    format!(
                        "another process ({})",
                        holder
                            .lines()
                            .map(|line| line.chars().filter(|ch| !ch.is_control()).collect())
                            .collect::<Vec<String>>()
                            .join(", ")
                    )
                };
                let stop = if pid.is_empty() {
                    "stop that process".to_owned()
                } else {
                    format!("stop it (`kill {pid}`)")
                };
                return Err(FileError {
                    path: lock_path.to_owned(),
                    line: None,
                    message: format!(
                        "the store is locked by {who}; gave up after waiting {wait} s"
                    ),
                    help: Some(format!(
                        "wait for it to finish and run the command again; if it is stuck, \
                         {stop}: the lock is released when it exits. To wait longer, set \
                         {LOCK_WAIT_VAR}=<seconds>"
                    )),
                });
            }
            Err(fs::TryLockError::Error(error)) => {
                return Err(FileError {
                    path: lock_path.to_owned(),
                    line: None,
                    message: format!("cannot lock the store: {error}"),
                    help: None,
                });
            }
        }
    }
}

/// Writes who holds the lock into the lock file (best effort: the lock works without it).
fn write_holder(lock: &mut File) {
    use std::io::{Seek, Write};
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let host = host.trim();
    // The command line (a value never travels in argv), kept short.
    let command: String = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|ch| !ch.is_control())
        .take(200)
        .collect();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |time| time.as_secs());
    let text = format!(
        "pid: {}\nhost: {}\ncommand: {command}\nsince: {since} (Unix time)\n",
        std::process::id(),
        if host.is_empty() { "unknown" } else { host },
    );
    let _ = lock
        .set_len(0)
        .and_then(|()| lock.rewind())
        .and_then(|()| lock.write_all(text.as_bytes()));
}

/// Temporary files are named `.secrets.enc.toml.<pid>-<n>.tmp`.
const TEMP_PREFIX: &str = ".secrets.enc.toml.";
const TEMP_SUFFIX: &str = ".tmp";

/// The temporary files of writers in `root` (leftovers of killed writers when the lock is
/// held).
pub fn temp_files(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && entry.file_type().is_ok_and(|kind| kind.is_file())
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    found
}

/// Removes the temporary files of writers that died before renaming them. Called with the
/// lock held: a live writer only has a temporary file while it holds the lock.
fn remove_stale_temp_files(root: &Path) {
    for path in temp_files(root) {
        let _ = fs::remove_file(path);
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    crate::files::create_private(path, bytes)
}
