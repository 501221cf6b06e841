//! Paths as the scanner keys and compares them: without `.` or `..` components, hashed
//! and compared by their bytes (the default `Path` hash and order parse components, which
//! showed in profiles of large workspaces), and sorted in `Path`'s order without parsing
//! them ([`cmp`]).

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A hasher for paths (their bytes), quicker than the default one; the keys are the paths
/// of the workspace's own files, so there is nothing to defend against.
#[derive(Default)]
pub(crate) struct PathHasher(u64);

impl std::hash::Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut mix = |word: u64| {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
        };
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            mix(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        }
        // The last bytes as the low bytes of a word (without a call to copy them).
        let rest = words.remainder();
        if !rest.is_empty() {
            mix(rest
                .iter()
                .rev()
                .fold(0, |word, &byte| (word << 8) | u64::from(byte)));
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

/// `a.cmp(b)` for paths without `.` or `..` components, doubled or trailing separators
/// (as [`normalize`] leaves them): `Path` orders component by component, which for such
/// paths is the order of their bytes with the separator below every other byte.
pub(crate) fn cmp(a: &Path, b: &Path) -> std::cmp::Ordering {
    if cfg!(windows) {
        return a.cmp(b);
    }
    let (a, b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    // The first byte where they differ (paths share long prefixes: eight bytes at a time),
    // compared with the separator below every other byte; else the shorter first.
    let end = a.len().min(b.len());
    let word = |bytes: &[u8], at: usize| {
        u64::from_ne_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
    };
    let mut at = 0;
    while at + 8 <= end && word(a, at) == word(b, at) {
        at += 8;
    }
    while at < end && a[at] == b[at] {
        at += 1;
    }
    let key =
        |byte: Option<&u8>| byte.map(|&byte| if byte == b'/' { 0 } else { u16::from(byte) + 1 });
    key(a.get(at)).cmp(&key(b.get(at)))
}

/// `path.starts_with(base)` for paths as [`cmp`] takes them, from their bytes.
pub(crate) fn starts_with(path: &Path, base: &Path) -> bool {
    if cfg!(windows) {
        return path.starts_with(base);
    }
    let (path, base) = (
        path.as_os_str().as_encoded_bytes(),
        base.as_os_str().as_encoded_bytes(),
    );
    base.is_empty()
        || (path.starts_with(base)
            && (path.len() == base.len() || base.ends_with(b"/") || path[base.len()] == b'/'))
}

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn cmp_and_starts_with_agree_with_path_for_clean_paths() {
        let paths = [
            "/w/a",
            "/w/a.rs",
            "/w/a/b.rs",
            "/w/a/b/c.rs",
            "/w/a-b",
            "/w/a_b.rs",
            "/w/ab",
            "/w/A",
            "/w/é.rs",
            "/w/a/b",
            "/w/a.d/x.rs",
            "/w",
            "/",
            "a",
            "a/b",
            "a.rs",
            // Long shared prefixes, differing before, at and after a multiple of eight.
            "/workspace/registry/crate/src/lib.rs",
            "/workspace/registry/crate/src/lib/a.rs",
            "/workspace/registry/crate/src-x/lib.rs",
            "/workspace/registry/crate-a/src/lib.rs",
            "/workspace/registry/crate.a/src/lib.rs",
            "/workspace/registry/crate/src/li",
            "/workspace/registry/crate/src",
            "/workspace/registrz",
        ];
        for a in paths {
            for b in paths {
                let (a, b) = (Path::new(a), Path::new(b));
                assert_eq!(super::cmp(a, b), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(super::starts_with(a, b), a.starts_with(b), "{a:?} {b:?}");
            }
        }
    }
}
