//! `check-secrets`: runs the check of [`crate::check`] and prints its report through [`Io`].

use std::path::PathBuf;
use std::process::ExitCode;

use crate::check::{self, Format, Leaks};
use crate::scan::Selection;

use super::{Io, escaped};

/// The arguments of `check-secrets`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CheckArgs {
    /// The workspace to check (default: the enclosing Cargo workspace).
    #[arg(long, value_name = "DIR")]
    pub(crate) workspace: Option<PathBuf>,
    /// The environment to check: a named environment, a type (`prod`, `dev`, `pr`, `local`),
    /// or `all`; may be repeated.
    #[arg(long = "env", value_name = "E")]
    pub(crate) envs: Vec<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub(crate) format: FormatArg,
    /// Also look for stored values in plain text in tracked files and `target/` (needs an
    /// identity that can decrypt them).
    #[arg(long)]
    pub(crate) leaks: bool,
    /// Fail (exit status 1) on values due for rotation, not only warn
    #[arg(long)]
    pub(crate) deny_rotation_due: bool,
    /// Fail (exit status 1) on credentials written into the source, not only warn (also
    /// `deny = true` under `[hardcoded]` in secrets.toml)
    #[arg(long)]
    pub(crate) deny_hardcoded: bool,
    /// Also look for credentials written into test code (test targets, `tests` folders,
    /// `#[cfg(test)]` and `#[test]` items), which the check leaves out by default
    #[arg(long)]
    pub(crate) hardcoded_in_tests: bool,
    /// Check only the secrets this package and the workspace crates it depends on declare
    /// (what `secret run -p` and `secret export -p` deliver); may be repeated.
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub(crate) packages: Vec<String>,
    /// With `--package`: also its tests, examples, benches and dev-dependencies.
    #[arg(long, requires = "packages")]
    pub(crate) dev: bool,
    /// The trust root, pinned from outside the repository: the age public key that signed
    /// version 1 of the access rules, or a rules version's `sha256:` digest (default:
    /// SECRETS_TRUST, else the first signed rules in the store's history)
    #[arg(long, value_name = "KEY|DIGEST")]
    pub(crate) trust: Option<String>,
}

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// rustc-style diagnostics.
    Human,
    /// The versioned JSON document described in `docs/check-json.md`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Human => Self::Human,
            FormatArg::Json => Self::Json,
            FormatArg::Sarif => Self::Sarif,
            FormatArg::Github => Self::Github,
        }
    }
}

/// Runs the check, prints the report on `io`'s stdout (or why it could not run on its
/// stderr) and returns the exit status: 0 clean (warnings allowed), 1 errors found, 2 the
/// check could not run.
pub(crate) fn run(args: &CheckArgs, io: &mut Io<'_>) -> ExitCode {
    let format = Format::from(args.format);
    let result = secret_core::workspace::resolve(args.workspace.as_deref(), &io.cwd)
        .map_err(check::CheckError::from)
        .and_then(|root| {
            let selection = Selection {
                packages: args.packages.clone(),
                dev: args.dev,
            };
            let mut options = check::Options::envs(&args.envs);
            options.selection = selection;
            options.deny_rotation_due = args.deny_rotation_due;
            options.deny_hardcoded = args.deny_hardcoded;
            options.hardcoded_in_tests = args.hardcoded_in_tests;
            options.process_ends = true;
            if let Some(trust) = &args.trust {
                options.trust = Some(
                    secret_core::rules::chain::Pin::parse(trust).map_err(|message| {
                        check::CheckError::File(secret_core::FileError {
                            path: "--trust".into(),
                            line: None,
                            message,
                            help: Some("give the key that signed version 1 of the access rules, or a version's digest, as `cargo xtask secret rules` prints them".to_owned()),
                        })
                    })?,
                );
            }
            check::check_with(&root, &options, io.vars).map(|report| (root, report))
        })
        .and_then(|(root, mut report)| {
            if args.leaks {
                for said in check::search_leaks(&root, &mut report, io.vars)? {
                    let _ = match said {
                        Leaks::Warning(warning) => writeln!(io.stderr, "warning: {}", escaped(&warning)),
                        Leaks::Note(note) => writeln!(io.stderr, "note: {}", escaped(&note)),
                    };
                }
            }
            Ok((root, report))
        });
    match result {
        Ok((root, mut report)) => {
            // For another workspace than the current folder's, the commands suggested
            // must name it (following a bare `cargo xtask secret init` would set up the
            // current folder's workspace instead).
            if args.workspace.is_some()
                && secret_core::workspace::find_root(&io.cwd).as_deref() != Some(root.as_path())
            {
                for diagnostic in &mut report.diagnostics {
                    if let Some(help) = &mut diagnostic.help {
                        *help = super::with_workspace(help, &root);
                    }
                }
            }
            let styled =
                format == Format::Human && io.stdout_is_terminal && (io.vars)("NO_COLOR").is_none();
            let text = check::render(&report, &root, format, styled);
            let _ = io.stdout.write_all(text.as_bytes());
            let _ = io.stdout.flush();
            let code = if report.has_errors() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
            // The process ends now (`process_ends` above): the report, one allocation for
            // each of thousands of declarations and files, is left to the operating system.
            std::mem::forget((report, text));
            code
        }
        Err(error) => {
            let _ = write!(io.stderr, "{}", check::error_text(&error));
            ExitCode::from(2)
        }
    }
}
