//! `secret reveal --env E NAME`: decrypts the one value that applies to E, for debugging.
//!
//! Made hard to print by accident: the value goes to stdout only when stdout is not a
//! terminal (a pipe or a redirect), or with `--show`; `--output FILE` writes it to a new
//! `0600` file instead. On a terminal without either flag the command refuses (exit 1).
//! The value is written as is, without a trailing newline (one is added after it only
//! with `--show` on a terminal).

use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::ExposeSecret;

use super::{Failure, Io, open_backend, refuse_terminal};
use crate::backend::Backend;

/// Arguments of `secret reveal`.
#[derive(Debug, Args)]
pub(crate) struct RevealArgs {
    /// The environment whose value to show: a named environment or a type
    #[arg(long = "env", value_name = "E")]
    env: String,
    /// Print the value even when stdout is a terminal
    #[arg(long)]
    show: bool,
    /// Write the value to this new file (mode 0600) instead of stdout
    #[arg(long, value_name = "FILE", conflicts_with = "show")]
    output: Option<PathBuf>,
    /// The secret's name
    name: String,
}

pub(crate) fn run(
    root: &Path,
    args: &RevealArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    secret_syntax::validate_name(&args.name)
        .map_err(|error| Failure::usage(format!("invalid secret name `{}`: {error}", args.name)))?;
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let config = trusted.state.config();
    let env = super::resolve_env(&trusted.state, &args.env)?;
    if args.output.is_none() {
        refuse_terminal(
            io,
            args.show,
            &format!("the value of {}", args.name),
            &format!(
                "cargo xtask secret reveal --env {} {}",
                secret_core::text::shell_quote(&args.env),
                secret_core::text::shell_quote(&args.name)
            ),
        )
        .map_err(|failure| failure.with_help("or write it to a file with `--output FILE`"))?;
    }
    let backend = open_backend(&trusted.state, file_store, io)?;
    let store = root.join(secret_core::STORE_FILE);
    if (file_store || config.backend.is_none()) && !store.exists() {
        return Err(Failure::data(format!(
            "there is no store: {} does not exist",
            store.display()
        ))
        .with_help(format!(
            "create it with `cargo xtask secret init`, then set the value with `{}`",
            env.set_command(&args.name)
        )));
    }
    let found = backend.value_for(&args.name, &env, io.vars);
    if matches!(backend, Backend::File(_)) {
        // Remembered even when the value is refused: what the history taught.
        trusted.remember();
    }
    let Some((scope, value)) = found? else {
        return Err(secret_core::Error::NotSet {
            name: args.name.clone(),
            scope: env.to_string(),
            path: root.join(secret_core::STORE_FILE),
        }
        .into());
    };
    match &args.output {
        Some(file) => {
            let path = io.cwd.join(file);
            secret_core::files::create_private(&path, value.expose_secret().as_bytes()).map_err(
                |error| {
                    Failure::usage(format!("--output {}: {error}", path.display()))
                        .with_help("the file must not exist yet")
                },
            )?;
            let _ = writeln!(
                io.stderr,
                "wrote the value of {} for {} ({}) to {}",
                args.name,
                env,
                scope.describe(),
                path.display()
            );
        }
        None => {
            let _ = io.stdout.write_all(value.expose_secret().as_bytes());
            if io.stdout_is_terminal {
                let _ = io.stdout.write_all(b"\n");
            }
            let _ = io.stdout.flush();
        }
    }
    Ok(())
}
