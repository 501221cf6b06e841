//! The pre-commit hook: `secret init --hook` installs it in this clone, and git runs
//! `secret pre-commit` before each commit.
//!
//! The hook looks only at what is staged, with no key and no `cargo metadata`, so it takes
//! a fraction of a second: the staged version of each Rust file outside test code is
//! searched for credentials written into it (the rules of `hardcoded-secret`, with the
//! `// secret: allow-hardcoded` comment and `[hardcoded] allow` of `secrets.toml`), a staged
//! local override file is refused, and a staged `secrets.toml` must parse. Any finding stops
//! the commit (exit status 1); `git commit --no-verify` skips the hook.
//!
//! The hook runs the copy of this program kept in the clone's git folder, as the merge
//! driver does (or the command in `SECRETS_GIT_COMMAND`): committing never builds or runs
//! the checked-out code.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Failure, Io};
use crate::scan::hardcoded;

/// The first line after the shebang of the hook this program writes: how it knows its own.
const MARKER: &str = "# secrets: pre-commit hook written by `secret init --hook`";

/// Installs the pre-commit hook in the clone holding `root`. An existing hook that is not
/// this one is left alone, with the line to add to it.
pub(crate) fn install(root: &Path, io: &mut Io<'_>) -> Result<(), Failure> {
    if !crate::git::in_repository(root) {
        return Err(Failure::usage(
            "--hook needs a git repository, and this workspace is not in one".to_owned(),
        )
        .with_help("run `git init`, then `cargo xtask secret init --hook` again"));
    }
    let hooks = hooks_dir(root).ok_or_else(|| {
        Failure::usage(
            "cannot find this clone's hooks folder (`git rev-parse --git-path hooks`)".to_owned(),
        )
    })?;
    let command = match (io.vars)(crate::git::DRIVER_COMMAND_VAR)
        .map(|value| value.to_string_lossy().into_owned())
        .filter(|value| !value.trim().is_empty())
    {
        Some(command) => command,
        None => crate::git::install_driver(root).map_err(Failure::usage)?,
    };
    let line = format!(
        "{command} pre-commit --workspace {}",
        secret_core::text::shell_quote(&root.to_string_lossy())
    );
    let path = hooks.join("pre-commit");
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.contains(MARKER) => {
            let _ = writeln!(
                io.stdout,
                "note: {} already exists and is not this tool's: add this line to it to check staged files for credentials:\n    {line}",
                path.display()
            );
            return Ok(());
        }
        _ => {}
    }
    std::fs::create_dir_all(&hooks)
        .map_err(|error| Failure::usage(format!("{}: cannot create: {error}", hooks.display())))?;
    let script = format!(
        "#!/bin/sh\n{MARKER}\n# Skip it once with `git commit --no-verify`.\nexec {line}\n"
    );
    std::fs::write(&path, script)
        .map_err(|error| Failure::usage(format!("{}: cannot write: {error}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(
            |error| {
                Failure::usage(format!(
                    "{}: cannot make it executable: {error}",
                    path.display()
                ))
            },
        )?;
    }
    let _ = writeln!(
        io.stdout,
        "installed a pre-commit hook ({}): each commit's staged Rust files are checked for credentials written into them",
        path.display()
    );
    Ok(())
}

/// This clone's hooks folder (`core.hooksPath` if set).
fn hooks_dir(root: &Path) -> Option<PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .current_dir(root)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// `secret pre-commit`: the checks of the staged files of the workspace at `root`.
pub(crate) fn pre_commit(root: &Path, io: &mut Io<'_>) -> Result<(), Failure> {
    let staged = git_text(
        root,
        &[
            "diff",
            "--cached",
            "--name-only",
            "--relative",
            "--diff-filter=ACMR",
            "-z",
        ],
    )?;
    let mut problems = 0usize;
    let mut allow = Vec::new();
    for path in staged.split('\0').filter(|path| !path.is_empty()) {
        let name = Path::new(path)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if name == secret_core::overrides::OVERRIDE_TOML
            || name == secret_core::overrides::OVERRIDE_CUE
        {
            problems += 1;
            let _ = writeln!(
                io.stdout,
                "error[tracked-override]: {} is staged: local override values never go into git\n  = help: `git restore --staged {}`",
                secret_core::text::escape_control(path),
                secret_core::text::shell_quote(path)
            );
        }
        if path == secret_core::CONFIG_FILE {
            let text = git_text(root, &["show", &format!(":./{path}")])?;
            match secret_core::Config::parse(&root.join(path), &text) {
                Ok(config) => allow = config.hardcoded.allow,
                Err(error) => {
                    problems += 1;
                    let _ = writeln!(
                        io.stdout,
                        "error: {}",
                        secret_core::text::escape_control(&error.to_string())
                    );
                }
            }
        }
    }
    if allow.is_empty()
        && let Ok(config) = secret_core::Config::load(root)
    {
        allow = config.hardcoded.allow;
    }
    let mut found = Vec::new();
    for path in staged.split('\0').filter(|path| path.ends_with(".rs")) {
        let display = PathBuf::from(path);
        if crate::scan::is_test_file(&display, "") {
            continue;
        }
        let text = git_text(root, &["show", &format!(":./{path}")])?;
        found.extend(
            hardcoded::find(&text, None, false)
                .into_iter()
                .map(|finding| {
                    crate::scan::Hardcoded::from_found(finding, "", "", display.clone())
                }),
        );
    }
    for diagnostic in crate::check::hardcoded_diagnostics(&found, &allow, true) {
        problems += 1;
        let escape = |text: &str| secret_core::text::escape_control(text).into_owned();
        let mut text = format!("error[hardcoded-secret]: {}\n", escape(&diagnostic.message));
        if let Some(location) = &diagnostic.location {
            text.push_str(&format!(
                " --> {}:{}:{}\n",
                escape(&location.path.to_string_lossy()),
                location.line.unwrap_or(1),
                location.column.unwrap_or(1)
            ));
        }
        if let Some(help) = &diagnostic.help {
            text.push_str(&format!("  = help: {}\n", escape(help)));
        }
        let _ = write!(io.stdout, "{text}");
    }
    if problems > 0 {
        return Err(Failure::data(format!(
            "the commit was stopped: {problems} problem{} in the staged files",
            if problems == 1 { "" } else { "s" }
        ))
        .with_help("fix them and stage again, or commit with `git commit --no-verify` to skip this check once"));
    }
    Ok(())
}

/// What `git args` prints in `root`, as text.
fn git_text(root: &Path, args: &[&str]) -> Result<String, Failure> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|error| Failure::usage(format!("cannot run git: {error}")))?;
    if !out.status.success() {
        return Err(Failure::usage(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
