//! What the scanner needs from `cargo metadata --no-deps`: the target directory and, for
//! each member package, its name, manifest, targets and dependencies.
//!
//! The JSON is read through [`serde_json::Value`], only the fields used here, rather than
//! through the `cargo_metadata` crate (which brings about eight crates of its own, a second
//! `syn` among them, into every xtask and build script using this crate). [`Metadata::spawn`]
//! starts cargo on a thread of its own, so the caller can read files while cargo reads the
//! manifests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;

use serde_json::Value;

/// The workspace as `cargo metadata --no-deps` describes it.
#[derive(Debug)]
pub(crate) struct Metadata {
    /// `target_directory`.
    pub(crate) target_directory: PathBuf,
    /// The workspace members (`workspace_members`), in cargo's order.
    pub(crate) members: Vec<Package>,
}

/// One member package.
#[derive(Debug)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) manifest_path: PathBuf,
    pub(crate) targets: Vec<Target>,
    pub(crate) dependencies: Vec<Dependency>,
}

/// One target of a package.
#[derive(Debug)]
pub(crate) struct Target {
    /// The first of its `kind`s (`lib`, `bin`, `proc-macro`, `custom-build`, ...).
    pub(crate) kind: Option<String>,
    pub(crate) src_path: PathBuf,
}

/// The kind of a dependency, as `cargo metadata` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DependencyKind {
    Normal,
    Development,
    /// `build`, or a kind this reader does not know.
    Build,
}

/// One dependency of a package, as its manifest declares it.
#[derive(Debug)]
pub(crate) struct Dependency {
    pub(crate) kind: DependencyKind,
    /// The folder of a path dependency.
    pub(crate) path: Option<PathBuf>,
}

/// `cargo metadata` running on a thread of its own.
pub(crate) struct Pending(JoinHandle<Result<Metadata, String>>);

impl Metadata {
    /// Starts `cargo metadata --no-deps --offline` for the manifest in `root` (cargo is
    /// `$CARGO`, as cargo sets it for build scripts and `cargo xtask`, else `cargo` on the
    /// `PATH`). Without dependencies cargo has nothing to fetch; `--offline` makes sure the
    /// check never reaches the network, and spares cargo setting up its network access.
    /// The output is read and parsed on that thread; [`Pending::wait`] returns it.
    pub(crate) fn spawn(root: &Path) -> Pending {
        let manifest = root.join("Cargo.toml");
        Pending(std::thread::spawn(move || load(&manifest)))
    }
}

impl Pending {
    /// Whether cargo has answered (or failed).
    pub(crate) fn is_finished(&self) -> bool {
        self.0.is_finished()
    }

    /// The metadata, or what went wrong (cargo's own message when cargo failed).
    pub(crate) fn wait(self) -> Result<Metadata, String> {
        self.0
            .join()
            .unwrap_or_else(|_| Err("reading `cargo metadata` failed".to_owned()))
    }
}

fn load(manifest: &Path) -> Result<Metadata, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1"])
        .args(["--no-deps", "--offline"])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .map_err(|error| {
            format!(
                "cannot run `{} metadata`: {error}",
                Path::new(&cargo).display()
            )
        })?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let stdout = std::str::from_utf8(&output.stdout)
        .map_err(|_| "the output of `cargo metadata` is not UTF-8".to_owned())?;
    let json = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| "`cargo metadata` printed no JSON".to_owned())?;
    parse(json)
}

/// The fields used here of `cargo metadata`'s JSON document.
fn parse(json: &str) -> Result<Metadata, String> {
    let invalid = |what: &str| format!("unexpected `cargo metadata` output: {what}");
    let document: Value =
        serde_json::from_str(json).map_err(|error| invalid(&error.to_string()))?;
    let target_directory = document["target_directory"]
        .as_str()
        .ok_or_else(|| invalid("no `target_directory`"))?
        .into();
    let member_ids: std::collections::HashSet<&str> = document["workspace_members"]
        .as_array()
        .ok_or_else(|| invalid("no `workspace_members`"))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = document["packages"]
        .as_array()
        .ok_or_else(|| invalid("no `packages`"))?;
    let mut members = Vec::with_capacity(member_ids.len());
    for package in packages {
        if !package["id"]
            .as_str()
            .is_some_and(|id| member_ids.contains(id))
        {
            continue;
        }
        let text = |value: &Value, field: &str| {
            value[field]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid(&format!("a package without `{field}`")))
        };
        let targets = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|target| {
                Ok(Target {
                    kind: target["kind"]
                        .as_array()
                        .and_then(|kinds| kinds.first())
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    src_path: text(target, "src_path")?.into(),
                })
            })
            .collect::<Result<_, String>>()?;
        let dependencies = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|dependency| Dependency {
                kind: match dependency["kind"].as_str() {
                    None | Some("normal") => DependencyKind::Normal,
                    Some("dev") => DependencyKind::Development,
                    Some(_) => DependencyKind::Build,
                },
                path: dependency["path"].as_str().map(PathBuf::from),
            })
            .collect();
        members.push(Package {
            name: text(package, "name")?,
            manifest_path: text(package, "manifest_path")?.into(),
            targets,
            dependencies,
        });
    }
    Ok(Metadata {
        target_directory,
        members,
    })
}

/// The target directory of the workspace at `root`, from `cargo metadata`.
#[cfg(feature = "cli")]
pub(crate) fn target_directory(root: &Path) -> Option<PathBuf> {
    load(&root.join("Cargo.toml"))
        .ok()
        .map(|metadata| metadata.target_directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_targets_and_dependencies() {
        let json = r#"{
          "packages": [
            {"name": "app", "id": "path+file:///w/app#0.1.0", "manifest_path": "/w/app/Cargo.toml",
             "targets": [{"kind": ["bin"], "src_path": "/w/app/src/main.rs"},
                         {"kind": ["custom-build"], "src_path": "/w/app/build.rs"}],
             "dependencies": [
               {"name": "core", "kind": null, "path": "/w/core"},
               {"name": "serde", "kind": null},
               {"name": "fixtures", "kind": "dev", "path": "/w/fixtures"},
               {"name": "gen", "kind": "build", "path": "/w/gen"}]},
            {"name": "elsewhere", "id": "path+file:///x#0.1.0", "manifest_path": "/x/Cargo.toml",
             "targets": [], "dependencies": []}
          ],
          "workspace_members": ["path+file:///w/app#0.1.0"],
          "target_directory": "/w/target",
          "version": 1
        }"#;
        let metadata = parse(json).unwrap();
        assert_eq!(metadata.target_directory, Path::new("/w/target"));
        assert_eq!(metadata.members.len(), 1, "only workspace members");
        let app = &metadata.members[0];
        assert_eq!(app.name, "app");
        assert_eq!(app.manifest_path, Path::new("/w/app/Cargo.toml"));
        let kinds: Vec<_> = app.targets.iter().map(|t| t.kind.as_deref()).collect();
        assert_eq!(kinds, [Some("bin"), Some("custom-build")]);
        let deps: Vec<_> = app
            .dependencies
            .iter()
            .map(|d| (d.kind, d.path.as_deref().and_then(Path::to_str)))
            .collect();
        assert_eq!(
            deps,
            [
                (DependencyKind::Normal, Some("/w/core")),
                (DependencyKind::Normal, None),
                (DependencyKind::Development, Some("/w/fixtures")),
                (DependencyKind::Build, Some("/w/gen")),
            ]
        );
        let error = parse(r#"{"packages": []}"#).unwrap_err();
        assert!(error.contains("target_directory"), "{error}");
    }
}
