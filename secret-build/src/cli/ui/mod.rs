//! `secret ui`: the local dashboard. A page on 127.0.0.1 shows every secret against every
//! environment (the check's grid and findings), and sets, moves, unsets and reveals values
//! through the same functions as `set`, `unset` and `reveal`.
//!
//! Built only with the `ui` feature of `secret-build` (axum on a single-threaded tokio
//! runtime); without it the command explains how to enable it.
//!
//! Security model (docs/dashboard.md): the server listens on 127.0.0.1 only. The printed
//! URL carries a random 128-bit token; opening it sets an `HttpOnly`, `SameSite=Strict`
//! session cookie (another random value) and redirects to the URL without the token. Every
//! request must name this server in `Host` (against DNS rebinding) and carry the cookie;
//! every `POST` must also come from this origin (`Origin`) and carry the page's CSRF token
//! in a header. Responses forbid caching and framing and set a strict Content-Security-Policy
//! (scripts and styles from this server only). Values travel only in `POST` bodies and in
//! the answer to an explicit reveal; nothing is logged.

use std::path::Path;

use clap::Args;

use super::{Failure, Io};

#[cfg(feature = "ui")]
mod page;
#[cfg(feature = "ui")]
mod server;

/// Arguments of `secret ui`.
#[derive(Debug, Args)]
pub(crate) struct UiArgs {
    /// The port on 127.0.0.1 (default: any free port)
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Print the URL without opening a browser
    #[arg(long)]
    no_open: bool,
}

#[cfg(not(feature = "ui"))]
pub(crate) fn run(_root: &Path, _args: &UiArgs, _io: &mut Io<'_>) -> Result<(), Failure> {
    Err(
        Failure::usage("this xtask was built without the dashboard".to_owned()).with_help(
            "enable it in your xtask's Cargo.toml: `secret-build = { ..., features = [\"ui\"] }`",
        ),
    )
}

#[cfg(feature = "ui")]
pub(crate) fn run(root: &Path, args: &UiArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    let config = secret_core::Config::load(root)?;
    if config.backend.is_some() {
        return Err(Failure::usage(format!(
            "{}: the dashboard works on secrets.enc.toml, and this workspace keeps its values in a [backend]",
            config.path.display()
        ))
        .with_help("use `cargo xtask secret list`, `set` and `reveal`, which work on the backend"));
    }
    let vars = server::Vars::snapshot(io.vars);
    let server = server::Server::bind(root.to_owned(), args.port, vars)
        .map_err(|error| Failure::usage(format!("cannot listen on 127.0.0.1: {error}")))?;
    let url = server.url();
    let _ = writeln!(io.stdout, "dashboard for {} at {url}", root.display());
    let _ = writeln!(
        io.stdout,
        "open it in a browser on this machine; stop with Ctrl-C"
    );
    let _ = io.stdout.flush();
    if !args.no_open
        && let Err(why) = open_browser(&url, io)
    {
        let _ = writeln!(
            io.stderr,
            "note: no browser opened ({why}): open the URL above"
        );
    }
    server
        .run()
        .map_err(|error| Failure::usage(format!("the dashboard stopped: {error}")))
}

/// Opens `url` with `$BROWSER`, else the platform's opener.
#[cfg(feature = "ui")]
fn open_browser(url: &str, io: &Io<'_>) -> Result<(), String> {
    let opener: std::path::PathBuf =
        match (io.vars)("BROWSER").filter(|browser| !browser.is_empty()) {
            Some(browser) => browser.into(),
            None if cfg!(target_os = "macos") => "open".into(),
            None => "xdg-open".into(),
        };
    std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|error| format!("{}: {error}", opener.display()))
}

#[cfg(all(test, not(feature = "ui")))]
mod tests {
    use crate::cli::{Io, run_with};

    #[test]
    fn without_the_feature_the_command_says_how_to_enable_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\n").unwrap();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let vars = |_: &str| None;
        let mut io = Io {
            stdin: &mut std::io::empty(),
            stdin_is_terminal: false,
            stdout: &mut stdout,
            stdout_is_terminal: false,
            stderr: &mut stderr,
            cwd: dir.path().to_owned(),
            vars: &vars,
        };
        let code = run_with(
            [
                "xtask".as_ref(),
                "secret".as_ref(),
                "ui".as_ref(),
                "--workspace".as_ref(),
                dir.path().as_os_str(),
            ],
            &mut io,
        );
        assert_eq!(code, std::process::ExitCode::from(2));
        let stderr = String::from_utf8(stderr).unwrap();
        assert!(stderr.contains("built without the dashboard"), "{stderr}");
        assert!(stderr.contains("features = [\"ui\"]"), "{stderr}");
        assert!(stdout.is_empty());
    }
}
