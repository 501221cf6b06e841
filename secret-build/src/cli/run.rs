//! `secret run --env E -- CMD [ARGS]`: runs CMD with every value visible in E as an
//! environment variable `SECRET_<Name>`, and exits with CMD's status.
//!
//! - The values are those a program running in E would resolve from the store (or the
//!   `[backend]`): for each secret the value of E's own name, else its pattern's, else its
//!   type's. For a `local` environment the override files `.secrets.local.toml` and
//!   `.secrets.local.cue` win over stored values, as at run time (TOML over CUE).
//! - `SECRETS_ENV` is set to E for the child, so a program built with `secret_runtime`
//!   resolves for the same environment; the `SECRET_<Name>` variables win there anyway.
//!   Inherited `SECRET_<Name>` variables of names the store has are replaced.
//! - Standard input, output and error are inherited. SIGINT and SIGTERM received by this
//!   process are forwarded to the child (which, in a terminal, usually got SIGINT from the
//!   terminal already); the tool keeps waiting and exits with the child's status: its exit
//!   code, or 128 + the signal number when it was killed by a signal, as shells do. A
//!   command that cannot be started exits 127 (not found) or 126 (not executable).
//! - No value touches the disk and none is put in an argument list: values go from the
//!   decrypted store (or the backend's response) straight into the child's environment.
//!   Nothing is decrypted when E has no values.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use secret_core::EnvType;

use super::{Failure, Io, escaped, open_backend};

/// Arguments of `secret run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The environment whose values to pass: a named environment or a type
    #[arg(long = "env", value_name = "E")]
    env: String,
    #[command(flatten)]
    delivery: super::deliver::DeliveryArgs,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<OsString>,
}

pub(crate) fn run(
    root: &Path,
    args: &RunArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<u8, Failure> {
    // `secrets.toml` and the store are read and judged once, for the environment and the
    // values.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let config = trusted.state.config();
    let env = super::resolve_env(&trusted.state, &args.env)?;
    let delivery = super::deliver::values(root, &trusted, &env, file_store, &args.delivery, io)?;
    let values = &delivery.values;
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("no command after `--`".to_owned()))?;
    let mut command = Command::new(program);
    command.args(rest).current_dir(&io.cwd);
    if config.backend.is_some() && !file_store {
        // The backend's credentials read every environment: the child gets its values,
        // not the means to read the others.
        for var in CREDENTIALS {
            command.env_remove(var);
        }
    }
    command.env("SECRETS_ENV", &env.name);
    for (name, value) in values {
        command.env(format!("SECRET_{name}"), value.expose_secret());
    }
    // `secret!("DatabaseURL", env = "DATABASE_URL")`: the variable libraries read.
    for (variable, name) in &delivery.variables {
        if let Some(value) = values.get(name) {
            command.env(variable, value.expose_secret());
        }
    }
    let _ = io.stderr.flush();
    let forwarder = forward::Forwarder::install()
        .map_err(|error| Failure::usage(format!("cannot install the signal handlers: {error}")))?;
    let mut child = command.spawn().map_err(|error| {
        let code = match error.kind() {
            ErrorKind::NotFound => 127,
            _ => 126,
        };
        let mut failure = Failure::usage(format!(
            "cannot run `{}`: {error}",
            program.to_string_lossy()
        ));
        failure.code = code;
        failure
    })?;
    drop(command);
    let guard = forwarder.forward_to(child.id());
    let status = child.wait();
    drop(guard);
    let status =
        status.map_err(|error| Failure::usage(format!("waiting for the command: {error}")))?;
    Ok(exit_code(status))
}

/// The Vault/OpenBao credentials `run` keeps from the child.
const CREDENTIALS: [&str; 6] = [
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "BAO_ROLE_ID",
    "BAO_SECRET_ID",
];

/// The values a program in `env` would see: the backend's, and for `local` the override
/// files over them. KV secrets the tool did not write are reported on stderr.
pub(crate) fn values_with_overrides(
    root: &Path,
    trusted: &crate::trusted::Trusted,
    env: &secret_core::Environment,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<std::collections::BTreeMap<String, SecretString>, Failure> {
    let backend = open_backend(&trusted.state, file_store, io)?;
    let read = backend.values_and_ignored(env, io.vars);
    if matches!(backend, crate::backend::Backend::File(_)) {
        // Remembered even when a value is refused: what the history taught.
        trusted.remember();
    }
    let read = read?;
    for ignored in &read.ignored {
        let _ = writeln!(io.stderr, "warning: {}", escaped(ignored));
    }
    let mut values = read.values;
    if env.ty == EnvType::Local {
        // CUE first so that TOML, which the run time asks first, wins.
        for file in [
            secret_core::overrides::OVERRIDE_CUE,
            secret_core::overrides::OVERRIDE_TOML,
        ] {
            if let Some(overrides) = secret_core::overrides::load(&root.join(file))? {
                values.extend(overrides);
            }
        }
    }
    Ok(values)
}

/// The child's exit code, or 128 + signal when a signal ended it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return u8::try_from(128 + signal).unwrap_or(255);
    }
    1
}

#[cfg(unix)]
mod forward {
    //! Forwarding SIGINT and SIGTERM to the child. `signal-hook` catches them with a safe
    //! API (the process must not die of them while the child runs), and `rustix` sends
    //! them on without `unsafe` code; std has no signal API.

    use std::thread::JoinHandle;

    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::{Handle, Signals};

    /// Catches the signals from before the child is spawned (so none is lost between).
    pub(super) struct Forwarder {
        signals: Signals,
    }

    /// Stops forwarding when dropped.
    pub(super) struct Guard {
        handle: Handle,
        thread: Option<JoinHandle<()>>,
    }

    impl Forwarder {
        pub(super) fn install() -> std::io::Result<Self> {
            Ok(Self {
                signals: Signals::new([SIGINT, SIGTERM])?,
            })
        }

        pub(super) fn forward_to(mut self, child: u32) -> Guard {
            let handle = self.signals.handle();
            let pid = i32::try_from(child)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            let thread = std::thread::spawn(move || {
                for signal in self.signals.forever() {
                    let signal = match signal {
                        SIGINT => rustix::process::Signal::INT,
                        _ => rustix::process::Signal::TERM,
                    };
                    if let Some(pid) = pid {
                        let _ = rustix::process::kill_process(pid, signal);
                    }
                }
            });
            Guard {
                handle,
                thread: Some(thread),
            }
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            self.handle.close();
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(not(unix))]
mod forward {
    //! Elsewhere the child shares the console and gets Ctrl-C itself.
    pub(super) struct Forwarder;
    pub(super) struct Guard;
    impl Forwarder {
        pub(super) fn install() -> std::io::Result<Self> {
            Ok(Self)
        }
        pub(super) fn forward_to(self, _child: u32) -> Guard {
            Guard
        }
    }
}
