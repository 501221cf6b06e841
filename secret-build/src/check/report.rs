//! What the check found: diagnostics and the grid of secrets by environment. Pure data;
//! the renderers in [`super::human`], [`super::json`], [`super::sarif`] and
//! [`super::github`] print it.

use std::path::PathBuf;

use secret_store::{Environment, Scope};

use crate::scan::ScanReport;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails the check (exit status 1).
    Error,
    /// Reported; the check still passes.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
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
    /// A secret declared `optional` in one place and required in another.
    OptionalMismatch,
}

impl Code {
    /// Every code, in the order SARIF lists its rules.
    pub const ALL: [Code; 8] = [
        Self::MissingSecret,
        Self::UndeclaredSecret,
        Self::CaseCollision,
        Self::TrackedOverride,
        Self::InvalidDeclaration,
        Self::UnscannedFile,
        Self::LeakedSecret,
        Self::OptionalMismatch,
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
            Self::OptionalMismatch => "optional-mismatch",
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
            Self::OptionalMismatch => {
                "A secret is declared optional in one place and required in another"
            }
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
}

/// The result of the check.
#[derive(Debug, Clone)]
pub struct Report {
    /// The environments checked, in the order given.
    pub environments: Vec<Environment>,
    /// What the scanner found.
    pub scan: ScanReport,
    /// The store file, relative to the workspace root.
    pub store_path: PathBuf,
    /// The stored values (names and scopes).
    pub stored: Vec<StoredValue>,
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
