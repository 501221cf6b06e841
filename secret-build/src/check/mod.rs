//! The check: compares the declarations the scanner finds with the store, and renders the
//! report for people (rustc style) and machines (JSON, SARIF, GitHub annotations).
//!
//! The CLI's `check-secrets` calls [`check_options`] and [`render`]; [`check`] is the library
//! form, returning a [`Report`] to render with [`render`].
//!
//! Architecture invariant: the check needs no key. It reads secret names, scopes and lines
//! from the store, never a value.

mod compare;
mod git;
#[cfg(feature = "cli")]
pub mod github;
#[cfg(feature = "cli")]
pub mod human;
#[cfg(feature = "cli")]
pub mod json;
#[cfg(feature = "cli")]
pub mod leaks;
mod report;
#[cfg(feature = "cli")]
pub mod sarif;
mod stored;

use std::path::{Path, PathBuf};

use secret_core::{Config, Environment, FileError};

pub use compare::{Inputs, SET_COMMAND, compare, resolve};
pub use git::{OVERRIDE_FILES, tracked_overrides};
pub use report::{Audit, Cell, Code, Diagnostic, Location, Report, Row, Severity, StoredValue};
pub use stored::{stored_values, stored_values_with};

use crate::scan::{ScanError, Selection, scan_workspace};

#[cfg(feature = "cli")]
/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// rustc-style diagnostics.
    Human,
    /// The versioned JSON document described in `docs/check-json.md`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Why the check could not run (exit status 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// A malformed `secrets.toml` or `secrets.enc.toml`, or an unknown `--env`.
    #[error("{0}")]
    File(#[from] FileError),
    /// The workspace could not be read.
    #[error("{0}")]
    Scan(#[from] ScanError),
    /// `--package` names no member of the workspace.
    #[error("{0}")]
    Package(#[from] crate::scan::PackageError),
    /// `--leaks` was asked for without an identity to decrypt the values with.
    #[error(
        "--leaks needs an identity that can decrypt the stored values, and none was found in {0}\nhelp: set SECRETS_IDENTITY to an age identity file, or SECRETS_IDENTITY_KEY to the key"
    )]
    NoIdentity(String),
}

/// The environments `--env` names: each value resolved through `secrets.toml`; `all` (or
/// nothing) means every type the project uses (`types`) and every named environment that
/// is not a pattern.
pub fn environments(config: &Config, args: &[String]) -> Result<Vec<Environment>, FileError> {
    let mut environments: Vec<Environment> = Vec::new();
    let mut push = |env: Environment| {
        if !environments.contains(&env) {
            environments.push(env);
        }
    };
    let all = args.is_empty() || args.iter().any(|arg| arg == "all");
    for arg in args.iter().filter(|arg| *arg != "all") {
        for part in arg.split(',').filter(|part| !part.is_empty()) {
            push(config.resolve_env(part)?);
        }
    }
    if all {
        for &ty in &config.types {
            push(Environment::of_type(ty));
        }
        for name in config
            .environments
            .keys()
            .filter(|name| !name.contains('*'))
        {
            push(config.resolve_env(name)?);
        }
    }
    Ok(environments)
}

/// Runs the check on the workspace at `root` for the environments `envs` (as given to
/// `--env`; empty means `all`).
pub fn check(root: &Path, envs: &[String]) -> Result<Report, CheckError> {
    check_with(root, envs, &|name| std::env::var_os(name))
}

/// [`check`], reading the credentials of a Vault/OpenBao `[backend]` through `vars`.
pub fn check_with(
    root: &Path,
    envs: &[String],
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Report, CheckError> {
    check_options(root, envs, &Selection::default(), vars, false)
}

/// [`check_with`]; `deny_rotation_due` makes values due for rotation errors.
pub fn check_full(
    root: &Path,
    envs: &[String],
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    deny_rotation_due: bool,
) -> Result<Report, CheckError> {
    check_options(root, envs, &Selection::default(), vars, deny_rotation_due)
}

/// [`check_with`] for the secrets `selection` delivers (`--package`): the declarations
/// of the selected packages and their workspace dependencies, and the stored values of
/// those names only (a value another package uses is not "undeclared" here). An empty
/// selection checks the whole workspace.
pub fn check_selected(
    root: &Path,
    envs: &[String],
    selection: &Selection,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Report, CheckError> {
    check_options(root, envs, selection, vars, false)
}

/// [`check_selected`]; `deny_rotation_due` makes values due for rotation errors.
pub fn check_options(
    root: &Path,
    envs: &[String],
    selection: &Selection,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    deny_rotation_due: bool,
) -> Result<Report, CheckError> {
    let config = Config::load(root)?;
    let environments = environments(&config, envs)?;
    let (store_path, mut stored) = stored_values_with(root, vars)?;
    let scan = scan_workspace(root)?.select(selection)?;
    if !selection.packages.is_empty() {
        stored.retain(|value| {
            scan.declarations
                .iter()
                .any(|declaration| declaration.name == value.name)
        });
    }
    let tracked_overrides = tracked_overrides(root);
    // The merge driver matters where the store is a file that git merges.
    let merge_driver = (config.backend.is_none() && root.join(secret_core::STORE_FILE).is_file())
        .then(|| crate::git::driver_configured(root))
        .flatten();
    let overrides = override_names(root)?;
    let mut report = compare(
        scan,
        Inputs {
            environments,
            store_path,
            stored,
            tracked_overrides,
            merge_driver,
            deny_rotation_due,
            overrides,
        },
    );
    report.types = config.types;
    Ok(report)
}

/// The names the local override files at `root` set (their values are dropped at once).
pub fn override_names(root: &Path) -> Result<std::collections::BTreeSet<String>, FileError> {
    let mut names = std::collections::BTreeSet::new();
    for file in OVERRIDE_FILES {
        if let Some(values) = secret_core::overrides::load(&root.join(file))? {
            names.extend(values.into_keys());
        }
    }
    Ok(names)
}

#[cfg(feature = "cli")]
/// Renders `report` in `format`; source lines are read from under `root`.
pub fn render(report: &Report, root: &Path, format: Format, styled: bool) -> String {
    match format {
        Format::Human => human::render(report, root, styled),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}

/// The workspace `args` selects: `--workspace`, else the one enclosing the current folder.
pub fn workspace_root(workspace: Option<&Path>) -> Result<PathBuf, CheckError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(secret_core::workspace::resolve(workspace, &cwd)?)
}

#[cfg(feature = "cli")]
/// `--leaks`: searches tracked files and the target directory for the values the
/// identity (read through `vars`) can decrypt, adds a `leaked-secret` error per file and
/// secret to `report`, and returns what the caller should tell the user: a warning about
/// the identity file's permissions, notes on what was not searched for.
pub fn search_leaks(
    root: &Path,
    report: &mut Report,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Vec<Leaks>, CheckError> {
    let mut notes = Vec::new();
    let identities = secret_core::Identities::from_vars(vars)
        .map_err(|error| CheckError::File(error.report()))?;
    if let secret_core::identity::IdentitySource::File { path, .. } = identities.source()
        && let Some(warning) = secret_core::identity::permission_warning(path)
    {
        notes.push(Leaks::Warning(warning));
    }
    if identities.is_empty() {
        return Err(CheckError::NoIdentity(identities.source().to_string()));
    }
    let target_dir = crate::scan::target_directory(root).unwrap_or_else(|| root.join("target"));
    let search = leaks::find(root, &target_dir, &identities)
        .map_err(|error| CheckError::File(error.report()))?;
    let found = search.diagnostics();
    let at = report
        .diagnostics
        .iter()
        .position(|diagnostic| diagnostic.severity != Severity::Error)
        .unwrap_or(report.diagnostics.len());
    report.diagnostics.splice(at..at, found);
    notes.extend(search.notes().into_iter().map(Leaks::Note));
    Ok(notes)
}

#[cfg(feature = "cli")]
/// What [`search_leaks`] has to say besides its diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Leaks {
    /// A problem with the identity file (readable by others).
    Warning(String),
    /// Something that was not searched for, and why.
    Note(String),
}

/// What `check-secrets` prints on stderr when the check cannot run: the file, line, problem and fix.
pub fn error_text(error: &CheckError) -> String {
    format!("error: {error}\nerror: check-secrets could not run (exit status 2)\n")
}
