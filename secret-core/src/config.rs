//! `secrets.toml`: named environments, recipients per type and environment, and the
//! reserved `[backend]` table. Hand-edited by the team; parsed strictly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::backend::{BackendConfig, RawBackend};
use crate::env::{EnvKind, EnvType, Environment, pattern_matches};
use crate::file_error::{FileError, did_you_mean};
use crate::recipient::check_recipient;
use crate::text::escape_control;
use crate::toml_file::{
    self, Key, Spanned, Table, Value, ValueInner, article, table_value, unknown_key,
};

/// The file name of the configuration, at the workspace root.
pub const CONFIG_FILE: &str = "secrets.toml";

/// The parsed `secrets.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from (or would be written to).
    pub path: PathBuf,
    /// Named environments and patterns, with their types.
    pub environments: BTreeMap<String, EnvType>,
    /// Recipients (age public keys) keyed by type long name or environment name.
    pub recipients: BTreeMap<String, Vec<String>>,
    /// Who may write values (age public keys), keyed like `recipients`. A type or
    /// environment without an entry is written by its recipients.
    pub writers: BTreeMap<String, Vec<String>>,
    /// Who may sign any change to these rules (age public keys), from the top-level
    /// `admins` list. Empty: the writers of production (see [`crate::rules::admins`]).
    pub admins: Vec<String>,
    /// The `[backend]` table, validated; `None` means the file store.
    pub backend: Option<BackendConfig>,
    /// The `[backend]` table's settings as written, each value in canonical TOML
    /// (`("address", "\"https://bao.example.com\"")`), sorted by key: what the signed
    /// access rules record of it.
    pub backend_settings: Vec<(String, String)>,
    /// The line of the `[backend]` table, for error messages.
    pub backend_line: Option<usize>,
}

const TOP_LEVEL_KEYS: [&str; 5] = ["admins", "environments", "recipients", "writers", "backend"];

impl Config {
    /// Reads `secrets.toml` in `root`. A missing file is an empty configuration.
    pub fn load(root: &Path) -> Result<Self, FileError> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path,
                ..Self::default()
            }),
            Err(error) => Err(FileError::at(
                &path,
                "",
                None,
                format!("cannot read the file: {error}"),
            )),
        }
    }

    /// Parses the text of a `secrets.toml` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, FileError> {
        let root = toml_file::parse(path, text)?;
        let mut root = toml_file::in_file_order(root);
        if let Some((key, _)) = root
            .iter()
            .find(|(key, _)| !TOP_LEVEL_KEYS.contains(&key.name.as_ref()))
        {
            return Err(unknown_key(
                path,
                text,
                key,
                &TOP_LEVEL_KEYS,
                "secrets.toml",
            ));
        }
        let mut take = |name: &str| {
            root.iter()
                .position(|(key, _)| key.name == name)
                .map(|index| root.remove(index))
        };
        let (admins, environments, recipients, writers, backend) = (
            take("admins"),
            take("environments"),
            take("recipients"),
            take("writers"),
            take("backend"),
        );
        let mut config = Self {
            path: path.to_owned(),
            ..Self::default()
        };
        for (name, mut ty) in top_table(path, text, environments)? {
            let name = Spanned::with_span(name.name.into_owned(), name.span);
            check_env_name(path, text, &name)?;
            let ty = toml_file::string(path, text, &name.value, &mut ty)?;
            let parsed = EnvType::parse(&ty.value).ok_or_else(|| {
                let help = match did_you_mean(&ty.value, EnvType::ALL.map(EnvType::name)) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => "use production, development, preview or local".to_owned(),
                };
                FileError::at(
                    path,
                    text,
                    Some(ty.span.start),
                    format!(
                        "environment `{}` has the unknown type `{}`",
                        name.value, ty.value
                    ),
                )
                .with_help(help)
            })?;
            config.environments.insert(name.value, parsed);
        }
        for (table, raw_keys, keys) in [
            ("recipients", recipients, &mut config.recipients),
            ("writers", writers, &mut config.writers),
        ] {
            for (scope, list) in top_table(path, text, raw_keys)? {
                let scope = Spanned::with_span(scope.name.into_owned(), scope.span);
                let key = key_table_scope(path, text, table, &config.environments, &scope)?;
                let list = key_list(path, text, table, &scope, list)?;
                keys.entry(key).or_default().extend(list);
            }
        }
        if let Some((key, list)) = admins {
            let scope = Spanned::with_span(key.name.into_owned(), key.span);
            config.admins = key_list(path, text, "admins", &scope, list)?;
            config.admins.sort();
            config.admins.dedup();
        }
        if let Some((key, backend)) = backend {
            let start = key.span.start;
            if let Some(table) = backend.as_table() {
                let mut settings: Vec<(String, String)> = table
                    .iter()
                    .filter_map(|(key, value)| {
                        toml_file::canonical_scalar(value)
                            .map(|value| (key.name.to_string(), value))
                    })
                    .collect();
                settings.sort();
                config.backend_settings = settings;
            }
            config.backend_line = Some(crate::file_error::line_of(text, start));
            let backend = RawBackend::read(path, text, &key, backend)?;
            config.backend = Some(backend.validate(path, text, start)?);
        }
        Ok(config)
    }

    /// Resolves what the user typed after `--env` (or set in `SECRETS_ENV`): a declared
    /// environment, a name matching a declared pattern, or a type name or shorthand.
    pub fn resolve_env(&self, text: &str) -> Result<Environment, FileError> {
        if let Some(ty) = EnvType::parse(text) {
            return Ok(Environment::of_type(ty));
        }
        if let Some(ty) = self.environments.get(text) {
            let kind = if text.contains('*') {
                EnvKind::Pattern(text.to_owned())
            } else {
                EnvKind::Named
            };
            return Ok(Environment {
                name: text.to_owned(),
                ty: *ty,
                kind,
            });
        }
        let pattern = self
            .environments
            .iter()
            .filter(|(pattern, _)| pattern.contains('*') && pattern_matches(pattern, text))
            .max_by_key(|(pattern, _)| pattern.len());
        if let Some((pattern, ty)) = pattern {
            if let Some((message, help)) = env_name_problem(text, false) {
                return Err(FileError {
                    path: self.path.clone(),
                    line: None,
                    message: format!("{message} (it matches the pattern `{pattern}`)"),
                    help: Some(help),
                });
            }
            return Ok(Environment {
                name: text.to_owned(),
                ty: *ty,
                kind: EnvKind::Pattern(pattern.clone()),
            });
        }
        let declared: Vec<&str> = self.environments.keys().map(String::as_str).collect();
        let help = match did_you_mean(text, declared.iter().copied().chain(EnvType::NAMES)) {
            Some(known) => format!("did you mean `{known}`?"),
            None if declared.is_empty() => "use an environment type (production, development, preview, local) or declare the environment in [environments]".to_owned(),
            None => format!(
                "declared environments: {}; types: production (prod), development (dev), preview (pr), local",
                declared.join(", ")
            ),
        };
        Err(FileError {
            path: self.path.clone(),
            line: None,
            message: format!("unknown environment `{}`", escape_control(text)),
            help: Some(help),
        })
    }

    /// Every environment `--env` and `SECRETS_ENV` accept, for messages: the types with
    /// their shorthands, then the declared environments and patterns with their types.
    pub fn known_environments(&self) -> String {
        let mut known = vec![
            "production (prod)".to_owned(),
            "development (dev)".to_owned(),
            "preview (pr)".to_owned(),
            "local".to_owned(),
        ];
        known.extend(
            self.environments
                .iter()
                .map(|(name, ty)| format!("{name} ({ty})")),
        );
        known.join(", ")
    }

    /// The recipients for a named environment or type key: the environment's own list if it
    /// has one, else its type's.
    pub fn recipients_for_env(&self, name: &str) -> &[String] {
        if let Some(list) = self.recipients.get(name) {
            return list;
        }
        match self.environments.get(name) {
            Some(ty) => self
                .recipients
                .get(ty.name())
                .map(Vec::as_slice)
                .unwrap_or_default(),
            None => &[],
        }
    }
}

/// The type long name or environment name a `[recipients]` or `[writers]` key stands for.
fn key_table_scope(
    path: &Path,
    text: &str,
    table: &str,
    environments: &BTreeMap<String, EnvType>,
    scope: &Spanned<String>,
) -> Result<String, FileError> {
    if let Some(ty) = EnvType::parse(&scope.value) {
        return Ok(ty.name().to_owned());
    }
    if environments.contains_key(&scope.value) {
        return Ok(scope.value.clone());
    }
    let known = EnvType::ALL
        .map(EnvType::name)
        .into_iter()
        .chain(environments.keys().map(String::as_str));
    let help = match did_you_mean(&scope.value, known) {
        Some(known) => format!("did you mean `{known}`?"),
        None => format!(
            "[{table}] is keyed by type (production, development, preview, local) or by an environment declared in [environments]"
        ),
    };
    Err(FileError::at(
        path,
        text,
        Some(scope.span.start),
        format!(
            "{table} for `{}`, which is neither an environment type nor a declared environment",
            scope.value
        ),
    )
    .with_help(help))
}

/// The age public keys of one `[recipients]` or `[writers]` entry, checked.
fn key_list(
    path: &Path,
    text: &str,
    table: &str,
    scope: &Spanned<String>,
    mut keys: Value<'_>,
) -> Result<Vec<String>, FileError> {
    let list_start = keys.span.start;
    let keys = match keys.take() {
        ValueInner::Array(keys) => keys,
        other => {
            return Err(FileError::at(
                path,
                text,
                Some(list_start),
                format!(
                    "the {table} of `{}` should be a list of age public keys, not {}",
                    scope.value,
                    article(other.type_str())
                ),
            )
            .with_help(format!("write `{} = [\"age1...\"]`", scope.value)));
        }
    };
    if keys.is_empty() {
        return Err(FileError::at(
            path,
            text,
            Some(list_start),
            format!(
                "the {table} of `{}` are an empty list, so nobody could {} its values",
                scope.value,
                if table == "writers" { "write" } else { "read" }
            ),
        )
        .with_help("add age public keys (`age1...`, printed by `age-keygen -y` or `cargo xtask secret init`), or remove the line"));
    }
    let mut list = Vec::new();
    for mut recipient in keys {
        let recipient = toml_file::string(path, text, table, &mut recipient)?;
        let value = recipient.value.trim();
        if let Err(reason) = check_recipient(value) {
            return Err(FileError::at(
                path,
                text,
                Some(recipient.span.start),
                format!("`{}` is not an age recipient: {reason}", escape_control(value)),
            )
            .with_help("a recipient is an age X25519 public key (`age1...`, printed by `age-keygen -y` or `cargo xtask secret init`)"));
        }
        list.push(value.to_owned());
    }
    Ok(list)
}

fn check_env_name(path: &Path, text: &str, name: &Spanned<String>) -> Result<(), FileError> {
    let problem = match env_name_problem(&name.value, true) {
        Some(problem) => problem,
        None => return Ok(()),
    };
    Err(FileError::at(path, text, Some(name.span.start), problem.0).with_help(problem.1))
}

/// What is wrong with an environment name (a pattern when `pattern` allows `*`): the
/// message and the help, or `None` when it is valid. Names matched by a pattern follow the
/// same rule, without `*`. A name or pattern never equals or matches a type name or
/// shorthand: `prod` always means the type.
pub(crate) fn env_name_problem(name: &str, pattern: bool) -> Option<(String, String)> {
    let valid = !name.is_empty()
        && name.chars().all(|ch| {
            ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.') || (pattern && ch == '*')
        });
    if !valid {
        let rule = if pattern {
            "environment names use ASCII letters, digits, `-`, `_` and `.`; `*` makes a pattern such as `pr-*`"
        } else {
            "environment names use ASCII letters, digits, `-`, `_` and `.`"
        };
        return Some((
            format!("`{}` is not a valid environment name", escape_control(name)),
            rule.to_owned(),
        ));
    }
    let types = EnvType::NAMES;
    if let Some(ty) = types.iter().find(|ty| pattern_matches(name, ty)) {
        let what = if name.contains('*') {
            format!("the pattern `{name}` matches the environment type `{ty}`")
        } else {
            format!("`{name}` is the name of an environment type")
        };
        return Some((
            what,
            "type names and shorthands (production, prod, development, dev, preview, pr, local) always mean the type: choose a name or pattern that does not match them, such as `pr-*` or `prod-eu`".to_owned(),
        ));
    }
    None
}

/// The table of a top-level key (`[environments]`, `[recipients]`, `[writers]`); an absent
/// key is an empty table.
fn top_table<'a>(
    path: &Path,
    text: &str,
    entry: Option<(Key<'a>, Value<'a>)>,
) -> Result<Table<'a>, FileError> {
    let Some((key, value)) = entry else {
        return Ok(Table::new());
    };
    table_value(path, text, &key, value, "`key = value` lines")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, FileError> {
        Config::parse(Path::new("secrets.toml"), text)
    }

    #[test]
    fn environments_and_resolution() {
        let config = parse(
            "[environments]\nstaging = \"development\"\nprod-eu = \"prod\"\n\"pr-*\" = \"preview\"\n",
        )
        .unwrap();
        assert_eq!(config.resolve_env("staging").unwrap().kind, EnvKind::Named);
        let pr = config.resolve_env("pr-12").unwrap();
        assert_eq!(
            (pr.ty, pr.kind),
            (EnvType::Preview, EnvKind::Pattern("pr-*".into()))
        );
        assert_eq!(
            config.resolve_env("prod").unwrap(),
            Environment::of_type(EnvType::Production)
        );
        let error = config.resolve_env("stagin").unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `staging`?"));
    }

    #[test]
    fn unknown_keys_name_the_line_and_suggest() {
        let error =
            parse("[environments]\nstaging = \"development\"\n\n[enviroments]\nx = \"dev\"\n")
                .unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
        assert_eq!(error.message, "unknown key `enviroments`");
        assert_eq!(error.help.as_deref(), Some("did you mean `environments`?"));
        let error = parse("[environments]\nstaging = \"devel\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(
            error.to_string().contains("did you mean `development`?"),
            "{error}"
        );
        let error = parse("[recipients]\nprodution = [\"age1x\"]\n").unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `production`?"));
        let error = parse("[recipients]\nlocal = [\"not-a-key\"]\n").unwrap_err();
        assert!(error.message.contains("not an age recipient"));
        let error = parse("[environments\n").unwrap_err();
        assert_eq!(error.line, Some(1));
    }

    #[test]
    fn values_of_the_wrong_type_name_the_line_and_the_fix() {
        let error = parse("\nenvironments = \"staging\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(
            error.message,
            "`environments` should be a table, not a string"
        );
        let error = parse("[recipients]\nlocal = \"age1x\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.help.as_deref(), Some("write `local = [\"age1...\"]`"));
        let error = parse("[environments]\nstaging = 3\n").unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (Some(2), "`staging` should be a string, not an integer")
        );
        let error = parse("[backend]\nkind = \"vault\"\ntimeout_seconds = \"10\"\n").unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (
                Some(3),
                "`timeout_seconds` should be an integer, not a string"
            )
        );
        let error = parse("[backend]\nkind = \"vault\"\nzzz = 1\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(
            error
                .help
                .as_deref()
                .is_some_and(|help| help.starts_with("the keys of [backend] are kind, address")),
            "{error}"
        );
    }
}
