//! Parsing a `secret!` invocation from its tokens.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::Lit;

use crate::name::{MAX_NAME_LEN, validate_name};

/// The flag a declaration may carry after its name: `secret!("SentryDSN", optional)`.
pub const OPTIONAL: &str = "optional";

/// The option naming the environment variable a library reads the value from:
/// `secret!("DatabaseURL", env = "DATABASE_URL")`.
pub const ENV: &str = "env";

/// What may follow the name, for messages.
const AFTER_NAME: &str = "`optional` and `env = \"VARIABLE\"`";

/// The rule for the variable of `env = "..."`, for messages.
pub const ENV_VAR_RULE: &str = "an ASCII letter or `_`, then ASCII letters, digits or `_`, at most 128 characters, not starting with `SECRET_` or `SECRETS_` (the tool's own)";

/// A valid `secret!` invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The secret's name, already validated.
    pub name: String,
    /// The span of the string literal that holds the name.
    pub span: Span,
    /// Whether the declaration is `optional`: a missing value is then not an error anywhere
    /// (no build diagnostic, "optional, unset" in the check, skipped by `run` and `export`).
    pub optional: bool,
    /// The conventional environment variable of `env = "DATABASE_URL"`, already validated:
    /// `run`, `export` and the run time's environment source use it alongside
    /// `SECRET_<Name>`.
    pub env: Option<String>,
}

/// Parses the tokens between the delimiters of `secret!(...)`.
///
/// Accepts one string literal (raw strings included), optionally followed by `, optional`
/// and `, env = "VARIABLE"` in either order, each at most once, and an optional trailing
/// comma. The error, if any, sits on the offending tokens and says what is allowed and
/// what was found; it is a single error, so callers never produce a cascade.
pub fn parse_invocation(tokens: TokenStream) -> syn::Result<Invocation> {
    let mut args = split_args(tokens);
    if args.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "`secret!` takes one string literal, found nothing; write `secret!(\"GitHubAPIToken\")`",
        ));
    }
    if args.len() > 3 {
        let count = args.len();
        let extra: TokenStream = args.drain(3..).flatten().collect();
        return Err(syn::Error::new_spanned(
            extra,
            format!(
                "`secret!` takes one string literal and then only {AFTER_NAME}, found {count} arguments; remove the extra arguments"
            ),
        ));
    }
    let mut optional = false;
    let mut env = None;
    for option in args.drain(1..) {
        match parse_option(option)? {
            (Parsed::Optional, span) if optional => return Err(twice(span, OPTIONAL)),
            (Parsed::Env(_), span) if env.is_some() => return Err(twice(span, ENV)),
            (Parsed::Optional, _) => optional = true,
            (Parsed::Env(variable), _) => env = Some(variable),
        }
    }
    let arg = args.pop().unwrap_or_default();
    let tree = match <[TokenTree; 1]>::try_from(arg) {
        Ok([tree]) => unwrap_invisible(tree),
        Err(arg) => {
            let found: TokenStream = arg.into_iter().collect();
            return Err(syn::Error::new_spanned(
                &found,
                format!("`secret!` takes one string literal, found the expression `{found}`"),
            ));
        }
    };
    let literal = match tree {
        TokenTree::Literal(literal) => literal,
        other => {
            let what = match &other {
                TokenTree::Ident(_) => "the identifier",
                TokenTree::Group(_) => "the group",
                _ => "the token",
            };
            return Err(syn::Error::new(
                other.span(),
                format!("`secret!` takes one string literal, found {what} `{other}`"),
            ));
        }
    };
    let span = literal.span();
    let text = literal.to_string();
    if let Some(name) = plain_string(&text) {
        validate_name(name).map_err(|error| syn::Error::new(span, error.to_string()))?;
        return Ok(Invocation {
            name: name.to_owned(),
            span,
            optional,
            env,
        });
    }
    match Lit::new(literal) {
        Lit::Str(lit) if lit.suffix().is_empty() => {
            let name = lit.value();
            validate_name(&name).map_err(|error| syn::Error::new(span, error.to_string()))?;
            Ok(Invocation {
                name,
                span,
                optional,
                env,
            })
        }
        Lit::ByteStr(_) => Err(syn::Error::new(
            span,
            format!(
                "`secret!` takes a string literal, found the byte string `{text}`; remove the `b` prefix"
            ),
        )),
        _ => Err(syn::Error::new(
            span,
            format!(
                "`secret!` takes a string literal such as `\"GitHubAPIToken\"`, found `{text}`"
            ),
        )),
    }
}

/// The value of a string literal without escapes or suffix, `"Name"` or `r#"Name"#`, read
/// straight from its text: every valid name is written this way, and the proc macro then
/// skips building a `syn` literal for each of its calls. Anything else (escapes, byte
/// strings, suffixes, numbers) is left to `syn`, which also words the errors.
fn plain_string(text: &str) -> Option<&str> {
    let body = text.strip_prefix('r').unwrap_or(text);
    let raw = body.len() != text.len();
    let hashes = &body[..body.len() - body.trim_start_matches('#').len()];
    let inner = body[hashes.len()..]
        .strip_prefix('"')?
        .strip_suffix(hashes)?
        .strip_suffix('"')?;
    (raw || !inner.contains(['\\', '"'])).then_some(inner)
}

/// An option after the name.
enum Parsed {
    Optional,
    Env(String),
}

fn twice(span: Span, option: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!("`secret!` takes `{option}` once; remove the second one"),
    )
}

/// One argument after the name: the word `optional`, or `env = "VARIABLE"`.
fn parse_option(option: Vec<TokenTree>) -> syn::Result<(Parsed, Span)> {
    let option: TokenStream = option.into_iter().map(unwrap_invisible).collect();
    let trees: Vec<TokenTree> = option.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Ident(ident)] if ident == OPTIONAL => {
            return Ok((Parsed::Optional, ident.span()));
        }
        [TokenTree::Ident(ident), TokenTree::Punct(eq), value]
            if ident == ENV && eq.as_char() == '=' =>
        {
            return parse_env_var(value).map(|variable| (Parsed::Env(variable), ident.span()));
        }
        [TokenTree::Ident(ident), ..] => {
            let text = ident.to_string();
            for known in [OPTIONAL, ENV] {
                if text != known
                    && (text.eq_ignore_ascii_case(known) || one_edit_apart(&text, known))
                {
                    return Err(syn::Error::new(
                        ident.span(),
                        format!(
                            "`secret!` takes a name and then only {AFTER_NAME}, found `{ident}`; did you mean `{known}`?"
                        ),
                    ));
                }
            }
            if ident == ENV {
                return Err(syn::Error::new_spanned(
                    &option,
                    format!(
                        "`secret!` takes `env = \"VARIABLE\"`, found `{option}`; write `secret!(\"DatabaseURL\", env = \"DATABASE_URL\")`"
                    ),
                ));
            }
        }
        _ => {}
    }
    Err(syn::Error::new_spanned(
        &option,
        format!(
            "`secret!` takes a name and then only {AFTER_NAME}, found `{option}`; write `secret!(\"Name\", {OPTIONAL})` for a secret that may have no value, or `secret!(\"DatabaseURL\", env = \"DATABASE_URL\")` for the variable a library reads"
        ),
    ))
}

/// The string literal after `env =`: a valid variable name.
fn parse_env_var(value: &TokenTree) -> syn::Result<String> {
    let value = unwrap_invisible(value.clone());
    let literal = match &value {
        TokenTree::Literal(literal) => literal.clone(),
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!(
                    "`env =` takes a string literal such as `\"DATABASE_URL\"`, found `{other}`"
                ),
            ));
        }
    };
    let text = literal.to_string();
    let variable = match plain_string(&text) {
        Some(variable) => variable.to_owned(),
        None => match Lit::new(literal.clone()) {
            Lit::Str(lit) if lit.suffix().is_empty() => lit.value(),
            _ => {
                return Err(syn::Error::new(
                    literal.span(),
                    format!(
                        "`env =` takes a string literal such as `\"DATABASE_URL\"`, found `{text}`"
                    ),
                ));
            }
        },
    };
    match env_var_problem(&variable) {
        None => Ok(variable),
        Some(problem) => Err(syn::Error::new(
            literal.span(),
            format!(
                "`{variable}` is not a variable name for `env =`: {problem}; use {ENV_VAR_RULE}"
            ),
        )),
    }
}

/// What is wrong with the variable of `env = "..."`, or `None` when it is valid.
pub fn env_var_problem(variable: &str) -> Option<String> {
    let mut chars = variable.chars();
    match chars.next() {
        None => return Some("it is empty".to_owned()),
        Some(first) if !(first.is_ascii_alphabetic() || first == '_') => {
            return Some(format!("it starts with `{}`", first.escape_default()));
        }
        Some(_) => {}
    }
    if let Some(bad) = variable
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '_'))
    {
        return Some(format!("it has `{}`", bad.escape_default()));
    }
    if variable.len() > MAX_NAME_LEN {
        return Some(format!("it is {} characters long", variable.len()));
    }
    if variable.starts_with("SECRET_") || variable.starts_with("SECRETS_") {
        return Some("the `SECRET_` and `SECRETS_` variables are the tool's own".to_owned());
    }
    None
}

/// Whether `a` is one edit (insert, delete, replace or swap) away from `b`: catches
/// `optinal` and `optionl` without a dependency.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (a.len() - prefix - suffix, b.len() - prefix - suffix);
    match (ra, rb) {
        (0, 1) | (1, 0) | (1, 1) => true,
        (2, 2) => a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix],
        _ => false,
    }
}

/// Splits a token stream at its top-level commas, dropping one trailing comma.
fn split_args(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut args = Vec::new();
    let mut current = Vec::new();
    let mut trailing_comma = false;
    for tree in tokens {
        match &tree {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                args.push(std::mem::take(&mut current));
                trailing_comma = true;
            }
            _ => {
                current.push(tree);
                trailing_comma = false;
            }
        }
    }
    if !current.is_empty() || (!trailing_comma && !args.is_empty()) {
        args.push(current);
    }
    args
}

/// `macro_rules!` wraps a `$x:literal` fragment in an invisible group; look through it.
fn unwrap_invisible(tree: TokenTree) -> TokenTree {
    match tree {
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            let mut inner = group.stream().into_iter();
            match (inner.next(), inner.next()) {
                (Some(only), None) => unwrap_invisible(only),
                _ => TokenTree::Group(group),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::NameError;

    fn parse(source: &str) -> Result<String, String> {
        parse_invocation(source.parse().unwrap())
            .map(|invocation| invocation.name)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn accepts_plain_raw_and_trailing_comma() {
        assert_eq!(parse(r#""GitHubAPIToken""#).unwrap(), "GitHubAPIToken");
        assert_eq!(parse(r##"r#"Raw_1"#"##).unwrap(), "Raw_1");
        assert_eq!(parse(r#""A","#).unwrap(), "A");
    }

    #[test]
    fn rejects_what_the_spec_rejects() {
        assert!(parse("").unwrap_err().contains("found nothing"));
        assert!(
            parse("NAME")
                .unwrap_err()
                .contains("found the identifier `NAME`")
        );
        assert!(
            parse(r#""A", "B""#)
                .unwrap_err()
                .contains("then only `optional` and `env = \"VARIABLE\"`, found `\"B\"`")
        );
        assert!(
            parse(r#""A", optional, env = "X", x"#)
                .unwrap_err()
                .contains("found 4 arguments")
        );
        assert!(parse(r#"b"A""#).unwrap_err().contains("byte string"));
        assert!(parse(r#""""#).unwrap_err().contains("is empty"));
        assert!(
            parse(r#""1A""#)
                .unwrap_err()
                .contains("starts with the digit `1`")
        );
        assert!(
            parse(r#""A-B""#)
                .unwrap_err()
                .contains("has `-` at position 2")
        );
        assert!(parse("42").unwrap_err().contains("found `42`"));
        assert!(parse(r#""A"x"#).unwrap_err().contains("found `\"A\"x`"));
        let long = format!("\"{}\"", "A".repeat(129));
        assert!(parse(&long).unwrap_err().contains("129 characters long"));
        assert!(parse(&format!("\"{}\"", "A".repeat(128))).is_ok());
    }

    #[test]
    fn plain_strings_are_read_without_syn_and_the_rest_as_before() {
        assert_eq!(plain_string(r#""Name_1""#), Some("Name_1"));
        assert_eq!(plain_string(r#"r"Name""#), Some("Name"));
        assert_eq!(plain_string(r###"r##"Na"me"##"###), Some("Na\"me"));
        for other in [
            r#""A\x42""#,
            r#""A"x"#,
            r#"b"A""#,
            r#"br"A""#,
            r#"c"A""#,
            "'A'",
            "42",
        ] {
            assert_eq!(plain_string(other), None, "{other}");
        }
        // An escape is read by syn: the name is its value.
        assert_eq!(parse(r#""A\x42""#).unwrap(), "AB");
        assert!(parse(r#""A\n""#).unwrap_err().contains("position 2"));
    }

    #[test]
    fn optional_flag() {
        let parsed = |source: &str| parse_invocation(source.parse().unwrap()).unwrap();
        assert!(!parsed(r#""A""#).optional);
        assert!(parsed(r#""A", optional"#).optional);
        assert!(parsed(r#""A", optional,"#).optional);
        let error = parse(r#""A", optinal"#).unwrap_err();
        assert!(
            error.contains("found `optinal`; did you mean `optional`?"),
            "{error}"
        );
        let error = parse(r#""A", Optional"#).unwrap_err();
        assert!(error.contains("did you mean `optional`?"), "{error}");
        let error = parse(r#""A", required"#).unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
        let error = parse(r#""A", optional = true"#).unwrap_err();
        assert!(error.contains("found `optional = true`"), "{error}");
    }

    #[test]
    fn env_option() {
        let parsed = |source: &str| parse_invocation(source.parse().unwrap()).unwrap();
        let invocation = parsed(r#""DatabaseURL", env = "DATABASE_URL""#);
        assert_eq!(
            (
                invocation.name.as_str(),
                invocation.env.as_deref(),
                invocation.optional
            ),
            ("DatabaseURL", Some("DATABASE_URL"), false)
        );
        let invocation = parsed(r#""SentryDSN", env = "SENTRY_DSN", optional,"#);
        assert_eq!(
            (invocation.env.as_deref(), invocation.optional),
            (Some("SENTRY_DSN"), true)
        );
        assert!(parsed(r#""A", optional, env = r"_A1""#).optional);
        assert_eq!(parsed(r#""A""#).env, None);
        for (source, expected) in [
            (
                r#""A", env = "1X""#,
                "`1X` is not a variable name for `env =`: it starts with `1`",
            ),
            (r#""A", env = "A-B""#, "it has `-`"),
            (r#""A", env = """#, "it is empty"),
            (r#""A", env = "SECRET_A""#, "the tool's own"),
            (r#""A", env = "SECRETS_ENV""#, "the tool's own"),
            (
                r#""A", env = X"#,
                "`env =` takes a string literal such as `\"DATABASE_URL\"`, found `X`",
            ),
            (r#""A", env = 3"#, "found `3`"),
            (
                r#""A", env"#,
                "`secret!` takes `env = \"VARIABLE\"`, found `env`",
            ),
            (r#""A", env = "X", env = "Y""#, "takes `env` once"),
            (r#""A", optional, optional"#, "takes `optional` once"),
            (r#""A", evn = "X""#, "found `evn`; did you mean `env`?"),
            (r#""A", Env = "X""#, "did you mean `env`?"),
        ] {
            let error = parse(source).unwrap_err();
            assert!(error.contains(expected), "{source}: {error}");
        }
    }

    #[test]
    fn rejects_non_ascii() {
        assert!(validate_name("Ünïcode").is_err());
        assert_eq!(
            validate_name("Aé"),
            Err(NameError::BadChar {
                ch: 'é',
                position: 1
            })
        );
    }
}
