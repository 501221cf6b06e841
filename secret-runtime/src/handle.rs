//! The `Secret` handle: what `secret!` evaluates to, resolved once and cached.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use secrecy::{ExposeSecret, SecretString};

use crate::registry::Declaration;
use crate::{Error, ErrorKind, resolver};

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
            Some(declaration) => resolver::resolve_cached(
                declaration.name(),
                declaration.manifest_dir().map(Path::new),
            ),
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
