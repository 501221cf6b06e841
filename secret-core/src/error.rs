//! Errors of this crate. Every message names the file (and line, where there is one) and
//! the fix; none ever contains a secret value.

use std::fmt;
use std::path::PathBuf;

use crate::env::Scope;
pub use crate::file_error::{FileError, LineIndex, did_you_mean, line_of};
#[cfg(feature = "verify")]
use crate::state::Refusal;

/// What went wrong reading, decrypting or changing the store. Cheap to clone and
/// `Send + Sync + 'static`, so callers can cache it. `Display` names the file (and line,
/// where there is one) and the fix, and never contains a secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A malformed or unreadable file: `secrets.toml`, `secrets.enc.toml` (including an
    /// unknown format version), an identity file, a dotenv file.
    File(FileError),
    /// None of the available identities is a recipient of the value.
    NoAccess(Box<NoAccess>),
    /// The ciphertext does not decrypt although an identity is a recipient, or it is not
    /// well-formed: the file was changed by something other than the tool.
    Tampered {
        /// The secret.
        name: String,
        /// The value's scope.
        scope: Scope,
        /// The store file.
        path: PathBuf,
        /// The line of the value's table.
        line: usize,
        /// What failed (never the value).
        detail: String,
    },
    /// The ciphertext decrypts but is bound to another secret, scope or recipient list.
    Misplaced {
        /// The secret whose slot holds the ciphertext.
        name: String,
        /// The slot's scope.
        scope: Scope,
        /// The store file.
        path: PathBuf,
        /// The line of the value's table.
        line: usize,
        /// What the ciphertext is bound to (`GitHubAPIToken type:production`).
        found: String,
    },
    /// Setting a value for scopes another value of the same secret already covers.
    Conflict {
        /// The secret.
        name: String,
        /// The scope being set.
        scope: Scope,
        /// The other values' scopes that overlap it.
        others: Vec<Scope>,
        /// The store file.
        path: PathBuf,
    },
    /// A value would have no recipient: nobody could ever read it.
    NoRecipients {
        /// The secret.
        name: String,
        /// The scope being written.
        scope: Scope,
        /// `secrets.toml`.
        config: PathBuf,
    },
    /// A recipient in `secrets.toml` this build cannot encrypt to.
    BadRecipient {
        /// The recipient as written.
        recipient: String,
        /// `secrets.toml`.
        config: PathBuf,
        /// Why.
        reason: String,
    },
    /// The Vault/OpenBao backend failed or refused: unreachable, a rejected token, a
    /// concurrent change. The message names the server, never the token.
    Backend(Box<crate::backend::BackendError>),
    /// A stored value readers refuse: not signed by one of its scope's writers under the
    /// signed access rules, rolled back, or one of two values that apply at once.
    #[cfg(feature = "verify")]
    Refused(Box<Refused>),
    /// Writing a value needs an identity allowed to write its scope, and none of the
    /// available identities is.
    NotAWriter(Box<NotAWriter>),
    /// The signed access rules stop a write: they cannot be trusted, the store predates
    /// them, or none of the identities may sign a change to them.
    Rules {
        /// The store (or `secrets.toml`).
        path: PathBuf,
        /// What is wrong.
        message: String,
        /// What to do.
        help: String,
    },
    /// The secret has no value for the scope asked about.
    NotSet {
        /// The secret.
        name: String,
        /// What was asked (`type:production`, `env staging`).
        scope: String,
        /// The store file.
        path: PathBuf,
    },
}

impl From<FileError> for Error {
    fn from(error: FileError) -> Self {
        Self::File(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(error) => error.fmt(f),
            _ => self.report().fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::File(error) => Some(error),
            _ => None,
        }
    }
}

impl From<crate::backend::BackendError> for Error {
    fn from(error: crate::backend::BackendError) -> Self {
        Self::Backend(Box::new(error))
    }
}

impl Error {
    /// The error as a [`FileError`]: file, line, message and help, ready to print.
    pub fn report(&self) -> FileError {
        let rekey = "cargo xtask secret rekey";
        match self {
            Self::File(error) => error.clone(),
            Self::Backend(error) => error.report(),
            #[cfg(feature = "verify")]
            Self::Refused(refused) => refused.report(),
            Self::NotAWriter(details) => {
                let NotAWriter {
                    name,
                    scope,
                    config,
                    allowed,
                    yours,
                    identity_source,
                    unsigned_grant,
                } = &**details;
                let writers = if allowed.is_empty() {
                    "nobody is allowed to".to_owned()
                } else {
                    format!("only {} may", allowed.join(", "))
                };
                let message = if yours.is_empty() {
                    format!(
                        "cannot write {name} ({}): values are signed by their writer and no identity was found ({identity_source}); {writers} write {}",
                        scope.key(),
                        scope.describe()
                    )
                } else {
                    format!(
                        "cannot write {name} ({}): your key ({}) may not write {}; {writers}",
                        scope.key(),
                        yours.join(", "),
                        scope.describe()
                    )
                };
                FileError {
                    path: config.clone(),
                    line: None,
                    message,
                    help: Some(if yours.is_empty() {
                        "run `cargo xtask secret init` to create an identity, or set SECRETS_IDENTITY to an age identity file".to_owned()
                    } else if *unsigned_grant {
                        format!(
                            "secrets.toml lists your key for {}, but that change to the access rules is not signed yet: one who may make it runs `cargo xtask secret rekey` (see `cargo xtask secret rules`)",
                            scope.describe()
                        )
                    } else {
                        format!(
                            "ask a writer of {} to add your public key to [recipients] (to read and write) or [writers] (to write only) in secrets.toml",
                            scope.describe()
                        )
                    }),
                }
            }
            Self::NoAccess(access) => {
                let NoAccess {
                    name,
                    scope,
                    path,
                    line,
                    recipients,
                    tried,
                    identity_source,
                } = &**access;
                let readers = if recipients.is_empty() {
                    "nobody".to_owned()
                } else {
                    let shown: Vec<_> = recipients
                        .iter()
                        .map(|recipient| crate::text::escape_control(recipient))
                        .collect();
                    shown.join(", ")
                };
                let (message, help) = if tried.is_empty() {
                    (
                        format!(
                            "cannot decrypt {name} ({}): no identity found ({identity_source}); it can be decrypted by {readers}",
                            scope.describe()
                        ),
                        "run `cargo xtask secret init` to create an identity, or set SECRETS_IDENTITY to an age identity file (SECRETS_IDENTITY_KEY to the key itself); then ask a holder of one of those keys to add your public key to [recipients] in secrets.toml and run `cargo xtask secret rekey`".to_owned(),
                    )
                } else {
                    (
                        format!(
                            "cannot decrypt {name} ({}): your identity ({}, from {identity_source}) is not a recipient; it can be decrypted by {readers}",
                            scope.describe(),
                            tried.join(", ")
                        ),
                        format!(
                            "ask a holder of one of those keys to add your public key to [recipients] in secrets.toml for {} and run `{rekey}`",
                            scope.describe()
                        ),
                    )
                };
                FileError {
                    path: path.clone(),
                    line: Some(*line),
                    message,
                    help: Some(help),
                }
            }
            Self::Tampered {
                name,
                scope,
                path,
                line,
                detail,
            } => FileError {
                path: path.clone(),
                line: Some(*line),
                message: format!(
                    "the value of {name} {} was tampered with or corrupted: {detail}",
                    crate::text::escape_control(&scope.key())
                ),
                help: Some(format!(
                    "restore the file from git history, or set the value again with `cargo xtask secret set {} {name}`",
                    scope.flags()
                )),
            },
            Self::Misplaced {
                name,
                scope,
                path,
                line,
                found,
            } => FileError {
                path: path.clone(),
                line: Some(*line),
                message: format!(
                    "the ciphertext in {name} {} belongs to {}; the file was edited by hand",
                    crate::text::escape_control(&scope.key()),
                    crate::text::escape_control(found)
                ),
                help: Some(format!(
                    "restore the file from git history, or set the value again with `cargo xtask secret set {} {name}`",
                    scope.flags()
                )),
            },
            Self::Conflict {
                name,
                scope,
                others,
                path,
            } => {
                let listed: Vec<String> = others
                    .iter()
                    .map(|other| format!("`{}`", crate::text::escape_control(&other.key())))
                    .collect();
                let unset: Vec<String> = others
                    .iter()
                    .map(|other| format!("`cargo xtask secret unset {} {name}`", other.flags()))
                    .collect();
                let (values, value, overlap) = if others.len() == 1 {
                    ("a value", "value", "overlaps")
                } else {
                    ("values", "values", "overlap")
                };
                FileError {
                    path: path.clone(),
                    line: None,
                    message: format!(
                        "{name} already has {values} for {}, which {overlap} {}; a secret has at most one value per type and per environment",
                        listed.join(" and "),
                        scope.describe()
                    ),
                    help: Some(format!(
                        "to take {} away from the other {value} and set it here, run `cargo xtask secret set {} --move {name}`; to remove the other {value} first, run {}",
                        scope.describe(),
                        scope.flags(),
                        unset.join(" and ")
                    )),
                }
            }
            Self::NoRecipients {
                name,
                scope,
                config,
            } => FileError {
                path: config.clone(),
                line: None,
                message: format!(
                    "no recipients for {} in [recipients], so nobody could read {name}",
                    scope.describe()
                ),
                help: Some("run `cargo xtask secret init`, or add age public keys to [recipients] in secrets.toml for those types or environments".to_owned()),
            },
            Self::BadRecipient {
                recipient,
                config,
                reason,
            } => FileError {
                path: config.clone(),
                line: None,
                message: format!("cannot encrypt to the recipient `{recipient}`: {reason}"),
                help: Some("use an age X25519 public key (`age1...`, printed by `age-keygen -y` or `cargo xtask secret init`)".to_owned()),
            },
            Self::Rules {
                path,
                message,
                help,
            } => FileError {
                path: path.clone(),
                line: None,
                message: message.clone(),
                help: Some(help.clone()),
            },
            Self::NotSet { name, scope, path } => FileError {
                path: path.clone(),
                line: None,
                message: format!("{name} has no value for {scope}"),
                help: Some("`cargo xtask secret list` shows which values are set".to_owned()),
            },
        }
    }
}

/// The details of [`Error::Refused`].
#[cfg(feature = "verify")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The secret.
    pub name: String,
    /// The scope of the value refused.
    pub scope: Scope,
    /// The store file.
    pub path: PathBuf,
    /// The line of the value's table.
    pub line: usize,
    /// Why it is refused.
    pub refusal: Refusal,
}

#[cfg(feature = "verify")]
impl Refused {
    /// The problem as a [`FileError`]: names the secret, the scope, why, and what to do.
    pub fn report(&self) -> FileError {
        use crate::text::{escape_control as esc, shell_quote};
        use crate::trust::Trust;
        let Self {
            name,
            scope,
            path,
            line,
            refusal,
        } = self;
        let set = format!("cargo xtask secret set {} {name}", scope.flags());
        let log = format!("cargo xtask secret log {}", shell_quote(name));
        let history = format!(
            "see who changed it with `{log}`; restore secrets.enc.toml from git history, or set the value again with `{set}`"
        );
        let help = match refusal {
            Refusal::Untrusted(Trust::Unsigned) => format!(
                "`{log}` shows who committed it; if it came from your team, a writer of {} signs it with `cargo xtask secret migrate` (values of store format 1 only); otherwise set it again with `{set}`",
                scope.describe()
            ),
            Refusal::Untrusted(Trust::Legacy { .. }) => format!(
                "a writer of {} signs it again with `cargo xtask secret migrate`",
                scope.describe()
            ),
            Refusal::Untrusted(Trust::NotAllowed {
                unsigned_grant: true,
                ..
            }) => format!(
                "if the change to secrets.toml is wanted, a writer of {} signs it (`cargo xtask secret rekey` shows it first); otherwise revert it and {history}",
                scope.describe()
            ),
            Refusal::Untrusted(Trust::RulesUntrusted { reason }) if reason.contains("migrate") => {
                "run `cargo xtask secret migrate`".to_owned()
            }
            Refusal::Untrusted(Trust::RulesUntrusted { .. }) => {
                "restore secrets.enc.toml from git history (`git log -p secrets.enc.toml` shows the change); `cargo xtask check-secrets` explains what is wrong".to_owned()
            }
            Refusal::Ambiguous { scopes } => {
                let unset: Vec<String> = scopes
                    .iter()
                    .map(|other| format!("`cargo xtask secret unset {} {name}`", other.flags()))
                    .collect();
                format!("keep one of them: remove the other with {}", unset.join(" or "))
            }
            _ => history,
        };
        FileError {
            path: path.clone(),
            line: (*line > 0).then_some(*line),
            message: format!(
                "the value of {name} ({}) {}; it is refused",
                esc(&scope.key()),
                refusal.describe(scope)
            ),
            help: Some(help),
        }
    }
}

/// The details of [`Error::NotAWriter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAWriter {
    /// The secret.
    pub name: String,
    /// The scope being written.
    pub scope: Scope,
    /// `secrets.toml`.
    pub config: PathBuf,
    /// Who may write the scope.
    pub allowed: Vec<String>,
    /// The public keys of the identities found (empty: none).
    pub yours: Vec<String>,
    /// Where the identities were looked for.
    pub identity_source: String,
    /// Whether `secrets.toml` as written lets one of the keys write the scope, in a change
    /// to the access rules that is not signed yet.
    pub unsigned_grant: bool,
}

/// The details of [`Error::NoAccess`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoAccess {
    /// The secret.
    pub name: String,
    /// The value's scope.
    pub scope: Scope,
    /// The store file.
    pub path: PathBuf,
    /// The line of the value's table.
    pub line: usize,
    /// The public keys that can decrypt the value.
    pub recipients: Vec<String>,
    /// The public keys of the identities that were tried (empty: no identity found).
    pub tried: Vec<String>,
    /// Where the identities came from (`~/.config/secrets/identity.txt`).
    pub identity_source: String,
}
