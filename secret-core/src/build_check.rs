//! The build-time verdict, one rule for the `secret!` macro and the build-script helper: does
//! the environment a build targets (`SECRETS_ENV`, default `local`) have a usable value for
//! a secret, and what does the build say when it does not.
//!
//! A value counts when readers would use it ([`State::lookup`]): a value that is present
//! but refused (forged, written by someone who may not, older than one this clone trusted,
//! one of two that apply) is missing, as it is for `check-secrets` and at run time. A
//! missing value is a warning for local environments and an error for the others, so a
//! deploy build fails. Only names, scopes and signatures are read, never a value.

use std::collections::BTreeSet;
use std::path::Path;

use crate::config::Config;
use crate::env::{EnvType, Environment};
use crate::memory::Memory;
use crate::state::{Lookup, State};
use crate::store::Store;

/// Why the build-time check cannot run, and whether that fails the build (a build that
/// targets anything but a local environment must not pass unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong (names the file and line).
    pub message: String,
    /// Whether the build fails.
    pub fatal: bool,
    /// Nothing to check and nothing to say: a plain (`local`) build of a project whose
    /// `types` leave out `local`.
    pub quiet: bool,
}

/// What the build says about one declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A warning at the declaration (a local build).
    Warning(String),
    /// An error at the declaration (a deploy build).
    Error(String),
}

/// Everything the verdict needs about a workspace, for one `SECRETS_ENV`.
#[derive(Debug)]
pub struct BuildCheck {
    env_name: String,
    env: Result<Environment, Problem>,
    state: Result<State, Problem>,
    overrides: BTreeSet<String>,
}

/// Where a declaration is and who builds it, for the messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'a> {
    /// `src/main.rs:4:31`, when the message is not shown at the declaration itself.
    pub at: Option<&'a str>,
    /// The package, when the fix is checking one package (`-p`).
    pub package: Option<&'a str>,
}

impl BuildCheck {
    /// Reads the workspace at `root` for a build targeting `env_name`: `secrets.toml`, the
    /// store with its signed rules, this clone's memory (never written here), and the names
    /// in the local override files.
    pub fn load(root: &Path, env_name: &str) -> BuildCheck {
        // Only a build for `local` may go on unchecked; with a broken `secrets.toml` the type
        // of any other name is unknown.
        let local_name = EnvType::parse(env_name) == Some(EnvType::Local);
        let config = Config::load(root).map_err(|error| Problem {
            message: error.to_string(),
            fatal: !local_name,
            quiet: false,
        });
        let store = Store::load(root);
        let state = match (config, store) {
            (Err(problem), _) => Err(problem),
            (Ok(_), Err(error)) => Err(Problem {
                message: error.to_string(),
                fatal: !local_name,
                quiet: false,
            }),
            (Ok(config), Ok(store)) => {
                let memory = Memory::load(root).ok().flatten();
                Ok(State::new(config, store, None).with_memory(memory))
            }
        };
        let unused = EnvType::parse(env_name).filter(|ty| {
            state
                .as_ref()
                .is_ok_and(|state| !state.effective().uses(*ty))
        });
        let env = match (&state, unused) {
            (Err(problem), _) => Err(problem.clone()),
            // A type the project does not use: nothing to check for `local`, an error naming
            // `types` for the others.
            (Ok(state), Some(ty)) => Err(Problem {
                message: state
                    .effective()
                    .check_type_used(ty)
                    .err()
                    .map(|error| error.to_string())
                    .unwrap_or_default(),
                fatal: !local_name,
                quiet: local_name,
            }),
            (Ok(state), None) => state.resolve_env(env_name).map_err(|error| Problem {
                message: format!(
                    "SECRETS_ENV={env_name} is not an environment of this workspace{}; the known environments are {}",
                    error
                        .help
                        .filter(|help| help.starts_with("did you mean"))
                        .map(|help| format!(" ({help})"))
                        .unwrap_or_default(),
                    state.effective().known_environments()
                ),
                fatal: true,
                quiet: false,
            }),
        };
        // A store that cannot be read fails a deploy build only.
        let state = state.map_err(|mut problem| {
            if let Ok(env) = &env {
                problem.fatal = env.ty.is_cloud();
            }
            problem
        });
        BuildCheck {
            env_name: env_name.to_owned(),
            env,
            state,
            overrides: crate::overrides::names(root),
        }
    }

    /// Why the check cannot run, if it cannot.
    pub fn problem(&self) -> Option<&Problem> {
        self.env.as_ref().err().or(self.state.as_ref().err())
    }

    /// The environment the build targets, when the check can run.
    pub fn environment(&self) -> Option<&Environment> {
        self.env.as_ref().ok()
    }

    /// What the build says about a declaration of `name` (nothing when it has a usable
    /// value, or a local build with `cloud_only`).
    pub fn say(&self, name: &str, place: Place<'_>, cloud_only: bool) -> Option<Said> {
        let (Ok(env), Ok(state)) = (&self.env, &self.state) else {
            return None;
        };
        let refused = match state.lookup(name, env) {
            Lookup::Found { .. } => return None,
            Lookup::None if !env.ty.is_cloud() && self.overrides.contains(name) => return None,
            Lookup::None => None,
            Lookup::Refused { scope, refusal, .. } => Some(format!(
                "its value for {} {}",
                scope.key(),
                refusal.describe(scope)
            )),
            Lookup::Vanished { scope, .. } => Some(format!(
                "its value for {} is gone from the store without a signed removal",
                scope.key()
            )),
        };
        if !env.ty.is_cloud() && cloud_only {
            return None;
        }
        let at = place.at.map(|at| format!(" ({at})")).unwrap_or_default();
        let what = match &refused {
            Some(why) => format!(
                "has no usable value for {env}: {}",
                crate::text::escape_control(why)
            ),
            None => format!("has no value for {env}"),
        };
        let set = format!("set it with `{}`", env.set_command(name));
        if !env.ty.is_cloud() {
            return Some(Said::Warning(format!("secret `{name}`{at} {what}; {set}")));
        }
        Some(Said::Error(match place.package {
            Some(package) => format!(
                "secret `{name}`{at} {what}; {set}; see every missing secret of {package} at once with `cargo xtask check-secrets --env {} -p {package}`",
                env.name
            ),
            None => format!(
                "secret `{name}`{at} {what}, which this build targets (SECRETS_ENV={}); {set}; see every missing secret at once with `cargo xtask check-secrets --env {}`",
                self.env_name, env.name
            ),
        }))
    }

    /// The message for a check that cannot run: an error for a deploy build, a warning
    /// otherwise (`None` when the check can run).
    pub fn problem_said(&self) -> Option<Said> {
        let problem = self.problem().filter(|problem| !problem.quiet)?;
        Some(if problem.fatal {
            Said::Error(format!(
                "the secrets of this build cannot be checked (SECRETS_ENV={}): {}",
                self.env_name,
                crate::text::escape_control_keep_lines(&problem.message)
            ))
        } else {
            Said::Warning(format!(
                "{} (the build-time secret check is skipped)",
                crate::text::escape_control_keep_lines(&problem.message)
            ))
        })
    }
}
