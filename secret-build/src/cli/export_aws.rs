//! `secret export --format ecs|external-secret`: what a platform needs to inject the values
//! `secret sync --to aws` replicated, as environment variables. Neither prints a value.
//!
//! - `ecs`: the `secrets` array of an ECS task definition's container: one entry per
//!   variable the run time reads (`SECRET_<Name>`, and the variable of `env = "..."`), its
//!   `valueFrom` the full ARN of the secret. ARNs end with a suffix AWS chooses, so they are
//!   read from AWS (`ListSecrets` on the `[aws]` prefix, feature `aws`): the export runs
//!   after `sync`, with credentials allowed to list the secrets.
//! - `external-secret`: an External Secrets Operator `ExternalSecret` (YAML) whose `data`
//!   maps each variable to the secret's name (`remoteRef.key`), read through the
//!   `SecretStore` named by `--store` (default `aws-secrets-manager`); its target Secret
//!   is then given to the container with `envFrom`. No request to AWS.
//!
//! The secrets are those the selected packages declare (`-p`) that have a value for E in
//! the store; a declared secret with none fails the export for a cloud environment (unless
//! `--allow-missing`), as for the other formats. The `[aws]` table is the signed one.

use std::collections::BTreeMap;
use std::path::Path;

use secret_core::Environment;
use secret_core::state::State;

use super::deliver::DeliveryArgs;
use super::{Failure, Io};

/// What `export` was asked for, as far as these formats go.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// `--env` as typed (for suggested commands).
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) env: &'a str,
    /// `-p`, `--dev`, `--allow-missing`.
    pub(crate) delivery: &'a DeliveryArgs,
    /// `--namespace`.
    pub(crate) namespace: Option<&'a str>,
    /// `--store`.
    pub(crate) store: Option<&'a str>,
}

/// Variable -> secret name, for the secrets to inject.
fn variables(
    root: &Path,
    state: &State,
    env: &Environment,
    args: &Request<'_>,
    io: &mut Io<'_>,
) -> Result<BTreeMap<String, String>, Failure> {
    let delivery = args.delivery;
    let scan = crate::scan::scan_workspace(root).map_err(|error| {
        Failure::usage(error.to_string())
            .with_help("the declarations decide which secrets the platform injects")
    })?;
    let selection = crate::scan::Selection {
        packages: delivery.packages.clone(),
        dev: delivery.dev,
    };
    let selected = super::deliver::select(&scan, &selection)?;
    let listing = crate::backend::Listing::of_store(state.store());
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for declaration in &selected.declarations {
        let name = &declaration.name;
        if listing.lookup(name, env).is_none() {
            if !declaration.optional && !missing.contains(name) {
                missing.push(name.clone());
            }
            continue;
        }
        out.insert(format!("SECRET_{name}"), name.clone());
        if let Some(variable) = &declaration.env {
            out.insert(variable.clone(), name.clone());
        }
    }
    // A secret declared optional somewhere and required elsewhere is required.
    missing.retain(|name| !out.values().any(|found| found == name));
    if !missing.is_empty() {
        let listed = missing.join(", ");
        if env.ty.is_cloud() && !delivery.allow_missing {
            let mut failure = Failure::data(format!(
                "{} declared secret{} ha{} no value for {env}: {listed}",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "s" } else { "ve" }
            ));
            for name in &missing {
                failure = failure.with_help(format!("set it with `{}`", env.set_command(name)));
            }
            return Err(failure.with_help("or add `--allow-missing` to leave them out"));
        }
        let _ = writeln!(io.stderr, "warning: no value for {env}, left out: {listed}");
    }
    Ok(out)
}

/// The signed `[aws]` table.
fn signed_aws(state: &State) -> Result<secret_core::aws::AwsConfig, Failure> {
    let path = state.config().path.display().to_string();
    let verified = state.rules().map_err(|error| {
        Failure::data(format!(
            "{path}: the access rules (and so [aws]) cannot be trusted: {}",
            error.describe()
        ))
    })?;
    match (&verified.config.aws, &state.config().aws) {
        (Some(signed), Some(written))
            if (&signed.region, &signed.prefix) == (&written.region, &written.prefix) =>
        {
            Ok(signed.clone())
        }
        (None, None) => Err(Failure::usage(format!("{path}: no [aws] table"))
            .with_help("add an [aws] table (region, prefix) to secrets.toml and sign it with `secret rekey`; see docs/delivery.md, \"Deploying to AWS\"")),
        _ => Err(Failure::data(format!(
            "{path}: [aws] in secrets.toml is not what the signed access rules say"
        ))
        .with_help("an admin signs the change with `cargo xtask secret rekey`")),
    }
}

/// A YAML double-quoted scalar (JSON's string syntax is YAML's).
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

pub(crate) fn external_secret(
    root: &Path,
    state: &State,
    env: &Environment,
    args: &Request<'_>,
    name: &str,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let aws = signed_aws(state)?;
    let variables = variables(root, state, env, args, io)?;
    let mut text = String::from("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\n");
    text.push_str(&format!("metadata:\n  name: {}\n", quoted(name)));
    if let Some(namespace) = args.namespace {
        text.push_str(&format!("  namespace: {}\n", quoted(namespace)));
    }
    text.push_str("spec:\n  refreshInterval: 1h\n  secretStoreRef:\n");
    text.push_str(&format!(
        "    kind: SecretStore\n    name: {}\n",
        quoted(args.store.unwrap_or("aws-secrets-manager"))
    ));
    text.push_str(&format!(
        "  target:\n    name: {}\n    creationPolicy: Owner\n  data:\n",
        quoted(name)
    ));
    for (variable, secret) in &variables {
        text.push_str(&format!(
            "    - secretKey: {}\n      remoteRef:\n        key: {}\n",
            quoted(variable),
            quoted(&aws.secret_name(&env.name, secret))
        ));
    }
    if variables.is_empty() {
        text = text.replace("  data:\n", "  data: []\n");
    }
    let _ = io.stdout.write_all(text.as_bytes());
    Ok(())
}

#[cfg(feature = "aws")]
pub(crate) fn ecs(
    root: &Path,
    state: &State,
    env: &Environment,
    args: &Request<'_>,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    use super::sync::aws::{Remote, TAG_ENVIRONMENT, TAG_REPOSITORY};
    let aws = signed_aws(state)?;
    let variables = variables(root, state, env, args, io)?;
    let repository = state
        .rules()
        .map(|verified| verified.repository.clone())
        .map_err(|error| Failure::data(error.describe()))?;
    let remote = Remote::connect(&aws, io)?;
    let prefix = aws.prefix_for(&env.name);
    let arns: BTreeMap<String, String> = remote
        .list(&prefix)?
        .into_iter()
        .filter(|listed| {
            !listed.deleted
                && listed.tags.get(TAG_REPOSITORY) == Some(&repository)
                && listed.tags.get(TAG_ENVIRONMENT) == Some(&env.name)
        })
        .map(|listed| (listed.name[prefix.len()..].to_owned(), listed.arn))
        .collect();
    let mut not_synced: Vec<&str> = variables
        .values()
        .filter(|name| !arns.contains_key(*name))
        .map(String::as_str)
        .collect();
    not_synced.dedup();
    if !not_synced.is_empty() {
        return Err(Failure::data(format!(
            "{} has no secret of this workspace for {env} named {}",
            remote.describe(),
            not_synced
                .iter()
                .map(|name| format!("`{prefix}{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_help(format!(
            "replicate the values first: `cargo xtask secret sync --env {} --to aws`",
            secret_core::text::shell_quote(args.env)
        )));
    }
    let entries: Vec<serde_json::Value> = variables
        .iter()
        .map(|(variable, name)| serde_json::json!({ "name": variable, "valueFrom": arns[name] }))
        .collect();
    let text = serde_json::to_string_pretty(&entries).expect("strings serialize") + "\n";
    let _ = io.stdout.write_all(text.as_bytes());
    Ok(())
}
