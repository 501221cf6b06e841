//! The CLI escapes text from files: every value a `write!` in `cli/` sends to a terminal is
//! escaped, bound from an escaped value, a fixed text or number, or listed in `CLEAN` with
//! the reason it never holds text from a file.

use super::reading::*;
use super::*;

/// The calls that make text safe for a terminal: `secret_core::text`'s, the CLI's
/// `escaped`, and `Config::named` (a recipient's name and escaped key).
const ESCAPES: &[&str] = &[
    "escape_control(",
    "escape_control_keep_lines(",
    "shell_quote(",
    "escaped(",
    "esc(",
    "escape(",
    "error_text(",
    "named(",
];

/// What the CLI writes to a terminal unescaped, and why it holds no text from a file.
const CLEAN: &[(&str, &str)] = &[
    ("count", "a number"),
    ("done", "a number"),
    ("recipients", "a number"),
    ("created", "a number"),
    ("updated", "a number"),
    ("deleted", "a number"),
    ("removed", "a number"),
    ("plan.unchanged+counts[Change::Claimasusize]", "a number"),
    ("plural", "a fixed word"),
    ("claimed", "a count and fixed words"),
    ("removals", "a count and fixed words"),
    ("extra", "counts and fixed words"),
    ("verb(change)", "a fixed word"),
    (
        "whose",
        "fixed words and the package names given on this command line",
    ),
    (
        "name",
        "a secret name: the name rule allows ASCII letters, digits and `_` only",
    ),
    (
        "args.name",
        "a secret name, checked by the name rule before anything runs",
    ),
    (
        "pair.name",
        "a secret name, checked by the name rule when the line was read",
    ),
    (
        "written",
        "a secret name, checked by the name rule when the line was read",
    ),
    ("listed", "secret names (the name rule)"),
    ("names.join(\",\")", "secret names (the name rule)"),
    ("undeclared.join(\",\")", "secret names (the name rule)"),
    (
        "missing.join(\",\")",
        "the fixed file names `.gitignore` lacks",
    ),
    (
        "not_written(&rest,&error)",
        "secret names (the name rule) and fixed words",
    ),
    (
        "super::sync::not_written(&names,&error)",
        "secret names (the name rule) and fixed words",
    ),
    (
        "super::not_written(&rest,&error)",
        "secret names (the name rule) and fixed words",
    ),
    ("plan.unchanged", "a number"),
    ("secret_core::STORE_FILE", "the store's fixed file name"),
    (
        "remote.describe()",
        "the AWS client's `describe` escapes the endpoint and region it shows",
    ),
    (
        "env",
        "an environment secrets.toml declares (ASCII letters, digits, `-`, `_`, `.`) or a \
         type's name",
    ),
    (
        "scope.describe()",
        "`Scope::describe` escapes the environment names it shows",
    ),
    (
        "rest.describe()",
        "`Scope::describe` escapes the environment names it shows",
    ),
    (
        "change.from.describe()",
        "`Scope::describe` escapes the environment names it shows",
    ),
    (
        "scope.flags()",
        "`Scope::flags` shell-quotes the environment names",
    ),
    ("scope", "bound to the escaped scope key"),
    ("committed", "bound to text whose author part is escaped"),
    (
        "public",
        "a public key, checked as Bech32 when it was parsed",
    ),
    (
        "found.source()",
        "`SECRETS_IDENTITY_KEY`, or the path of the identity file",
    ),
    ("link", "the dashboard's loopback address and a hex token"),
    ("ui.base()", "the dashboard's loopback address"),
    (
        "why",
        "a reason we wrote, with any server text escaped where it was made",
    ),
    ("what", "a fixed word (set, changed, re-encrypted)"),
    (
        "text",
        "clap's rendered usage, help or error: the arguments given on this command line",
    ),
    ("line", "a line already escaped where it was made"),
    ("verified.root().digest", "a hex digest we computed"),
    ("version.digest", "a hex digest we computed"),
    ("root_version.digest", "a hex digest we computed"),
    ("revision.date", "git's commit date (`%cI`)"),
    (
        "short(&revision.commit)",
        "hex digits of a commit id from git",
    ),
    (
        "describe_access(change,config)",
        "fixed words with `Config::named` and the escaped level",
    ),
];

/// Every interpolation in a terminal write of the CLI (`write!`/`writeln!` to
/// `io.stdout`, `io.stderr`, `stdout`, `stderr` or `out`) is escaped, or an expression
/// [`CLEAN`] says holds no file text, or an expression that only ever holds our own text
/// (`.display()` of a path is the user's folder joined with our file name).
fn the_cli_escapes_file_text(files: &[SourceFile]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for file in files {
        if !file.path.starts_with("secret-build/src/cli/") || !file.path.ends_with(".rs") {
            continue;
        }
        let code = without_tests(&blank(&file.text, true));
        let escaped_here = escaped_variables(&code);
        for (at, _) in occurrences(&code, &["write!(", "writeln!("]) {
            let open = at + code[at..].find('(').unwrap();
            let Some(args) = call_arguments(&code, open) else {
                continue;
            };
            let target: String = args[0].split_whitespace().collect();
            if !["io.stdout", "io.stderr", "stdout", "stderr", "out"].contains(&target.as_str()) {
                continue;
            }
            let Some(format) = args.get(1).and_then(|f| string_literal(f)) else {
                continue;
            };
            for expression in interpolations(&format, &args[2..]) {
                if !is_escaped_or_clean(&expression, &escaped_here) {
                    violations.push(Violation {
                        path: file.path.clone(),
                        line: line_of(&code, at),
                        message: format!(
                            "`{expression}` reaches a terminal unescaped: pass it through \
                             `secret_core::text::escape_control` (or list it in CLEAN in \
                             tests/tests/tidy/escapes.rs with why it never holds text from a file)"
                        ),
                    });
                }
            }
        }
    }
    violations
}

fn is_escaped_or_clean(expression: &str, escaped_here: &BTreeSet<String>) -> bool {
    let compact: String = expression.split_whitespace().collect();
    let compact = compact.trim_start_matches('&').trim_start_matches('*');
    ESCAPES.iter().any(|escape| compact.contains(escape))
        || CLEAN.iter().any(|(clean, _)| *clean == compact)
        || escaped_here.contains(compact)
        // Our own text: a path we joined, a constant, a number, a word chosen by a condition.
        || compact.ends_with(".display()")
        || compact.ends_with(".len()")
        || compact.ends_with("version")
        || compact.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        || is_choice_of_words(expression)
}

/// `if … { "word" } else { "other" }`: one of two literals.
fn is_choice_of_words(expression: &str) -> bool {
    let Some(rest) = expression.trim().strip_prefix("if ") else {
        return false;
    };
    let branches: Vec<&str> = rest.split(['{', '}']).skip(1).collect();
    branches
        .iter()
        .map(|branch| branch.trim())
        .filter(|branch| !branch.is_empty() && *branch != "else")
        .all(|branch| branch.starts_with('"') && branch.ends_with('"'))
}

/// The variables a file binds to escaped text (`let note = escape_control(note);`).
fn escaped_variables(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in occurrences(code, &["let "]) {
        let end = code[at..].find(';').map_or(code.len(), |e| at + e);
        let statement = &code[at + 4..end];
        let Some((name, value)) = statement.split_once('=') else {
            continue;
        };
        let name = name
            .split(':')
            .next()
            .unwrap()
            .trim()
            .trim_start_matches("mut ");
        if ESCAPES.iter().any(|escape| value.contains(escape)) {
            names.insert(name.to_owned());
        }
    }
    names
}

/// The top-level arguments of the call whose `(` is at `open`.
fn call_arguments(code: &str, open: usize) -> Option<Vec<String>> {
    let bytes = code.as_bytes();
    let mut depth = 0;
    let mut args = Vec::new();
    let mut start = open + 1;
    let mut i = open;
    let mut in_string = false;
    while i < bytes.len() {
        let byte = bytes[i];
        if in_string {
            if byte == b'\\' {
                i += 1;
            } else if byte == b'"' {
                in_string = false;
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(code[start..i].trim().to_owned());
                        return Some(args);
                    }
                }
                b',' if depth == 1 => {
                    args.push(code[start..i].trim().to_owned());
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The text inside a plain string literal (`"..."`); `None` for anything else.
fn string_literal(arg: &str) -> Option<String> {
    let inner = arg.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.to_owned())
}

/// The expressions `format` interpolates, given the arguments after it.
fn interpolations(format: &str, args: &[String]) -> Vec<String> {
    let mut positional = args.iter().filter(|arg| !is_named(arg));
    let named: BTreeMap<&str, &str> = args
        .iter()
        .filter(|arg| is_named(arg))
        .filter_map(|arg| arg.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let mut expressions = Vec::new();
    let mut rest = format;
    while let Some(at) = rest.find('{') {
        if rest[at + 1..].starts_with('{') {
            rest = &rest[at + 2..];
            continue;
        }
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        let spec = &rest[at + 1..at + end];
        let name = spec.split(':').next().unwrap().trim();
        if name.is_empty() {
            if let Some(arg) = positional.next() {
                expressions.push(arg.clone());
            }
        } else if let Some(value) = named.get(name) {
            expressions.push((*value).to_owned());
        } else if !name.chars().all(|c| c.is_ascii_digit()) {
            expressions.push(name.to_owned());
        }
        rest = &rest[at + end + 1..];
    }
    expressions
}

fn is_named(arg: &str) -> bool {
    arg.split_once('=').is_some_and(|(name, value)| {
        !value.starts_with('=')
            && !name.ends_with(['!', '<', '>', '='])
            && name.trim().chars().all(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn the_cli_escapes_file_text_in_the_tree() {
    assert_tidy(
        "the CLI escapes text from files",
        the_cli_escapes_file_text(&tree()),
    );
}

#[test]
fn the_cli_escapes_file_text_fails_on_a_raw_error() {
    let broken = copy(&[(
        "secret-build/src/cli/check.rs",
        "//! Check.\nfn report(io: &mut Io<'_>, error: Error, key: &str) {\n    let _ = writeln!(io.stderr, \"error: {error}\");\n    let _ = writeln!(io.stdout, \"key {} for {}\", escape_control(key), args.name);\n    let _ = writeln!(\n        io.stdout,\n        \"scope {}\",\n        scope.key()\n    );\n}\n",
    )]);
    let violations = the_cli_escapes_file_text(&broken);
    let found: Vec<(usize, bool)> = violations
        .iter()
        .map(|v| {
            (
                v.line,
                v.message.starts_with("`error`") || v.message.starts_with("`scope.key()`"),
            )
        })
        .collect();
    assert_eq!(found, [(3, true), (5, true)], "{violations:?}");
}
