//! The `hardcoded-secret` finding: a credential the scanner found written into the source
//! ([`crate::scan::Hardcoded`]), as a diagnostic naming the rule, a redacted preview and
//! the `secret adopt` command that moves it into the store. Pure, like [`super::compare`].
//!
//! A warning by default, an error with `--deny-hardcoded` or `deny = true` under
//! `[hardcoded]` in `secrets.toml`: the literal is in every build whatever the environment
//! checked, so the severity does not follow the environments. Paths matching a pattern of
//! `allow` in `[hardcoded]` are not reported.

use std::path::Path;

use super::compare::SET_COMMAND;
use super::report::{Code, Diagnostic, Location, Severity};
use crate::scan::{ALLOW_COMMENT, Hardcoded, Rule};

/// The diagnostics for `found`, but those under a path `allow` lists.
pub(crate) fn diagnostics(found: &[Hardcoded], allow: &[String], deny: bool) -> Vec<Diagnostic> {
    found
        .iter()
        .filter(|found| {
            !allow
                .iter()
                .any(|pattern| glob_matches(pattern, &found.path))
        })
        .map(|found| diagnostic(found, deny))
        .collect()
}

fn diagnostic(found: &Hardcoded, deny: bool) -> Diagnostic {
    let path = found.path.to_string_lossy().replace('\\', "/");
    let name = suggested_name(found);
    let message = match (&found.binding, found.rule) {
        (Some(binding), Rule::NamedSecret) => format!(
            "`{binding}` holds a high-entropy string written into the source: `{}`",
            found.preview
        ),
        _ => format!(
            "{} is written into the source: `{}`",
            found.rule.describe(),
            found.preview
        ),
    };
    let place = format!("{path}:{}", found.line);
    let adopt = secret_core::text::shell_words([
        "adopt",
        place.as_str(),
        "--name",
        name.as_str(),
        "--type",
        "production",
    ]);
    Diagnostic {
        severity: if deny {
            Severity::Error
        } else {
            Severity::Warning
        },
        code: Code::HardcodedSecret,
        message,
        secret: None,
        environment: None,
        location: Some(Location {
            path: found.path.clone(),
            line: Some(found.line),
            column: Some(found.column),
            end: Some((found.end_line, found.end_column)),
        }),
        label: Some(found.rule.as_str().to_owned()),
        notes: vec![format!(
            "rule `{}`: anyone who can read the repository or its history can use it",
            found.rule.as_str()
        )],
        help: Some(format!(
            "move it into the store with `{SET_COMMAND} {adopt}` (choose the name and types), then rotate it: it stays in git history; if it is no credential, add `// {ALLOW_COMMENT}` on its line"
        )),
    }
}

/// The name `adopt` is suggested with: the binding in PascalCase (`GITHUB_TOKEN` ->
/// `GithubToken`) when that is a valid secret name, else the rule's.
pub(crate) fn suggested_name(found: &Hardcoded) -> String {
    found
        .binding
        .as_deref()
        .map(pascal_case)
        .filter(|name| secret_syntax::name::validate_name(name).is_ok())
        .unwrap_or_else(|| found.rule.suggested_name().to_owned())
}

/// `GITHUB_TOKEN`, `github_token`, `x-api-key` -> `GithubToken`, `GithubToken`, `XApiKey`;
/// `apiKey` -> `ApiKey`.
pub(crate) fn pascal_case(name: &str) -> String {
    let shouting = !name.chars().any(|c| c.is_lowercase());
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            let rest: String = if shouting {
                chars.as_str().to_lowercase()
            } else {
                chars.as_str().to_owned()
            };
            first.into_iter().collect::<String>() + &rest
        })
        .collect()
}

/// Whether `path` (relative to the root) matches `pattern`: `*` stands for any characters
/// but `/`, `**` for any folders (`examples/**`, `**/fixtures.rs`), `?` for one character.
pub(crate) fn glob_matches(pattern: &str, path: &Path) -> bool {
    let path = path.to_string_lossy().replace('\\', "/");
    matches(pattern.as_bytes(), path.as_bytes())
}

fn matches(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', b'/', rest @ ..] => {
            matches(rest, text)
                || (0..text.len())
                    .filter(|&i| text[i] == b'/')
                    .any(|i| matches(rest, &text[i + 1..]))
        }
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|i| matches(rest, &text[i..])),
        [b'*', rest @ ..] => (0..=text.len())
            .take_while(|&i| i == 0 || text[i - 1] != b'/')
            .any(|i| matches(rest, &text[i..])),
        [b'?', rest @ ..] => text.first().is_some_and(|&c| c != b'/') && matches(rest, &text[1..]),
        [c, rest @ ..] => text.first() == Some(c) && matches(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_patterns_match_as_globs() {
        let yes = |pattern: &str, path: &str| glob_matches(pattern, Path::new(path));
        assert!(yes("examples/**", "examples/a/b.rs"));
        assert!(yes("**/fixtures.rs", "src/x/fixtures.rs"));
        assert!(yes("**/fixtures.rs", "fixtures.rs"));
        assert!(yes("src/*.rs", "src/main.rs"));
        assert!(!yes("src/*.rs", "src/a/main.rs"));
        assert!(!yes("examples/**", "src/examples.rs"));
    }

    #[test]
    fn bindings_become_secret_names() {
        assert_eq!(pascal_case("GITHUB_TOKEN"), "GithubToken");
        assert_eq!(pascal_case("x-api-key"), "XApiKey");
        assert_eq!(pascal_case("apiKey"), "ApiKey");
    }
}
