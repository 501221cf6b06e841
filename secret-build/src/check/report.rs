//! What the check found: diagnostics and the grid of secrets by environment. Pure data;
//! the renderers in [`super::human`], [`super::json`], [`super::sarif`] and
//! [`super::github`] print it.

use std::path::PathBuf;

use secret_core::{Environment, Scope};

use crate::scan::ScanReport;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails the check (exit status 1).
    Error,
    /// Reported; the check still passes.
    Warning,
    /// Worth one line, not a problem (this clone has no merge driver, in CI).
    Note,
}

impl Severity {
    /// `error`, `warning` or `note`, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }
}

/// What a diagnostic is about. Each code is stable and documented in `docs/check-json.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// A declared secret has no value for an environment.
    MissingSecret,
    /// A stored value that no code declares.
    UndeclaredSecret,
    /// Two secret names that differ only in case.
    CaseCollision,
    /// A local override file is tracked by git.
    TrackedOverride,
    /// A `secret!` invocation the grammar rejects.
    InvalidDeclaration,
    /// A source file the scanner could not read, so declarations in it may be missed.
    UnscannedFile,
    /// A stored value found in plain text in a tracked file or the build output
    /// (`--leaks`).
    LeakedSecret,
    /// A stored value without a signature (store format 1, or written by hand).
    UnsignedValue,
    /// A stored value whose signature does not verify for the writer it names.
    ForgedValue,
    /// A stored value signed by someone who may not write its scope.
    UnauthorizedWriter,
    /// A stored value encrypted to someone `secrets.toml` no longer allows to read it.
    StaleRecipient,
    /// Someone `secrets.toml` allows to read a value cannot decrypt it.
    MissingRecipient,
    /// A value someone who lost access could read, not replaced since.
    RotationDue,
    /// This clone's git does not have the store's merge driver configured.
    MergeDriverMissing,
    /// A secret declared `optional` in one place and required in another.
    OptionalMismatch,
    /// The signed access rules cannot be trusted: missing, broken, rolled back, replaced,
    /// or not the pinned ones.
    UntrustedRules,
    /// `secrets.toml` changes the access rules and nobody allowed to has signed the change.
    UnsignedRules,
    /// The signed access rules changed since this clone last checked (who signed what).
    RulesChanged,
    /// A value signed the way store format 2 did, to sign again with `migrate`.
    LegacyValue,
    /// A value whose age header holds more or other stanzas than its signed recipients.
    HiddenRecipient,
    /// A value older than one the store's history (or this clone) already trusted.
    RolledBackValue,
    /// A value gone from the store without a signed removal.
    VanishedValue,
    /// Two values of one secret cover the same type or environment.
    OverlappingValues,
    /// Two secrets declare one environment variable with `env = "..."`.
    EnvVariableConflict,
    /// A credential written into the source as a string literal.
    HardcodedSecret,
}

impl Code {
    /// Every code, in the order SARIF lists its rules.
    pub const ALL: [Code; 25] = [
        Self::MissingSecret,
        Self::UndeclaredSecret,
        Self::CaseCollision,
        Self::TrackedOverride,
        Self::InvalidDeclaration,
        Self::UnscannedFile,
        Self::LeakedSecret,
        Self::UnsignedValue,
        Self::ForgedValue,
        Self::UnauthorizedWriter,
        Self::StaleRecipient,
        Self::MissingRecipient,
        Self::RotationDue,
        Self::MergeDriverMissing,
        Self::OptionalMismatch,
        Self::UntrustedRules,
        Self::UnsignedRules,
        Self::RulesChanged,
        Self::LegacyValue,
        Self::HiddenRecipient,
        Self::RolledBackValue,
        Self::VanishedValue,
        Self::OverlappingValues,
        Self::EnvVariableConflict,
        Self::HardcodedSecret,
    ];

    /// The code as printed: `missing-secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingSecret => "missing-secret",
            Self::UndeclaredSecret => "undeclared-secret",
            Self::CaseCollision => "case-collision",
            Self::TrackedOverride => "tracked-override",
            Self::InvalidDeclaration => "invalid-declaration",
            Self::UnscannedFile => "unscanned-file",
            Self::LeakedSecret => "leaked-secret",
            Self::UnsignedValue => "unsigned-value",
            Self::ForgedValue => "forged-value",
            Self::UnauthorizedWriter => "unauthorized-writer",
            Self::StaleRecipient => "stale-recipient",
            Self::MissingRecipient => "missing-recipient",
            Self::RotationDue => "rotation-due",
            Self::MergeDriverMissing => "merge-driver-missing",
            Self::OptionalMismatch => "optional-mismatch",
            Self::UntrustedRules => "untrusted-rules",
            Self::UnsignedRules => "unsigned-rules",
            Self::RulesChanged => "rules-changed",
            Self::LegacyValue => "legacy-value",
            Self::HiddenRecipient => "hidden-recipient",
            Self::RolledBackValue => "rolled-back-value",
            Self::VanishedValue => "vanished-value",
            Self::OverlappingValues => "overlapping-values",
            Self::EnvVariableConflict => "env-variable-conflict",
            Self::HardcodedSecret => "hardcoded-secret",
        }
    }

    /// One line saying what the rule checks.
    pub fn summary(self) -> &'static str {
        match self {
            Self::MissingSecret => "A secret declared in code has no value for an environment",
            Self::UndeclaredSecret => "A stored secret value is not declared by any code",
            Self::CaseCollision => "Two secret names differ only in case",
            Self::TrackedOverride => "A local override file is tracked by git",
            Self::InvalidDeclaration => "A secret! invocation is not a valid declaration",
            Self::UnscannedFile => "A source file could not be scanned for declarations",
            Self::LeakedSecret => {
                "A stored secret value appears in plain text in a tracked file or the build output"
            }
            Self::UnsignedValue => "A stored value is not signed, so readers refuse it",
            Self::ForgedValue => {
                "A stored value's signature does not verify: it was changed after signing or forged"
            }
            Self::UnauthorizedWriter => {
                "A stored value was written by someone who may not write it"
            }
            Self::StaleRecipient => {
                "A stored value is encrypted to someone secrets.toml no longer allows to read it"
            }
            Self::MissingRecipient => "Someone allowed to read a value cannot decrypt it",
            Self::RotationDue => {
                "A value was readable by someone who lost access, and has not been replaced since"
            }
            Self::MergeDriverMissing => "This clone's git does not merge the store per value",
            Self::OptionalMismatch => {
                "A secret is declared optional in one place and required in another"
            }
            Self::UntrustedRules => "The signed access rules of the store cannot be trusted",
            Self::UnsignedRules => {
                "secrets.toml changes the access rules, and nobody allowed to has signed the change"
            }
            Self::RulesChanged => "The signed access rules changed since this clone last checked",
            Self::LegacyValue => "A value is signed in store format 2: a writer signs it again",
            Self::HiddenRecipient => {
                "A value's age header holds more or other stanzas than its signed recipients"
            }
            Self::RolledBackValue => "A value is older than one already trusted in this store",
            Self::VanishedValue => "A value is gone from the store without a signed removal",
            Self::OverlappingValues => {
                "Two values of one secret cover the same type or environment"
            }
            Self::EnvVariableConflict => {
                "Two secrets name the same environment variable with env = \"...\""
            }
            Self::HardcodedSecret => "A credential is written into the source as a string literal",
        }
    }
}

/// A place in a file: paths are relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, if the problem has one.
    pub line: Option<usize>,
    /// The 1-based column, if known.
    pub column: Option<usize>,
    /// Where the highlighted text ends (1-based line and exclusive column), if known.
    pub end: Option<(usize, usize)>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What kind of finding.
    pub code: Code,
    /// The headline, naming the secret and the environment; never a value.
    pub message: String,
    /// The secret concerned, if one.
    pub secret: Option<String>,
    /// The environment concerned, if one.
    pub environment: Option<String>,
    /// Where to look.
    pub location: Option<Location>,
    /// A short label under the highlighted source.
    pub label: Option<String>,
    /// Further notes (other places the secret is declared).
    pub notes: Vec<String>,
    /// The fix, usually the exact command.
    pub help: Option<String>,
}

/// Whether and how a secret has a value for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// A stored value applies: the scope it is stored under (the most specific one wins).
    Set(Scope),
    /// A stored value applies, but readers refuse it (forged, rolled back, two values at
    /// once...): for the check, the build and the run time alike, the secret has no value.
    Refused(Scope),
    /// No stored value applies, but a local override file (`.secrets.local.toml`,
    /// `.secrets.local.cue`) sets the name: local environments only, as at run time.
    Override,
    /// No stored value applies.
    Missing,
    /// No stored value applies, and every declaration is `optional`: not a problem.
    OptionalUnset,
}

/// One row of the grid: a secret declared in code or stored, and its value per environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The secret's name.
    pub name: String,
    /// Its description (the doc comment of a declaration).
    pub description: Option<String>,
    /// Whether code declares it.
    pub declared: bool,
    /// Whether every declaration is `secret!("Name", optional)`.
    pub optional: bool,
    /// One cell per environment of [`Report::environments`], in that order.
    pub cells: Vec<Cell>,
}

/// A stored value as the check sees it: names and scopes only, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    /// The secret's name.
    pub name: String,
    /// The types or environments the value covers.
    pub scope: Scope,
    /// The 1-based line of the value in the store file, if known.
    pub line: Option<usize>,
    /// Who wrote it, who can read it, and who could once (the file store only).
    pub audit: Option<Audit>,
}

/// What the keyless check knows of a stored value's integrity and access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Whether one of the scope's writers signed it under the signed access rules.
    pub trust: secret_core::trust::Trust,
    /// Its recipients against the signed access rules.
    pub drift: secret_core::trust::Drift,
    /// Who lost access to it (or wrote it and lost the right to) since it was written.
    pub exposed: Vec<secret_core::store::Exposure>,
    /// Its recipients.
    pub recipients: Vec<String>,
    /// Its version (`None` before store format 3).
    pub version: Option<u64>,
    /// The names `[people]` of `secrets.toml` gives the keys above (key -> name), for
    /// messages: [`Audit::who`].
    pub people: std::collections::BTreeMap<String, String>,
}

impl Audit {
    /// The audit of `entry`, stored for (`name`, `scope`), as readers of `state` judge it:
    /// needs no key.
    pub fn of(
        state: &secret_core::state::State,
        name: &str,
        scope: &secret_core::Scope,
        entry: &secret_core::Entry,
    ) -> Self {
        let config = state.effective();
        let trust = state.trust(name, scope, entry);
        let drift = secret_core::trust::drift(config, scope, entry);
        let allowed = match &trust {
            secret_core::trust::Trust::NotAllowed { allowed, .. } => allowed.as_slice(),
            _ => &[],
        };
        let people = trust
            .writer()
            .into_iter()
            .chain(allowed.iter().map(String::as_str))
            .chain(drift.stale.iter().map(String::as_str))
            .chain(drift.unreadable.iter().map(String::as_str))
            .chain(entry.exposed.iter().map(|e| e.recipient.as_str()))
            .chain(entry.recipients.iter().map(String::as_str))
            .filter_map(|key| Some((key.to_owned(), config.person(key)?.to_owned())))
            .collect();
        Self {
            trust,
            drift,
            exposed: entry.exposed.clone(),
            recipients: entry.recipients.clone(),
            version: entry.version,
            people,
        }
    }

    /// Why readers refuse the value of `scope`, as what follows "the value"; `None` when
    /// they trust it.
    pub fn problem(&self, scope: &Scope) -> Option<String> {
        (!self.trust.is_trusted()).then(|| secret_core::state::describe_trust(&self.trust, scope))
    }

    /// How messages name the holder of `key`: `alice (age1...)` for a person of
    /// `[people]`, else the key; control characters escaped.
    pub fn who(&self, key: &str) -> String {
        let key = secret_core::text::escape_control(key);
        match self.people.get(key.as_ref()) {
            Some(name) => format!("{name} ({key})"),
            None => key.into_owned(),
        }
    }

    /// [`Audit::who`] of each key, joined with `, `.
    pub(crate) fn who_all(&self, keys: &[String]) -> String {
        keys.iter()
            .map(|key| self.who(key))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the check found about the signed state of the file store, besides each value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateAudit {
    /// Why the signed access rules cannot be trusted, if they cannot.
    pub rules_problem: Option<String>,
    /// The store's format, when older than the current one.
    pub legacy_format: Option<i64>,
    /// The changes `secrets.toml` makes to the signed rules that nobody signed, each with
    /// whether it concerns a cloud environment type (or the whole store).
    pub pending: Vec<(String, bool)>,
    /// The rules versions signed since this clone last checked, one line each.
    pub changed: Vec<String>,
    /// Values older than already trusted, or gone without a signed removal.
    pub behind: Vec<secret_core::state::Behind>,
    /// Per secret and environment name, what readers conclude (the file store only).
    pub verdicts: std::collections::BTreeMap<(String, String), Verdict>,
}

/// What readers conclude about the value of a secret in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This value is used.
    Found(Scope),
    /// A value applies and is refused, for this reason.
    Refused(Scope, String),
    /// A value this store once had for this scope is gone without a signed removal.
    Vanished(Scope),
}

/// The result of the check.
#[derive(Debug, Clone)]
pub struct Report {
    /// The environments checked, in the order given.
    pub environments: Vec<Environment>,
    /// The environment types the project uses (`types` in `secrets.toml`; all four by
    /// default): a type not listed is never checked.
    pub types: Vec<secret_core::EnvType>,
    /// What the scanner found.
    pub scan: ScanReport,
    /// The store file, relative to the workspace root.
    pub store_path: PathBuf,
    /// The stored values (names and scopes).
    pub stored: Vec<StoredValue>,
    /// The signed state of the file store (empty for a Vault/OpenBao backend).
    pub state: StateAudit,
    /// The grid: every declared or stored secret, sorted by name.
    pub rows: Vec<Row>,
    /// Every finding, errors first, then in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// How many diagnostics have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// Whether the check failed (exit status 1).
    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}
