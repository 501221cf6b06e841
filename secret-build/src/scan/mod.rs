//! The workspace scanner: finds every `secret!` declaration in a Cargo workspace.
//!
//! How it decides what to read and what counts as a declaration:
//!
//! - **Which files.** The workspace's member packages and their targets come from
//!   `cargo metadata --no-deps`. Each member's folder is walked for `*.rs` files, skipping the
//!   target directory, hidden folders and any sub-folder with its own `Cargo.toml` (a nested
//!   package: scanned as its own member if it is one, otherwise outside the workspace).
//!   Of those, only files some target compiles are scanned: the module trees of the target
//!   roots (module `modules`), so trybuild cases and other loose `.rs` files are not taken for
//!   declarations; they are listed in [`ScanReport::unreached`].
//! - **Which invocations.** `path ! (...)` (any delimiter) whose last path segment is
//!   `secret` — so `secret!`, `secret_runtime::secret!`, `::secret_runtime::secret!` and a
//!   dependency renamed in `Cargo.toml` — or a name `secret` is imported as somewhere in the
//!   same package (`use secret_runtime::secret as declare;`, `use x::{secret as declare}`;
//!   such an alias applies to every file of that package). Invocations nested in other
//!   macros' arguments and in `macro_rules!` bodies count; `secret!($name)` with a
//!   `macro_rules!` metavariable does not (its name is only known after expansion).
//! - **How.** Files are lexed into tokens (module `tokens`), so comments and string literals
//!   never count and a file with a syntax error is scanned like any other. A file that does
//!   not even lex (unbalanced delimiters) is reported as a [`ScanProblem`], not a crash,
//!   and its invocations are recovered by lexing each one alone.
//!   The tokens inside the delimiters go to [`secret_syntax::parse_invocation`], the same
//!   grammar the proc macro uses.
//! - **Credentials written into the source.** For the check ([`ScanOptions`]), the same
//!   reading of each file also looks at its string literals for credentials (see
//!   `hardcoded` and [`Rule`]), outside test code; a finding holds a preview, never the
//!   value.
//! - **Fast.** `cargo metadata` runs while the files under the root are read (see
//!   `scan/files.rs`); each file is read once. A cheap text test skips files that cannot
//!   contain a declaration before they are lexed; in the remaining files only the top-level
//!   items holding a match in code are lexed (module `skim`), on all cores. Module discovery
//!   does the same for `mod name;`.

mod files;
pub(crate) mod hardcoded;
mod metadata;
mod modules;
mod packages;
mod paths;
mod shapes;
pub(crate) mod skim;
mod tokens;
mod words;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use hardcoded::ALLOW_COMMENT;
#[cfg(feature = "cli")]
pub(crate) use metadata::target_directory;
pub use packages::{Dependency, PackageError, Selection};
pub use shapes::Rule;
use tokens::Found;

/// One `secret!("Name")` in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The secret's name.
    pub name: String,
    /// The package (crate) whose files hold the declaration.
    pub package: String,
    /// The kind of target the file belongs to (`lib`, `bin`, `test`, `example`, `bench`,
    /// `custom-build`), judged by the folder of the target roots.
    pub target_kind: String,
    /// The file, relative to the workspace root (absolute if outside it).
    pub path: PathBuf,
    /// The 1-based line of the start of the macro path.
    pub line: usize,
    /// The 1-based column (in characters, as rustc counts) of the start of the macro path.
    pub column: usize,
    /// The 1-based line of the invocation's closing delimiter.
    pub end_line: usize,
    /// The 1-based column just after the invocation's closing delimiter.
    pub end_column: usize,
    /// The doc comment of the `static` or `const` item the declaration initialises, if any.
    pub description: Option<String>,
    /// Whether it is `secret!("Name", optional)`: a missing value is not an error.
    pub optional: bool,
    /// The conventional variable of `secret!("Name", env = "VARIABLE")`, if any.
    pub env: Option<String>,
}

/// A credential written into the source: a string literal matching one of the rules of
/// [`Rule`]. Holds a redacted preview, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardcoded {
    /// The rule it matched.
    pub rule: Rule,
    /// The package (crate) whose files hold it.
    pub package: String,
    /// The kind of target the file belongs to.
    pub target_kind: String,
    /// The file, relative to the workspace root (absolute if outside it).
    pub path: PathBuf,
    /// The 1-based line of the literal's first character.
    pub line: usize,
    /// The 1-based column (in characters) of the literal's first character.
    pub column: usize,
    /// The 1-based line of the literal's end.
    pub end_line: usize,
    /// The 1-based column just after the literal.
    pub end_column: usize,
    /// The first few characters and `…`: never the whole value.
    pub preview: String,
    /// The name the code binds the literal to (`const`, `static`, `let`, field, map key),
    /// if any.
    pub binding: Option<String>,
}

impl Hardcoded {
    /// A finding of [`hardcoded::find`] in the file at `path` of `package`.
    pub(crate) fn from_found(
        found: hardcoded::Found,
        package: &str,
        target_kind: &str,
        path: PathBuf,
    ) -> Self {
        Self {
            rule: found.rule,
            package: package.to_owned(),
            target_kind: target_kind.to_owned(),
            path,
            line: found.line,
            column: found.column,
            end_line: found.end_line,
            end_column: found.end_column,
            preview: found.preview,
            binding: found.binding,
        }
    }
}

/// What went wrong with a file or an invocation while scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A `secret!` invocation the grammar rejects (a bad name, not a string literal).
    InvalidDeclaration,
    /// A file that could not be read (permissions, not UTF-8).
    UnreadableFile,
    /// A file whose tokens could not be read (unbalanced delimiters, unterminated string):
    /// its invocations were recovered one by one, but declarations in it may be missed.
    UnlexableFile,
}

/// A problem found while scanning, located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProblem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The package whose files hold it.
    pub package: String,
    /// The file, relative to the workspace root (absolute if outside it).
    pub path: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Everything the scanner found in a workspace.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// The workspace root the paths are relative to.
    pub root: PathBuf,
    /// The member packages scanned, by name.
    pub packages: Vec<String>,
    /// Each member's dependencies on other members (from the manifests `cargo metadata`
    /// reads), for [`ScanReport::select`].
    pub dependencies: BTreeMap<String, Vec<Dependency>>,
    /// Every declaration, ordered by file, line and column.
    pub declarations: Vec<Declaration>,
    /// Invalid invocations and files that could not be scanned, ordered by file and line.
    pub problems: Vec<ScanProblem>,
    /// How many `.rs` files the targets compile (the files considered).
    pub files_total: usize,
    /// `.rs` files in member folders that no target's module tree reaches, so not scanned
    /// (relative to the root).
    pub unreached: Vec<PathBuf>,
    /// How many of them passed the text pre-filter and were lexed.
    pub files_lexed: usize,
    /// Credentials written into the source (when the scan looked for them, see
    /// [`ScanOptions`]), ordered by file, line and column: in the files of every target but
    /// tests (a `tests/` folder, a `tests.rs` or `*_test.rs`
    /// module, an item under `#[cfg(test)]` or `#[test]`).
    pub hardcoded: Vec<Hardcoded>,
}

impl ScanReport {
    /// Declarations grouped by secret name (sorted), each group in source order.
    pub(crate) fn by_name(&self) -> BTreeMap<&str, Vec<&Declaration>> {
        let mut names: BTreeMap<&str, Vec<&Declaration>> = BTreeMap::new();
        for declaration in &self.declarations {
            names
                .entry(declaration.name.as_str())
                .or_default()
                .push(declaration);
        }
        names
    }

    /// The description of `name`: the first doc comment found on any of its declarations.
    pub fn description(&self, name: &str) -> Option<&str> {
        self.declarations
            .iter()
            .filter(|declaration| declaration.name == name)
            .find_map(|declaration| declaration.description.as_deref())
    }
}

/// Why the workspace could not be scanned at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// `cargo metadata` failed (no `Cargo.toml`, a broken manifest).
    #[error("cannot read the workspace at {root}: {message}")]
    Metadata {
        /// The folder given.
        root: PathBuf,
        /// What cargo said.
        message: String,
    },
}

/// What a scan looks for besides declarations.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ScanOptions {
    /// Also look for credentials written into the source ([`ScanReport::hardcoded`]): every
    /// file with a string literal is then read in full, which the check needs and a build
    /// script does not.
    pub hardcoded: bool,
    /// With `hardcoded`: look in test code too (test targets, `tests` folders, items under
    /// `#[cfg(test)]` or `#[test]`), which is left out by default.
    pub hardcoded_in_tests: bool,
    /// The process ends once the report is used (a command-line run): the scan's working
    /// memory (tens of thousands of paths and readings of files) is left to the operating
    /// system instead of being freed one allocation at a time, a few percent of the scan's
    /// time. Leave it `false` in a process that goes on.
    pub process_ends: bool,
}

impl ScanOptions {
    /// Declarations and credentials written into the source: what the check reads.
    pub fn with_hardcoded() -> Self {
        Self {
            hardcoded: true,
            ..Self::default()
        }
    }
}

/// How many scans have started: what a thread kept from one scan (an open folder) is not
/// used by the next, for which the folder may have been replaced.
static SCANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Scans the workspace whose root `Cargo.toml` is in `root` (or whose member `root` is)
/// for declarations.
pub fn scan_workspace(root: &Path) -> Result<ScanReport, ScanError> {
    scan_workspace_with(root, ScanOptions::default())
}

/// [`scan_workspace`], looking also for what `options` asks.
pub fn scan_workspace_with(root: &Path, options: ScanOptions) -> Result<ScanReport, ScanError> {
    SCANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut workspace = files::Workspace::load(root, options)?;

    // Pass 1, done while loading the workspace: every file, looking for `secret!` and
    // renamed imports of `secret`.
    let first = std::mem::take(&mut workspace.outcomes);
    let mut aliases: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (file, result) in workspace.files.iter().zip(&first) {
        if let Outcome::Scanned(scan) = result {
            aliases
                .entry(file.package)
                .or_default()
                .extend(scan.aliases.iter().cloned());
        }
    }
    aliases.retain(|_, names| !names.is_empty());
    // Pass 2, only in packages that rename `secret`: the aliases, in every file.
    let second = if aliases.is_empty() {
        Vec::new()
    } else {
        parallel_map(&workspace.files, |file| match aliases.get(&file.package) {
            Some(names) => scan_file(&file.path, names),
            None => Outcome::Skipped,
        })
    };

    let mut hardcoded = Vec::new();
    for (file, found) in workspace
        .files
        .iter()
        .zip(std::mem::take(&mut workspace.hardcoded))
    {
        if found.is_empty() {
            continue;
        }
        let path = workspace.display_path(file);
        if !options.hardcoded_in_tests && is_test_file(&path, &file.target_kind) {
            continue;
        }
        let package = &workspace.packages[file.package];
        hardcoded.extend(
            found.into_iter().map(|found| {
                Hardcoded::from_found(found, package, &file.target_kind, path.clone())
            }),
        );
    }
    hardcoded.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut report = ScanReport {
        hardcoded,
        root: root.to_owned(),
        packages: workspace.packages.clone(),
        dependencies: std::mem::take(&mut workspace.dependencies),
        files_total: workspace.files.len(),
        unreached: std::mem::take(&mut workspace.unreached),
        ..ScanReport::default()
    };
    let outcomes = first
        .into_iter()
        .zip(workspace.files.iter().enumerate())
        .chain(
            second
                .into_iter()
                .zip(workspace.files.iter().enumerate())
                .filter(|(outcome, _)| {
                    !matches!(outcome, Outcome::Unreadable(_) | Outcome::Unlexable(..))
                }),
        );
    // Whether each file (by index; each path is there once) was lexed, in either pass.
    let mut lexed = vec![false; workspace.files.len()];
    for (outcome, (index, file)) in outcomes {
        if matches!(outcome, Outcome::Skipped) {
            continue;
        }
        let package = &workspace.packages[file.package];
        let path = workspace.display_path(file);
        let problem = |kind, line, column, message| ScanProblem {
            kind,
            package: package.clone(),
            path: path.clone(),
            line,
            column,
            message,
        };
        match outcome {
            Outcome::Skipped => {}
            Outcome::Unreadable(message) => {
                report
                    .problems
                    .push(problem(ProblemKind::UnreadableFile, None, None, message));
            }
            Outcome::Unlexable(..) | Outcome::Scanned(_) => {
                lexed[index] = true;
                let scan = match outcome {
                    Outcome::Unlexable(message, recovered) => {
                        report.problems.push(problem(
                            ProblemKind::UnlexableFile,
                            None,
                            None,
                            message,
                        ));
                        recovered
                    }
                    Outcome::Scanned(scan) => scan,
                    _ => continue,
                };
                for found in scan.found {
                    match found {
                        Found::Declaration {
                            name,
                            line,
                            column,
                            end_line,
                            end_column,
                            description,
                            optional,
                            env,
                        } => report.declarations.push(Declaration {
                            name,
                            package: package.clone(),
                            target_kind: file.target_kind.to_string(),
                            path: path.clone(),
                            line,
                            column,
                            end_line,
                            end_column,
                            description,
                            optional,
                            env,
                        }),
                        Found::Invalid {
                            line,
                            column,
                            message,
                        } => report.problems.push(problem(
                            ProblemKind::InvalidDeclaration,
                            Some(line),
                            Some(column),
                            message,
                        )),
                    }
                }
            }
        }
    }
    report.files_lexed = lexed.iter().filter(|&&lexed| lexed).count();
    report.declarations.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.name).cmp(&(&b.path, b.line, b.column, &b.name))
    });
    report
        .problems
        .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    if options.process_ends {
        std::mem::forget(workspace);
    }
    Ok(report)
}

/// Whether a file is test code as a whole: a test target, a file under a `tests` folder,
/// or a module named `tests`, `test`, `*_test` or `*_tests`.
pub(crate) fn is_test_file(path: &Path, target_kind: &str) -> bool {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    target_kind == "test"
        || path
            .parent()
            .is_some_and(|dir| dir.components().any(|part| part.as_os_str() == "tests"))
        || matches!(stem, "tests" | "test")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
}

/// What scanning one file gave.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The pre-filter ruled it out (or it has no names to look for).
    Skipped,
    Unreadable(String),
    /// The file does not lex; the invocations recovered one by one.
    Unlexable(String, tokens::FileScan),
    Scanned(tokens::FileScan),
}

/// `f` over `items` on all cores (items taken one at a time), results in order.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    parallel_map_leaving(0, items, f)
}

/// [`parallel_map`] leaving `busy` cores to other work (at least one thread runs).
pub(crate) fn parallel_map_leaving<T: Sync, R: Send>(
    busy: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .saturating_sub(busy)
        .min(items.len())
        .max(1);
    let work = || {
        let mut local = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            local.push((index, f(item)));
        }
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(local);
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The scan of one file's text, as [`scan_workspace`] does it for each file: module
/// discovery (the files it names, the `macro_rules!` declaring modules, its invocations of
/// `aliases` where an item can stand), then the pre-filter, the lexer and the token walk,
/// looking for `secret` and `aliases`. Returns how many invocations (valid or not) it found,
/// or the lexer's message. For fuzzing.
#[doc(hidden)]
pub fn scan_source(text: &str, aliases: &[&str]) -> Result<usize, String> {
    let (_children, _outcome, _hardcoded) = read_text(text, ScanOptions::with_hardcoded());
    let macros: BTreeSet<String> = aliases.iter().map(|&name| name.to_owned()).collect();
    let _invocations = modules::invocations(text, &macros);
    let names: BTreeSet<String> = std::iter::once("secret")
        .chain(aliases.iter().copied())
        .map(str::to_owned)
        .collect();
    if !tokens::may_declare(text, &names) {
        return Ok(0);
    }
    let scanned = tokens::scan_text(text, &names);
    proc_macro2::extra::invalidate_current_thread_spans();
    scanned
        .map(|scan| scan.found.len())
        .map_err(|(message, _)| message)
}

/// The names the scan looks for outside packages that rename `secret`.
fn default_names() -> &'static BTreeSet<String> {
    static NAMES: std::sync::LazyLock<BTreeSet<String>> =
        std::sync::LazyLock::new(|| ["secret".to_owned()].into());
    &NAMES
}

/// `f` of the text of the file at `path`, or of why it cannot be scanned. The file is read
/// into a buffer each thread keeps: reading thousands of files then neither allocates nor
/// touches fresh memory for each. `f` must not read another file this way.
fn with_text<R>(path: &Path, f: impl FnOnce(Result<&str, String>) -> R) -> R {
    thread_local! {
        static BUFFER: std::cell::RefCell<Buffer> = std::cell::RefCell::new(Buffer::take());
    }
    BUFFER.with_borrow_mut(|Buffer(buffer)| match read_into(path, buffer) {
        Ok(len) => match std::str::from_utf8(&buffer[..len]) {
            Ok(text) => f(Ok(text)),
            Err(_) => f(Err("the file is not UTF-8; it was not scanned".to_owned())),
        },
        Err(error) => f(Err(format!("cannot read the file: {error}"))),
    })
}

/// A thread's read buffer ([`with_text`]). A thread that ends leaves it to the next one, so
/// each pass over the files on new threads does not grow buffers again from nothing (grown
/// a step at a time, zeroed, and touching fresh memory: a few percent of a scan's time).
struct Buffer(Vec<u8>);

/// The buffers of threads that ended; a few are kept (one per core, as the scan has).
static BUFFERS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

impl Buffer {
    fn take() -> Self {
        let mut kept = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
        Self(kept.pop().unwrap_or_default())
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let mut kept = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < 8 {
            kept.push(std::mem::take(&mut self.0));
        }
    }
}

/// Reads the file at `path` into `buffer`, returning its length: the buffer's bytes are
/// kept initialised (its length is its capacity), and the file is read until a read returns
/// nothing, without first asking its size (two system calls per file fewer than
/// [`std::io::Read::read_to_end`]).
fn read_into(path: &Path, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let mut file = open(path)?;
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize((buffer.len() * 2).max(64 * 1024), 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => return Ok(len),
            Ok(read) => len += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// [`std::fs::File::open`], for reading. A thread keeps the last few folders it opened a
/// file in, and opens the next file of such a folder by its name alone: the kernel then
/// walks one component of its path instead of every one (a scan opens thousands of files,
/// a few from each folder in turn, with long absolute paths). A folder not kept is opened
/// from the deepest kept folder that holds it (a module's folder from its parent's), else
/// by its whole path. Kept folders serve only the scan that opened them ([`SCANS`]);
/// whatever fails is opened again by its whole path, whose error is the one reported.
#[cfg(all(unix, feature = "cli"))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::ffi::OsStrExt;
    /// A folder kept open: its path and its descriptor.
    type Kept = (PathBuf, std::os::fd::OwnedFd);
    /// The folders a thread keeps, for the scan they serve; the latest opened last.
    type Folders = (u64, Vec<Kept>);
    /// How many folders a thread keeps: a module tree's folder and those around it.
    const KEPT: usize = 8;
    thread_local! {
        static FOLDERS: std::cell::RefCell<Folders> =
            const { std::cell::RefCell::new((0, Vec::new())) };
    }
    // Opening a folder to open its files by name needs no right to list it (`O_PATH`),
    // as walking a path through it does not.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const FOLDER_FLAGS: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const FOLDER_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::CLOEXEC);
    let bytes = path.as_os_str().as_bytes();
    let Some(slash) = bytes.iter().rposition(|&b| b == b'/').filter(|&at| at > 0) else {
        return std::fs::File::open(path);
    };
    let (folder, name) = (&bytes[..slash], &bytes[slash + 1..]);
    let scan = SCANS.load(std::sync::atomic::Ordering::Relaxed);
    FOLDERS.with_borrow_mut(|(kept_scan, kept)| {
        if *kept_scan != scan {
            kept.clear();
            *kept_scan = scan;
        }
        let kept_at = kept
            .iter()
            .rposition(|(kept, _)| kept.as_os_str().as_bytes() == folder);
        let at = kept_at.or_else(|| {
            // The deepest kept folder holding this one, to open it from.
            let holder = kept
                .iter()
                .filter(|(kept, _)| {
                    let kept = kept.as_os_str().as_bytes();
                    folder.len() > kept.len()
                        && folder.starts_with(kept)
                        && folder[kept.len()] == b'/'
                })
                .max_by_key(|(kept, _)| kept.as_os_str().len());
            let opened = match holder {
                Some((held, fd)) => {
                    let rest = &folder[held.as_os_str().len() + 1..];
                    rustix::fs::openat(fd, rest, FOLDER_FLAGS, Mode::empty())
                }
                None => rustix::fs::open(folder, FOLDER_FLAGS, Mode::empty()),
            };
            let fd = opened.ok()?;
            if kept.len() == KEPT {
                kept.remove(0);
            }
            kept.push((
                Path::new(std::ffi::OsStr::from_bytes(folder)).to_owned(),
                fd,
            ));
            Some(kept.len() - 1)
        });
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        match at.map(|at| rustix::fs::openat(&kept[at].1, name, flags, Mode::empty())) {
            Some(Ok(file)) => Ok(file.into()),
            _ => std::fs::File::open(path),
        }
    })
}

/// [`std::fs::File::open`].
#[cfg(not(all(unix, feature = "cli")))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn scan_file(path: &Path, names: &BTreeSet<String>) -> Outcome {
    with_text(path, |text| match text {
        Ok(text) => scan_text(text, names),
        Err(message) => Outcome::Unreadable(message),
    })
}

/// The scan of one file's `text` for `names`.
fn scan_text(text: &str, names: &BTreeSet<String>) -> Outcome {
    if !tokens::may_declare(text, names) {
        return Outcome::Skipped;
    }
    scan_declaring(text, names, None)
}

/// What one reading of a file gives: the files it names (module discovery, see
/// [`modules::children_at`]), its scan for `secret!` and, if `options` ask, the credentials
/// written into it ([`hardcoded`]), with one [`skim`] of the text when it declares.
fn read_text(
    text: &str,
    options: ScanOptions,
) -> (Vec<modules::Child>, Outcome, Vec<hardcoded::Found>) {
    let names = default_names();
    let words = words::find(text.as_bytes());
    if !words
        .secret
        .iter()
        .any(|&at| tokens::is_candidate(text, "secret", at))
    {
        // One skim for module discovery and the literals, when there are literals.
        let found = match options.hardcoded {
            true => hardcoded::find(text, None, options.hardcoded_in_tests),
            false => Vec::new(),
        };
        return (
            modules::children_at(text, &words, None),
            Outcome::Skipped,
            found,
        );
    }
    let skimmed = if text.starts_with("#!") {
        None
    } else {
        skim::skim(text)
    };
    let children = modules::children_at(text, &words, skimmed.as_ref());
    let found = match options.hardcoded {
        true => hardcoded::find(text, skimmed.as_ref(), options.hardcoded_in_tests),
        false => Vec::new(),
    };
    (
        children,
        scan_declaring(text, names, skimmed.as_ref()),
        found,
    )
}

/// The scan of `text`, which [`tokens::may_declare`], with its skim if known.
fn scan_declaring(text: &str, names: &BTreeSet<String>, skimmed: Option<&skim::Skim>) -> Outcome {
    let scanned = tokens::scan_skimmed(text, names, skimmed);
    // The results hold lines and columns, no spans: free the lexer's copy of the text, so
    // memory stays flat however many files a thread lexes.
    proc_macro2::extra::invalidate_current_thread_spans();
    match scanned {
        Ok(scan) => Outcome::Scanned(scan),
        Err((message, recovered)) => Outcome::Unlexable(
            format!(
                "cannot read the tokens of this file ({message}); {} `secret!` call{} in it \
                 {} recovered one by one, but others may be missed",
                recovered.found.len(),
                if recovered.found.len() == 1 { "" } else { "s" },
                if recovered.found.len() == 1 {
                    "was"
                } else {
                    "were"
                },
            ),
            recovered,
        ),
    }
}
