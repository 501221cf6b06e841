//! The check: compares the declarations the scanner finds with the store, and renders the
//! report for people (rustc style) and machines (JSON, SARIF, GitHub annotations).
//!
//! The CLI's `check-secrets` calls [`check_with`] and [`render`]; [`check`] is the library
//! form, returning a [`Report`] to render with [`render`].
//!
//! Architecture invariant: the check needs no key. It reads secret names, scopes and lines
//! from the store, never a value.

mod compare;
mod git;
#[cfg(feature = "cli")]
pub mod github;
mod hardcoded;
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

use secret_core::{Config, Environment, FileError, Store};

pub use compare::{Inputs, SET_COMMAND, compare, resolve};
pub use git::OVERRIDE_FILES;
pub(crate) use git::tracked_overrides;
pub(crate) use hardcoded::diagnostics as hardcoded_diagnostics;
pub use report::{
    Audit, Cell, Code, Diagnostic, Location, Report, Row, Severity, StateAudit, StoredValue,
    Verdict,
};

use crate::scan::{ScanError, ScanOptions, Selection, scan_workspace_with};
use crate::trusted::Trusted;

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
/// is not a pattern. Names resolve by the signed access rules of `state`.
pub fn environments(
    state: &secret_core::state::State,
    args: &[String],
) -> Result<Vec<Environment>, FileError> {
    let config = state.effective();
    let mut environments: Vec<Environment> = Vec::new();
    let mut push = |env: Environment| {
        if !environments.contains(&env) {
            environments.push(env);
        }
    };
    let all = args.is_empty() || args.iter().any(|arg| arg == "all");
    for arg in args.iter().filter(|arg| *arg != "all") {
        for part in arg.split(',').filter(|part| !part.is_empty()) {
            push(state.resolve_env(part)?);
        }
    }
    if all {
        for &ty in &config.types {
            push(Environment::of_type(ty));
        }
        for name in state
            .effective()
            .environments
            .keys()
            .filter(|name| !name.contains('*'))
        {
            push(state.resolve_env(name)?);
        }
    }
    Ok(environments)
}

/// What to check, beyond the workspace.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The environments, as given to `--env` (empty means `all`).
    pub envs: Vec<String>,
    /// Only the secrets these packages deliver (`--package`); empty: the whole workspace.
    pub selection: Selection,
    /// Values due for rotation are errors, not warnings (`--deny-rotation-due`).
    pub deny_rotation_due: bool,
    /// The trust root pinned from outside the repository (`--trust`); else `SECRETS_TRUST`.
    pub trust: Option<secret_core::rules::chain::Pin>,
    /// Credentials written into the source are errors, not warnings (`--deny-hardcoded`).
    pub deny_hardcoded: bool,
    /// Look for credentials in test code too (`--hardcoded-in-tests`).
    pub hardcoded_in_tests: bool,
    /// The process ends once the report is used ([`ScanOptions::process_ends`]).
    pub process_ends: bool,
}

impl Options {
    /// Options checking the environments `envs`.
    pub fn envs(envs: &[String]) -> Self {
        Self {
            envs: envs.to_vec(),
            ..Self::default()
        }
    }
}

/// Runs the check on the workspace at `root` for the environments `envs` (as given to
/// `--env`; empty means `all`), reading `SECRETS_TRUST` and a `[backend]`'s credentials
/// from the process environment.
pub fn check(root: &Path, envs: &[String]) -> Result<Report, CheckError> {
    check_with(root, &Options::envs(envs), &|name| std::env::var_os(name))
}

/// The check with `options`, reading `SECRETS_TRUST` and the credentials of a
/// Vault/OpenBao `[backend]` through `vars`. Declarations come from the selected packages
/// (and their workspace dependencies), stored values of those names only (a value another
/// package uses is not "undeclared" here). What the check trusted is remembered in this
/// clone ([`crate::trusted`]).
pub fn check_with(
    root: &Path,
    options: &Options,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Report, CheckError> {
    let mut scan_options = ScanOptions::with_hardcoded();
    scan_options.hardcoded_in_tests = options.hardcoded_in_tests;
    scan_options.process_ends = options.process_ends;
    // The scan (on every core) and `git ls-files` run while the store is read and judged
    // with its history, which mostly waits for git.
    std::thread::scope(|scope| {
        let scanning = scope.spawn(|| scan_workspace_with(root, scan_options));
        let tracking = scope.spawn(|| tracked_overrides(root));
        let inputs = check_inputs(root, options, vars);
        let scan = joined(scanning);
        let tracked_overrides = joined(tracking);
        let CheckInputs {
            hardcoded,
            environments,
            types,
            store_path,
            mut stored,
            trusted,
            merge_driver,
        } = inputs?;
        let overrides = override_names(root)?;
        let selection = &options.selection;
        let scan = scan?.select(selection)?;
        if !selection.packages.is_empty() {
            stored.retain(|value| {
                scan.declarations
                    .iter()
                    .any(|declaration| declaration.name == value.name)
            });
        }
        let (trusted, state) = match trusted {
            Some((trusted, state)) => (Some(trusted), state),
            None => (None, Default::default()),
        };
        let mut report = compare(
            scan,
            Inputs {
                environments,
                store_path,
                stored,
                state,
                tracked_overrides,
                merge_driver,
                ci: vars("CI").is_some_and(|value| !value.is_empty() && value != "false"),
                deny_rotation_due: options.deny_rotation_due,
                overrides,
                hardcoded_allow: hardcoded.allow,
                deny_hardcoded: options.deny_hardcoded || hardcoded.deny,
            },
        );
        report.types = types;
        if let Some(trusted) = trusted {
            trusted.remember();
        }
        Ok(report)
    })
}

/// What a scoped thread returned, its panic passed on.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What [`check_inputs`] reads besides the scan.
struct CheckInputs {
    /// `secrets.toml`'s settings for credentials written into the source.
    hardcoded: secret_core::config::Hardcoded,
    environments: Vec<Environment>,
    types: Vec<secret_core::EnvType>,
    store_path: PathBuf,
    stored: Vec<StoredValue>,
    /// The file store as judged, and what the judging found; `None` for a backend.
    trusted: Option<(Trusted, StateAudit)>,
    /// Whether git's merge driver is set up, where the store is a file git merges.
    merge_driver: Option<bool>,
}

/// Everything the check reads besides the scan: `secrets.toml`'s settings for credentials
/// written into the source, the environments, the types, the store (judged with its history
/// and this clone's memory, for the file store) and whether git's merge driver is set up.
fn check_inputs(
    root: &Path,
    options: &Options,
    vars: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<CheckInputs, CheckError> {
    let config = Config::load(root)?;
    let hardcoded = config.hardcoded.clone();
    let pin = match &options.trust {
        Some(pin) => Some(pin.clone()),
        None => crate::trusted::pin(vars)?,
    };
    let file_store = config.backend.is_none();
    // Environments resolve by the signed rules, as readers resolve them. The file store is
    // read once, and judged with its history and this clone's memory.
    let (environments, types, store_path, stored, trusted) = if file_store {
        let trusted = Trusted::judge(root, config, Store::load(root)?, pin.as_ref())?;
        let environments = environments(&trusted.state, &options.envs)?;
        let (stored, audit) = stored::file_values(&trusted, &environments);
        let types = trusted.state.effective().types.clone();
        let path = PathBuf::from(secret_core::STORE_FILE);
        (environments, types, path, stored, Some((trusted, audit)))
    } else {
        let resolving = secret_core::state::State::load(root, pin.as_ref())?;
        let environments = environments(&resolving, &options.envs)?;
        let (path, stored) = stored::backend_values(root, &resolving, vars)?;
        let types = resolving.effective().types.clone();
        (environments, types, path, stored, None)
    };
    // The merge driver matters where the store is a file that git merges.
    let merge_driver = (file_store && root.join(secret_core::STORE_FILE).is_file())
        .then(|| crate::git::driver_configured(root))
        .flatten();
    Ok(CheckInputs {
        hardcoded,
        environments,
        types,
        store_path,
        stored,
        trusted,
        merge_driver,
    })
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

#[cfg(feature = "cli")]
/// `--leaks`: searches tracked files and the target directory for the values the
/// identity (read through `vars`) can decrypt, adds a `leaked-secret` error per file and
/// secret to `report`, and returns what the caller should tell the user: a warning about
/// the identity file's permissions, notes on what was not searched for.
pub(crate) fn search_leaks(
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
/// What the `--leaks` search has to say besides its diagnostics.
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
    let error = secret_core::text::escape_control_keep_lines(&error.to_string());
    format!("error: {error}\nerror: check-secrets could not run (exit status 2)\n")
}
