//! The sources a value can come from, in the order of the chain: the local override files,
//! `SECRET_<Name>` variables, `$SECRETS_DIR/<Name>` files, and the store.
//!
//! A [`Source`] is one link of the chain a [`crate::Resolver`] walks; the store and the
//! Vault backend are further implementations of the same trait.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use secrecy::SecretString;
use secret_core::Environment;
use zeroize::Zeroize;

use crate::Error;

/// What a source says about one secret.
#[derive(Debug)]
pub enum Lookup {
    /// The source has a value.
    Found(SecretString),
    /// The source has no value; the text says why, for the missing-value message
    /// (`not set`, `no such file`).
    NotFound(String),
}

/// One place a secret's value may come from.
pub trait Source: Send + Sync + fmt::Debug {
    /// How the source is named in messages, for the secret `name`
    /// (`environment variable SECRET_GitHubAPIToken`).
    fn describe(&self, name: &str) -> String;

    /// Looks `name` up for `env`. An `Err` stops the resolution: the source exists but is
    /// broken (a malformed file, a value that cannot be decrypted).
    fn lookup(&self, name: &str, env: &Environment) -> Result<Lookup, Error>;

    /// Called before [`Source::lookup`] of each of many `names` at once
    /// ([`crate::Resolver::resolve_all`], `check_all()`), so the source can do work they share
    /// up front: the store checks the signatures of their values in one batch. Errors are
    /// left for `lookup` to report. Does nothing unless overridden.
    fn prepare(&self, names: &[&str], env: &Environment) {
        let _ = (names, env);
    }
}

/// A function that reads one process environment variable; injected so tests need not
/// change the real environment.
pub type VarReader = Arc<dyn Fn(&str) -> Option<OsString> + Send + Sync>;

/// Moves a `String` into a [`SecretString`] and wipes the original buffer.
pub(crate) fn into_secret(mut value: String) -> SecretString {
    let secret = SecretString::from(value.as_str());
    value.zeroize();
    secret
}

/// `SECRET_<Name>` environment variables, then the conventional variable a declaration
/// names (`secret!("DatabaseURL", env = "DATABASE_URL")`): `SECRET_<Name>` wins.
pub struct EnvVarSource {
    vars: VarReader,
    /// Name -> the conventional variables declared for it; `None`: those of the
    /// declarations compiled into this binary ([`crate::declarations`]).
    conventional: Option<BTreeMap<String, Vec<String>>>,
}

impl EnvVarSource {
    /// Reads variables through `vars`: `SECRET_<Name>`, then the variable each
    /// `secret!(.., env = "...")` compiled into this binary names.
    pub fn new(vars: VarReader) -> Self {
        Self {
            vars,
            conventional: None,
        }
    }

    /// Reads `SECRET_<Name>`, then the variables `conventional` gives for the name (name ->
    /// variables) instead of those the binary's declarations name.
    pub fn with_conventional(vars: VarReader, conventional: BTreeMap<String, Vec<String>>) -> Self {
        Self {
            vars,
            conventional: Some(conventional),
        }
    }

    /// The conventional variables of `name`.
    fn conventional(&self, name: &str) -> Vec<&str> {
        match &self.conventional {
            Some(map) => map
                .get(name)
                .map(|vars| vars.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            None => crate::registry::env_vars(name),
        }
    }
}

impl fmt::Debug for EnvVarSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvVarSource")
    }
}

impl Source for EnvVarSource {
    fn describe(&self, name: &str) -> String {
        match self.conventional(name).as_slice() {
            [] => format!("environment variable SECRET_{name}"),
            more => format!("environment variables SECRET_{name}, {}", more.join(", ")),
        }
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, Error> {
        let first = format!("SECRET_{name}");
        let conventional = self.conventional(name);
        for variable in std::iter::once(first.as_str()).chain(conventional) {
            let Some(value) = (self.vars)(variable) else {
                continue;
            };
            return match value.into_string() {
                Ok(value) => Ok(Lookup::Found(into_secret(value))),
                Err(raw) => {
                    raw.into_encoded_bytes().zeroize();
                    Err(Error::from_source(
                        name,
                        format!("environment variable {variable}"),
                        "the value is not valid UTF-8",
                    ))
                }
            };
        }
        Ok(Lookup::NotFound("not set".to_owned()))
    }
}

/// Files `$SECRETS_DIR/<Name>`, as container platforms mount secrets. One trailing newline
/// is stripped (`echo value > file` writes one).
#[derive(Debug)]
pub struct DirSource {
    dir: Option<PathBuf>,
}

impl DirSource {
    /// Reads from `dir`; `None` when `SECRETS_DIR` is not set, so that the missing-value
    /// message can say so.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }
}

impl Source for DirSource {
    fn describe(&self, name: &str) -> String {
        match &self.dir {
            Some(dir) => format!("file {}", dir.join(name).display()),
            None => format!("file $SECRETS_DIR/{name}"),
        }
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, Error> {
        let Some(dir) = &self.dir else {
            return Ok(Lookup::NotFound("SECRETS_DIR is not set".to_owned()));
        };
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(mut value) => {
                    if value.ends_with('\n') {
                        value.pop();
                        if value.ends_with('\r') {
                            value.pop();
                        }
                    }
                    Ok(Lookup::Found(into_secret(value)))
                }
                Err(error) => {
                    error.into_bytes().zeroize();
                    Err(Error::from_source(
                        name,
                        self.describe(name),
                        "the file is not valid UTF-8",
                    ))
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(Lookup::NotFound("no such file".to_owned()))
            }
            Err(error) => Err(Error::from_source(
                name,
                self.describe(name),
                format!("cannot read the file: {error}"),
            )),
        }
    }
}

pub use secret_core::overrides::{OVERRIDE_CUE, OVERRIDE_TOML};

/// A local override file, `.secrets.local.toml` or `.secrets.local.cue`, read once on
/// first use. Only consulted for environments of type `local`.
#[derive(Debug)]
pub struct OverrideSource {
    path: PathBuf,
    values: OnceLock<Result<Option<BTreeMap<String, SecretString>>, Error>>,
}

impl OverrideSource {
    /// The override file at `path`; its format follows the extension (`.cue` or TOML).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            values: OnceLock::new(),
        }
    }

    /// Both override files in the workspace root, TOML first.
    pub fn in_workspace(root: &Path) -> [Self; 2] {
        [
            Self::new(root.join(OVERRIDE_TOML)),
            Self::new(root.join(OVERRIDE_CUE)),
        ]
    }

    fn load(&self) -> Result<Option<BTreeMap<String, SecretString>>, Error> {
        Ok(secret_core::overrides::load(&self.path)?)
    }
}

impl Source for OverrideSource {
    fn describe(&self, _name: &str) -> String {
        format!("override file {}", self.path.display())
    }

    fn lookup(&self, name: &str, _env: &Environment) -> Result<Lookup, Error> {
        match self.values.get_or_init(|| self.load()) {
            Err(error) => Err(error.clone()),
            Ok(None) => Ok(Lookup::NotFound("no such file".to_owned())),
            Ok(Some(values)) => match values.get(name) {
                Some(value) => Ok(Lookup::Found(value.clone())),
                None => Ok(Lookup::NotFound("not set".to_owned())),
            },
        }
    }
}

/// Stands for the store when no workspace was found: never has a value, and says where the
/// resolver looked, so a missing value names the reason.
#[derive(Debug)]
pub struct NoWorkspace(pub String);

impl Source for NoWorkspace {
    fn describe(&self, _name: &str) -> String {
        "the store (no workspace found)".to_owned()
    }

    fn lookup(&self, _name: &str, _env: &Environment) -> Result<Lookup, Error> {
        Ok(Lookup::NotFound(self.0.clone()))
    }
}

/// Stands for the `[backend]` of `secrets.toml` in a build without the `vault` feature:
/// never has a value, and says why.
#[derive(Debug)]
pub struct BackendDisabled(pub String);

impl Source for BackendDisabled {
    fn describe(&self, _name: &str) -> String {
        format!("the [backend] {}", self.0)
    }

    fn lookup(&self, _name: &str, _env: &Environment) -> Result<Lookup, Error> {
        Ok(Lookup::NotFound(
            "this program was built without the `vault` feature of secret-runtime".to_owned(),
        ))
    }
}
