//! What `run` and `export` deliver: the stored values of an environment (with the override
//! files for `local`), restricted to the secrets of the packages `-p/--package` selects,
//! and checked against what the code declares.
//!
//! - **Per package.** With `-p NAME` (repeatable) only the secrets declared by those
//!   packages and the workspace crates they depend on are delivered (see
//!   [`crate::scan::ScanReport::select`]; `--dev` adds tests, examples, benches and
//!   dev-dependencies). A stored secret no selected package declares is never delivered.
//! - **Missing values.** A declared secret with no value fails the command for a
//!   production, development or preview environment, naming every missing secret and how
//!   to set each, unless `--allow-missing`; for a local environment (or with
//!   `--allow-missing`) it is a warning on stderr. A secret whose every declaration is
//!   `secret!("Name", optional)` is skipped quietly when it has no value.
//! - **Conventional variables.** A secret declared `secret!("DatabaseURL", env =
//!   "DATABASE_URL")` is delivered as `DATABASE_URL` too, by `run` and by the `dotenv` and
//!   `github` exports ([`Delivery::variables`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::Args;
use secrecy::SecretString;
use secret_core::Environment;

use super::{Failure, Io, escaped};
use crate::scan::{ScanReport, Selection};

/// The flags that choose what `run` and `export` deliver.
#[derive(Debug, Args)]
pub(crate) struct DeliveryArgs {
    /// Deliver only the secrets this package and the workspace crates it depends on
    /// declare; repeatable
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub(crate) packages: Vec<String>,
    /// With --package: also its tests, examples, benches and dev-dependencies
    #[arg(long, requires = "packages")]
    pub(crate) dev: bool,
    /// Deliver what has a value even when declared secrets have none for a production,
    /// development or preview environment (each is still listed on stderr)
    #[arg(long)]
    pub(crate) allow_missing: bool,
}

impl DeliveryArgs {
    /// The packages given to `-p/--package`.
    pub(crate) fn packages(&self) -> &[String] {
        &self.packages
    }

    fn selection(&self) -> Selection {
        Selection {
            packages: self.packages.clone(),
            dev: self.dev,
        }
    }
}

/// What `run` and `export` deliver.
pub(crate) struct Delivery {
    /// Secret name -> value.
    pub(crate) values: BTreeMap<String, SecretString>,
    /// Conventional variable (`env = "DATABASE_URL"`) -> the delivered secret it holds.
    pub(crate) variables: BTreeMap<String, String>,
}

/// The values to deliver for `env`, after the per-package and missing-value rules.
pub(crate) fn values(
    root: &Path,
    trusted: &crate::trusted::Trusted,
    env: &Environment,
    file_store: bool,
    args: &DeliveryArgs,
    io: &mut Io<'_>,
) -> Result<Delivery, Failure> {
    let scan = scan(root, &args.packages, args.allow_missing, env, io)?;
    let values = super::run::values_with_overrides(root, trusted, env, file_store, io)?;
    let Some(scan) = scan else {
        return Ok(Delivery {
            values,
            variables: BTreeMap::new(),
        });
    };
    let selected = select(&scan, &args.selection())?;
    let values = checked(values, &selected, env, args, io)?;
    let variables = selected
        .declarations
        .iter()
        .filter(|declaration| values.contains_key(&declaration.name))
        .filter_map(|declaration| Some((declaration.env.clone()?, declaration.name.clone())))
        .collect();
    Ok(Delivery { values, variables })
}

/// `values` restricted to the selected packages' secrets, after the missing-value rules.
fn checked(
    mut values: BTreeMap<String, SecretString>,
    selected: &ScanReport,
    env: &Environment,
    args: &DeliveryArgs,
    io: &mut Io<'_>,
) -> Result<BTreeMap<String, SecretString>, Failure> {
    // Name -> optional everywhere it is declared.
    let mut declared: BTreeMap<&str, bool> = BTreeMap::new();
    for declaration in &selected.declarations {
        *declared
            .entry(declaration.name.as_str())
            .or_insert(declaration.optional) &= declaration.optional;
    }
    if !args.packages.is_empty() {
        values.retain(|name, _| declared.contains_key(name.as_str()));
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|(name, optional)| !**optional && !values.contains_key(**name))
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return Ok(values);
    }
    let whose = match args.packages.as_slice() {
        [] => "the workspace".to_owned(),
        [one] => format!("package {one}"),
        many => format!("packages {}", many.join(", ")),
    };
    let listed = missing.join(", ");
    let count = missing.len();
    let plural = if count == 1 { "" } else { "s" };
    if env.ty.is_cloud() && !args.allow_missing {
        let mut failure = Failure::data(format!(
            "{count} secret{plural} declared by {whose} ha{} no value for {env}: {listed}",
            if count == 1 { "s" } else { "ve" }
        ));
        for name in &missing {
            failure = failure.with_help(format!("set it with `{}`", env.set_command(name)));
        }
        return Err(failure.with_help(
            "or add `--allow-missing` to deliver the values that are set (each missing one is then a warning)",
        ));
    }
    let _ = writeln!(
        io.stderr,
        "warning: {count} secret{plural} declared by {whose} ha{} no value for {env} and {} not passed: {listed}",
        if count == 1 { "s" } else { "ve" },
        if count == 1 { "is" } else { "are" },
    );
    Ok(values)
}

/// The workspace scan, or `None` when it cannot be read and nothing depends on it: no
/// `--package`, and the missing values may go unchecked (a local environment or
/// `--allow-missing`), after a warning saying so.
fn scan(
    root: &Path,
    packages: &[String],
    allow_missing: bool,
    env: &Environment,
    io: &mut Io<'_>,
) -> Result<Option<ScanReport>, Failure> {
    match crate::scan::scan_workspace(root) {
        Ok(scan) => Ok(Some(scan)),
        Err(error) if packages.is_empty() && (allow_missing || !env.ty.is_cloud()) => {
            let _ = writeln!(
                io.stderr,
                "warning: {}\nnote: delivering every stored value without checking which secrets the code declares",
                escaped(&error)
            );
            Ok(None)
        }
        Err(error) => Err(Failure::usage(error.to_string()).with_help(
            "the declarations decide what is delivered and what is missing: fix the workspace, or pass --allow-missing without --package to deliver every stored value",
        )),
    }
}

/// The scan restricted to `selection`, or a usage error naming the unknown package.
pub(crate) fn select(scan: &ScanReport, selection: &Selection) -> Result<ScanReport, Failure> {
    scan.select(selection).map_err(|error| {
        let text = error.to_string();
        let mut lines = text.lines();
        let mut failure = Failure::usage(lines.next().unwrap_or_default().to_owned());
        for help in lines {
            failure = failure.with_help(help.trim_start_matches("help: ").to_owned());
        }
        failure
    })
}

/// The names `selection` declares, for `sync -p`: `None` without `--package`.
pub(crate) fn selected_names(
    root: &Path,
    packages: &[String],
    dev: bool,
) -> Result<Option<BTreeSet<String>>, Failure> {
    if packages.is_empty() {
        return Ok(None);
    }
    let scan = crate::scan::scan_workspace(root).map_err(|error| {
        Failure::usage(error.to_string()).with_help("--package needs the workspace's declarations")
    })?;
    let selection = Selection {
        packages: packages.to_vec(),
        dev,
    };
    let selected = select(&scan, &selection)?;
    Ok(Some(
        selected
            .declarations
            .into_iter()
            .map(|declaration| declaration.name)
            .collect(),
    ))
}
