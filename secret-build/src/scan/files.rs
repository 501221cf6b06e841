//! Which files the scanner reads: the member packages and targets `cargo metadata` reports,
//! and the `.rs` files in each member's folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::MetadataCommand;

use super::ScanError;

/// A source file to scan.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// The absolute path, to read.
    pub(crate) path: PathBuf,
    /// The path shown to users: relative to the workspace root when inside it.
    pub(crate) display_path: PathBuf,
    /// Index into [`Workspace::packages`].
    pub(crate) package: usize,
    /// The target kind the file most likely belongs to.
    pub(crate) target_kind: String,
    /// Whether the text pre-filter for `secret` passed when module discovery read the file
    /// (true when it could not be read then: the scan reports why).
    pub(crate) may_declare: bool,
}

/// The member packages and their files.
#[derive(Debug)]
pub(crate) struct Workspace {
    pub(crate) packages: Vec<String>,
    /// Each member's dependencies on other members.
    pub(crate) dependencies: BTreeMap<String, Vec<super::packages::Dependency>>,
    pub(crate) files: Vec<SourceFile>,
    /// `.rs` files in member folders that no target's module tree reaches.
    pub(crate) unreached: Vec<PathBuf>,
}

/// A target root: its kind and the folder it lives in.
struct TargetRoot {
    kind: String,
    src_path: PathBuf,
    dir: PathBuf,
}

impl Workspace {
    pub(crate) fn load(root: &Path) -> Result<Self, ScanError> {
        let metadata = MetadataCommand::new()
            .manifest_path(root.join("Cargo.toml"))
            .no_deps()
            .exec()
            .map_err(|error| ScanError::Metadata {
                root: root.to_owned(),
                message: match error {
                    cargo_metadata::Error::CargoMetadata { stderr } => stderr.trim().to_owned(),
                    other => other.to_string(),
                },
            })?;
        let target_dir = PathBuf::from(metadata.target_directory.as_std_path());
        let root_abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
        let mut members = metadata.workspace_packages();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        // Walking and module discovery read every file: one package per task, on all cores.
        let loaded = super::parallel_map(&members, |package| {
            load_package(package, &target_dir, &root_abs, root)
        });
        let mut packages = Vec::new();
        let mut files = Vec::new();
        let mut seen = BTreeSet::new();
        let mut unreached = Vec::new();
        for (index, (package, loaded)) in members.iter().zip(loaded).enumerate() {
            packages.push(package.name.to_string());
            unreached.extend(loaded.unreached);
            for (path, target_kind, may_declare) in loaded.files {
                if !seen.insert(path.clone()) {
                    continue;
                }
                let display_path = relative(&path, &root_abs, root);
                files.push(SourceFile {
                    path,
                    display_path,
                    package: index,
                    target_kind,
                    may_declare,
                });
            }
        }
        let dependencies = super::packages::member_dependencies(&members);
        Ok(Self {
            packages,
            dependencies,
            files,
            unreached,
        })
    }
}

/// One package's files (path, target kind, pre-filter result) and unreached files.
struct LoadedPackage {
    files: Vec<(PathBuf, String, bool)>,
    unreached: Vec<PathBuf>,
}

fn load_package(
    package: &cargo_metadata::Package,
    target_dir: &Path,
    root_abs: &Path,
    root: &Path,
) -> LoadedPackage {
    let default_names: BTreeSet<String> = ["secret".to_owned()].into();
    let mut unreached = Vec::new();
    let package_dir = package
        .manifest_path
        .parent()
        .map(|dir| dir.as_std_path().to_owned())
        .unwrap_or_default();
    let roots: Vec<TargetRoot> = package
        .targets
        .iter()
        .map(|target| {
            let src_path = target.src_path.as_std_path().to_owned();
            TargetRoot {
                kind: target_kind(target),
                dir: src_path.parent().map(Path::to_owned).unwrap_or_default(),
                src_path,
            }
        })
        .collect();
    let walked = walk_package(&package_dir, target_dir);
    let root_files: Vec<PathBuf> = roots.iter().map(|root| root.src_path.clone()).collect();
    let mut prefilter = BTreeMap::new();
    let reached: BTreeSet<PathBuf> = super::modules::reachable(&root_files, |path, text| {
        prefilter.insert(
            normalize(path),
            super::tokens::may_declare(text, &default_names),
        );
    })
    .into_iter()
    .map(|path| normalize(&path))
    .filter(|path| path.is_file() && !path.starts_with(target_dir))
    .collect();
    let mut paths = Vec::new();
    for path in walked {
        if reached.contains(&path) {
            paths.push(path);
        } else {
            unreached.push(relative(&path, root_abs, root));
        }
    }
    // Modules outside the package folder (`#[path = "../shared.rs"]`).
    paths.extend(
        reached
            .into_iter()
            .filter(|path| !path.starts_with(&package_dir)),
    );
    let files = paths
        .into_iter()
        .map(|path| {
            let target_kind = kind_for(&path, &roots);
            let may_declare = prefilter.get(&path).copied().unwrap_or(true);
            (path, target_kind, may_declare)
        })
        .collect();
    LoadedPackage { files, unreached }
}

/// `path` relative to the workspace root when inside it.
fn relative(path: &Path, root_abs: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root_abs)
        .or_else(|_| path.strip_prefix(root))
        .map(Path::to_owned)
        .unwrap_or_else(|_| path.to_owned())
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
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

fn target_kind(target: &cargo_metadata::Target) -> String {
    use cargo_metadata::TargetKind;
    let kind = target.kind.first();
    match kind {
        Some(
            TargetKind::Lib
            | TargetKind::RLib
            | TargetKind::DyLib
            | TargetKind::CDyLib
            | TargetKind::StaticLib
            | TargetKind::ProcMacro,
        ) => "lib".to_owned(),
        Some(kind) => kind.to_string(),
        None => "lib".to_owned(),
    }
}

/// The kind of the target whose root is `path`, else of the target whose root folder is the
/// deepest ancestor of `path` (a library wins a tie, as `src/` holds both `lib.rs` and
/// `main.rs` and modules usually belong to the library).
fn kind_for(path: &Path, roots: &[TargetRoot]) -> String {
    if let Some(root) = roots.iter().find(|root| root.src_path == path) {
        return root.kind.clone();
    }
    roots
        .iter()
        .filter(|root| path.starts_with(&root.dir))
        .max_by_key(|root| (root.dir.components().count(), root.kind == "lib"))
        .map_or_else(|| "other".to_owned(), |root| root.kind.clone())
}

/// The `.rs` files under `dir`, sorted, skipping the target directory, hidden folders and
/// folders holding another package.
fn walk_package(dir: &Path, target_dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            if entry.depth() == 0 || !entry.file_type().is_dir() {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            !(name.starts_with('.')
                || entry.path() == target_dir
                || (entry.depth() == 1 && name == "target")
                || entry.path().join("Cargo.toml").is_file())
        })
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file() && entry.path().extension().is_some_and(|ext| ext == "rs")
        })
        .map(|entry| entry.into_path())
        .collect();
    paths.sort();
    paths
}
