//! The `Secret` handle and the `Declaration` each `secret!` records in the binary.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, ErrorKind, resolver};

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
    /// an error ([`Secret::get`] gives `Ok(None)`, [`crate::check_all`] passes).
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

/// A declared secret. Create it with [`crate::secret!`]; read it with [`Secret::expose`].
///
/// The value is resolved on the first `expose()`, once even when many threads ask at the
/// same time, and cached for the life of the process in memory that is zeroed when
/// dropped. A missing value or a broken source is cached the same way; a failure that may
/// pass ([`Error::is_transient`]: the Vault/OpenBao server unreachable or answering 5xx)
/// is not, and the next `expose()` resolves again. `Debug` and `Display` show the name and
/// the state, never the value.
pub struct Secret {
    declaration: Option<&'static Declaration>,
    value: OnceLock<Result<Arc<SecretString>, Error>>,
}

impl Secret {
    #[doc(hidden)]
    pub const fn __from_declaration(declaration: &'static Declaration) -> Self {
        Self {
            declaration: Some(declaration),
            value: OnceLock::new(),
        }
    }

    /// The secret's name.
    pub fn name(&self) -> &'static str {
        self.declaration.map_or("<invalid>", Declaration::name)
    }

    /// Where the secret was declared.
    pub fn declaration(&self) -> Option<&'static Declaration> {
        self.declaration
    }

    /// The value, resolved on first use and cached afterwards.
    ///
    /// The error names the secret, the environment, every source tried and the command that
    /// sets a value. A transient error ([`Error::is_transient`]) is not cached: calling
    /// again asks the sources again.
    #[inline]
    pub fn expose(&self) -> Result<&str, Error> {
        // Fast path: after the first call this is one atomic load and two pointer reads.
        if let Some(Ok(value)) = self.value.get() {
            return Ok(value.expose_secret());
        }
        match self.resolved() {
            Ok(value) => Ok(value.expose_secret()),
            Err(error) => Err(error),
        }
    }

    /// The value, or `Ok(None)` when no source has one: for secrets declared
    /// `secret!("Name", optional)`, whose absence the program handles.
    ///
    /// Only "no value anywhere" is `None`: a malformed file, a value that cannot be
    /// decrypted or an unreachable backend is still an error, so a broken deploy is not
    /// mistaken for a feature that is turned off.
    ///
    /// ```no_run
    /// use secret_runtime::{secret, Secret};
    ///
    /// static SENTRY_DSN: Secret = secret!("SentryDSN", optional);
    ///
    /// fn main() -> Result<(), secret_runtime::Error> {
    ///     match SENTRY_DSN.get()? {
    ///         Some(dsn) => println!("error tracking on ({} bytes of DSN)", dsn.len()),
    ///         None => println!("error tracking off"),
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn get(&self) -> Result<Option<&str>, Error> {
        match self.expose() {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_missing() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether a resolution already gave a lasting result (a value, or an error that is
    /// not transient).
    pub fn is_resolved(&self) -> bool {
        self.value.get().is_some()
    }

    /// The cached result, or a new resolution; a transient error is returned without
    /// being cached.
    #[cold]
    fn resolved(&self) -> Result<&Arc<SecretString>, Error> {
        if let Some(result) = self.value.get() {
            return result.as_ref().map_err(Clone::clone);
        }
        let result = match self.declaration {
            Some(declaration) => {
                resolver::resolve_cached(declaration.name, declaration.manifest_dir.map(Path::new))
            }
            None => Err(Error::new(ErrorKind::Invalid)),
        };
        match result {
            Err(error) if error.is_transient() => Err(error),
            result => self
                .value
                .get_or_init(|| result)
                .as_ref()
                .map_err(Clone::clone),
        }
    }

    fn state(&self) -> &'static str {
        match self.value.get() {
            None => "unresolved",
            Some(Ok(_)) => "set",
            Some(Err(error)) if error.is_missing() => "missing",
            Some(Err(_)) => "error",
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?}, {})", self.name(), self.state())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
