//! Which files the scanner reads: the member packages and targets `cargo metadata` reports,
//! and the `.rs` files in each member's folder.
//!
//! `cargo metadata` takes a while on a large workspace (it reads every member's manifest),
//! so it runs on a thread of its own while the `.rs` files under the workspace root are
//! read and looked at once each ([`Facts`]: the files a file names, and the scan of its
//! text for `secret!`). When cargo answers, the members, targets and module trees decide
//! which of those files count, exactly as if they were read then; a file the early pass
//! did not get to, or that lies outside the root, is read then.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::metadata::{Metadata, Package};
use super::modules::Child;
use super::paths::{Hashed, PathMap};
use super::paths::{normalize, starts_with};
use super::{Outcome, ScanError};

/// A source file to scan.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The absolute path, to read ([`Workspace::display_path`] is the one shown).
    pub(crate) path: PathBuf,
    /// Index into [`Workspace::packages`].
    pub(crate) package: usize,
    /// The target kind the file most likely belongs to.
    pub(crate) target_kind: Kind,
}

/// A target kind as the scan reports it ([`target_kind`]): cargo's own kinds are not
/// copied for every file.
pub(crate) type Kind = std::borrow::Cow<'static, str>;

/// The member packages and their files.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// The root as given, and as the file system names it ([`Workspace::display_path`]).
    root: PathBuf,
    root_abs: PathBuf,
    pub(crate) packages: Vec<String>,
    /// Each member's dependencies on other members.
    pub(crate) dependencies: BTreeMap<String, Vec<super::packages::Dependency>>,
    pub(crate) files: Vec<SourceFile>,
    /// The scan of each file of [`Workspace::files`] for `secret` (the same order).
    pub(crate) outcomes: Vec<Outcome>,
    /// The credentials written into each file of [`Workspace::files`] (the same order).
    pub(crate) hardcoded: Vec<Vec<super::hardcoded::Found>>,
    /// `.rs` files in member folders that no target's module tree reaches.
    pub(crate) unreached: Vec<PathBuf>,
}

/// What one reading of a file tells: the files it names and its scan for `secret`.
#[derive(Debug)]
pub(crate) struct Facts {
    /// `None` when the file cannot be read as text (module discovery passes it by), and
    /// once [`load_package`] handed them to module discovery.
    children: Option<Vec<Child>>,
    outcome: Outcome,
    hardcoded: Vec<super::hardcoded::Found>,
}

impl Facts {
    /// Reads `path` once: its module references, its scan for `secret!` and, if `options`
    /// ask, the credentials written into it.
    fn of(path: &Path, options: super::ScanOptions) -> Facts {
        super::with_text(path, |text| match text {
            Ok(text) => {
                let (children, outcome, hardcoded) = super::read_text(text, options);
                Facts {
                    children: Some(children),
                    outcome,
                    hardcoded,
                }
            }
            Err(message) => Facts {
                children: None,
                outcome: Outcome::Unreadable(message),
                hardcoded: Vec::new(),
            },
        })
    }
}

/// Where the file at `path` invokes one of the macros `names` (read again: only files of
/// crates whose `macro_rules!` declare modules are).
fn invocations_of(path: &Path, names: &BTreeSet<String>) -> Vec<Child> {
    super::with_text(&normalize(path), |text| {
        text.map(|text| super::modules::invocations(text, names))
            .unwrap_or_default()
    })
}

/// A target root: its kind and the folder it lives in.
struct TargetRoot {
    kind: Kind,
    src_path: PathBuf,
    dir: PathBuf,
}

impl Workspace {
    pub(crate) fn load(root: &Path, options: super::ScanOptions) -> Result<Self, ScanError> {
        let pending = Metadata::spawn(root);
        let root_abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        // While cargo reads the manifests: the files under the root, until cargo answers.
        let ReadAhead {
            folders,
            mut known,
            mut trees,
        } = read_ahead(&root_abs, || pending.is_finished(), options);
        let metadata = pending.wait().map_err(|message| ScanError::Metadata {
            root: root.to_owned(),
            message,
        })?;
        let target_dir = metadata.target_directory;
        let mut members: Vec<&Package> = metadata.members.iter().collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        // Each member with the tree the early pass grew from its own targets' roots, if it
        // did; the readings of every other tree go to `known`, for a package to find.
        let guessed: Vec<std::sync::Mutex<Option<Tree>>> = members
            .iter()
            .map(|package| {
                let dir = package.manifest_path.parent().unwrap_or(Path::new(""));
                let roots: Vec<PathBuf> = package
                    .targets
                    .iter()
                    .map(|target| target.src_path.clone())
                    .collect();
                let tree = trees
                    .remove(dir.as_os_str())
                    .filter(|tree| tree.roots == roots_key(&roots));
                std::sync::Mutex::new(tree)
            })
            .collect();
        for tree in trees.into_values() {
            let reached = tree.reached.into_iter().map(PathBuf::into_os_string);
            known.extend(reached.zip(tree.facts));
        }
        // Walking and module discovery: one package per task, on all cores.
        let tasks: Vec<(&Package, std::sync::Mutex<Option<Tree>>)> =
            members.iter().copied().zip(guessed).collect();
        let loaded = super::parallel_map(&tasks, |(package, guessed)| {
            let guessed = guessed.lock().unwrap_or_else(|e| e.into_inner()).take();
            load_package(
                package,
                &target_dir,
                (&root_abs, root),
                &folders,
                (&known, guessed),
                options,
            )
        });
        // Sized once: the lists of every file are large (tens of thousands of entries).
        let total: usize = loaded.iter().map(|loaded| loaded.files.len()).sum();
        let mut packages = Vec::with_capacity(loaded.len());
        let mut files = Vec::with_capacity(total);
        let mut outcomes = Vec::with_capacity(total);
        let mut found = Vec::with_capacity(total);
        let mut unreached = Vec::new();
        // A file in two packages' trees belongs to the first (by name). The folders two
        // packages walk never overlap (a walk stops at another package's folder), so only a
        // module outside its package's folder (`#[path = "../shared.rs"]`) can be in two.
        let first: Vec<Vec<bool>> = if loaded.iter().all(|loaded| !loaded.outside) {
            loaded
                .iter()
                .map(|loaded| vec![true; loaded.files.len()])
                .collect()
        } else {
            let mut seen: HashSet<&OsStr, Hashed> = HashSet::default();
            loaded
                .iter()
                .map(|loaded| {
                    loaded
                        .files
                        .iter()
                        .map(|file| seen.insert(file.path.as_os_str()))
                        .collect()
                })
                .collect()
        };
        for (index, ((package, loaded), first)) in members.iter().zip(loaded).zip(first).enumerate()
        {
            packages.push(package.name.clone());
            unreached.extend(loaded.unreached);
            for (file, first) in loaded.files.into_iter().zip(first) {
                if !first {
                    continue;
                }
                let LoadedFile {
                    path,
                    target_kind,
                    facts,
                } = file;
                let facts = match facts.or_else(|| known.remove(path.as_os_str())) {
                    Some(facts) => facts,
                    None => Facts::of(&path, options),
                };
                files.push(SourceFile {
                    path,
                    package: index,
                    target_kind,
                });
                outcomes.push(facts.outcome);
                found.push(facts.hardcoded);
            }
        }
        let dependencies = super::packages::member_dependencies(&members);
        // Tens of thousands of paths and readings no longer needed: left to the operating
        // system when the process ends soon, else freed on a thread of their own while the
        // scan goes on (the other cores are idle by now).
        drop(members);
        let left = (folders, known, metadata.members);
        if options.process_ends {
            std::mem::forget(left);
        } else {
            // (Should no thread start, they are freed here.)
            let _ = std::thread::Builder::new().spawn(move || drop(left));
        }
        Ok(Self {
            root: root.to_owned(),
            root_abs,
            packages,
            dependencies,
            files,
            outcomes,
            hardcoded: found,
            unreached,
        })
    }

    /// The path of `file` shown to users: relative to the workspace root when inside it.
    pub(crate) fn display_path(&self, file: &SourceFile) -> PathBuf {
        relative(&file.path, &self.root_abs, &self.root)
    }
}

/// One folder's entries, listed once.
#[derive(Debug, Default, Clone)]
struct Folder {
    /// Its `.rs` files (regular files, not links), in the order of their bytes.
    rs_files: Vec<PathBuf>,
    /// Its sub-folders (not links).
    folders: Vec<PathBuf>,
    /// Whether it holds a `Cargo.toml` file: a package.
    manifest: bool,
    /// Whether it holds a `CACHEDIR.TAG` file, as cargo's target directories do.
    cache_tag: bool,
    /// Whether it holds a link named `*.rs` (not in `rs_files`).
    rs_links: bool,
}

/// The folders listed so far, by path (its bytes: the paths are joined from the root one
/// name at a time, never with `.` or `..`).
type Folders = PathMap<Folder>;

/// The folders listed, answering [`Path::is_file`] for their `.rs` files without asking
/// the file system.
#[derive(Clone, Copy)]
struct Listing<'a>(&'a Folders);

impl Listing<'_> {
    /// [`Path::is_file`] of `path` (without `.` or `..` components): from the listing when
    /// it is a `.rs` file of a folder listed, else from the file system.
    fn is_file(&self, path: &Path) -> bool {
        match self.lookup(path) {
            Some((_, true)) => true,
            // Not a `.rs` file of the folder, unless through a link.
            Some((folder, false)) if !folder.rs_links => false,
            _ => path.is_file(),
        }
    }

    /// The listed folder of `path` when it names a `.rs` file, and whether that folder
    /// lists it. Its folder and name come from its bytes, as `Path::parent` and
    /// `Path::file_name` have them for such a path; the folder's files all start with its
    /// path and a `/`, so only names are compared.
    #[cfg(unix)]
    fn lookup(&self, path: &Path) -> Option<(&Folder, bool)> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let slash = bytes.iter().rposition(|&b| b == b'/')?;
        let name = &bytes[slash + 1..];
        if name.len() <= 3 || !name.ends_with(b".rs") {
            return None;
        }
        let dir = if slash == 0 {
            &bytes[..1]
        } else {
            &bytes[..slash]
        };
        let folder = self.0.get(OsStr::from_bytes(dir))?;
        let listed = folder
            .rs_files
            .binary_search_by(|file| {
                let file = file.as_os_str().as_bytes();
                file.get(slash + 1..).unwrap_or(file).cmp(name)
            })
            .is_ok();
        Some((folder, listed))
    }

    /// The listed folder of `path` when it names a `.rs` file, and whether that folder
    /// lists it.
    #[cfg(not(unix))]
    fn lookup(&self, path: &Path) -> Option<(&Folder, bool)> {
        let folder = path
            .parent()
            .and_then(|dir| self.0.get(dir.as_os_str()))
            .filter(|_| path.extension().is_some_and(|e| e == "rs"))?;
        let listed = folder
            .rs_files
            .binary_search_by(|file| file.as_os_str().cmp(path.as_os_str()))
            .is_ok();
        Some((folder, listed))
    }
}

/// What a folder entry is, not following links.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Folder,
    File,
    Link,
    Other,
}

impl Folder {
    /// Lists the folder at `dir`; a folder that cannot be listed holds nothing.
    fn read(dir: &Path) -> Folder {
        let mut folder = Folder::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return folder;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let kind = if file_type.is_dir() {
                Entry::Folder
            } else if file_type.is_file() {
                Entry::File
            } else if file_type.is_symlink() {
                Entry::Link
            } else {
                Entry::Other
            };
            folder.add(dir, &entry.file_name(), kind);
        }
        folder.sorted()
    }

    /// Notes the entry `name` of the folder at `dir`. Only what is kept gets a path.
    fn add(&mut self, dir: &Path, name: &OsStr, kind: Entry) {
        // A link to a file counts as the file, as `Path::is_file` has it.
        let is_file = || kind == Entry::File || dir.join(name).is_file();
        if kind == Entry::Folder {
            self.folders.push(dir.join(name));
        } else if name == "Cargo.toml" {
            self.manifest = is_file();
        } else if name == "CACHEDIR.TAG" {
            self.cache_tag = is_file();
        } else if name.as_encoded_bytes().ends_with(b".rs") && name.len() > 3 {
            match kind {
                Entry::File => self.rs_files.push(dir.join(name)),
                Entry::Link => self.rs_links = true,
                Entry::Folder | Entry::Other => {}
            }
        }
    }

    /// The folder with its `.rs` files in the order of their bytes, for
    /// [`Listing::is_file`] to search.
    fn sorted(mut self) -> Folder {
        self.rs_files
            .sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        self
    }
}

/// An open folder that the folders under it are opened from, as [`Opened::list`] walks
/// them: the kernel then walks one component of each path instead of every one (a scan
/// lists thousands of folders with long absolute paths). A folder listed stays open only
/// while its sub-folders wait to be listed; the walk goes depth first, so it holds about
/// one descriptor per level.
#[cfg(all(target_os = "linux", feature = "cli"))]
#[derive(Clone, Default)]
struct Opened(Option<std::rc::Rc<std::os::fd::OwnedFd>>);

#[cfg(all(target_os = "linux", feature = "cli"))]
impl Opened {
    /// Lists the folder at `dir`, which `self` (its parent's folder, when open) holds, as
    /// [`Folder::read`] does: by the system calls underneath it, without a copy of each
    /// name. Returns the folder open, for its sub-folders.
    fn list(&self, dir: &Path) -> (Folder, Opened) {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
        use std::os::unix::ffi::OsStrExt;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let from_parent = self
            .0
            .as_deref()
            .zip(dir.file_name())
            .and_then(|(parent, name)| rustix::fs::openat(parent, name, flags, Mode::empty()).ok());
        let fd = match from_parent {
            Some(fd) => fd,
            None => match rustix::fs::open(dir, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(_) => return (Folder::default(), Opened::default()),
            },
        };
        let mut folder = Folder::default();
        let mut buffer = [std::mem::MaybeUninit::uninit(); 8192];
        let mut entries = RawDir::new(&fd, &mut buffer);
        while let Some(entry) = entries.next() {
            let Ok(entry) = entry else {
                break;
            };
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let file_type = match entry.file_type() {
                // The file system does not say: as `std::fs::DirEntry::file_type` does.
                FileType::Unknown => rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_or(FileType::Unknown, |stat| {
                        FileType::from_raw_mode(stat.st_mode)
                    }),
                known => known,
            };
            let kind = match file_type {
                FileType::Directory => Entry::Folder,
                FileType::RegularFile => Entry::File,
                FileType::Symlink => Entry::Link,
                _ => Entry::Other,
            };
            folder.add(dir, OsStr::from_bytes(name.to_bytes()), kind);
        }
        (folder.sorted(), Opened(Some(std::rc::Rc::new(fd))))
    }
}

/// Lists folders by their paths where folders are not opened from their parents.
#[cfg(not(all(target_os = "linux", feature = "cli")))]
#[derive(Clone, Default)]
struct Opened;

#[cfg(not(all(target_os = "linux", feature = "cli")))]
impl Opened {
    /// [`Folder::read`].
    fn list(&self, dir: &Path) -> (Folder, Opened) {
        (Folder::read(dir), Opened)
    }
}

/// While `cargo metadata` runs (until `stop` says it answered): lists the folders under
/// `root` (not hidden ones, nor target directories), and reads the module trees of each
/// package found there from the targets cargo would discover (`src/lib.rs`, `src/main.rs`,
/// `build.rs`, `src/bin/`, `tests/`, `examples/`, `benches/`), on all cores but the one
/// cargo uses (at least one). Guesses only: the caller decides from cargo's answer, and
/// reads what was missed.
fn read_ahead(
    root: &Path,
    stop: impl Fn() -> bool + Sync,
    options: super::ScanOptions,
) -> ReadAhead {
    let mut folders = Folders::default();
    let mut packages = Vec::new();
    // Each folder waiting with its parent, open (see [`Opened`]).
    let mut queue = vec![(root.to_owned(), 0, Opened::default())];
    while let Some((dir, depth, parent)) = queue.pop() {
        if stop() {
            return ReadAhead {
                folders,
                known: PathMap::default(),
                trees: PathMap::default(),
            };
        }
        let (folder, opened) = parent.list(&dir);
        if depth > 0 && folder.cache_tag {
            folders.insert(dir.into_os_string(), folder);
            continue;
        }
        for sub in &folder.folders {
            let name = sub.file_name().unwrap_or_default().as_encoded_bytes();
            if !(name.starts_with(b".") || (depth == 0 && name == b"target")) {
                queue.push((sub.clone(), depth + 1, opened.clone()));
            }
        }
        if folder.manifest {
            packages.push(dir.clone());
        }
        folders.insert(dir.into_os_string(), folder);
    }
    let listing = Listing(&folders);
    // Cargo works on a core of its own meanwhile: more threads than the cores left would
    // take turns with it, which costs both of them time.
    let read = super::parallel_map_leaving(1, &packages, |dir| {
        // What reading each file told, in the order `reachable` reaches them.
        let mut read = Vec::new();
        let is_file = |path: &Path| listing.is_file(path);
        let roots = guessed_roots(dir, &folders);
        let mut stopped = false;
        let reached = super::modules::reachable(
            &roots,
            &is_file,
            |path| {
                if stop() {
                    stopped = true;
                    return None;
                }
                let facts = Facts::of(path, options);
                let children = facts.children.clone();
                read.push(facts);
                children
            },
            invocations_of,
        );
        // A tree grown in full keeps what reading each file told; the readings of a tree
        // cut short (the first files it reached) go to `known`, by path.
        if stopped {
            let known: Vec<(OsString, Facts)> = reached
                .into_iter()
                .map(PathBuf::into_os_string)
                .zip(read)
                .collect();
            (known, None)
        } else {
            let tree = Tree {
                roots: roots_key(&roots),
                reached,
                facts: read,
            };
            (Vec::new(), Some((dir.as_os_str().to_owned(), tree)))
        }
    });
    // Sized once: growing would move every reading to fresh memory at each step.
    let total = read.iter().map(|(known, _)| known.len()).sum();
    let mut known = PathMap::with_capacity_and_hasher(total, Default::default());
    let mut trees = PathMap::with_capacity_and_hasher(read.len(), Default::default());
    for (read, tree) in read {
        known.extend(read);
        trees.extend(tree);
    }
    ReadAhead {
        folders,
        known,
        trees,
    }
}

/// What [`read_ahead`] learnt.
struct ReadAhead {
    folders: Folders,
    /// What each file read for a tree cut short tells, by path.
    known: PathMap<Facts>,
    /// The module trees grown in full from the guessed roots, with what reading their files
    /// told, by package folder.
    trees: PathMap<Tree>,
}

/// The files reachable from a package's guessed target roots.
struct Tree {
    /// The roots ([`roots_key`]).
    roots: Vec<PathBuf>,
    /// [`super::modules::reachable`] of them.
    reached: Vec<PathBuf>,
    /// What reading each file of `reached` told, in the same order.
    facts: Vec<Facts>,
}

/// `roots` as a set: sorted, without `.` or `..` components.
fn roots_key(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut key: Vec<PathBuf> = roots.iter().map(|root| normalize(root)).collect();
    key.sort();
    key.dedup();
    key
}

/// The target roots cargo discovers by itself in the package at `dir`.
fn guessed_roots(dir: &Path, folders: &Folders) -> Vec<PathBuf> {
    let rs_files = |dir: &Path| {
        folders
            .get(dir.as_os_str())
            .map_or(&[][..], |f| &f.rs_files[..])
    };
    let mut roots = Vec::new();
    let src = dir.join("src");
    for (folder, names) in [(dir, &["build.rs"][..]), (&src, &["lib.rs", "main.rs"])] {
        roots.extend(
            rs_files(folder)
                .iter()
                .filter(|path| names.iter().any(|name| path.ends_with(name)))
                .cloned(),
        );
    }
    for folder in [
        src.join("bin"),
        dir.join("tests"),
        dir.join("examples"),
        dir.join("benches"),
    ] {
        roots.extend(rs_files(&folder).iter().cloned());
        for sub in folders
            .get(folder.as_os_str())
            .map_or(&[][..], |f| &f.folders[..])
        {
            roots.extend(
                rs_files(sub)
                    .iter()
                    .filter(|path| path.ends_with("main.rs"))
                    .cloned(),
            );
        }
    }
    roots
}

/// One package's files and unreached files.
struct LoadedPackage {
    files: Vec<LoadedFile>,
    unreached: Vec<PathBuf>,
    /// Whether some of its files are outside its folder.
    outside: bool,
}

/// A file of a package's module trees.
struct LoadedFile {
    path: PathBuf,
    target_kind: Kind,
    /// What reading it told, when the package read it or its tree is the early pass's;
    /// else it is in the early pass's `known`.
    facts: Option<Facts>,
}

fn load_package(
    package: &Package,
    target_dir: &Path,
    (root_abs, root): (&Path, &Path),
    folders: &Folders,
    (known, guessed): (&PathMap<Facts>, Option<Tree>),
    options: super::ScanOptions,
) -> LoadedPackage {
    let mut unreached = Vec::new();
    let package_dir = package
        .manifest_path
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default();
    let roots: Vec<TargetRoot> = package
        .targets
        .iter()
        .map(|target| TargetRoot {
            kind: target_kind(target.kind.as_deref()),
            dir: target
                .src_path
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default(),
            src_path: target.src_path.clone(),
        })
        .collect();
    let walked = walk_package(&package_dir, target_dir, folders);
    let root_files: Vec<PathBuf> = roots.iter().map(|root| root.src_path.clone()).collect();
    let is_file = |path: &Path| Listing(folders).is_file(path);
    // The tree the early pass grew from the same roots (the caller matched them), else the
    // tree of cargo's roots. Beside it, in the same order, what reading each file told:
    // `None` for a file the early pass read for a tree cut short, which is in `known`.
    let (reached, mut facts) = match guessed {
        Some(tree) => (tree.reached, tree.facts.into_iter().map(Some).collect()),
        None => {
            let mut facts = Vec::new();
            let reached = super::modules::reachable(
                &root_files,
                &is_file,
                |path| {
                    if let Some(known) = known.get(path.as_os_str()) {
                        facts.push(None);
                        return known.children.clone();
                    }
                    // Nothing reads the children of this package's own readings again.
                    let mut read = Facts::of(path, options);
                    let children = read.children.take();
                    facts.push(Some(read));
                    children
                },
                invocations_of,
            );
            (reached, facts)
        }
    };
    // `reachable` asked `is_file` of every file it reached past the roots, which are
    // cargo's: one may name a file that is not there.
    let absent: Vec<PathBuf> = root_files
        .iter()
        .map(|root| normalize(root))
        .filter(|root| !is_file(root))
        .collect();
    // Each file reached, by its place in `reached` (and `facts`).
    let places: HashMap<&OsStr, usize, Hashed> = reached
        .iter()
        .enumerate()
        .filter(|(_, path)| {
            !absent.iter().any(|root| root == *path) && !starts_with(path, target_dir)
        })
        .map(|(at, path)| (path.as_os_str(), at))
        .collect();
    let mut paths = Vec::new();
    for path in walked {
        match places.get(path.as_os_str()) {
            Some(&at) => paths.push((path, at)),
            None => unreached.push(relative(&path, root_abs, root)),
        }
    }
    // Modules outside the package folder (`#[path = "../shared.rs"]`).
    let mut outside: Vec<(PathBuf, usize)> = places
        .iter()
        .map(|(path, &at)| (Path::new(path), at))
        .filter(|(path, _)| !starts_with(path, &package_dir))
        .map(|(path, at)| (path.to_path_buf(), at))
        .collect();
    outside.sort_unstable_by(|(a, _), (b, _)| super::paths::cmp(a, b));
    let has_outside = !outside.is_empty();
    paths.extend(outside);
    // What reading each file told goes with it, so that the files of every package are
    // joined without a map of them all.
    let files = paths
        .into_iter()
        .map(|(path, at)| LoadedFile {
            target_kind: kind_for(&path, &roots),
            facts: facts.get_mut(at).and_then(Option::take),
            path,
        })
        .collect();
    LoadedPackage {
        files,
        unreached,
        outside: has_outside,
    }
}

/// `path` relative to the workspace root when inside it.
fn relative(path: &Path, root_abs: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root_abs)
        .or_else(|_| path.strip_prefix(root))
        .map(Path::to_owned)
        .unwrap_or_else(|_| path.to_owned())
}

/// The kind of a target as the scan reports it: every library kind (`rlib`, `proc-macro`,
/// ...) is `lib`.
fn target_kind(kind: Option<&str>) -> Kind {
    match kind {
        None | Some("lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro") => {
            Kind::Borrowed("lib")
        }
        Some("bin") => Kind::Borrowed("bin"),
        Some("example") => Kind::Borrowed("example"),
        Some("test") => Kind::Borrowed("test"),
        Some("bench") => Kind::Borrowed("bench"),
        Some("custom-build") => Kind::Borrowed("custom-build"),
        Some(kind) => Kind::Owned(kind.to_owned()),
    }
}

/// The kind of the target whose root is `path`, else of the target whose root folder is the
/// deepest ancestor of `path` (a library wins a tie, as `src/` holds both `lib.rs` and
/// `main.rs` and modules usually belong to the library).
fn kind_for(path: &Path, roots: &[TargetRoot]) -> Kind {
    if let Some(root) = roots.iter().find(|root| root.src_path == path) {
        return root.kind.clone();
    }
    roots
        .iter()
        .filter(|root| starts_with(path, &root.dir))
        .max_by_key(|root| (root.dir.components().count(), root.kind == "lib"))
        .map_or(Kind::Borrowed("other"), |root| root.kind.clone())
}

/// The `.rs` files under `dir`, sorted, skipping the target directory, hidden folders and
/// folders holding another package. Folders already listed are not listed again.
fn walk_package(dir: &Path, target_dir: &Path, folders: &Folders) -> Vec<PathBuf> {
    let list = |dir: &Path| match folders.get(dir.as_os_str()) {
        Some(folder) => std::borrow::Cow::Borrowed(folder),
        None => std::borrow::Cow::Owned(Folder::read(dir)),
    };
    let mut paths = Vec::new();
    // Each folder with its listing: a folder not listed before is listed once, to see
    // whether it holds a package, and walked from that listing.
    let mut queue = vec![(list(dir), 0)];
    while let Some((folder, depth)) = queue.pop() {
        paths.extend(folder.rs_files.iter().cloned());
        for sub in &folder.folders {
            let name = sub.file_name().unwrap_or_default().as_encoded_bytes();
            if name.starts_with(b".") || sub == target_dir || (depth == 0 && name == b"target") {
                continue;
            }
            let listed = list(sub);
            if !listed.manifest {
                queue.push((listed, depth + 1));
            }
        }
    }
    paths.sort_unstable_by(|a, b| super::paths::cmp(a, b));
    paths
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn write(root: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    /// A folder opened from its parent lists what [`super::Folder::read`] lists: files,
    /// folders, links to files and to folders, and a link to a `.rs` file.
    #[cfg(all(target_os = "linux", feature = "cli"))]
    #[test]
    fn a_folder_opened_from_its_parent_lists_what_its_path_lists() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        write(
            &pkg,
            &[
                ("Cargo.toml", "[package]\n"),
                ("b.rs", ""),
                ("a.rs", ""),
                ("notes.md", ""),
                (".rs", ""),
                ("src/lib.rs", ""),
                ("target/CACHEDIR.TAG", ""),
            ],
        );
        symlink(pkg.join("a.rs"), pkg.join("linked.rs")).unwrap();
        symlink(pkg.join("src"), pkg.join("linked_src")).unwrap();
        symlink(pkg.join("Cargo.toml"), pkg.join("src/Cargo.toml")).unwrap();
        let show = |folder: &super::Folder| format!("{folder:?}");
        let (root, opened) = super::Opened::default().list(dir.path());
        assert_eq!(show(&root), show(&super::Folder::read(dir.path())));
        let (listed, opened) = opened.list(&pkg);
        assert_eq!(show(&listed), show(&super::Folder::read(&pkg)));
        assert_eq!(listed.rs_files, [pkg.join("a.rs"), pkg.join("b.rs")]);
        assert!(listed.manifest && listed.rs_links && !listed.cache_tag);
        let mut folders = listed.folders.clone();
        folders.sort();
        assert_eq!(folders, [pkg.join("src"), pkg.join("target")]);
        for sub in ["src", "target"] {
            let (from_parent, _) = opened.list(&pkg.join(sub));
            assert_eq!(
                show(&from_parent),
                show(&super::Folder::read(&pkg.join(sub)))
            );
        }
        assert!(
            opened.list(&pkg.join("src")).0.manifest,
            "a link to a file counts"
        );
        assert!(opened.list(&pkg.join("target")).0.cache_tag);
        let (missing, _) = opened.list(&pkg.join("gone"));
        assert_eq!(show(&missing), show(&super::Folder::default()));
    }

    /// The listing answers [`Path::is_file`] as the file system does, for `.rs` files
    /// that are there, are not, are folders or links, and for other files.
    #[cfg(unix)]
    #[test]
    fn the_listing_answers_is_file_as_the_file_system_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("w");
        write(
            &root,
            &[("a.rs", ""), ("b.rs", ""), ("src/lib.rs", ""), ("x.md", "")],
        );
        std::fs::create_dir(root.join("dir.rs")).unwrap();
        std::os::unix::fs::symlink(root.join("a.rs"), root.join("link.rs")).unwrap();
        let mut folders = super::Folders::default();
        for listed in [&root, &root.join("src")] {
            folders.insert(listed.clone().into_os_string(), super::Folder::read(listed));
        }
        let listing = super::Listing(&folders);
        for name in [
            "a.rs",
            "b.rs",
            "c.rs",
            "ab.rs",
            ".rs",
            "x.md",
            "dir.rs",
            "link.rs",
            "src/lib.rs",
            "src/main.rs",
            "src",
            "none/a.rs",
        ] {
            let path = root.join(name);
            assert_eq!(listing.is_file(&path), path.is_file(), "{name}");
        }
    }

    /// The early pass keeps what it read: with the tree it grew in full, in the order the
    /// files were reached, or by path when cargo answered before the tree was done.
    #[test]
    fn the_early_pass_keeps_what_it_read_whether_or_not_cargo_cut_it_short() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "Cargo.toml",
                    "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
                ),
                ("src/lib.rs", "mod x;\n"),
                ("src/x.rs", "static A: S = secret!(\"A\");\n"),
            ],
        );
        let root = dir.path();
        let options = crate::scan::ScanOptions::with_hardcoded();
        let full = super::read_ahead(root, || false, options);
        assert!(full.known.is_empty());
        let tree = &full.trees[root.as_os_str()];
        assert_eq!(
            tree.reached,
            [root.join("src/lib.rs"), root.join("src/x.rs")]
        );
        assert_eq!(tree.facts.len(), 2);
        assert!(matches!(tree.facts[1].outcome, super::Outcome::Scanned(_)));
        // Cargo answers after the two folders are listed and the first file is read.
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let cut = super::read_ahead(
            root,
            || asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 3,
            options,
        );
        assert!(cut.trees.is_empty());
        let lib = root.join("src/lib.rs");
        assert_eq!(cut.known.keys().collect::<Vec<_>>(), [lib.as_os_str()]);
        let children = cut.known[lib.as_os_str()].children.as_deref();
        assert_eq!(children.map(<[super::Child]>::len), Some(1));
    }

    /// What the early pass guesses (targets cargo would discover, files under the root) is
    /// wrong here on purpose: cargo's answer decides.
    #[test]
    fn targets_and_members_come_from_cargo_not_from_the_guesses_of_the_early_pass() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                (
                    "ws/Cargo.toml",
                    "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"../outside\"]\n\
                     exclude = [\"tools\"]\n",
                ),
                (
                    "ws/app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                     [lib]\npath = \"code/lib.rs\"\n",
                ),
                (
                    "ws/app/code/lib.rs",
                    "mod inner;\nstatic A: S = secret!(\"InLib\");\n",
                ),
                (
                    "ws/app/code/inner.rs",
                    "static B: S = secret!(\"Inner\");\n",
                ),
                // Where cargo would look without `[lib] path`: not compiled here.
                (
                    "ws/app/src/lib.rs",
                    "static C: S = secret!(\"NotCompiled\");\n",
                ),
                // A package under the root that is no member.
                (
                    "ws/tools/Cargo.toml",
                    "[package]\nname = \"tools\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                ),
                (
                    "ws/tools/src/lib.rs",
                    "static E: S = secret!(\"NotAMember\");\n",
                ),
                // A member outside the root.
                (
                    "outside/Cargo.toml",
                    "[package]\nname = \"outside\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                     workspace = \"../ws\"\n",
                ),
                (
                    "outside/src/lib.rs",
                    "static D: S = secret!(\"Outside\");\n",
                ),
            ],
        );
        let ws = dir.path().join("ws");
        let report = super::super::scan_workspace(&ws).unwrap();
        let mut names: Vec<&str> = report
            .declarations
            .iter()
            .map(|declaration| declaration.name.as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["InLib", "Inner", "Outside"]);
        assert_eq!(report.packages, ["app", "outside"]);
        assert_eq!(report.unreached, [Path::new("app/src/lib.rs")]);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}
