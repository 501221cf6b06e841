//! The resolver: the environment a program runs in and the chain of sources it asks, plus
//! the process-wide instance and cache behind every handle.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use secrecy::SecretString;
use secret_core::{Config, EnvType, Environment};

use crate::source::{DirSource, EnvVarSource, Lookup, OverrideSource, Source, VarReader};
use crate::{Error, ErrorKind};

/// The environment and the ordered chain of sources that values are resolved from.
///
/// Programs normally never build one: the first `expose()` builds it from the process
/// environment ([`Resolver::from_env`]). Build one yourself to add a source or to resolve
/// for a fixed environment, and [`install`] it before the first `expose()`.
pub struct Resolver {
    env: Environment,
    workspace: Option<PathBuf>,
    sources: Vec<Box<dyn Source>>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("env", &self.env)
            .field("workspace", &self.workspace)
            .field("sources", &self.sources)
            .finish()
    }
}

impl Resolver {
    /// A resolver for `env` with no sources yet.
    pub fn new(env: Environment) -> Self {
        Self {
            env,
            workspace: None,
            sources: Vec::new(),
        }
    }

    /// Appends a source to the chain; earlier sources win.
    #[must_use]
    pub fn with_source(mut self, source: impl Source + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// The resolver a program gets by default, from the process environment: see
    /// [`Resolver::from_vars`].
    pub fn from_env() -> Result<Self, Error> {
        let cwd = std::env::current_dir().ok();
        Self::from_vars(
            Arc::new(|name| std::env::var_os(name)),
            cwd.as_deref(),
            None,
        )
    }

    /// Builds the standard chain, reading variables through `vars`:
    ///
    /// - the workspace root is `SECRETS_WORKSPACE`, else, in a debug build only (of this
    ///   crate: `debug_assertions`), the workspace around `manifest_dir` (the crate's
    ///   build-time `CARGO_MANIFEST_DIR`) if it still exists, else the workspace around
    ///   `cwd`: a release binary copied to a server never reads the development store of the
    ///   folder it was built in;
    /// - the environment is `SECRETS_ENV` (default `local`), resolved against the named
    ///   environments of `secrets.toml`;
    /// - the sources are the override files (local environments only), `SECRET_<Name>`,
    ///   `$SECRETS_DIR/<Name>`, and the store, or the Vault/OpenBao engine when
    ///   `secrets.toml` has a `[backend]` (feature `vault`).
    pub fn from_vars(
        vars: VarReader,
        cwd: Option<&Path>,
        manifest_dir: Option<&Path>,
    ) -> Result<Self, Error> {
        // An empty value is unset, not the current folder.
        let manifest_dir = manifest_dir.filter(|_| BUILD_TIME_WORKSPACE);
        let workspace = match vars("SECRETS_WORKSPACE").filter(|dir| !dir.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => manifest_dir
                .filter(|dir| dir.is_dir())
                .and_then(secret_core::workspace::find_root)
                .or_else(|| cwd.and_then(secret_core::workspace::find_root)),
        };
        let config = match &workspace {
            Some(root) => Config::load(root)?,
            None => Config::default(),
        };
        let env_name = vars("SECRETS_ENV")
            .map(lossy)
            .unwrap_or_else(|| "local".to_owned());
        #[cfg(feature = "store")]
        let store = match (&config.backend, &workspace) {
            (None, Some(root)) => Some(crate::store::StoreSource::with_config(
                root.clone(),
                config.clone(),
                vars.clone(),
            )),
            _ => None,
        };
        // With the store, the environment resolves by its signed access rules: a change to
        // secrets.toml nobody signed (an environment repointed to another type, a pattern
        // added) does not change which value a program receives.
        #[cfg(feature = "store")]
        let signed = store
            .as_ref()
            .and_then(|store| store.environment(env_name.trim()));
        #[cfg(not(feature = "store"))]
        let signed: Option<Result<Environment, secret_core::FileError>> = None;
        let env = match signed {
            Some(env) => env?,
            None => config.resolve_env(env_name.trim())?,
        };
        let mut resolver = Self::new(env);
        if let Some(root) = workspace
            .as_ref()
            .filter(|_| resolver.env.ty == EnvType::Local)
        {
            for source in OverrideSource::in_workspace(root) {
                resolver = resolver.with_source(source);
            }
        }
        resolver = resolver
            .with_source(EnvVarSource::new(vars.clone()))
            .with_source(DirSource::new(vars("SECRETS_DIR").map(PathBuf::from)));
        match &config.backend {
            // `[backend]` replaces the file store at the same position of the chain.
            #[cfg(feature = "vault")]
            Some(backend) => {
                resolver =
                    resolver.with_source(crate::vault::VaultSource::new(backend.clone(), vars));
            }
            #[cfg(not(feature = "vault"))]
            Some(backend) => {
                resolver = resolver.with_source(crate::source::BackendDisabled(backend.describe()));
            }
            #[cfg(feature = "store")]
            None => {
                if let Some(store) = store {
                    resolver = resolver.with_source(store);
                }
            }
            #[cfg(not(feature = "store"))]
            None => {}
        }
        if workspace.is_none() {
            resolver = resolver.with_source(crate::source::NoWorkspace(no_workspace(cwd)));
        }
        resolver.workspace = workspace;
        Ok(resolver)
    }

    /// The environment values are resolved for.
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// The workspace root the override files and the store were found in, if any.
    pub fn workspace(&self) -> Option<&Path> {
        self.workspace.as_deref()
    }

    /// Resolves `name`: the first source with a value wins. No caching here; handles cache.
    ///
    /// A name that does not follow the naming rule is an error before any source is asked:
    /// it is never a path under `$SECRETS_DIR` or a variable name.
    pub fn resolve(&self, name: &str) -> Result<SecretString, Error> {
        if !secret_core::is_secret_name(name) {
            return Err(Error::new(ErrorKind::InvalidName {
                name: name.to_owned(),
            }));
        }
        let mut tried = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            match source.lookup(name, &self.env)? {
                Lookup::Found(value) => return Ok(value),
                Lookup::NotFound(why) => tried.push(format!("{} ({why})", source.describe(name))),
            }
        }
        Err(Error::new(ErrorKind::Missing {
            name: name.to_owned(),
            environment: self.env.to_string(),
            tried,
            fix: self.env.set_command(name),
        }))
    }
}

impl Resolver {
    /// Resolves every name in `names`, as [`Resolver::resolve`] does for each, on up to one
    /// thread per core: decrypting a store value is a signature check and an X25519 key
    /// exchange, so a program that needs many values at start-up gets them in a fraction of
    /// the time. The results are in the order of `names`.
    pub fn resolve_all(&self, names: &[&str]) -> Vec<Result<SecretString, Error>> {
        in_parallel_parts(names, |part| {
            self.prepare(part);
            part.iter().map(|name| self.resolve(name)).collect()
        })
    }

    /// Lets each source do the work `names` share before they are resolved one by one
    /// ([`Source::prepare`]: the store checks their values' signatures in one batch).
    pub(crate) fn prepare(&self, names: &[&str]) {
        for source in &self.sources {
            source.prepare(names, &self.env);
        }
    }
}

/// `f` on up to one part of `items` per core (this thread takes the first), the results
/// concatenated in order.
pub(crate) fn in_parallel_parts<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len())
        .min(16);
    if threads <= 1 {
        return f(items);
    }
    let mut parts = items.chunks(items.len().div_ceil(threads));
    let first = parts.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let f = &f;
        let others: Vec<_> = parts.map(|part| scope.spawn(move || f(part))).collect();
        let mut all: Vec<R> = f(first);
        for other in others {
            match other.join() {
                Ok(results) => all.extend(results),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

/// Whether a program may find its workspace from the folder its crate was built in: in
/// debug builds only, so that a release binary copied elsewhere never reads a development
/// store by accident.
const BUILD_TIME_WORKSPACE: bool = cfg!(debug_assertions);

/// Where the resolver looked for a workspace and found none, for the missing-value message.
fn no_workspace(cwd: Option<&Path>) -> String {
    let around = match cwd {
        Some(cwd) => format!("{} is in no Cargo workspace", cwd.display()),
        None => "the current folder is unknown".to_owned(),
    };
    let built = if BUILD_TIME_WORKSPACE {
        "the folder this program was built in is gone or in no workspace"
    } else {
        "a release build does not look in the folder it was built in"
    };
    format!("SECRETS_WORKSPACE is not set, {around}, and {built}")
}

fn lossy(value: OsString) -> String {
    value.to_string_lossy().into_owned()
}

static GLOBAL: OnceLock<Result<Resolver, Error>> = OnceLock::new();

/// One name's cached result, and the lock held while it is resolved (so concurrent first
/// uses resolve once).
type Slot = Arc<(Mutex<()>, OnceLock<Result<Arc<SecretString>, Error>>)>;

static CACHE: OnceLock<Mutex<HashMap<String, Slot>>> = OnceLock::new();

/// Makes `resolver` the one every handle uses. Call it before the first `expose()`;
/// afterwards the resolver is fixed and this returns it back as the error.
pub fn install(resolver: Resolver) -> Result<(), Resolver> {
    let mut slot = Some(resolver);
    GLOBAL.get_or_init(|| Ok(slot.take().expect("initialised once")));
    match slot {
        None => Ok(()),
        Some(resolver) => Err(resolver),
    }
}

/// The process-wide resolver, built from the process environment on first use.
pub(crate) fn global(manifest_dir: Option<&Path>) -> Result<&'static Resolver, Error> {
    GLOBAL
        .get_or_init(|| {
            let cwd = std::env::current_dir().ok();
            Resolver::from_vars(
                Arc::new(|name| std::env::var_os(name)),
                cwd.as_deref(),
                manifest_dir.map(Path::new),
            )
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Resolves `name` through the global resolver, once per process and name: every handle
/// declaring the same name shares the result. A transient error is not kept: the next call
/// resolves again.
pub(crate) fn resolve_cached(
    name: &str,
    manifest_dir: Option<&Path>,
) -> Result<Arc<SecretString>, Error> {
    let slot = {
        let mut cache = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        Arc::clone(cache.entry(name.to_owned()).or_default())
    };
    let (resolving, result) = &*slot;
    if let Some(result) = result.get() {
        return result.clone();
    }
    let _resolving = resolving
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(result) = result.get() {
        return result.clone();
    }
    match global(manifest_dir).and_then(|resolver| resolver.resolve(name)) {
        Err(error) if error.is_transient() => Err(error),
        resolved => result.get_or_init(|| resolved.map(Arc::new)).clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs;

    use secrecy::ExposeSecret;

    use super::*;

    /// A workspace folder with the given files, and a resolver over it built from `vars`.
    fn resolver(
        files: &[(&str, &str)],
        vars: &[(&str, &str)],
    ) -> (tempfile::TempDir, Result<Resolver, Error>) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Cargo.toml"), "[workspace]\n").unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        let mut map: HashMap<String, OsString> = vars
            .iter()
            .map(|(key, value)| ((*key).to_owned(), OsString::from(value)))
            .collect();
        map.entry("SECRETS_WORKSPACE".to_owned())
            .or_insert_with(|| dir.path().into());
        let resolver =
            Resolver::from_vars(Arc::new(move |name| map.get(name).cloned()), None, None);
        (dir, resolver)
    }

    fn value(resolver: &Resolver, name: &str) -> String {
        resolver.resolve(name).unwrap().expose_secret().to_owned()
    }

    #[test]
    fn each_source_alone() {
        let (_dir, r) = resolver(&[(".secrets.local.toml", "A = \"from-toml\"\n")], &[]);
        assert_eq!(value(&r.unwrap(), "A"), "from-toml");
        let (_dir, r) = resolver(&[(".secrets.local.cue", "A: \"from-cue\"\n")], &[]);
        assert_eq!(value(&r.unwrap(), "A"), "from-cue");
        let (_dir, r) = resolver(&[], &[("SECRET_A", "from-var")]);
        assert_eq!(value(&r.unwrap(), "A"), "from-var");
        let secrets = tempfile::tempdir().unwrap();
        fs::write(secrets.path().join("A"), "from-dir\n").unwrap();
        let (_dir, r) = resolver(&[], &[("SECRETS_DIR", secrets.path().to_str().unwrap())]);
        assert_eq!(
            value(&r.unwrap(), "A"),
            "from-dir",
            "one trailing newline is stripped"
        );
    }

    #[test]
    fn a_conventional_variable_is_read_after_secret_name() {
        let vars: HashMap<String, OsString> = [("DATABASE_URL", "from-convention")]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), OsString::from(value)))
            .collect();
        let vars: VarReader = Arc::new(move |name| vars.get(name).cloned());
        let conventional = [("DatabaseURL".to_owned(), vec!["DATABASE_URL".to_owned()])].into();
        let r = Resolver::new(Environment::of_type(EnvType::Production))
            .with_source(EnvVarSource::with_conventional(vars.clone(), conventional));
        assert_eq!(value(&r, "DatabaseURL"), "from-convention");
        let error = r.resolve("Other").unwrap_err().to_string();
        assert!(
            error.contains("tried: environment variable SECRET_Other (not set)"),
            "{error}"
        );

        let both: VarReader = Arc::new(|name| match name {
            "SECRET_DatabaseURL" => Some("from-secret".into()),
            "DATABASE_URL" => Some("from-convention".into()),
            _ => None,
        });
        let conventional = [("DatabaseURL".to_owned(), vec!["DATABASE_URL".to_owned()])].into();
        let r = Resolver::new(Environment::of_type(EnvType::Production))
            .with_source(EnvVarSource::with_conventional(both, conventional));
        assert_eq!(
            value(&r, "DatabaseURL"),
            "from-secret",
            "SECRET_<Name> wins"
        );

        let none: VarReader = Arc::new(|_| None);
        let conventional = [("DatabaseURL".to_owned(), vec!["DATABASE_URL".to_owned()])].into();
        let r = Resolver::new(Environment::of_type(EnvType::Production))
            .with_source(EnvVarSource::with_conventional(none, conventional));
        let error = r.resolve("DatabaseURL").unwrap_err().to_string();
        assert!(
            error.contains(
                "tried: environment variables SECRET_DatabaseURL, DATABASE_URL (not set)"
            ),
            "{error}"
        );
    }

    #[test]
    fn resolve_all_gives_each_names_result_in_order() {
        let names: Vec<String> = (0..40).map(|i| format!("N{i}")).collect();
        let vars: Vec<(String, String)> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(i, name)| (format!("SECRET_{name}"), format!("value-{i}")))
            .collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_dir, r) = resolver(&[], &vars);
        let r = r.unwrap();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let results = r.resolve_all(&refs);
        assert_eq!(results.len(), names.len());
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(value) if i % 3 != 0 => assert_eq!(value.expose_secret(), format!("value-{i}")),
                Err(error) if i % 3 == 0 => {
                    assert!(error.is_missing(), "{error}");
                    assert!(error.to_string().contains(&format!("N{i}")), "{error}");
                }
                other => panic!("N{i}: {other:?}"),
            }
        }
    }

    #[test]
    fn precedence_overrides_then_variable_then_dir() {
        let secrets = tempfile::tempdir().unwrap();
        fs::write(secrets.path().join("A"), "dir").unwrap();
        fs::write(secrets.path().join("B"), "dir").unwrap();
        fs::write(secrets.path().join("C"), "dir").unwrap();
        let files = [
            (".secrets.local.toml", "A = \"toml\"\n"),
            (".secrets.local.cue", "A: \"cue\"\nB: \"cue\"\n"),
        ];
        let dir = secrets.path().to_str().unwrap();
        let vars = [
            ("SECRETS_DIR", dir),
            ("SECRET_A", "var"),
            ("SECRET_B", "var"),
            ("SECRET_C", "var"),
        ];
        let (_ws, r) = resolver(&files, &vars);
        let r = r.unwrap();
        assert_eq!(value(&r, "A"), "toml", "the TOML override beats everything");
        assert_eq!(value(&r, "B"), "cue", "the CUE override beats variables");
        assert_eq!(value(&r, "C"), "var", "a variable beats $SECRETS_DIR");
    }

    #[test]
    fn overrides_apply_to_local_environments_only() {
        let files = [
            (
                "secrets.toml",
                "[environments]\nstaging = \"development\"\n",
            ),
            (".secrets.local.toml", "A = \"override\"\n"),
        ];
        let (_ws, r) = resolver(&files, &[("SECRETS_ENV", "staging"), ("SECRET_A", "var")]);
        let r = r.unwrap();
        assert_eq!(r.environment().name, "staging");
        assert_eq!(value(&r, "A"), "var");
    }

    #[test]
    fn missing_value_names_secret_environment_sources_and_fix() {
        let (_ws, r) = resolver(&[], &[("SECRETS_ENV", "prod")]);
        let error = r
            .unwrap()
            .resolve("GitHubAPIToken")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("secret `GitHubAPIToken` has no value for environment production\n"),
            "{error}"
        );
        assert!(
            error.contains("tried: environment variable SECRET_GitHubAPIToken (not set)"),
            "{error}"
        );
        assert!(
            error.contains("tried: file $SECRETS_DIR/GitHubAPIToken (SECRETS_DIR is not set)"),
            "{error}"
        );
        assert!(
            !error.contains("override file"),
            "overrides are local only: {error}"
        );
        assert!(
            error
                .ends_with("help: set it with `cargo xtask secret set --type prod GitHubAPIToken`"),
            "{error}"
        );

        let files = [("secrets.toml", "[environments]\n\"pr-*\" = \"preview\"\n")];
        let (_ws, r) = resolver(&files, &[("SECRETS_ENV", "pr-42")]);
        let error = r.unwrap().resolve("A").unwrap_err().to_string();
        assert!(
            error.contains("no value for environment pr-42 (preview)"),
            "{error}"
        );
        assert!(
            error.contains("cargo xtask secret set --env pr-42 A"),
            "{error}"
        );
    }

    #[test]
    fn bad_files_are_errors_naming_file_and_line() {
        let (ws, r) = resolver(&[(".secrets.local.cue", "A: \"x\"\nB: 42\n")], &[]);
        let error = r.unwrap().resolve("A").unwrap_err().to_string();
        let cue = ws.path().join(".secrets.local.cue");
        assert_eq!(
            error,
            format!(
                "{}:2: secret key B is not a string; write `B: \"value\"`",
                cue.display()
            )
        );

        let (ws, r) = resolver(&[(".secrets.local.toml", "A = \"x\"\nB = 42\n")], &[]);
        let error = r.unwrap().resolve("A").unwrap_err().to_string();
        let toml = ws.path().join(".secrets.local.toml");
        assert!(
            error.starts_with(&format!(
                "{}:2: secret key B is not a string",
                toml.display()
            )),
            "{error}"
        );

        let (_ws, r) = resolver(&[], &[("SECRETS_ENV", "stagin")]);
        let error = r.unwrap_err().to_string();
        assert!(error.contains("unknown environment `stagin`"), "{error}");
    }
}
