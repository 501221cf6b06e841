//! Paths as the scanner keys and compares them: without `.` or `..` components, hashed
//! and compared by their bytes (the default `Path` hash and order parse components, which
//! showed in profiles of large workspaces).

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A hasher for paths (their bytes), quicker than the default one; the keys are the paths
/// of the workspace's own files, so there is nothing to defend against.
#[derive(Default)]
pub(crate) struct PathHasher(u64);

impl std::hash::Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type Hashed = std::hash::BuildHasherDefault<PathHasher>;
/// Paths (their bytes) to `V`.
pub(crate) type PathMap<V> = HashMap<OsString, V, Hashed>;
/// A set of paths (their bytes).
pub(crate) type PathSet = HashSet<OsString, Hashed>;

/// Removes `.` and `..` components (and doubled or trailing separators) without touching
/// the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    if is_clean(path.as_os_str().as_encoded_bytes()) {
        return path.to_owned();
    }

    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a path's bytes have no `.` or `..` component and no doubled or trailing `/`:
/// [`normalize`] would return them as they are.
fn is_clean(bytes: &[u8]) -> bool {
    if bytes.is_empty() || (cfg!(windows) && bytes.contains(&b'\\')) {
        return false;
    }
    // Each component: after the start and after each `/`.
    let mut starts = std::iter::once(0).chain(memchr::memchr_iter(b'/', bytes).map(|at| at + 1));
    starts.all(|start| {
        let component = &bytes[start..];
        let end = component
            .iter()
            .position(|&b| b == b'/')
            .unwrap_or(component.len());
        let component = &component[..end];
        // An empty component is a doubled or trailing `/` (the root's is fine).
        (start == 0 || !component.is_empty()) && component != b"." && component != b".."
    })
}
