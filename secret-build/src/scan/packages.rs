//! Which secrets one package uses: its own declarations and those of the workspace crates
//! it depends on, for `-p/--package` on `run`, `export`, `sync` and `check-secrets`.
//!
//! - **The graph.** Each member's dependencies come from its manifest as `cargo metadata`
//!   reports it (the same call the scan makes): a dependency is on a member when its
//!   `path` is that member's folder. Normal dependencies count, including target-specific
//!   and `optional` ones (features are not evaluated: a secret a feature might compile in
//!   is delivered rather than missing at run time). Build dependencies never count: they
//!   run at build time and are not linked into the package. Dev-dependencies count only
//!   with `dev` (`--dev`), and only those of the selected packages, as cargo does.
//! - **The declarations.** A selected package contributes its library and binaries (with
//!   `dev`, its tests, examples and benches too); a dependency contributes its library
//!   only: its binaries and tests are not linked into the dependent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::ScanReport;

/// A dependency of one member package on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The member depended on.
    pub package: String,
    /// Whether it is a dev-dependency (tests, examples and benches only).
    pub dev: bool,
}

/// The packages a command delivers to: names given to `-p/--package`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The selected member packages.
    pub packages: Vec<String>,
    /// Whether to include tests, examples, benches and dev-dependencies (`--dev`).
    pub dev: bool,
}

/// A `-p/--package` that names no member of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no package `{name}` in the workspace at {root}{}", did_you_mean(.known, .name))]
pub struct PackageError {
    /// The name given.
    pub name: String,
    /// The workspace root.
    pub root: String,
    /// The member packages.
    pub known: Vec<String>,
}

fn did_you_mean(known: &[String], name: &str) -> String {
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut text = match secret_core::error::did_you_mean(name, names.iter().copied()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => String::new(),
    };
    text.push_str(&format!("\nhelp: the packages are {}", names.join(", ")));
    text
}

/// Each member's dependencies on other members, from `cargo metadata`.
pub(crate) fn member_dependencies(
    members: &[&super::metadata::Package],
) -> BTreeMap<String, Vec<Dependency>> {
    use super::metadata::DependencyKind;
    let by_dir: BTreeMap<&Path, &str> = members
        .iter()
        .filter_map(|package| {
            let dir = package.manifest_path.parent()?;
            Some((dir, package.name.as_str()))
        })
        .collect();
    let mut graph = BTreeMap::new();
    for package in members {
        let mut dependencies: Vec<Dependency> = Vec::new();
        for dependency in &package.dependencies {
            let dev = match dependency.kind {
                DependencyKind::Normal => false,
                DependencyKind::Development => true,
                DependencyKind::Build => continue,
            };
            let Some(member) = dependency
                .path
                .as_ref()
                .and_then(|path| by_dir.get(path.as_path()))
            else {
                continue;
            };
            let dependency = Dependency {
                package: (*member).to_owned(),
                dev,
            };
            if !dependencies.contains(&dependency) {
                dependencies.push(dependency);
            }
        }
        graph.insert(package.name.clone(), dependencies);
    }
    graph
}

impl ScanReport {
    /// The packages `selection` reaches: each selected package with `true`, and every
    /// member it depends on (transitively, normal dependencies; the selected packages'
    /// dev-dependencies too with `selection.dev`) with `false`.
    pub fn reached(&self, selection: &Selection) -> Result<BTreeMap<String, bool>, PackageError> {
        let mut reached: BTreeMap<String, bool> = BTreeMap::new();
        let mut queue: Vec<String> = Vec::new();
        for name in &selection.packages {
            if !self.packages.contains(name) {
                return Err(PackageError {
                    name: name.clone(),
                    root: self.root.display().to_string(),
                    known: self.packages.clone(),
                });
            }
            reached.insert(name.clone(), true);
            for dependency in self.dependencies.get(name).into_iter().flatten() {
                if !dependency.dev || selection.dev {
                    queue.push(dependency.package.clone());
                }
            }
        }
        while let Some(name) = queue.pop() {
            if reached.contains_key(&name) {
                continue;
            }
            reached.insert(name.clone(), false);
            for dependency in self.dependencies.get(&name).into_iter().flatten() {
                if !dependency.dev {
                    queue.push(dependency.package.clone());
                }
            }
        }
        Ok(reached)
    }

    /// The scan restricted to what `selection` compiles: the declarations (and problems)
    /// of the selected packages' targets and of their dependencies' libraries. An empty
    /// selection is the whole workspace.
    pub fn select(&self, selection: &Selection) -> Result<ScanReport, PackageError> {
        if selection.packages.is_empty() {
            return Ok(self.clone());
        }
        let reached = self.reached(selection)?;
        let counts = |package: &str, target_kind: &str| match reached.get(package) {
            None => false,
            Some(false) => target_kind == "lib",
            Some(true) => selection.dev || matches!(target_kind, "lib" | "bin"),
        };
        let mut selected = self.clone();
        selected
            .declarations
            .retain(|declaration| counts(&declaration.package, &declaration.target_kind));
        selected
            .problems
            .retain(|problem| reached.contains_key(&problem.package));
        selected
            .hardcoded
            .retain(|found| counts(&found.package, &found.target_kind));
        Ok(selected)
    }

    /// The names `selection` declares (all of the workspace's for an empty selection).
    pub(crate) fn names_for(
        &self,
        selection: &Selection,
    ) -> Result<BTreeSet<String>, PackageError> {
        Ok(self
            .select(selection)?
            .declarations
            .into_iter()
            .map(|declaration| declaration.name)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Declaration;

    fn declaration(name: &str, package: &str, target_kind: &str) -> Declaration {
        Declaration {
            name: name.to_owned(),
            package: package.to_owned(),
            target_kind: target_kind.to_owned(),
            path: format!("{package}/src/lib.rs").into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            description: None,
            optional: false,
            env: None,
        }
    }

    /// `app` -> `mid` -> `base` (normal), `app` -dev-> `fixtures`, `mid` -dev-> `testkit`.
    fn report() -> ScanReport {
        let dep = |package: &str, dev| Dependency {
            package: package.to_owned(),
            dev,
        };
        ScanReport {
            packages: ["app", "base", "fixtures", "mid", "other", "testkit"]
                .map(str::to_owned)
                .to_vec(),
            dependencies: [
                ("app", vec![dep("mid", false), dep("fixtures", true)]),
                ("mid", vec![dep("base", false), dep("testkit", true)]),
            ]
            .into_iter()
            .map(|(name, deps)| (name.to_owned(), deps))
            .collect(),
            declarations: vec![
                declaration("AppKey", "app", "bin"),
                declaration("AppTestKey", "app", "test"),
                declaration("MidKey", "mid", "lib"),
                declaration("MidBinKey", "mid", "bin"),
                declaration("BaseKey", "base", "lib"),
                declaration("FixtureKey", "fixtures", "lib"),
                declaration("TestkitKey", "testkit", "lib"),
                declaration("OtherKey", "other", "lib"),
            ],
            ..ScanReport::default()
        }
    }

    fn names(selection: &Selection) -> Vec<String> {
        report().names_for(selection).unwrap().into_iter().collect()
    }

    #[test]
    fn transitive_libraries_only_and_dev_dependencies_only_of_the_selected() {
        let app = Selection {
            packages: vec!["app".to_owned()],
            dev: false,
        };
        assert_eq!(names(&app), ["AppKey", "BaseKey", "MidKey"]);
        let app_dev = Selection { dev: true, ..app };
        assert_eq!(
            names(&app_dev),
            ["AppKey", "AppTestKey", "BaseKey", "FixtureKey", "MidKey"],
            "mid's dev-dependency testkit is not app's"
        );
        assert_eq!(names(&Selection::default()).len(), 8, "no -p: everything");
        let error = report()
            .names_for(&Selection {
                packages: vec!["ap".to_owned()],
                dev: false,
            })
            .unwrap_err();
        assert_eq!(error.name, "ap");
    }
}
