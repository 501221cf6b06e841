//! `secrets.toml`: the environment types the project uses, named environments, the people
//! of the team, recipients and writers per type and environment, and the `[backend]`
//! table. Hand-edited by the team; parsed strictly.

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
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from (or would be written to).
    pub path: PathBuf,
    /// The environment types the project uses (`types = [...]`), in the order of
    /// [`EnvType::ALL`]; all four when the key is absent. A type not listed is never
    /// checked, listed or accepted by `--env`.
    pub types: Vec<EnvType>,
    /// The line of `types`, for error messages (`None`: not written, all four types).
    pub types_line: Option<usize>,
    /// The people of the team (`[people]`: `alice = "age1..."`), name -> age public key.
    /// `[recipients]` and `[writers]` may name them instead of writing their key.
    pub people: BTreeMap<String, String>,
    /// Named environments and patterns, with their types.
    pub environments: BTreeMap<String, EnvType>,
    /// Recipients (age public keys) keyed by type long name or environment name. A person
    /// named in `secrets.toml` is resolved to their key here.
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
    /// The `[aws]` table, validated: where `secret sync --to aws` writes.
    pub aws: Option<crate::aws::AwsConfig>,
    /// The `[aws]` table's settings as written, each value in canonical TOML (signed as
    /// facts, like `backend_settings`).
    pub aws_settings: Vec<(String, String)>,
    /// The `[hardcoded]` table: what the `hardcoded-secret` finding of the check allows
    /// and how severe it is.
    pub hardcoded: Hardcoded,
}

/// The `[hardcoded]` table of `secrets.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hardcoded {
    /// Paths (relative to the workspace root, `*` within a folder, `**` across folders)
    /// whose literals are never reported: `allow = ["examples/**", "src/fixtures.rs"]`.
    pub allow: Vec<String>,
    /// Whether a finding is an error rather than a warning (`deny = true`), as with
    /// `check-secrets --deny-hardcoded`.
    pub deny: bool,
}

const TOP_LEVEL_KEYS: [&str; 9] = [
    "admins",
    "types",
    "environments",
    "people",
    "recipients",
    "writers",
    "backend",
    "aws",
    "hardcoded",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            types: EnvType::ALL.to_vec(),
            types_line: None,
            people: BTreeMap::new(),
            environments: BTreeMap::new(),
            recipients: BTreeMap::new(),
            writers: BTreeMap::new(),
            admins: Vec::new(),
            backend: None,
            backend_settings: Vec::new(),
            backend_line: None,
            aws: None,
            aws_settings: Vec::new(),
            hardcoded: Hardcoded::default(),
        }
    }
}

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
        let aws = take("aws");
        let (admins, types, environments, people, recipients, writers, backend) = (
            take("admins"),
            take("types"),
            take("environments"),
            take("people"),
            take("recipients"),
            take("writers"),
            take("backend"),
        );
        let hardcoded = take("hardcoded");
        let mut config = Self {
            path: path.to_owned(),
            ..Self::default()
        };
        if let Some((key, value)) = types {
            config.types_line = Some(crate::file_error::line_of(text, key.span.start));
            config.types = type_list(path, text, value)?;
        }
        config.people = people_table(path, text, people)?;
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
            if !config.types.contains(&parsed) {
                return Err(FileError::at(
                    path,
                    text,
                    Some(ty.span.start),
                    format!(
                        "environment `{}` has the type `{parsed}`, which is not in this project's `types`",
                        name.value
                    ),
                )
                .with_help(config.types_help(parsed)));
            }
            config.environments.insert(name.value, parsed);
        }
        for (table, raw_keys) in [("recipients", recipients), ("writers", writers)] {
            let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (scope, list) in top_table(path, text, raw_keys)? {
                let scope = Spanned::with_span(scope.name.into_owned(), scope.span);
                let key = key_table_scope(path, text, table, &config, &scope)?;
                let list = key_list(path, text, table, &config.people, &scope, list)?;
                lists.entry(key).or_default().extend(list);
            }
            match table {
                "recipients" => config.recipients = lists,
                _ => config.writers = lists,
            }
        }
        if let Some((key, list)) = admins {
            let scope = Spanned::with_span(key.name.into_owned(), key.span);
            config.admins = key_list(path, text, "admins", &config.people, &scope, list)?;
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
        if let Some((key, aws)) = aws {
            config.aws_settings = crate::aws::settings(&aws);
            config.aws = Some(crate::aws::read(path, text, &key, aws)?);
        }
        config.hardcoded = hardcoded_table(path, text, hardcoded)?;
        Ok(config)
    }

    /// Resolves what the user typed after `--env` (or set in `SECRETS_ENV`): a declared
    /// environment, a name matching a declared pattern, or a type name or shorthand.
    pub fn resolve_env(&self, text: &str) -> Result<Environment, FileError> {
        if let Some(ty) = EnvType::parse(text) {
            self.check_type_used(ty)?;
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
        let declare = format!(
            "a named environment is declared first, with its type: add `{} = \"development\"` under [environments] in secrets.toml",
            if env_name_problem(text, false).is_none() {
                text
            } else {
                "staging"
            }
        );
        let help = match did_you_mean(text, declared.iter().copied().chain(EnvType::NAMES)) {
            Some(known) => format!("did you mean `{known}`?"),
            None => format!(
                "the known environments are {}; {declare}",
                self.known_environments()
            ),
        };
        Err(FileError {
            path: self.path.clone(),
            line: None,
            message: format!("unknown environment `{}`", escape_control(text)),
            help: Some(help),
        })
    }

    /// Whether the project uses the environment type `ty` (it is in `types`).
    pub fn uses(&self, ty: EnvType) -> bool {
        self.types.contains(&ty)
    }

    /// An error naming `types` when the project does not use `ty`: `--env preview` in a
    /// project without previews.
    pub fn check_type_used(&self, ty: EnvType) -> Result<(), FileError> {
        if self.uses(ty) {
            return Ok(());
        }
        Err(FileError {
            path: self.path.clone(),
            line: self.types_line,
            message: format!("this project does not use the environment type `{ty}`"),
            help: Some(self.types_help(ty)),
        })
    }

    /// What to say about an environment type the project does not use.
    fn types_help(&self, ty: EnvType) -> String {
        let used: Vec<&str> = self.types.iter().map(|ty| ty.name()).collect();
        format!(
            "`types = [{}]` in secrets.toml lists the types it uses: use one of them, or add \"{ty}\" to `types`",
            used.iter()
                .map(|name| format!("\"{name}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The name `[people]` gives the age public key `key`, if any.
    pub fn person(&self, key: &str) -> Option<&str> {
        self.people
            .iter()
            .find(|(_, person_key)| *person_key == key)
            .map(|(name, _)| name.as_str())
    }

    /// How messages name the holder of `key`: the person's name from `[people]`, else the
    /// key itself.
    pub fn who(&self, key: &str) -> String {
        match self.person(key) {
            Some(name) => name.to_owned(),
            None => key.to_owned(),
        }
    }

    /// How a message that must name the key too names its holder: `alice (age1...)` for a
    /// person of `[people]`, else the key; control characters escaped.
    pub fn named(&self, key: &str) -> String {
        let key = crate::text::escape_control(key);
        match self.person(&key) {
            Some(name) => format!("{name} ({key})"),
            None => key.into_owned(),
        }
    }

    /// Every environment `--env` and `SECRETS_ENV` accept, for messages: the types the
    /// project uses with their shorthands, then the declared environments and patterns with
    /// their types.
    pub(crate) fn known_environments(&self) -> String {
        let mut known: Vec<String> = self
            .types
            .iter()
            .map(|ty| match ty {
                EnvType::Local => "local".to_owned(),
                ty => format!("{} ({})", ty.name(), ty.short()),
            })
            .collect();
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
    config: &Config,
    scope: &Spanned<String>,
) -> Result<String, FileError> {
    let environments = &config.environments;
    if let Some(ty) = EnvType::parse(&scope.value) {
        // A type the project does not use may keep its recipients (as `secret init`
        // writes them): they are never asked for.
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

/// The age public keys of one `[recipients]` or `[writers]` entry, checked; a person's
/// name from `[people]` stands for their key.
fn key_list(
    path: &Path,
    text: &str,
    table: &str,
    people: &BTreeMap<String, String>,
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
        if let Some(key) = people.get(value) {
            list.push(key.clone());
            continue;
        }
        let named = !value.starts_with("age1") && person_name_problem(value).is_none();
        if named && !people.is_empty() {
            let help = match did_you_mean(value, people.keys().map(String::as_str)) {
                Some(known) => format!("did you mean `{known}`?"),
                None => format!(
                    "add `{value} = \"age1...\"` under [people] in secrets.toml, or write the age public key here"
                ),
            };
            return Err(FileError::at(
                path,
                text,
                Some(recipient.span.start),
                format!("`{value}` in the {table} of `{}` is not a person of [people] nor an age recipient", scope.value),
            )
            .with_help(help));
        }
        if let Err(reason) = check_recipient(value) {
            return Err(FileError::at(
                path,
                text,
                Some(recipient.span.start),
                format!("`{}` is not an age recipient: {reason}", escape_control(value)),
            )
            .with_help(if named {
                format!("a recipient is an age X25519 public key (`age1...`, printed by `age-keygen -y` or `cargo xtask secret init`), or a person's name: add `{value} = \"age1...\"` under [people] in secrets.toml")
            } else {
                "a recipient is an age X25519 public key (`age1...`, printed by `age-keygen -y` or `cargo xtask secret init`)".to_owned()
            }));
        }
        list.push(value.to_owned());
    }
    Ok(list)
}

/// `types = ["production", "development", "local"]`: the types the project uses, each a
/// name or shorthand, at least one, in the order of [`EnvType::ALL`].
fn type_list(path: &Path, text: &str, mut value: Value<'_>) -> Result<Vec<EnvType>, FileError> {
    let start = value.span.start;
    let example = "write `types = [\"production\", \"development\", \"local\"]` with the types the project uses (production, development, preview, local)";
    let items = match value.take() {
        ValueInner::Array(items) => items,
        other => {
            return Err(FileError::at(
                path,
                text,
                Some(start),
                format!(
                    "`types` should be a list of environment types, not {}",
                    article(other.type_str())
                ),
            )
            .with_help(example));
        }
    };
    if items.is_empty() {
        return Err(FileError::at(
            path,
            text,
            Some(start),
            "`types` is an empty list, so no environment could have values".to_owned(),
        )
        .with_help(format!("{example}, or remove the line to use all four")));
    }
    let mut types = Vec::new();
    for mut item in items {
        let name = toml_file::string(path, text, "types", &mut item)?;
        let ty = EnvType::parse(name.value.trim()).ok_or_else(|| {
            let help = match did_you_mean(&name.value, EnvType::NAMES) {
                Some(known) => format!("did you mean `{known}`?"),
                None => "the environment types are production, development, preview and local"
                    .to_owned(),
            };
            FileError::at(
                path,
                text,
                Some(name.span.start),
                format!(
                    "`{}` in `types` is not an environment type",
                    escape_control(&name.value)
                ),
            )
            .with_help(help)
        })?;
        types.push(ty);
    }
    Ok(EnvType::ALL
        .into_iter()
        .filter(|ty| types.contains(ty))
        .collect())
}

/// `[people]`: `alice = "age1..."`, each name valid and each key a checked age recipient
/// held by one person only.
fn people_table(
    path: &Path,
    text: &str,
    entry: Option<(Key<'_>, Value<'_>)>,
) -> Result<BTreeMap<String, String>, FileError> {
    let mut people = BTreeMap::new();
    for (name, mut key) in top_table(path, text, entry)? {
        if let Some(problem) = person_name_problem(&name.name) {
            return Err(FileError::at(
                path,
                text,
                Some(name.span.start),
                format!("`{}` is not a valid person name: {problem}", escape_control(&name.name)),
            )
            .with_help("a person's name uses ASCII letters, digits, `-`, `_` and `.` (`alice`, `ci-deploy`) and does not start with `age1`"));
        }
        let key = toml_file::string(path, text, &name.name, &mut key)?;
        let value = key.value.trim();
        if let Err(reason) = check_recipient(value) {
            return Err(FileError::at(
                path,
                text,
                Some(key.span.start),
                format!("the key of `{}` is not an age recipient: {reason}", name.name),
            )
            .with_help(format!("write `{} = \"age1...\"` with their age public key (printed by `age-keygen -y` or `cargo xtask secret init`)", name.name)));
        }
        if let Some((other, _)) = people.iter().find(|(_, known)| *known == value) {
            return Err(FileError::at(
                path,
                text,
                Some(key.span.start),
                format!("`{}` and `{other}` have the same key", name.name),
            )
            .with_help("each key belongs to one person: remove one of the two lines"));
        }
        people.insert(name.name.into_owned(), value.to_owned());
    }
    Ok(people)
}

/// What is wrong with a person's name in `[people]`, or `None`.
fn person_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.starts_with("age1") {
        return Some("it starts like an age key");
    }
    if !name
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
    {
        return Some("it has a character other than ASCII letters, digits, `-`, `_` and `.`");
    }
    None
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
/// The `[hardcoded]` table: `allow`, a list of path patterns, and `deny`, a boolean.
fn hardcoded_table(
    path: &Path,
    text: &str,
    entry: Option<(Key<'_>, Value<'_>)>,
) -> Result<Hardcoded, FileError> {
    let mut hardcoded = Hardcoded::default();
    for (key, mut value) in top_table(path, text, entry)? {
        let start = value.span.start;
        match (key.name.as_ref(), value.take()) {
            ("allow", ValueInner::Array(items)) => {
                for mut item in items {
                    let pattern = toml_file::string(path, text, "allow", &mut item)?;
                    hardcoded.allow.push(pattern.value);
                }
            }
            ("deny", ValueInner::Boolean(deny)) => hardcoded.deny = deny,
            ("allow" | "deny", other) => {
                let (what, example) = if key.name == "allow" {
                    ("a list of path patterns", "allow = [\"examples/**\"]")
                } else {
                    ("true or false", "deny = true")
                };
                return Err(FileError::at(
                    path,
                    text,
                    Some(start),
                    format!(
                        "`{}` in [hardcoded] should be {what}, not {}",
                        key.name,
                        article(other.type_str())
                    ),
                )
                .with_help(format!("write `{example}`")));
            }
            _ => {
                return Err(unknown_key(
                    path,
                    text,
                    &key,
                    &["allow", "deny"],
                    "[hardcoded]",
                ));
            }
        }
    }
    Ok(hardcoded)
}

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

    /// A key for the tests: the recipient of a fixed X25519 scalar, with a valid checksum.
    fn key(byte: u8) -> String {
        secret_age::bech32::encode("age", &[byte; 32])
    }

    #[test]
    fn types_limit_what_environments_mean() {
        let config = parse("types = [\"production\", \"dev\", \"local\"]\n").unwrap();
        assert_eq!(
            config.types,
            [EnvType::Production, EnvType::Development, EnvType::Local]
        );
        assert!(!config.uses(EnvType::Preview));
        let error = config.resolve_env("preview").unwrap_err();
        assert_eq!(error.line, Some(1));
        assert_eq!(
            error.message,
            "this project does not use the environment type `preview`"
        );
        let help = error.help.unwrap();
        assert!(
            help.contains("`types = [\"production\", \"development\", \"local\"]`"),
            "{help}"
        );
        assert!(help.contains("add \"preview\" to `types`"), "{help}");
        assert!(config.resolve_env("pr").is_err());
        assert!(!config.known_environments().contains("preview"));
        assert_eq!(Config::default().types, EnvType::ALL);
        let error =
            parse("types = [\"production\"]\n[environments]\nstaging = \"dev\"\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(
            error.message.contains("not in this project's `types`"),
            "{error}"
        );
        let config = parse(&format!(
            "types = [\"production\"]\n[recipients]\nlocal = [\"{}\"]\n",
            key(1)
        ))
        .unwrap();
        assert_eq!(
            config.recipients["local"],
            [key(1)],
            "an unused type's recipients are kept"
        );
        let error = parse("types = [\"prodution\"]\n").unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `production`?"));
        assert!(
            parse("types = []\n")
                .unwrap_err()
                .message
                .contains("empty list")
        );
        assert!(parse("types = \"production\"\n").is_err());
    }

    #[test]
    fn people_name_keys_in_recipients_and_writers() {
        let (alice, bob) = (key(1), key(2));
        let text = format!(
            "[people]\nalice = \"{alice}\"\n\n[recipients]\nproduction = [\"alice\", \"{bob}\"]\n\n[writers]\nproduction = [\"alice\"]\n"
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.recipients["production"],
            [alice.clone(), bob.clone()]
        );
        assert_eq!(config.writers["production"], std::slice::from_ref(&alice));
        assert_eq!(config.person(&alice), Some("alice"));
        assert_eq!(config.person(&bob), None);
        assert_eq!(config.who(&alice), "alice");
        assert_eq!(config.who(&bob), bob);

        let error = parse(&format!(
            "[people]\nalice = \"{alice}\"\n[recipients]\nproduction = [\"alise\"]\n"
        ))
        .unwrap_err();
        assert_eq!(error.line, Some(4));
        assert!(
            error.message.contains("is not a person of [people]"),
            "{error}"
        );
        assert_eq!(error.help.as_deref(), Some("did you mean `alice`?"));
        let error = parse("[recipients]\nproduction = [\"carol\"]\n").unwrap_err();
        assert!(
            error
                .help
                .as_deref()
                .unwrap()
                .contains("add `carol = \"age1...\"` under [people]"),
            "{error}"
        );
        let error = parse(&format!(
            "[people]\nalice = \"{alice}\"\nbob = \"{alice}\"\n"
        ))
        .unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("the same key"), "{error}");
        let error = parse("[people]\nalice = \"age1nope\"\n").unwrap_err();
        assert!(
            error
                .message
                .contains("the key of `alice` is not an age recipient"),
            "{error}"
        );
    }
}
