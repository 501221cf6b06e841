//! The workspace root stops at the Cargo workspace: a project without `secrets.toml` never
//! uses the `secrets.toml` or `.secrets.local.toml` of a folder above it, and an empty
//! `SECRETS_WORKSPACE` is unset.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use secret_core::workspace::find_root;
use secret_runtime::Resolver;

/// An outer folder with `secrets.toml` and an override file, and inside it a Cargo
/// workspace `project` (with a member `app`) that has neither.
fn nested() -> tempfile::TempDir {
    let outer = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = outer.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "secrets.toml",
        "[environments]\nouter-env = \"production\"\n",
    );
    write(".secrets.local.toml", "Token = \"outer-value\"\n");
    write(
        "project/Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n",
    );
    write(
        "project/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    outer
}

fn resolver(vars: &[(&str, &Path)], cwd: &Path) -> Resolver {
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.as_os_str().to_owned()))
        .collect();
    Resolver::from_vars(
        Arc::new(move |name| vars.get(name).cloned()),
        Some(cwd),
        None,
    )
    .unwrap()
}

/// Regression: with no `secrets.toml` in the project, an ancestor folder's `secrets.toml`
/// and `.secrets.local.toml` were used by the CLI and the run time.
#[test]
fn an_ancestor_folders_secrets_toml_is_not_used() {
    let outer = nested();
    let project = outer.path().join("project");
    let app = project.join("app");
    assert_eq!(find_root(&app).as_deref(), Some(project.as_path()));
    let resolver = resolver(&[], &app);
    assert_eq!(resolver.workspace(), Some(project.as_path()));
    let error = resolver.resolve("Token").unwrap_err();
    assert!(error.is_missing(), "{error}");
    // The project's own secrets.toml, in a member or at the root, is found.
    std::fs::write(project.join("secrets.toml"), "").unwrap();
    assert_eq!(find_root(&app).as_deref(), Some(project.as_path()));
}

/// Regression: an empty `SECRETS_WORKSPACE` meant the process's current folder.
#[test]
fn an_empty_secrets_workspace_is_unset() {
    let outer = nested();
    let project = outer.path().join("project");
    let resolver = resolver(&[("SECRETS_WORKSPACE", Path::new(""))], &project);
    assert_eq!(resolver.workspace(), Some(project.as_path()));
}
