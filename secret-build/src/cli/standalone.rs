//! The CLI as one installed program, `secret`, for people and CI jobs without the
//! workspace's xtask: `secret export --env prod ...` is `cargo xtask secret export --env
//! prod ...`, and `secret check-secrets ...` is `cargo xtask check-secrets ...`.
//!
//! The arguments are those of the xtask with `secret` in front (except `check-secrets`),
//! so both parse with one definition. What the commands print names the commands the
//! xtask way (`cargo xtask secret set ...`); here those texts are rewritten to the
//! program's own (`secret set ...`) on stderr, and on stdout for the commands that print
//! no value (`check-secrets`, `list`, `log`, `init`): never on the stdout of `reveal`,
//! `export` or `run`, whose bytes are values or a child's output.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use super::{Io, run_with};

/// Runs the standalone `secret` program on the process's arguments, streams and environment.
pub fn main() -> ExitCode {
    Io::std(|io| run_standalone(std::env::args_os(), io))
}

/// Runs the standalone `secret` program on `args` (the first is the program name) with `io`.
pub fn run_standalone<I, T>(args: I, io: &mut Io<'_>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // Parsed as the xtask's arguments, whose usage lines then read `xtask secret ...`,
    // rewritten below.
    let mut rest: Vec<OsString> = args.into_iter().skip(1).map(Into::into).collect();
    // `secret secret textconv ...`: the git drivers run a copy of whichever program ran
    // `init` with the xtask's words (`<copy> secret merge-driver ...`), so a copy of this
    // program takes them too.
    if rest.first().is_some_and(|first| first == "secret") {
        rest.remove(0);
    }
    let check = rest.first().is_some_and(|first| first == "check-secrets");
    let mut argv: Vec<OsString> = vec!["xtask".into()];
    if !check {
        argv.push("secret".into());
    }
    argv.extend(rest.iter().cloned());
    let quiet_stdout = check
        || rest
            .iter()
            .filter_map(|arg| arg.to_str())
            .find(|arg| !arg.starts_with('-'))
            .is_none_or(|command| {
                matches!(
                    command,
                    "list"
                        | "log"
                        | "init"
                        | "help"
                        | "rules"
                        | "rekey"
                        | "migrate"
                        | "set"
                        | "unset"
                        | "adopt"
                        | "pre-commit"
                )
            });
    let mut stderr = Rewrite::new(&mut *io.stderr);
    let mut stdout_rewrite;
    let mut stdout_plain;
    let stdout: &mut dyn Write = if quiet_stdout {
        stdout_rewrite = Rewrite::new(&mut *io.stdout);
        &mut stdout_rewrite
    } else {
        stdout_plain = &mut *io.stdout;
        &mut stdout_plain
    };
    let mut inner = Io {
        stdin: &mut *io.stdin,
        stdin_is_terminal: io.stdin_is_terminal,
        stdout,
        stdout_is_terminal: io.stdout_is_terminal,
        stderr: &mut stderr,
        cwd: io.cwd.clone(),
        vars: io.vars,
    };
    let code = run_with(argv, &mut inner);
    let _ = inner.stdout.flush();
    let _ = inner.stderr.flush();
    code
}

/// Rewrites the xtask's command names to the standalone program's, line by line.
struct Rewrite<'a> {
    inner: &'a mut dyn Write,
    line: Vec<u8>,
}

impl<'a> Rewrite<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Self {
            inner,
            line: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        let text = text
            .replace("cargo xtask secret ", "secret ")
            .replace("cargo xtask check-secrets", "secret check-secrets")
            .replace("xtask secret ", "secret ")
            .replace("xtask check-secrets", "secret check-secrets");
        self.inner.write_all(text.as_bytes())
    }
}

impl Write for Rewrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        if let Some(end) = self.line.iter().rposition(|byte| *byte == b'\n') {
            let rest = self.line.split_off(end + 1);
            let done = std::mem::replace(&mut self.line, rest);
            self.emit(&done)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.line);
        if !rest.is_empty() {
            self.emit(&rest)?;
        }
        self.inner.flush()
    }
}

impl Drop for Rewrite<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
