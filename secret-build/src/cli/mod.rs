//! The CLI engine behind `cargo xtask secret ...` and `cargo xtask check-secrets`.
//!
//! This is the only module of the tooling that prints and chooses exit codes. A workspace
//! gets the whole CLI with an xtask whose `main.rs` is:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     secret_build::cli::main()
//! }
//! ```
//!
//! plus `xtask = "run --quiet --package xtask --"` under `[alias]` in `.cargo/config.toml`.
//! An xtask with commands of its own hands the arguments it does not handle to
//! [`run_with`] (with [`Io::std`]).
//!
//! Exit status: 0 success; 1 the command failed on the user's data (a conflicting `set`,
//! a value that is not set, no access to a value, a key that may not write a value, a
//! refused `reveal`); 2 the command could not run: bad arguments, or a malformed or
//! unreadable `secrets.toml`, store or identity (the message names the file and line), a
//! stored value that is unsigned, forged or written by someone not allowed to, or the
//! Vault/OpenBao backend failed. `run`
//! exits with its child's status instead. Errors are printed once to stderr as
//! `error: ...` followed by `help: ...` lines. No value is ever printed, except by
//! `reveal` and `export`, whose purpose it is.
//!
//! With `[backend]` in `secrets.toml`, `set`, `unset`, `import`, `list`, `reveal`, `run` and
//! `export` work on the Vault/OpenBao KV engine; `--file-store` makes them use
//! `secrets.enc.toml` instead (`rekey` always does; `sync` copies from it to the engine).

mod adopt;
mod check;
mod deliver;
mod dotenv;
mod drivers;
mod export;
mod export_aws;
mod hook;
mod init;
mod list;
mod rekey;
mod reveal;
mod rules;
mod run;
mod set;
pub mod standalone;
mod sync;
mod team;
mod ui;

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use secret_core::{EnvKind, EnvType, FileError, Scope};

/// Where a command reads and writes: the process's standard streams and environment, or
/// buffers in tests.
pub struct Io<'a> {
    /// Standard input (values for `set` when it is not a terminal).
    pub stdin: &'a mut dyn Read,
    /// Whether standard input is a terminal: `set` then prompts without echo (on the
    /// controlling terminal).
    pub stdin_is_terminal: bool,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Whether standard output is a terminal: `reveal` then refuses to print without `--show`.
    pub stdout_is_terminal: bool,
    /// Standard error: errors, notes and progress.
    pub stderr: &'a mut dyn Write,
    /// The directory the workspace is searched from when `--workspace` is not given.
    pub cwd: PathBuf,
    /// Reads an environment variable (`SECRETS_IDENTITY`, `SECRETS_IDENTITY_KEY`, `HOME`).
    pub vars: &'a dyn Fn(&str) -> Option<OsString>,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("stdin_is_terminal", &self.stdin_is_terminal)
            .field("stdout_is_terminal", &self.stdout_is_terminal)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl Io<'_> {
    /// Runs `f` with the process's streams, working directory and environment.
    pub fn std<T>(f: impl FnOnce(&mut Io<'_>) -> T) -> T {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        let stdin_is_terminal = stdin.is_terminal();
        let stdout_is_terminal = stdout.is_terminal();
        let vars = |name: &str| std::env::var_os(name);
        let mut io = Io {
            stdin: &mut stdin.lock(),
            stdin_is_terminal,
            stdout: &mut stdout.lock(),
            stdout_is_terminal,
            stderr: &mut stderr.lock(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            vars: &vars,
        };
        f(&mut io)
    }
}

/// Runs the CLI on the process's arguments, streams and environment. An xtask's `main`.
pub fn main() -> ExitCode {
    Io::std(|io| run_with(std::env::args_os(), io))
}

/// Runs the CLI on `args` (the first is the program name) with `io`; returns the exit
/// status.
pub fn run_with<I, T>(args: I, io: &mut Io<'_>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            if let Some(failure) = positional_echo(&error, &args) {
                let _ = failure.print(io.stderr);
                return ExitCode::from(failure.code);
            }
            let text = error.render().to_string();
            let _ = if error.use_stderr() {
                write!(io.stderr, "{text}")
            } else {
                write!(io.stdout, "{text}")
            };
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Secret(secret) => match run_secret(secret, io) {
            // `run` exits with the child's status.
            Ok(Some(code)) => return ExitCode::from(code),
            Ok(None) => Ok(()),
            Err(failure) => Err(failure),
        },
        // `check-secrets`: the check owns its output and exit status.
        Command::CheckSecrets(args) => return check::run(&args, io),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = failure.print(io.stderr);
            ExitCode::from(failure.code)
        }
    }
}

/// A parse error that would repeat an extra positional argument: it may be a value typed on
/// the command line (`secret set Token hunter2`), so it is not shown. For `run`, it is the
/// command to start, written without the `--` before it.
fn positional_echo(error: &clap::Error, args: &[OsString]) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) if !arg.starts_with('-') && subcommand(args) == Some("run") => Some(
            Failure::usage(format!(
                "`secret run` takes the command to start after `--`, and `{arg}` came before it"
            ))
            .with_help(
                "put `--` between run's own flags and the command: `cargo xtask secret run --env dev -- cargo run -p my-service`",
            ),
        ),
        Some(ContextValue::String(arg)) if !arg.starts_with('-') => Some(
            Failure::usage("unexpected extra argument (not shown: it may be a value)".to_owned())
                .with_help(
                    "a value is never given on the command line: `set` reads it from stdin, a prompt or `--from-file FILE`; see `--help`",
                ),
        ),
        _ => None,
    }
}

/// The `secret` subcommand `args` name (`run` in `xtask secret --workspace x run ...`).
fn subcommand(args: &[OsString]) -> Option<&str> {
    let mut words = args.iter().skip(1).filter_map(|arg| arg.to_str());
    words.find(|word| *word == "secret")?;
    let mut skip_value = false;
    for word in words {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        match word {
            "--workspace" => skip_value = true,
            word if word.starts_with('-') => {}
            word => return Some(word),
        }
    }
    None
}

/// `text` with `--workspace ROOT` added to every `cargo xtask secret` command it suggests.
pub(crate) fn with_workspace(text: &str, root: &Path) -> String {
    let with = format!(
        "cargo xtask secret --workspace {} ",
        secret_core::text::shell_quote(&root.display().to_string())
    );
    text.replace("cargo xtask secret ", &with)
}

/// Runs a `secret` subcommand; `Some(code)` is an exit status to return as is (`run`).
fn run_secret(secret: SecretCli, io: &mut Io<'_>) -> Result<Option<u8>, Failure> {
    // Git runs the drivers from the repository's top folder, with paths to temporary files.
    match &secret.command {
        SecretCommand::MergeDriver(args) => return drivers::merge_driver(args, io).map(|()| None),
        SecretCommand::Textconv(args) => return drivers::textconv(args, io).map(|()| None),
        _ => {}
    }
    let root = secret_core::workspace::resolve(secret.workspace.as_deref(), &io.cwd)?;
    // For another workspace than the current folder's, the commands suggested must name it.
    let elsewhere = secret.workspace.is_some()
        && secret_core::workspace::find_root(&io.cwd).as_deref() != Some(root.as_path());
    run_in(secret, &root, io).map_err(|failure| {
        if elsewhere {
            failure.in_workspace(&root)
        } else {
            failure
        }
    })
}

fn run_in(secret: SecretCli, root: &Path, io: &mut Io<'_>) -> Result<Option<u8>, Failure> {
    let root = root.to_owned();
    warn_if_identity_is_shared(io);
    let file_store = secret.file_store;
    match secret.command {
        SecretCommand::Init(args) => init::run(&root, &args, io),
        SecretCommand::PreCommit => hook::pre_commit(&root, io),
        SecretCommand::Set(args) => set::set(&root, &args, file_store, io),
        SecretCommand::Unset(args) => set::unset(&root, &args, file_store, io),
        SecretCommand::Import(args) => set::import(&root, &args, file_store, io),
        SecretCommand::Rekey(args) => rekey::run(&root, &args, io),
        SecretCommand::List(args) => list::run(&root, &args, file_store, io),
        SecretCommand::Reveal(args) => reveal::run(&root, &args, file_store, io),
        SecretCommand::Export(args) => export::run(&root, &args, file_store, io),
        SecretCommand::Sync(args) => sync::run(&root, &args, io),
        SecretCommand::Run(args) => return run::run(&root, &args, file_store, io).map(Some),
        SecretCommand::Migrate(args) => team::migrate(&root, &args, io),
        SecretCommand::Log(args) => team::log(&root, &args, io),
        SecretCommand::Rules => rules::run(&root, io),
        SecretCommand::Adopt(args) => adopt::run(&root, &args, file_store, io),
        SecretCommand::Ui(args) => ui::run(&root, &args, io),
        SecretCommand::MergeDriver(_) | SecretCommand::Textconv(_) => unreachable!("handled above"),
    }
    .map(|()| None)
}

/// Opens the backend the signed access rules of `state` select (`--file-store` forces
/// `secrets.enc.toml`, read through `state`).
pub(crate) fn open_backend<'a>(
    state: &'a secret_core::state::State,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<crate::backend::Backend<'a>, Failure> {
    if !file_store && let Some(backend) = &crate::backend::trusted_config(state)?.backend {
        // Where the client will connect: `VAULT_ADDR` and `VAULT_NAMESPACE` win over the
        // file, and say so. A bad variable is the connection's error, below.
        if let Ok(settings) = secret_vault::Settings::resolve(backend, io.vars) {
            if let Some(note) = settings.override_note(backend) {
                let _ = writeln!(
                    io.stderr,
                    "note: {}",
                    secret_core::text::escape_control(&note)
                );
            }
            let warning = match settings.address_from {
                Some(_) => settings.plain_http_warning(),
                None => backend.plain_http_warning(),
            };
            if let Some(warning) = warning {
                let _ = writeln!(
                    io.stderr,
                    "warning: {}",
                    secret_core::text::escape_control(&warning)
                );
            }
        }
    }
    crate::backend::Backend::select(state, io.vars, file_store).map_err(Failure::from)
}

/// The environment `--env` names, resolved as readers resolve it: by the store's signed
/// access rules (`state`'s), so a change to secrets.toml nobody signed (an environment
/// repointed to another type, a pattern added) does not change which value a command
/// delivers.
pub(crate) fn resolve_env(
    state: &secret_core::state::State,
    text: &str,
) -> Result<secret_core::Environment, Failure> {
    Ok(state.resolve_env(text)?)
}

/// Refuses to write values to a terminal unless `--show` was given (`reveal`, `export`):
/// printing secrets should take a pipe, a file, or a deliberate flag.
pub(crate) fn refuse_terminal(
    io: &Io<'_>,
    show: bool,
    what: &str,
    command: &str,
) -> Result<(), Failure> {
    if io.stdout_is_terminal && !show {
        return Err(
            Failure::data(format!("refusing to print {what} to a terminal")).with_help(format!(
                "pipe it (`{command} | ...`), redirect it to a file, or add `--show` to print it here"
            )),
        );
    }
    Ok(())
}

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "Workspace tasks: secrets", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage secret values: init, set, unset, list, rekey, import, reveal, run, export, sync
    Secret(SecretCli),
    /// Check that every `secret!` declaration has a value (see `check-secrets --help`)
    CheckSecrets(check::CheckArgs),
}

#[derive(Debug, Args)]
struct SecretCli {
    /// The workspace (default: the enclosing Cargo workspace)
    #[arg(long, value_name = "DIR", global = true)]
    workspace: Option<PathBuf>,
    /// Use secrets.enc.toml even when secrets.toml selects a Vault/OpenBao [backend]
    #[arg(long, global = true)]
    file_store: bool,
    #[command(subcommand)]
    command: SecretCommand,
}

#[derive(Debug, Subcommand)]
enum SecretCommand {
    /// Create an identity if none, secrets.toml if missing, add your key as a recipient and
    /// the local override files to .gitignore
    Init(init::InitArgs),
    /// Set a value, read from a no-echo prompt, from stdin when piped, or --from-file
    Set(set::SetArgs),
    /// Remove the value for those types or environments
    Unset(set::UnsetArgs),
    /// Matrix of every secret x each type and named environment
    List(list::ListArgs),
    /// After secrets.toml changed: show who gains and loses access, sign the change to the
    /// access rules, re-encrypt the values whose recipients changed and re-sign those whose
    /// writer left
    Rekey(rekey::RekeyArgs),
    /// Set many values from a dotenv file (`NAME=value` lines)
    Import(set::ImportArgs),
    /// Decrypt one value, for debugging: to a pipe, a file (--output), or the terminal with
    /// --show
    Reveal(reveal::RevealArgs),
    /// Run a command with the values of an environment as SECRET_<Name> variables (every
    /// stored one, or those of --package)
    Run(run::RunArgs),
    /// Write the values of an environment for a deploy (every stored one, or those of
    /// --package): dotenv, json, k8s, github, dir:PATH
    Export(export::ExportArgs),
    /// Replicate the file store's values for an environment into the [backend]
    Sync(sync::SyncArgs),
    /// Bring a store from before signed access rules up to date: sign the rules as the trust
    /// root, sign format-2 values again, and format-1 values you accept one by one
    Migrate(team::MigrateArgs),
    /// When each value changed in git history, and who signed it
    Log(team::LogArgs),
    /// The signed access rules: every version, who signed it, what secrets.toml changes that
    /// nobody signed yet, and what to pin in CI (SECRETS_TRUST)
    Rules,
    /// Move a credential written into the source into the store: store the literal's value
    /// (read from the file) and replace the literal with a `secret!` handle
    Adopt(adopt::AdoptArgs),
    /// Serve the dashboard on 127.0.0.1: every secret against every environment, set, move,
    /// unset and reveal values in a browser
    Ui(ui::UiArgs),
    /// Git's merge driver for secrets.enc.toml (configured by `init`): merges per secret and
    /// scope
    #[command(hide = true)]
    MergeDriver(drivers::MergeDriverArgs),
    /// The pre-commit hook `init --hook` installs: the staged files' checks
    #[command(hide = true, name = "pre-commit")]
    PreCommit,
    /// Git's diff textconv for secrets.enc.toml (configured by `init`): one line per value
    #[command(hide = true)]
    Textconv(drivers::TextconvArgs),
}

/// Which values a command addresses: `--type` or `--env`.
#[derive(Debug, Args)]
pub(crate) struct ScopeArgs {
    /// Environment types: production (prod), development (dev), preview (pr), local;
    /// comma-separated
    #[arg(
        long = "type",
        value_name = "T[,T..]",
        value_delimiter = ',',
        required_unless_present = "envs",
        conflicts_with = "envs"
    )]
    types: Vec<String>,
    /// Named environments (from [environments] in secrets.toml), or types; comma-separated
    #[arg(long = "env", value_name = "E[,E..]", value_delimiter = ',')]
    envs: Vec<String>,
}

impl ScopeArgs {
    /// The scope the flags select, validated against the signed access rules of `state`.
    pub(crate) fn scope(&self, state: &secret_core::state::State) -> Result<Scope, Failure> {
        let config = state.effective();
        let types_help = "types are production (prod), development (dev), preview (pr) and local";
        if !self.types.is_empty() {
            let mut types = std::collections::BTreeSet::new();
            for text in &self.types {
                let ty = EnvType::parse(text.trim()).ok_or_else(|| {
                    let mut failure =
                        Failure::usage(format!("`{text}` is not an environment type"));
                    if let Some(known) = secret_core::error::did_you_mean(text, EnvType::NAMES) {
                        failure.help.push(format!("did you mean `{known}`?"));
                    }
                    if config.environments.contains_key(text.trim()) {
                        failure.help.push(format!(
                            "`{text}` is a named environment: use `--env {text}`"
                        ));
                    }
                    failure.help.push(types_help.to_owned());
                    failure
                })?;
                config.check_type_used(ty).map_err(Failure::from_file)?;
                types.insert(ty);
            }
            return Ok(Scope::Types(types));
        }
        let mut types = std::collections::BTreeSet::new();
        let mut envs = std::collections::BTreeSet::new();
        for text in &self.envs {
            let env = state.resolve_env(text.trim()).map_err(Failure::from_file)?;
            match env.kind {
                EnvKind::Type => {
                    types.insert(env.ty);
                }
                EnvKind::Named | EnvKind::Pattern(_) => {
                    envs.insert(env.name);
                }
            }
        }
        match (types.is_empty(), envs.is_empty()) {
            (false, true) => Ok(Scope::Types(types)),
            (true, false) => Ok(Scope::Envs(envs)),
            _ => Err(Failure::usage(
                "`--env` mixes environment types and named environments".to_owned(),
            )
            .with_help(
                "a value covers either types or named environments: set them in two commands",
            )),
        }
    }
}

/// Prints what [`crate::trusted::Trusted`] has to say loudly (the access rules changed, the
/// branch's history was rewritten) on stderr.
pub(crate) fn print_notes(notes: &[String], io: &mut Io<'_>) {
    for note in notes {
        let _ = writeln!(io.stderr, "note: {}", escaped(note));
    }
}

/// 128 random bits from the operating system (`getrandom`), hex: the dashboard's tokens,
/// the `$GITHUB_ENV` delimiter.
pub(crate) fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    // `getrandom::Error` is `std::error::Error` only with getrandom's `std` feature, which a
    // build of `xtask` alone (`cargo build --release -p xtask`, as bench/run.sh does) lacks.
    getrandom::getrandom(&mut bytes).map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// `text` as it may reach the terminal: messages carry names, scopes and lines from files
/// anyone can commit, so control characters are escaped (line breaks kept).
pub(crate) fn escaped(text: &dyn std::fmt::Display) -> String {
    secret_core::text::escape_control_keep_lines(&text.to_string())
}

/// A command's failure: the exit status and what to print.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
    help: Vec<String>,
}

impl Failure {
    /// The command failed on the user's data (exit 1).
    pub(crate) fn data(message: String) -> Self {
        Self {
            code: 1,
            message,
            help: Vec::new(),
        }
    }

    /// Bad arguments or files: the command could not run (exit 2).
    pub(crate) fn usage(message: String) -> Self {
        Self {
            code: 2,
            message,
            help: Vec::new(),
        }
    }

    /// The failure with `--workspace DIR` added to every `cargo xtask secret` command it
    /// suggests, for a command run on another workspace than the current folder's.
    fn in_workspace(mut self, root: &Path) -> Self {
        let add = |text: &str| with_workspace(text, root);
        self.message = add(&self.message);
        self.help = self.help.iter().map(|help| add(help)).collect();
        self
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// A problem in a file: exit 2.
    pub(crate) fn from_file(error: FileError) -> Self {
        let mut message = error.path.display().to_string();
        if let Some(line) = error.line {
            message.push_str(&format!(":{line}"));
        }
        message.push_str(&format!(": {}", error.message));
        Self {
            code: 2,
            message,
            help: error.help.into_iter().collect(),
        }
    }

    fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        // Names, scopes and recipients come from files anyone can commit: no control
        // character reaches the terminal.
        let escape = secret_core::text::escape_control_keep_lines;
        writeln!(out, "error: {}", escape(&self.message))?;
        for help in &self.help {
            writeln!(out, "help: {}", escape(help))?;
        }
        Ok(())
    }
}

impl From<secret_core::Error> for Failure {
    fn from(error: secret_core::Error) -> Self {
        use secret_core::Error as E;
        let code = match &error {
            E::NoAccess { .. } | E::NotAWriter(_) | E::Conflict { .. } | E::NotSet { .. } => 1,
            E::Backend(backend) if backend.kind == secret_core::BackendErrorKind::Conflict => 1,
            _ => 2,
        };
        let mut failure = Self::from_file(error.report());
        failure.code = code;
        failure
    }
}

impl From<FileError> for Failure {
    fn from(error: FileError) -> Self {
        Self::from_file(error)
    }
}

/// Warns on stderr when the identity file (from `SECRETS_IDENTITY` or the default path) can
/// be read by other users, naming the file and the `chmod` that fixes it.
fn warn_if_identity_is_shared(io: &mut Io<'_>) {
    if let secret_core::identity::IdentitySource::File { path, .. } =
        secret_core::identity::IdentitySource::from_vars(io.vars)
        && let Some(warning) = secret_core::identity::permission_warning(&path)
    {
        let _ = writeln!(
            io.stderr,
            "warning: {}",
            secret_core::text::escape_control_keep_lines(&warning)
        );
    }
}

/// Loads the identities through `io.vars` (file errors exit 2 with the file and line).
pub(crate) fn identities(io: &Io<'_>) -> Result<secret_core::Identities, Failure> {
    secret_core::Identities::from_vars(io.vars).map_err(Failure::from)
}
