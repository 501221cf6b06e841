//! The list of every secret compiled into the binary: the `Declaration` each `secret!`
//! records, registered at link time, and the conventional variables they name.

use std::collections::BTreeMap;

/// Where a `secret!` was written: recorded in the binary, listed by [`crate::declarations`].
#[derive(Debug)]
pub struct Declaration {
    name: &'static str,
    krate: &'static str,
    file: &'static str,
    line: u32,
    column: u32,
    manifest_dir: Option<&'static str>,
    optional: bool,
    env: Option<&'static str>,
}

impl Declaration {
    /// What `secret!` records, from the tuple its proc macro expands to: name, crate, file,
    /// line, column, manifest folder (`""` when unknown), whether it is optional, and the
    /// variable of `env = "..."` (`""` when none).
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    pub const fn __declare(
        (name, krate, file, line, column, manifest_dir, optional, env): (
            &'static str,
            &'static str,
            &'static str,
            u32,
            u32,
            &'static str,
            bool,
            &'static str,
        ),
    ) -> Self {
        Self {
            name,
            krate,
            file,
            line,
            column,
            manifest_dir: if manifest_dir.is_empty() {
                None
            } else {
                Some(manifest_dir)
            },
            optional,
            env: if env.is_empty() { None } else { Some(env) },
        }
    }

    /// The conventional environment variable of `secret!("DatabaseURL", env =
    /// "DATABASE_URL")`, which the run time reads after `SECRET_<Name>`.
    pub fn env_var(&self) -> Option<&'static str> {
        self.env
    }

    /// Whether it was declared `secret!("Name", optional)`: a missing value is then not
    /// an error ([`crate::Secret::get`] gives `Ok(None)`, [`crate::check_all`] passes).
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The secret's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The package that declares it.
    pub fn krate(&self) -> &'static str {
        self.krate
    }

    /// The source file, as `file!()` gives it.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The 1-based line of the declaration (of its name literal).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The 1-based column of the declaration (of its name literal).
    pub fn column(&self) -> u32 {
        self.column
    }

    /// The package's manifest folder at build time.
    pub fn manifest_dir(&self) -> Option<&'static str> {
        self.manifest_dir
    }
}

/// One `secret!` invocation, registered at link time.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registered(pub &'static Declaration);

inventory::collect!(Registered);

/// Every `secret!` declaration compiled into this binary, from every crate, sorted by name,
/// then crate, file and line.
pub fn declarations() -> Vec<&'static Declaration> {
    let mut all: Vec<&'static Declaration> = inventory::iter::<Registered>
        .into_iter()
        .map(|registered| registered.0)
        .collect();
    all.sort_by_key(|d| (d.name(), d.krate(), d.file(), d.line(), d.column()));
    all
}

/// The conventional variables the declarations of `name` compiled into this binary name
/// (`secret!("DatabaseURL", env = "DATABASE_URL")`), each once, from a map built on first
/// use.
pub(crate) fn env_vars(name: &str) -> Vec<&'static str> {
    static MAP: std::sync::OnceLock<BTreeMap<&'static str, Vec<&'static str>>> =
        std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut map: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for declaration in declarations() {
            if let Some(variable) = declaration.env_var() {
                let vars = map.entry(declaration.name()).or_default();
                if !vars.contains(&variable) {
                    vars.push(variable);
                }
            }
        }
        map
    });
    map.get(name).cloned().unwrap_or_default()
}
