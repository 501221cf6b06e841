//! The `[aws]` table of `secrets.toml`: where `secret sync --to aws` replicates an
//! environment's values in AWS Secrets Manager, and what the `ecs` and `external-secret`
//! exports point at.
//!
//! ```toml
//! [aws]
//! region = "eu-west-1"
//! prefix = "myapp/{env}/"           # each secret is named <prefix><Name>; {env} is the environment
//! kms_key_id = "alias/myapp"        # the KMS key new secrets are encrypted with (default: AWS's)
//! recovery_window_days = 7          # how long a deleted secret can be restored (7 to 30, default 30)
//! timeout_seconds = 30              # the time budget of one request, retries included (default 30)
//! tags = { team = "payments" }      # added to every secret sync creates
//! ```
//!
//! Like `[backend]`, the table is part of the signed access rules: only an admin's signed
//! change (`secret rekey`) makes a new region or prefix take effect, so an unsigned edit
//! cannot send production values to another account's secrets. Credentials never come from
//! this file: the AWS SDK's standard chain finds them (environment, profile, web identity).

use std::path::{Path, PathBuf};

use crate::file_error::FileError;
use crate::toml_file::{self, Key, Spanned, Value, ValueInner, article};

/// The keys of the `[aws]` table.
pub(crate) const AWS_KEYS: [&str; 6] = [
    "region",
    "prefix",
    "kms_key_id",
    "recovery_window_days",
    "timeout_seconds",
    "tags",
];

/// The tag keys sync writes itself; `tags` may not set them.
pub(crate) const RESERVED_TAG_PREFIX: &str = "secrets-toolkit:";

/// The validated `[aws]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsConfig {
    /// The region (`eu-west-1`).
    pub region: String,
    /// The name prefix, with `{env}` standing for the environment's name.
    pub prefix: String,
    /// The KMS key new secrets are encrypted with; `None` for the account's default key.
    pub kms_key_id: Option<String>,
    /// Days a deleted secret stays recoverable (7 to 30).
    pub recovery_window_days: i64,
    /// The time budget of one request in seconds, retries included.
    pub timeout_seconds: u64,
    /// Tags added to every secret sync creates, sorted by key.
    pub tags: Vec<(String, String)>,
    /// `secrets.toml`, for messages.
    pub config: PathBuf,
    /// The line of the `[aws]` table.
    pub line: usize,
}

impl AwsConfig {
    /// The prefix for the environment named `env` (`myapp/production/`).
    pub fn prefix_for(&self, env: &str) -> String {
        self.prefix.replace("{env}", env)
    }

    /// The Secrets Manager name of `name` in the environment named `env`.
    pub fn secret_name(&self, env: &str, name: &str) -> String {
        format!("{}{name}", self.prefix_for(env))
    }
}

/// Whether `ch` may appear in a Secrets Manager name (letters, digits and `/_+=.@-`).
fn name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '/' | '_' | '+' | '=' | '.' | '@' | '-')
}

/// The `[aws]` settings as facts: each value in canonical TOML (`tags` as an inline table
/// with its keys sorted), sorted by setting.
pub(crate) fn settings(value: &Value<'_>) -> Vec<(String, String)> {
    let Some(table) = value.as_table() else {
        return Vec::new();
    };
    let mut settings: Vec<(String, String)> = table
        .iter()
        .filter_map(|(key, value)| {
            let canonical = match value.as_ref() {
                ValueInner::Table(tags) => {
                    let mut pairs: Vec<String> = tags
                        .iter()
                        .filter_map(|(key, value)| {
                            toml_file::canonical_scalar(value).map(|value| {
                                format!("{} = {value}", crate::toml_write::basic(&key.name))
                            })
                        })
                        .collect();
                    pairs.sort();
                    Some(format!("{{ {} }}", pairs.join(", ")))
                }
                _ => toml_file::canonical_scalar(value),
            };
            canonical.map(|value| (key.name.to_string(), value))
        })
        .collect();
    settings.sort();
    settings
}

/// Reads and validates the `[aws]` table (the value of `key`).
pub(crate) fn read(
    path: &Path,
    text: &str,
    key: &Key<'_>,
    value: Value<'_>,
) -> Result<AwsConfig, FileError> {
    let start = key.span.start;
    let at = |offset: usize, message: String| FileError::at(path, text, Some(offset), message);
    let table = toml_file::table_value(
        path,
        text,
        key,
        value,
        "`region = \"eu-west-1\"`, `prefix = \"myapp/{env}/\"`",
    )?;
    let table = toml_file::in_file_order(table);
    if let Some((key, _)) = table
        .iter()
        .find(|(key, _)| !AWS_KEYS.contains(&key.name.as_ref()))
    {
        return Err(toml_file::unknown_key(path, text, key, &AWS_KEYS, "[aws]"));
    }
    let mut region: Option<Spanned<String>> = None;
    let mut prefix: Option<Spanned<String>> = None;
    let mut kms_key_id = None;
    let mut recovery_window_days = 30;
    let mut timeout_seconds = 30;
    let mut tags = Vec::new();
    for (key, mut value) in table {
        let name = key.name.as_ref();
        let span = value.span;
        match name {
            "region" => region = Some(toml_file::string(path, text, name, &mut value)?),
            "prefix" => prefix = Some(toml_file::string(path, text, name, &mut value)?),
            "kms_key_id" => {
                let id = toml_file::string(path, text, name, &mut value)?;
                if id.value.trim().is_empty() {
                    return Err(at(span.start, "`kms_key_id` is empty".to_owned()).with_help(
                        "give a key id, ARN or alias (`alias/myapp`), or remove the line to use the account's default key",
                    ));
                }
                kms_key_id = Some(id.value);
            }
            "recovery_window_days" | "timeout_seconds" => {
                let (low, high, help) = if name == "timeout_seconds" {
                    (1, 600, "use a number of seconds from 1 to 600")
                } else {
                    (
                        7,
                        30,
                        "AWS keeps a deleted secret recoverable for 7 to 30 days",
                    )
                };
                let number = match value.take() {
                    ValueInner::Integer(number) if (low..=high).contains(&number) => number,
                    ValueInner::Integer(number) => {
                        return Err(
                            at(span.start, format!("`{name} = {number}` is out of range"))
                                .with_help(help),
                        );
                    }
                    other => {
                        return Err(at(
                            span.start,
                            format!(
                                "`{name}` should be an integer, not {}",
                                article(other.type_str())
                            ),
                        )
                        .with_help(help));
                    }
                };
                if name == "timeout_seconds" {
                    timeout_seconds = number as u64;
                } else {
                    recovery_window_days = number;
                }
            }
            _ => {
                let table = match value.take() {
                    ValueInner::Table(table) => table,
                    other => {
                        return Err(at(
                            span.start,
                            format!(
                                "`tags` should be a table, not {}",
                                article(other.type_str())
                            ),
                        )
                        .with_help("write `tags = { team = \"payments\" }`"));
                    }
                };
                for (tag, mut tag_value) in toml_file::in_file_order(table) {
                    let tag_name = tag.name.to_string();
                    let tag_value = toml_file::string(path, text, &tag_name, &mut tag_value)?;
                    if tag_name.starts_with(RESERVED_TAG_PREFIX) || tag_name.starts_with("aws:") {
                        return Err(at(
                            tag.span.start,
                            format!("the tag `{}` is reserved", crate::text::escape_control(&tag_name)),
                        )
                        .with_help(format!(
                            "sync writes the `{RESERVED_TAG_PREFIX}` tags itself and AWS the `aws:` ones; choose another key"
                        )));
                    }
                    if tag_name.is_empty() || tag_name.len() > 128 || tag_value.value.len() > 256 {
                        return Err(at(
                            tag.span.start,
                            format!(
                                "the tag `{}` is not one AWS accepts",
                                crate::text::escape_control(&tag_name)
                            ),
                        )
                        .with_help("a tag key has 1 to 128 characters, its value at most 256"));
                    }
                    tags.push((tag_name, tag_value.value));
                }
            }
        }
    }
    tags.sort();
    let region = match region {
        None => {
            return Err(at(start, "[aws] has no `region`".to_owned()).with_help(
                "add the region the secrets live in, for example `region = \"eu-west-1\"`",
            ));
        }
        Some(region) => {
            let valid = !region.value.is_empty()
                && region
                    .value
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !valid {
                return Err(at(
                    region.span.start,
                    format!(
                        "`{}` is not an AWS region",
                        crate::text::escape_control(&region.value)
                    ),
                )
                .with_help("write the region's code, for example `eu-west-1` or `us-east-1`"));
            }
            region.value
        }
    };
    let prefix = match prefix {
        None => {
            return Err(at(start, "[aws] has no `prefix`".to_owned()).with_help(
                "add the path the secrets are named under, for example `prefix = \"myapp/{env}/\"`",
            ));
        }
        Some(prefix) => {
            let plain = prefix.value.replace("{env}", "env");
            let valid = prefix.value.ends_with('/')
                && !prefix.value.starts_with('/')
                && !plain.contains("//")
                && plain.chars().all(name_char);
            if !valid {
                let help = if plain.chars().all(name_char) && !prefix.value.ends_with('/') {
                    format!("end it with `/`: `{}/`", prefix.value)
                } else {
                    "a prefix is a path of letters, digits and `_+=.@-` separated by `/`, ending with `/` (`{env}` stands for the environment)".to_owned()
                };
                return Err(at(
                    prefix.span.start,
                    format!(
                        "`{}` is not a valid `prefix`",
                        crate::text::escape_control(&prefix.value)
                    ),
                )
                .with_help(help));
            }
            prefix.value
        }
    };
    Ok(AwsConfig {
        region,
        prefix,
        kms_key_id,
        recovery_window_days,
        timeout_seconds,
        tags,
        config: path.to_owned(),
        line: crate::file_error::line_of(text, start),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::rules::facts::{config_of, facts_of};

    fn parse(text: &str) -> Result<Config, crate::FileError> {
        Config::parse(Path::new("/ws/secrets.toml"), text)
    }

    #[test]
    fn a_full_table_and_its_facts() {
        let text = "[aws]\nregion = \"eu-west-1\"\nprefix = \"myapp/{env}/\"\nkms_key_id = \"alias/myapp\"\nrecovery_window_days = 7\ntags = { team = \"payments\", \"cost center\" = \"42\" }\n";
        let config = parse(text).unwrap();
        let aws = config.aws.clone().unwrap();
        assert_eq!(
            aws.secret_name("production", "StripeKey"),
            "myapp/production/StripeKey"
        );
        assert_eq!(aws.kms_key_id.as_deref(), Some("alias/myapp"));
        assert_eq!(aws.recovery_window_days, 7);
        assert_eq!(aws.timeout_seconds, 30);
        assert_eq!(
            aws.tags,
            vec![
                ("cost center".to_owned(), "42".to_owned()),
                ("team".to_owned(), "payments".to_owned())
            ]
        );
        assert_eq!(aws.line, 1);
        // Signed as facts, read back the same from them.
        let facts = facts_of(&config, "0123456789abcdef");
        let shown: Vec<String> = facts.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(
                &"aws tags { \"cost center\" = \"42\", \"team\" = \"payments\" }".to_owned()
            ),
            "{shown:?}"
        );
        assert!(
            shown.contains(&"aws prefix \"myapp/{env}/\"".to_owned()),
            "{shown:?}"
        );
        for fact in &facts {
            assert_eq!(
                &crate::rules::facts::Fact::parse(&fact.to_string()).unwrap(),
                fact
            );
        }
        let again = config_of(&facts, Path::new("/ws/secrets.toml")).unwrap();
        assert_eq!(again.aws.unwrap().tags, aws.tags);
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        for (text, line, message, help) in [
            (
                "[aws]\nprefix = \"a/\"\n",
                1,
                "[aws] has no `region`",
                "region = \"eu-west-1\"",
            ),
            (
                "[aws]\nregion = \"eu-west-1\"\n",
                1,
                "[aws] has no `prefix`",
                "prefix = \"myapp/{env}/\"",
            ),
            (
                "[aws]\nregion = \"eu-west-1\"\nprefix = \"myapp/prod\"\n",
                3,
                "`myapp/prod` is not a valid `prefix`",
                "end it with `/`: `myapp/prod/`",
            ),
            (
                "[aws]\nregion = \"EU West\"\nprefix = \"a/\"\n",
                2,
                "`EU West` is not an AWS region",
                "eu-west-1",
            ),
            (
                "[aws]\nregion = \"eu-west-1\"\nprefix = \"a/\"\nrecovery_window_days = 3\n",
                4,
                "`recovery_window_days = 3` is out of range",
                "7 to 30 days",
            ),
            (
                "[aws]\nregion = \"eu-west-1\"\nprefix = \"a/\"\ntags = { \"secrets-toolkit:x\" = \"y\" }\n",
                4,
                "the tag `secrets-toolkit:x` is reserved",
                "choose another key",
            ),
            (
                "[aws]\nregion = \"eu-west-1\"\nprefix = \"a/\"\nendpoint = \"http://evil\"\n",
                4,
                "unknown key `endpoint`",
                "the keys of [aws] are region, prefix",
            ),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, Some(line), "{text}");
            assert_eq!(error.message, message, "{text}");
            assert!(
                error.help.as_deref().unwrap_or("").contains(help),
                "{text}: {error:?}"
            );
        }
    }
}
