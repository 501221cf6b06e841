//! `secret ui`: the local dashboard. A page on 127.0.0.1 shows every secret against every
//! environment (the check's grid and findings), and sets, moves, unsets and reveals values
//! through the same functions as `set`, `unset` and `reveal`.
//!
//! Built only with the `ui` feature of `secret-build` (axum on a single-threaded tokio
//! runtime, the work on its blocking pool); without it the command explains how to enable
//! it.
//!
//! Security model (docs/dashboard.md, docs/SECURITY.md): the server listens on 127.0.0.1
//! only and sets no cookie. A one-time link token ([`auth`]) is traded for a session that
//! only the tab holds (`sessionStorage`, sent in a header); the browser is opened on a
//! private file, so no command line carries a token ([`launch`]). Every request must name
//! this server in `Host` (against DNS rebinding), every `POST` must come from its origin,
//! and every answer to a session names this server start, so a tab whose server stopped
//! sends nothing to whatever answers on its port. Values travel only in `POST` bodies and
//! in the answer to an explicit reveal; nothing is logged.

use std::path::Path;

use clap::Args;

use super::{Failure, Io};

#[cfg(feature = "ui")]
mod api;
#[cfg(feature = "ui")]
mod auth;
#[cfg(feature = "ui")]
mod launch;
#[cfg(feature = "ui")]
mod server;
#[cfg(feature = "ui")]
mod state;
#[cfg(feature = "ui")]
mod watch;

/// Arguments of `secret ui`.
#[derive(Debug, Args)]
pub(crate) struct UiArgs {
    /// The port on 127.0.0.1 (default: any free port)
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Print a link instead of opening a browser
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
    use std::io::BufRead as _;

    let config = secret_core::Config::load(root)?;
    if config.backend.is_some() {
        return Err(Failure::usage(format!(
            "{}: the dashboard works on secrets.enc.toml, and this workspace keeps its values in a [backend]",
            config.path.display()
        ))
        .with_help("use `cargo xtask secret list`, `set` and `reveal`, which work on the backend"));
    }
    let vars = server::Vars::snapshot(io.vars);
    let server = server::Server::bind(root.to_owned(), args.port, vars, launch::parent(io.vars))
        .map_err(|error| bind_failure(args.port, &error))?;
    let ui = server.ui();
    let link_failure =
        |error: std::io::Error| Failure::usage(format!("cannot draw a link token: {error}"));
    let _ = writeln!(
        io.stdout,
        "dashboard for {} on {}",
        root.display(),
        ui.base()
    );
    let opened = if args.no_open {
        false
    } else {
        match ui
            .launcher()
            .map_err(|error| error.to_string())
            .and_then(|file| launch::open(&file, io.vars))
        {
            Ok(()) => true,
            Err(why) => {
                let _ = writeln!(
                    io.stderr,
                    "note: no browser opened ({why}): open the link below"
                );
                false
            }
        }
    };
    if opened {
        let _ = writeln!(
            io.stdout,
            "opened in your browser (through a file only you can read: no token on any command line)"
        );
    } else {
        print_link(&ui.link().map_err(link_failure)?, io.stdout);
    }
    let _ = writeln!(
        io.stdout,
        "press Enter here for a new one-time link; stop with Ctrl-C"
    );
    let _ = io.stdout.flush();
    cleanup_on_signal(ui.clone());
    std::thread::scope(|scope| {
        let serving = scope.spawn(|| server.run());
        // Each line on stdin asks for a new link (each link opens one tab). At the end of
        // stdin the dashboard keeps serving.
        let Io {
            stdin,
            stdout,
            stderr,
            ..
        } = io;
        let mut lines = std::io::BufReader::new(&mut **stdin);
        let mut line = String::new();
        while !serving.is_finished() && matches!(lines.read_line(&mut line), Ok(1..)) {
            line.clear();
            match ui.link() {
                Ok(link) => print_link(&link, &mut **stdout),
                Err(error) => {
                    let _ = writeln!(
                        stderr,
                        "error: cannot draw a link token: {}",
                        super::escaped(&error)
                    );
                }
            }
        }
        let result = serving.join();
        ui.remove_launchers();
        match result {
            Ok(result) => {
                result.map_err(|error| Failure::usage(format!("the dashboard stopped: {error}")))
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(feature = "ui")]
fn print_link(link: &str, stdout: &mut dyn std::io::Write) {
    let _ = writeln!(
        stdout,
        "open it in a browser on this machine: {link} (one tab, within 3 minutes)"
    );
    let _ = stdout.flush();
}

/// A port that cannot be had, with the port and how to pick another.
#[cfg(feature = "ui")]
fn bind_failure(port: u16, error: &std::io::Error) -> Failure {
    let failure = Failure::usage(format!("cannot listen on 127.0.0.1:{port}: {error}"));
    if error.kind() == std::io::ErrorKind::AddrInUse {
        failure.with_help(format!(
            "another program (or another dashboard) uses port {port}: pick another with `--port N`, or leave `--port` out for any free port"
        ))
    } else if port != 0 && port < 1024 {
        failure.with_help(format!(
            "port {port} needs privileges: pick one above 1023 with `--port N`, or leave `--port` out for any free port"
        ))
    } else {
        failure
    }
}

/// On Ctrl-C (and SIGTERM, SIGHUP) removes the launcher files not used yet, then exits as
/// the signal would have.
#[cfg(all(feature = "ui", unix))]
fn cleanup_on_signal(ui: std::sync::Arc<server::Ui>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // Without the handlers the signals keep their default: the process ends.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            ui.remove_launchers();
            std::process::exit(128 + signal);
        }
    });
}

#[cfg(all(feature = "ui", not(unix)))]
fn cleanup_on_signal(_ui: std::sync::Arc<server::Ui>) {}

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
