//! Creating files that may hold values or keys: private to their owner from the first byte.

use std::io::Write;
use std::path::Path;

/// Creates `path`, which must not exist yet, readable and writable by its owner only
/// (`0600` on Unix, set at creation, so no other user can ever open it), writes `bytes` and
/// syncs them to disk.
pub fn create_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
