//! `secret export --env E --format dotenv|json|k8s|github|dir:PATH`: every value visible in
//! E (as `secret run` passes them, overrides included for `local`), for deploy pipelines
//! and CI jobs.
//!
//! - `dotenv`: `SECRET_<Name>=...` lines (and `DATABASE_URL=...` for a secret declared
//!   `secret!("DatabaseURL", env = "DATABASE_URL")`), each value quoted so that dotenvy, python-dotenv
//!   and node's `dotenv` all read it back exactly: single quotes when the value has no `'`
//!   (and no `\\` pair or final `\`), else double quotes when it has no `"`, `\` or `$`
//!   (line breaks written `\n`). A value no quoting carries (both quote kinds, a carriage
//!   return, `${`, ...) is refused, naming the secret: the export fails rather than
//!   corrupt it.
//! - `json`: one object, secret name to value.
//! - `k8s`: a `v1` `Secret` manifest of type `Opaque`, in JSON (which `kubectl apply -f`
//!   reads like YAML): `data` maps each secret name to its base64 value, so mounting it as
//!   a volume at `$SECRETS_DIR` gives the files the run time reads. `metadata.name` is
//!   `--name`, default `<workspace folder>-<environment>` (`<package>-<environment>` with one
//!   `--package`) in DNS-1123 form;
//!   `metadata.namespace` is `--namespace` when given.
//! - `github`: for each value `::add-mask::` lines on stdout (one per line of a multi-line
//!   value), then `SECRET_<Name>` (and the variable of `env = "..."`) appended to the file
//!   `$GITHUB_ENV` for the job's later steps: `NAME=value` for one line, else `NAME<<DELIMITER` with a random delimiter not
//!   found in the value.
//! - `dir:PATH`: one file per secret, `PATH/<Name>` mode `0600`, in a folder created with
//!   mode `0700` when missing: what the `$SECRETS_DIR` source reads. That source strips
//!   one trailing newline, so a value that ends with one is written with one more. An
//!   existing folder keeps its mode, and is refused when other users can open it. The
//!   folder's `.secrets-export` lists the files written; the next export removes those of
//!   secrets no longer exported (and no other file).
//! - `ecs` and `external-secret`: no values, but where the platform reads them from AWS
//!   Secrets Manager after `secret sync --to aws` ([`super::export_aws`]).
//!
//! Printing values is this command's purpose, but not to a terminal by accident: stdout
//! must be a pipe or a file unless `--show`. `--output FILE` writes a new `0600` file
//! instead (replacing an existing one; when FILE is a symbolic link, its target).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{Failure, Io, refuse_terminal};

/// Arguments of `secret export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The environment whose values to export: a named environment or a type
    #[arg(long = "env", value_name = "E")]
    env: String,
    /// dotenv, json, k8s, github, dir:PATH, ecs or external-secret
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Format,
    #[command(flatten)]
    delivery: super::deliver::DeliveryArgs,
    /// Print the values even when stdout is a terminal
    #[arg(long)]
    show: bool,
    /// Write to this file (mode 0600) instead of stdout (dotenv, json, k8s)
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// k8s, external-secret: the metadata.name (default: <workspace folder>-<environment>)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// k8s, external-secret: the metadata.namespace
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// external-secret: the SecretStore to read through (default: aws-secrets-manager)
    #[arg(long, value_name = "NAME")]
    store: Option<String>,
}

/// An export format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    Dotenv,
    Json,
    K8s,
    Github,
    Dir(PathBuf),
    Ecs,
    ExternalSecret,
}

fn parse_format(text: &str) -> Result<Format, String> {
    match text {
        "dotenv" | "env" => Ok(Format::Dotenv),
        "json" => Ok(Format::Json),
        "k8s" | "kubernetes" => Ok(Format::K8s),
        "github" => Ok(Format::Github),
        "ecs" => Ok(Format::Ecs),
        "external-secret" | "externalsecret" => Ok(Format::ExternalSecret),
        _ => match text.strip_prefix("dir:") {
            Some(path) if !path.is_empty() => Ok(Format::Dir(PathBuf::from(path))),
            _ => Err(
                "expected dotenv, json, k8s, github, dir:PATH, ecs or external-secret".to_owned(),
            ),
        },
    }
}

pub(crate) fn run(
    root: &Path,
    args: &ExportArgs,
    file_store: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    // `secrets.toml` and the store are read and judged once, for the environment and the
    // values.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let env = super::resolve_env(&trusted.state, &args.env)?;
    let name = || match &args.name {
        Some(name) => name.clone(),
        None => {
            let package = match args.delivery.packages() {
                [one] => Some(one.as_str()),
                _ => None,
            };
            default_name(root, package, &env.name)
        }
    };
    let request = super::export_aws::Request {
        env: &args.env,
        delivery: &args.delivery,
        namespace: args.namespace.as_deref(),
        store: args.store.as_deref(),
    };
    match args.format {
        Format::ExternalSecret => {
            return super::export_aws::external_secret(
                root,
                &trusted.state,
                &env,
                &request,
                &name(),
                io,
            );
        }
        #[cfg(feature = "aws")]
        Format::Ecs => return super::export_aws::ecs(root, &trusted.state, &env, &request, io),
        #[cfg(not(feature = "aws"))]
        Format::Ecs => {
            return Err(Failure::usage(
                "--format ecs: this build of the tool has no AWS support (the ARNs are read from AWS)".to_owned(),
            )
            .with_help("enable the `aws` feature of secret-build in the xtask (`secret-build = { ..., features = [\"aws\"] }`)"));
        }
        _ => {}
    }
    let command = format!(
        "cargo xtask secret export --env {} --format ...",
        secret_core::text::shell_quote(&args.env)
    );
    let to_stdout = match &args.format {
        Format::Dir(_) => false,
        Format::Github => true,
        _ => args.output.is_none(),
    };
    if to_stdout {
        refuse_terminal(io, args.show, "secret values", &command)?;
    }
    if args.output.is_some() && matches!(args.format, Format::Dir(_) | Format::Github) {
        return Err(Failure::usage(
            "--output applies to the dotenv, json and k8s formats".to_owned(),
        ));
    }
    let delivery = super::deliver::values(root, &trusted, &env, file_store, &args.delivery, io)?;
    let (values, variables) = (&delivery.values, &delivery.variables);
    let text: Zeroizing<String> = match &args.format {
        Format::Dotenv => Zeroizing::new(dotenv(values, variables).map_err(|refused| {
            Failure::usage(format!(
                "cannot write {} in dotenv form so that every dotenv reader (dotenvy, \
                 python-dotenv, node's dotenv) reads {} back exactly; nothing was written",
                refused
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if refused.len() == 1 {
                    "its value"
                } else {
                    "their values"
                }
            ))
            .with_help(
                "a value with both `'` and `\"`, with `\\` or `$` next to a `'`, with `${` \
                 or with a carriage return has no such quoting: export it with --format json, k8s or \
                 dir:PATH, or start the program with `cargo xtask secret run`, which carry any \
                 value",
            )
        })?),
        Format::Json => Zeroizing::new(json(values)),
        Format::K8s => Zeroizing::new(k8s(values, &name(), args.namespace.as_deref())),
        Format::Github => return github(values, variables, io),
        Format::Dir(dir) => return write_dir(&io.cwd.join(dir), values, io),
        Format::Ecs | Format::ExternalSecret => unreachable!("handled above"),
    };
    match &args.output {
        Some(file) => {
            let path = io.cwd.join(file);
            write_private(&path, text.as_bytes())
                .map_err(|error| Failure::usage(format!("--output {}: {error}", path.display())))?;
            let _ = writeln!(
                io.stderr,
                "wrote {} value{} for {env} to {}",
                values.len(),
                if values.len() == 1 { "" } else { "s" },
                path.display()
            );
        }
        None => {
            let _ = io.stdout.write_all(text.as_bytes());
            let _ = io.stdout.flush();
        }
    }
    Ok(())
}

/// `SECRET_<Name>=<quoted value>` lines (see the module docs for the quoting), then a
/// `VARIABLE=<quoted value>` line for each conventional variable (`variables`: variable ->
/// name), or the names of the values no quoting carries exactly through every dotenv reader.
pub(crate) fn dotenv(
    values: &BTreeMap<String, SecretString>,
    variables: &BTreeMap<String, String>,
) -> Result<String, Vec<String>> {
    let mut out = String::new();
    let mut refused = Vec::new();
    let lines = values
        .iter()
        .map(|(name, value)| (format!("SECRET_{name}"), name, value))
        .chain(
            variables
                .iter()
                .filter_map(|(variable, name)| Some((variable.clone(), name, values.get(name)?))),
        );
    for (variable, name, value) in lines {
        let value = value.expose_secret();
        let Some(quoted) = dotenv_quote(value) else {
            if !refused.contains(name) {
                refused.push(name.clone());
            }
            continue;
        };
        out.push_str(&format!("{variable}={quoted}\n"));
    }
    if refused.is_empty() {
        Ok(out)
    } else {
        Err(refused)
    }
}

/// `value` quoted so that dotenvy, python-dotenv and node's `dotenv` all read it back
/// exactly, or `None` when no quoting does:
///
/// - single quotes, when the value has no `'`, no `\\` pair and does not end with `\`
///   (python-dotenv decodes `\\` and `\'` there; node's `dotenv` and dotenvy read the
///   rest literally, line breaks included, and none expands `$`);
/// - else double quotes, when the value has no `"`, `\` or `$` (node's `dotenv` decodes
///   only `\n` there, the others decode `\"` and `\\`, dotenvy expands `$`), with line
///   breaks written `\n`;
/// - never a carriage return (node's `dotenv` reads every one as a line break), a NUL (no
///   environment variable can hold one) or `${` (python-dotenv expands `${NAME}` inside any
///   quotes, with no escape).
fn dotenv_quote(value: &str) -> Option<String> {
    if value.contains(['\r', '\0']) || value.contains("${") {
        return None;
    }
    if !value.contains('\'') && !value.contains("\\\\") && !value.ends_with('\\') {
        return Some(format!("'{value}'"));
    }
    if !value.contains(['"', '\\', '$']) {
        return Some(format!("\"{}\"", value.replace('\n', "\\n")));
    }
    None
}

fn json(values: &BTreeMap<String, SecretString>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(name, value)| (name.clone(), value.expose_secret().into()))
        .collect();
    serde_json::to_string_pretty(&object).expect("strings serialize") + "\n"
}

fn k8s(values: &BTreeMap<String, SecretString>, name: &str, namespace: Option<&str>) -> String {
    let data: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(key, value)| (key.clone(), base64(value.expose_secret().as_bytes()).into()))
        .collect();
    let mut metadata = serde_json::json!({ "name": name });
    if let Some(namespace) = namespace {
        metadata["namespace"] = namespace.into();
    }
    let manifest = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "data": data,
    });
    serde_json::to_string_pretty(&manifest).expect("strings serialize") + "\n"
}

/// `<workspace folder>-<environment>` (`<package>-<environment>` for one `--package`),
/// lowercase, other characters as `-`, at most 253.
fn default_name(root: &Path, package: Option<&str>, env: &str) -> String {
    let folder = match package {
        Some(package) => package.to_owned(),
        None => root
            .canonicalize()
            .ok()
            .and_then(|path| {
                path.file_name()
                    .map(|name| name.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "secrets".to_owned()),
    };
    let raw = format!("{folder}-{env}");
    let mut name: String = raw
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() {
                ch.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(253);
    let name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        "secrets".to_owned()
    } else {
        name
    }
}

/// Standard base64 with padding (RFC 4648), as Kubernetes `data` wants.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn github(
    values: &BTreeMap<String, SecretString>,
    variables: &BTreeMap<String, String>,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let Some(file) = (io.vars)("GITHUB_ENV").filter(|file| !file.is_empty()) else {
        return Err(Failure::usage(
            "GITHUB_ENV is not set: --format github runs in a GitHub Actions job step".to_owned(),
        )
        .with_help("outside GitHub Actions use --format dotenv or --format json"));
    };
    let path = io.cwd.join(PathBuf::from(file));
    let mut masks = Zeroizing::new(String::new());
    let mut lines = Zeroizing::new(String::new());
    for (name, value) in values {
        let value = value.expose_secret();
        for line in value.lines().filter(|line| !line.trim().is_empty()) {
            masks.push_str(&format!("::add-mask::{line}\n"));
        }
        let conventional = variables
            .iter()
            .filter(|(_, of)| *of == name)
            .map(|(variable, _)| variable.clone());
        for variable in std::iter::once(format!("SECRET_{name}")).chain(conventional) {
            if value.contains(['\n', '\r']) {
                let delimiter = delimiter_for(value)?;
                lines.push_str(&format!("{variable}<<{delimiter}\n{value}\n{delimiter}\n"));
            } else {
                lines.push_str(&format!("{variable}={value}\n"));
            }
        }
    }
    // Masks first, so that nothing later in the log shows a value.
    let _ = io.stdout.write_all(masks.as_bytes());
    let _ = io.stdout.flush();
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&path)
        .and_then(|mut file| file.write_all(lines.as_bytes()))
        .map_err(|error| Failure::usage(format!("$GITHUB_ENV {}: {error}", path.display())))?;
    let _ = writeln!(
        io.stderr,
        "masked and added {} value{} to $GITHUB_ENV",
        values.len(),
        if values.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// `ghadelimiter_<32 random hex digits>`, not found in `value`.
fn delimiter_for(value: &str) -> Result<String, Failure> {
    loop {
        let random = super::random_hex().map_err(|error| {
            Failure::usage(format!(
                "cannot draw a random delimiter for $GITHUB_ENV: {error}"
            ))
        })?;
        let delimiter = format!("ghadelimiter_{random}");
        if !value.contains(&delimiter) {
            return Ok(delimiter);
        }
    }
}

/// The list of files the last `export dir:` wrote into its folder, one name a line: the
/// next export removes those it no longer writes, and never touches any other file.
pub(crate) const DIR_MANIFEST: &str = ".secrets-export";

fn write_dir(
    dir: &Path,
    values: &BTreeMap<String, SecretString>,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let fail = |error: std::io::Error| Failure::usage(format!("dir:{}: {error}", dir.display()));
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(fail)?;
    } else if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "dir:{}: not a directory",
            dir.display()
        )));
    }
    // A folder the tool did not create keeps its mode; one that other users can open is
    // refused: they could list (or, writable, replace) the files of values.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(fail)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Failure::usage(format!(
                "dir:{}: other users can open this folder (mode {:o}), so they could see or \
                 replace the files of values; nothing was written",
                dir.display(),
                mode & 0o7777
            ))
            .with_help(format!(
                "export into a folder only you can open: a new path (created with mode 0700), \
                 or make this one private with `chmod 700 {}` if nobody else uses it",
                quote_path(dir)
            )));
        }
    }
    let manifest = dir.join(DIR_MANIFEST);
    let before: Vec<String> = std::fs::read_to_string(&manifest)
        .unwrap_or_default()
        .lines()
        .filter(|name| secret_syntax::validate_name(name).is_ok())
        .map(str::to_owned)
        .collect();
    for (name, value) in values {
        let mut bytes = Zeroizing::new(value.expose_secret().as_bytes().to_vec());
        if bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        write_private(&dir.join(name), &bytes).map_err(fail)?;
    }
    let mut listed = String::new();
    for name in values.keys() {
        listed.push_str(name);
        listed.push('\n');
    }
    write_private(&manifest, listed.as_bytes()).map_err(fail)?;
    let mut removed = 0;
    for name in before
        .iter()
        .filter(|name| !values.contains_key(name.as_str()))
    {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
            std::fs::remove_file(&path).map_err(fail)?;
            removed += 1;
        }
    }
    let removals = if removed == 0 {
        String::new()
    } else {
        format!(
            ", removed {removed} file{} of secrets no longer exported",
            if removed == 1 { "" } else { "s" }
        )
    };
    let _ = writeln!(
        io.stderr,
        "wrote {} file{} to {} (0600){removals}",
        values.len(),
        if values.len() == 1 { "" } else { "s" },
        dir.display(),
    );
    Ok(())
}

/// `path` as one shell word.
#[cfg(unix)]
fn quote_path(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty()
        && text
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "/._-+,:@%".contains(ch))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Writes `bytes` to `path` through a `0600` temporary file renamed over it. A `path` that
/// is a symbolic link stays one: its target is replaced (the temporary file is next to it).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_symlink()) {
        std::fs::canonicalize(path)?
    } else {
        path.to_owned()
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let result = secret_core::files::create_private(&temp, bytes)
        .and_then(|()| std::fs::rename(&temp, &path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, output) in cases {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }

    #[test]
    fn default_names_are_dns_labels() {
        assert_eq!(
            default_name(Path::new("/nonexistent/My_App"), None, "prod-eu"),
            "secrets-prod-eu"
        );
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("My_App");
        std::fs::create_dir(&ws).unwrap();
        assert_eq!(default_name(&ws, None, "pr-*"), "my-app-pr");
        assert_eq!(default_name(&ws, Some("billing"), "prod"), "billing-prod");
    }
}
