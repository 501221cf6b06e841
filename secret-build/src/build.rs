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

use secret_core::{CONFIG_FILE, Config, Environment, STORE_FILE};

use crate::check::{self, Cell};
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
    match missing(root, manifest_dir, package, env_name) {
        // A deploy build that cannot be checked fails; a local one warns.
        Err((problem, true)) => out.push(Instruction::Error(format!(
            "the secrets of this build cannot be checked (SECRETS_ENV={env_name}): {problem}"
        ))),
        Err((problem, false)) if mode != Some("cloud-only") => out.push(Instruction::Warning(
            format!("{problem} (the build-time secret check is skipped)"),
        )),
        Err(_) => {}
        Ok((env, names)) => {
            for (name, place) in names {
                let message = format!(
                    "secret `{name}` ({place}) has no value for {env}; set it with `{}`",
                    env.set_command(&name)
                );
                if env.ty.is_cloud() {
                    out.push(Instruction::Error(format!(
                        "{message}; see every missing secret of {package} at once with `cargo xtask check-secrets --env {} -p {package}`",
                        env.name
                    )));
                } else if mode != Some("cloud-only") {
                    out.push(Instruction::Warning(message));
                }
            }
        }
    }
    out
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

/// The secrets `package`'s library and binaries declare that have no value for `env_name`,
/// with where each is first declared. The error says why the check cannot run, and whether
/// that fails the build (any environment but a local one).
fn missing(
    root: &Path,
    manifest_dir: &Path,
    package: &str,
    env_name: &str,
) -> Result<(Environment, BTreeMap<String, String>), (String, bool)> {
    let local_name = secret_core::EnvType::parse(env_name) == Some(secret_core::EnvType::Local);
    let config = Config::load(root).map_err(|error| (error.to_string(), !local_name))?;
    if let Some(ty) = secret_core::EnvType::parse(env_name).filter(|ty| !config.uses(*ty)) {
        // A project without local environments has nothing to check in a plain build;
        // another type it does not use is an error naming `types`.
        if ty == secret_core::EnvType::Local {
            return Ok((Environment::of_type(ty), BTreeMap::new()));
        }
        let error = config.check_type_used(ty).unwrap_err();
        return Err((error.to_string(), true));
    }
    let env = config.resolve_env(env_name).map_err(|error| {
        let suggestion = error
            .help
            .filter(|help| help.starts_with("did you mean"))
            .map(|help| format!(" ({help})"))
            .unwrap_or_default();
        (
            format!(
                "SECRETS_ENV={env_name} is not an environment of this workspace{suggestion}; the known environments are {}",
                config.known_environments()
            ),
            true,
        )
    })?;
    let fatal = env.ty.is_cloud();
    let (_, mut stored) = check::stored_values(root).map_err(|error| (error.to_string(), fatal))?;
    // A value readers refuse (unsigned, forged, or written by someone who may not) is no
    // value: a deploy build must not pass on it.
    stored.retain(|value| {
        value
            .audit
            .as_ref()
            .is_none_or(|audit| audit.trust.is_trusted())
    });
    let workspace =
        secret_core::workspace::find_root(manifest_dir).unwrap_or_else(|| root.to_owned());
    let report = scan::scan_workspace(&workspace).map_err(|error| (error.to_string(), fatal))?;
    let overrides: Vec<String> = if env.ty.is_cloud() {
        Vec::new()
    } else {
        [".secrets.local.toml", ".secrets.local.cue"]
            .iter()
            .filter_map(|file| {
                secret_core::overrides::load(&root.join(file))
                    .ok()
                    .flatten()
            })
            .flat_map(|values| values.into_keys())
            .collect()
    };
    let mut names = BTreeMap::new();
    for declaration in &report.declarations {
        let built = matches!(declaration.target_kind.as_str(), "lib" | "bin");
        if declaration.package != package
            || !built
            || declaration.optional
            || overrides.contains(&declaration.name)
        {
            continue;
        }
        if check::resolve(&stored, &declaration.name, &env) == Cell::Missing {
            let place = format!(
                "{}:{}:{}",
                declaration.path.display(),
                declaration.line,
                declaration.column
            );
            names.entry(declaration.name.clone()).or_insert(place);
        }
    }
    Ok((env, names))
}
