//! Age identities (private keys) used to decrypt values, and where they come from:
//! `SECRETS_IDENTITY` (a path to an age identity file), else `SECRETS_IDENTITY_KEY` (the key
//! itself, for CI), else `$HOME/.config/secrets/identity.txt`.
//!
//! Identity files are read the way `age-keygen` writes them: `#` comments, blank lines and
//! `AGE-SECRET-KEY-1...` lines. Anything else is an error naming the file and line (the
//! offending line itself is never shown: it may be a key).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[cfg(feature = "write")]
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Error, FileError};

/// The variable holding a path to an age identity file.
pub const IDENTITY_VAR: &str = "SECRETS_IDENTITY";
/// The variable holding an age identity itself (`AGE-SECRET-KEY-1...`).
pub const IDENTITY_KEY_VAR: &str = "SECRETS_IDENTITY_KEY";

/// The default identity file under `home`: `home/.config/secrets/identity.txt`.
pub(crate) fn default_identity_path(home: &Path) -> PathBuf {
    home.join(".config").join("secrets").join("identity.txt")
}

/// Where identities were looked for, as decided from the environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A file (from `SECRETS_IDENTITY`, or the default path).
    File {
        /// The file.
        path: PathBuf,
        /// Whether the user named it explicitly (`SECRETS_IDENTITY`): then it must exist.
        explicit: bool,
    },
    /// The `SECRETS_IDENTITY_KEY` variable.
    KeyVar,
    /// Nowhere: no variable is set and there is no home directory.
    None,
}

impl IdentitySource {
    /// Decides the source from a variable reader (`std::env::var_os` in programs; a map in
    /// tests).
    pub fn from_vars(vars: impl Fn(&str) -> Option<OsString>) -> Self {
        if let Some(path) = vars(IDENTITY_VAR).filter(|path| !path.is_empty()) {
            return Self::File {
                path: PathBuf::from(path),
                explicit: true,
            };
        }
        if vars(IDENTITY_KEY_VAR).is_some_and(|key| !key.is_empty()) {
            return Self::KeyVar;
        }
        match vars("HOME").filter(|home| !home.is_empty()) {
            Some(home) => Self::File {
                path: default_identity_path(Path::new(&home)),
                explicit: false,
            },
            None => Self::None,
        }
    }
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, .. } => write!(f, "{}", path.display()),
            Self::KeyVar => f.write_str(IDENTITY_KEY_VAR),
            Self::None => write!(f, "{IDENTITY_VAR}, {IDENTITY_KEY_VAR} and HOME are not set"),
        }
    }
}

/// The age identities available for decrypting, with their public keys and where they came
/// from. `Debug` shows only public keys.
pub struct Identities {
    keys: Vec<secret_age::Identity>,
    signers: Vec<crate::sign::SigningKey>,
    public: Vec<String>,
    source: IdentitySource,
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("public", &self.public)
            .field("source", &self.source)
            .finish()
    }
}

impl Identities {
    /// `SECRETS_IDENTITY` (path to an age identity file), else `SECRETS_IDENTITY_KEY` (the
    /// key itself), else `$HOME/.config/secrets/identity.txt`. `Ok` and empty when none
    /// exists; an error when `SECRETS_IDENTITY` names a missing file or a file is malformed.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Like [`Identities::from_env`], reading variables through `vars`.
    pub fn from_vars(vars: impl Fn(&str) -> Option<OsString>) -> Result<Self, Error> {
        let source = IdentitySource::from_vars(&vars);
        match &source {
            IdentitySource::File { path, explicit } => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let text = Zeroizing::new(text);
                    let mut identities = Self::parse(path, &text)?;
                    identities.source = source;
                    Ok(identities)
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound && !explicit => {
                    Ok(Self::empty(source))
                }
                Err(error) => Err(FileError {
                    path: path.clone(),
                    line: None,
                    message: format!("cannot read the identity file: {error}"),
                    help: Some(if *explicit {
                        format!("{IDENTITY_VAR} must name an age identity file (as written by `age-keygen` or `cargo xtask secret init`)")
                    } else {
                        "check the file's permissions, or create it with `cargo xtask secret init`".to_owned()
                    }),
                }
                .into()),
            },
            IdentitySource::KeyVar => {
                let key = vars(IDENTITY_KEY_VAR).unwrap_or_default();
                let key = Zeroizing::new(key.to_string_lossy().into_owned());
                let mut identities = Self::parse(Path::new(IDENTITY_KEY_VAR), &key)?;
                identities.source = source;
                Ok(identities)
            }
            IdentitySource::None => Ok(Self::empty(source)),
        }
    }

    /// Reads the identity file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_vars(|name| (name == IDENTITY_VAR).then(|| path.as_os_str().to_owned()))
    }

    /// Parses the text of an identity file (`path` is for messages only).
    pub fn parse(path: &Path, text: &str) -> Result<Self, Error> {
        let mut identities = Self::empty(IdentitySource::File {
            path: path.to_owned(),
            explicit: true,
        });
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: &str| {
                FileError {
                path: path.to_owned(),
                line: Some(index + 1),
                message: message.to_owned(),
                help: Some("an identity file holds `AGE-SECRET-KEY-1...` lines (as written by `age-keygen` or `cargo xtask secret init`), `#` comments and blank lines".to_owned()),
            }
            };
            if !line.starts_with("AGE-SECRET-KEY-1") {
                let what = if line.starts_with("AGE-PLUGIN-") {
                    "age plugin identities are not supported"
                } else if line.starts_with("-----BEGIN") {
                    "SSH private keys are not supported as identities; use an age key"
                } else {
                    "this line is not an age identity"
                };
                return Err(error(what).into());
            }
            let key = secret_age::Identity::from_str(line)
                .map_err(|_| error("this line is not a valid age identity (bad encoding)"))?;
            identities.push(key);
        }
        Ok(identities)
    }

    /// One identity, as generated by [`generate_identity`] or parsed elsewhere.
    pub fn from_identity(key: secret_age::Identity, source: IdentitySource) -> Self {
        let mut identities = Self::empty(source);
        identities.push(key);
        identities
    }

    fn push(&mut self, key: secret_age::Identity) {
        let public = key.to_public().to_string();
        self.signers
            .push(crate::sign::SigningKey::from_identity(&key));
        self.public.push(public);
        self.keys.push(key);
    }

    /// The signing key to write a value with: the first identity that is one of `allowed`.
    pub(crate) fn signer_for(&self, allowed: &[String]) -> Option<&crate::sign::SigningKey> {
        self.signers
            .iter()
            .find(|signer| allowed.iter().any(|key| key == signer.recipient()))
    }

    /// No identity: for operations that only encrypt.
    pub fn none() -> Self {
        Self::empty(IdentitySource::None)
    }

    fn empty(source: IdentitySource) -> Self {
        Self {
            keys: Vec::new(),
            signers: Vec::new(),
            public: Vec::new(),
            source,
        }
    }

    /// Whether no identity was found.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The public keys (`age1...`) of the identities.
    pub fn public_keys(&self) -> &[String] {
        &self.public
    }

    /// Where the identities were looked for.
    pub fn source(&self) -> &IdentitySource {
        &self.source
    }

    #[cfg(feature = "crypto")]
    pub(crate) fn keys(&self) -> &[secret_age::Identity] {
        &self.keys
    }
}

/// A warning when the identity file at `path` can be read or written by other users than its
/// owner (Unix permissions): it names the file and the `chmod` that fixes it. `None` when the
/// file is private, missing, not a regular file, or on a platform without Unix permissions.
pub fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).ok()?;
        // A device (`/dev/null`), a folder or a pipe is not an identity file to make private:
        // reading it fails with its own message.
        if !metadata.is_file() {
            return None;
        }
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let shown = path.display().to_string();
            return Some(format!(
                "the identity file {} can be read by other users (mode {mode:04o}); make it private with `chmod 600 {}`",
                crate::text::escape_control(&shown),
                crate::text::shell_quote(&shown)
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// A new random identity, and its text as written to an identity file (with the public key
/// as a comment, like `age-keygen`).
#[cfg(feature = "write")]
pub fn generate_identity() -> (secret_age::Identity, SecretString) {
    let key = secret_age::Identity::generate();
    let text = format!(
        "# created by `cargo xtask secret init`\n# public key: {}\n{}\n",
        key.to_public(),
        key.to_string().as_str()
    );
    (key, SecretString::from(text))
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn parses_age_keygen_files_and_reports_bad_lines() {
        let (key, text) = generate_identity();
        let identities = Identities::parse(Path::new("id.txt"), text.expose_secret()).unwrap();
        assert_eq!(identities.public_keys(), [key.to_public().to_string()]);
        let error = Identities::parse(Path::new("id.txt"), "# hi\n\nnot a key\n").unwrap_err();
        let report = error.report();
        assert_eq!(report.line, Some(3));
        assert!(!report.message.contains("not a key"), "{report}");
    }

    #[test]
    fn variables_pick_the_source() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        assert_eq!(
            IdentitySource::from_vars(vars(&[("HOME", "/h"), (IDENTITY_KEY_VAR, "k")])),
            IdentitySource::KeyVar
        );
        assert_eq!(
            IdentitySource::from_vars(vars(&[("HOME", "/h")])),
            IdentitySource::File {
                path: PathBuf::from("/h/.config/secrets/identity.txt"),
                explicit: false
            }
        );
        let missing = Identities::from_vars(vars(&[("HOME", "/nonexistent-home")])).unwrap();
        assert!(missing.is_empty());
        assert!(Identities::from_vars(vars(&[(IDENTITY_VAR, "/nonexistent/id")])).is_err());
    }
}
