//! The build-script helper: the build-time secret check as `build.rs` output, for teams
//! that prefer it to the `secret!` macro's own warnings.
//!
//! ```no_run
//! // In the crate's build.rs, inside `fn main`:
//! secret_build::build::check();
//! ```
//!
//! For the environment in `SECRETS_ENV` (default `local`) it prints one `cargo::warning`
//! per secret the crate declares that has no value (local environments), or one
//! `cargo::error` each (production, development, preview), which fails the build. It prints
//! the `rerun-if-changed` lines for `secrets.toml`, `secrets.enc.toml` and the crate's
//! `src/`, and `rerun-if-env-changed` for `SECRETS_ENV` and `SECRETS_BUILD_CHECK`
//! (`off` silences it, `cloud-only` keeps only the errors).
//!
//! It sets `SECRETS_MACRO_CHECK=off` for the crate's compilation, so the `secret!` macro
//! does not report the same secrets a second time. Like the macro, a check that cannot run
//! (a malformed file, an unknown `SECRETS_ENV`) is an error for any environment but a local
//! one, and a crate that declares secrets in a workspace without `secrets.toml` gets one
//! warning saying so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secret_core::build_check::{Place, Said};
use secret_core::{CONFIG_FILE, STORE_FILE};

use crate::scan;

/// One line for cargo, without the `cargo::` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `rerun-if-changed=PATH`
    RerunIfChanged(PathBuf),
    /// `rerun-if-env-changed=VAR`
    RerunIfEnvChanged(&'static str),
    /// `warning=MESSAGE`
    Warning(String),
    /// `error=MESSAGE`
    Error(String),
    /// `rustc-env=VAR=VALUE`
    RustcEnv(&'static str, &'static str),
}

impl std::fmt::Display for Instruction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RerunIfChanged(path) => write!(f, "cargo::rerun-if-changed={}", path.display()),
            Self::RerunIfEnvChanged(var) => write!(f, "cargo::rerun-if-env-changed={var}"),
            Self::Warning(message) => write!(f, "cargo::warning={message}"),
            Self::Error(message) => write!(f, "cargo::error={message}"),
            Self::RustcEnv(var, value) => write!(f, "cargo::rustc-env={var}={value}"),
        }
    }
}

/// Runs the check for the crate whose build script calls it and prints the instructions.
/// Never panics: a problem with the configuration is a warning.
pub fn check() {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    let env = std::env::var("SECRETS_ENV").ok();
    let mode = std::env::var("SECRETS_BUILD_CHECK").ok();
    for instruction in instructions(&manifest_dir, &package, env.as_deref(), mode.as_deref()) {
        println!("{instruction}");
    }
}

/// The instructions for `package` in `manifest_dir`, building for `env` (`SECRETS_ENV`)
/// with `mode` (`SECRETS_BUILD_CHECK`).
pub fn instructions(
    manifest_dir: &Path,
    package: &str,
    env: Option<&str>,
    mode: Option<&str>,
) -> Vec<Instruction> {
    let mut out = vec![
        Instruction::RerunIfEnvChanged("SECRETS_ENV"),
        Instruction::RerunIfEnvChanged("SECRETS_BUILD_CHECK"),
        // This crate's report comes from here: the `secret!` macro stays quiet.
        Instruction::RustcEnv("SECRETS_MACRO_CHECK", "off"),
    ];
    let root = secret_core::workspace::find_root(manifest_dir)
        .filter(|root| root.join(CONFIG_FILE).is_file());
    let Some(root) = root.as_deref() else {
        // Rerun when `secret init` sets the workspace up (it touches the workspace's
        // `Cargo.toml`) or a declaration changes.
        if let Some(workspace) = secret_core::workspace::find_root(manifest_dir) {
            out.push(Instruction::RerunIfChanged(workspace.join("Cargo.toml")));
        }
        out.push(Instruction::RerunIfChanged(manifest_dir.join("src")));
        if mode.is_none_or(|mode| mode != "off" && mode != "cloud-only")
            && declares_secrets(manifest_dir, package)
        {
            out.push(Instruction::Warning(format!(
                "{package} declares secrets, but the workspace has no {CONFIG_FILE}, so no build checks that they have values; run `cargo xtask secret init` to start, or set SECRETS_BUILD_CHECK=off to silence this"
            )));
        }
        return out;
    };
    out.push(Instruction::RerunIfChanged(root.join(CONFIG_FILE)));
    if root.join(STORE_FILE).is_file() {
        out.push(Instruction::RerunIfChanged(root.join(STORE_FILE)));
    }
    out.push(Instruction::RerunIfChanged(manifest_dir.join("src")));
    if mode == Some("off") {
        return out;
    }
    let env_name = env.unwrap_or("local").trim();
    let verdict = secret_core::build_check::BuildCheck::load(root, env_name);
    let cloud_only = mode == Some("cloud-only");
    match verdict.problem_said() {
        Some(Said::Error(message)) => out.push(Instruction::Error(message)),
        Some(Said::Warning(message)) if !cloud_only => out.push(Instruction::Warning(message)),
        Some(Said::Warning(_)) => {}
        None => match declared(manifest_dir, package) {
            Err(message) => out.push(
                match verdict.environment().is_some_and(|env| env.ty.is_cloud()) {
                    true => Instruction::Error(format!(
                        "the secrets of this build cannot be checked (SECRETS_ENV={env_name}): {message}"
                    )),
                    false => Instruction::Warning(format!(
                        "{message} (the build-time secret check is skipped)"
                    )),
                },
            ),
            Ok(declared) => {
                for (name, at) in declared {
                    let place = Place {
                        at: Some(&at),
                        package: Some(package),
                    };
                    match verdict.say(&name, place, cloud_only) {
                        Some(Said::Error(message)) => out.push(Instruction::Error(message)),
                        Some(Said::Warning(message)) => out.push(Instruction::Warning(message)),
                        None => {}
                    }
                }
            }
        },
    }
    out
}

/// The secrets `package`'s library and binaries declare as required, each with where it is
/// first declared (`src/main.rs:4:31`).
fn declared(manifest_dir: &Path, package: &str) -> Result<BTreeMap<String, String>, String> {
    let workspace = secret_core::workspace::find_root(manifest_dir)
        .ok_or_else(|| format!("no Cargo workspace around {}", manifest_dir.display()))?;
    let report = scan::scan_workspace(&workspace).map_err(|error| error.to_string())?;
    let mut names = BTreeMap::new();
    for declaration in &report.declarations {
        let built = matches!(declaration.target_kind.as_str(), "lib" | "bin");
        if declaration.package != package || !built || declaration.optional {
            continue;
        }
        let place = format!(
            "{}:{}:{}",
            declaration.path.display(),
            declaration.line,
            declaration.column
        );
        names.entry(declaration.name.clone()).or_insert(place);
    }
    Ok(names)
}

/// Whether `package`'s library or binaries declare a secret.
fn declares_secrets(manifest_dir: &Path, package: &str) -> bool {
    let Some(workspace) = secret_core::workspace::find_root(manifest_dir) else {
        return false;
    };
    scan::scan_workspace(&workspace).is_ok_and(|report| {
        report.declarations.iter().any(|declaration| {
            declaration.package == package
                && matches!(declaration.target_kind.as_str(), "lib" | "bin")
        })
    })
}
