//! The run-time error: what went wrong while resolving a secret, never the value.

use std::fmt;
use std::sync::Arc;

use secret_core::FileError;

/// Why a secret could not be resolved. Cheap to clone: a handle caches its result and hands
/// out clones of the error on every later `expose()`.
///
/// The message names the secret, the environment, every source tried and the command that
/// sets a value. It never contains a value.
#[derive(Clone)]
pub struct Error(Arc<ErrorKind>);

/// The kinds of [`Error`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No source had a value.
    Missing {
        /// The secret's name.
        name: String,
        /// The environment resolved for, as shown to the user (`local`, `staging (development)`).
        environment: String,
        /// Each source tried, with why it had no value.
        tried: Vec<String>,
        /// The command that sets a value.
        fix: String,
    },
    /// A file the resolution depends on is malformed or unreadable (`secrets.toml`, an
    /// override file, the store, an identity).
    File(FileError),
    /// A source failed for this secret (a value that cannot be decrypted, a file that cannot
    /// be read).
    Source {
        /// The secret's name.
        name: String,
        /// The source that failed.
        source: String,
        /// What went wrong, including how to fix it.
        message: String,
    },
    /// A source could not answer now: the Vault/OpenBao server could not be reached, or
    /// answered 5xx or 429, on every attempt within its time budget. Asking again later
    /// may succeed, so a handle never keeps this error: the next `expose()` tries again.
    Unavailable {
        /// The secret's name.
        name: String,
        /// The source that failed.
        source: String,
        /// What went wrong, including how to fix it.
        message: String,
    },
    /// The handle comes from an invalid `secret!` invocation (which also failed to compile).
    Invalid,
    /// The name given to [`crate::Resolver::resolve`] does not follow the naming rule, so no
    /// source is asked (it could name a path or a variable assignment).
    InvalidName {
        /// The name, as given.
        name: String,
    },
}

impl Error {
    /// The kind of error, for programs that react to particular failures.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Whether the error is a missing value (rather than a broken file or source).
    pub fn is_missing(&self) -> bool {
        matches!(*self.0, ErrorKind::Missing { .. })
    }

    /// Whether asking again later may succeed ([`ErrorKind::Unavailable`]): such an error
    /// is never cached, and the next `expose()` resolves again.
    pub fn is_transient(&self) -> bool {
        matches!(*self.0, ErrorKind::Unavailable { .. })
    }

    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self(Arc::new(kind))
    }

    /// An [`ErrorKind::Unavailable`] error for `name`: `source` (as in
    /// [`crate::source::Source::describe`]) could not answer now. For a [`Source`] whose
    /// failures may pass (a server, a network share): handles do not keep it, and ask again
    /// on the next `expose()`.
    ///
    /// [`Source`]: crate::source::Source
    pub fn unavailable(name: &str, source: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable {
            name: name.to_owned(),
            source: source.into(),
            message: message.into(),
        })
    }

    pub(crate) fn from_source(
        name: &str,
        source: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::Source {
            name: name.to_owned(),
            source: source.into(),
            message: message.into(),
        })
    }
}

impl From<FileError> for Error {
    fn from(error: FileError) -> Self {
        Self::new(ErrorKind::File(error))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Missing {
                name,
                environment,
                tried,
                fix,
            } => {
                write!(
                    f,
                    "secret `{name}` has no value for environment {environment}"
                )?;
                for source in tried {
                    write!(f, "\n  tried: {source}")?;
                }
                write!(f, "\n  help: set it with `{fix}`")
            }
            ErrorKind::File(error) => write!(f, "{error}"),
            ErrorKind::Source {
                name,
                source,
                message,
            } => {
                write!(
                    f,
                    "secret `{name}` could not be read from {source}: {message}"
                )
            }
            ErrorKind::Unavailable {
                name,
                source,
                message,
            } => {
                write!(
                    f,
                    "secret `{name}` could not be read from {source} for now: {message}"
                )
            }
            ErrorKind::Invalid => {
                f.write_str("this secret handle comes from an invalid `secret!` invocation")
            }
            ErrorKind::InvalidName { name } => write!(
                f,
                "`{}` is not a valid secret name; {}",
                secret_core::text::escape_control(name),
                secret_core::NAME_RULE
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::error::Error for Error {
    /// The malformed file behind an [`ErrorKind::File`]; the other kinds carry their cause
    /// in the message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            ErrorKind::File(error) => Some(error),
            _ => None,
        }
    }
}

/// Every secret that could not be resolved by [`crate::check_all`], reported at once.
#[derive(Debug, Clone)]
pub struct MissingSecrets {
    /// One error per secret name, sorted by name.
    pub errors: Vec<Error>,
}

impl fmt::Display for MissingSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.errors.len();
        write!(
            f,
            "{count} secret{} could not be resolved",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.errors {
            write!(f, "\n\n{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MissingSecrets {}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use crate::{FileError, Resolver};

    #[test]
    fn a_malformed_file_is_the_source_of_the_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secrets.toml"), "[environments\n").unwrap();
        let root = dir.path().as_os_str().to_owned();
        let vars = Arc::new(move |name: &str| (name == "SECRETS_WORKSPACE").then(|| root.clone()));
        let error = Resolver::from_vars(vars, None, None).unwrap_err();
        let source = error.source().expect("a file error has a source");
        let file = source
            .downcast_ref::<FileError>()
            .expect("the source is the FileError");
        assert!(file.path.ends_with("secrets.toml"), "{file:?}");
        assert_eq!(file.line, Some(1));
        assert!(error.to_string().contains("secrets.toml"), "{error}");
    }
}
