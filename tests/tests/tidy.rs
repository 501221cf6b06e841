//! The tree's textual rules (ARCHITECTURE.md, "Invariants"), checked by reading the
//! repository's own files: only the CLI prints, the run time writes no file, randomness
//! comes from `getrandom` only, the CLI escapes text from files before a terminal sees it,
//! the tree refers to nothing outside it and names no author or work session, every module
//! says what it is for, and no crate's top-level modules import each other in a circle.
//!
//! Each rule is a function from file texts to violations, so that beside the test that
//! runs it on the tree, a second test shows it failing on a small broken copy.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// One file of the tree: its path relative to the repository's root (with `/`) and text.
#[derive(Debug, Clone)]
struct SourceFile {
    path: String,
    text: String,
}

/// A broken rule: where, and what to do about it.
#[derive(Debug)]
struct Violation {
    path: String,
    line: usize,
    message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// The repository's root folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// Folders never read: build output, git's, dependencies', and the fuzzers' inputs.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "node_modules", "corpus", "artifacts"];

/// The text files of the tree this repository is made of (not build output).
fn tree() -> Vec<SourceFile> {
    let root = root();
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                if !SKIPPED_DIRS.contains(&name.as_str()) {
                    pending.push(path);
                }
                continue;
            }
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if !is_text(&relative) {
                continue;
            }
            // Files that are not UTF-8 are data, not text of ours.
            if let Ok(text) = std::fs::read_to_string(&path) {
                files.push(SourceFile {
                    path: relative,
                    text,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Whether the rules read `path`: source, manifests, docs and scripts.
fn is_text(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap();
    name == "run"
        || [
            ".rs", ".md", ".toml", ".sh", ".py", ".js", ".html", ".css", ".yml", ".yaml",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// This file states the rules, so it holds every word they forbid.
const THIS_FILE: &str = "tests/tests/tidy.rs";

/// Fails with every violation, one a line.
#[track_caller]
fn assert_tidy(rule: &str, violations: Vec<Violation>) {
    if violations.is_empty() {
        return;
    }
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    panic!(
        "{rule}: {} violation{}:\n{}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        list.join("\n")
    );
}

/// In-memory files, for the tests that show a rule failing.
fn copy(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(path, text)| SourceFile {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Reading Rust text: comments and literals blanked, test modules left out.
// ---------------------------------------------------------------------------------------

/// `text` with every comment blanked (and every string, char and byte literal's contents
/// too unless `keep_strings`); lines and byte offsets are kept, so a position in the
/// result is the same position in `text`.
fn blank(text: &str, keep_strings: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let wipe = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = memchr_newline(bytes, i);
            wipe(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < bytes.len() {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            wipe(&mut out, i, j);
            i = j;
        } else if let Some((open, hashes)) = raw_string_start(bytes, i) {
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = open;
            let end = find(bytes, body, &close).map_or(bytes.len(), |at| at + close.len());
            if !keep_strings {
                wipe(&mut out, body, end - close.len().min(end - body));
            }
            i = end;
        } else if bytes[i] == b'"' || starts_byte_string(bytes, i) {
            let start = if bytes[i] == b'b' { i + 2 } else { i + 1 };
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            if !keep_strings {
                wipe(&mut out, start, j.min(bytes.len()));
            }
            i = j + 1;
        } else if bytes[i] == b'\'' {
            // A char literal ('a', '\n', '\'', '\u{1b}', 'é') or a lifetime ('a, 'static).
            let j = i + 1;
            let end = if bytes.get(j) == Some(&b'\\') {
                find(bytes, j + 2, b"'").map(|at| at + 1)
            } else {
                let width = text[j..].chars().next().map_or(1, char::len_utf8);
                (bytes.get(j + width) == Some(&b'\'')).then_some(j + width + 1)
            };
            match end {
                Some(end) => {
                    if !keep_strings {
                        wipe(&mut out, j, end - 1);
                    }
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |at| from + at)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

fn is_ident_byte(bytes: &[u8], at: usize) -> bool {
    bytes
        .get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// `r"`, `r#"`, `br##"`… at `i` (not inside an identifier): where the body starts and the
/// number of `#`.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    if is_ident_byte(bytes, i.wrapping_sub(1)) {
        return None;
    }
    let mut j = i;
    if bytes.get(j) == Some(&b'b') {
        j += 1;
    }
    if bytes.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    (bytes.get(j) == Some(&b'"')).then_some((j + 1, hashes))
}

fn starts_byte_string(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&b'b')
        && bytes.get(i + 1) == Some(&b'"')
        && !is_ident_byte(bytes, i.wrapping_sub(1))
}

/// `code` (comments and literals already blanked) without the items marked
/// `#[cfg(test)]`: unit tests may do what the crate itself must not.
fn without_tests(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = find(bytes, from, b"#[cfg(test)]") {
        // The item after the attribute (and any further attributes) ends at its `;` or at
        // the brace that closes its first `{`.
        let mut j = at + "#[cfg(test)]".len();
        let mut depth = 0usize;
        while j < bytes.len() {
            match bytes[j] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        j += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        for byte in &mut out[at..j.min(bytes.len())] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
        from = j;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Every place in `code` where one of `words` starts and is not part of a longer
/// identifier (`print!` does not match inside `eprint!`, `rand::` not inside `operand::`).
fn occurrences<'w>(code: &str, words: &[&'w str]) -> Vec<(usize, &'w str)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for word in words {
        let mut from = 0;
        while let Some(at) = find(bytes, from, word.as_bytes()) {
            let starts_word = word.starts_with(|c: char| !c.is_alphanumeric() && c != '_')
                || !is_ident_byte(bytes, at.wrapping_sub(1));
            if starts_word {
                found.push((at, *word));
            }
            from = at + word.len();
        }
    }
    found.sort();
    found
}

/// Violations for each of `words` found in the code (comments and literals left out) of
/// the Rust files `applies` accepts.
fn forbidden_in_code(
    files: &[SourceFile],
    applies: impl Fn(&str) -> bool,
    skip_tests: bool,
    words: &[&str],
    why: &str,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    for file in files {
        if !file.path.ends_with(".rs") || file.path == THIS_FILE || !applies(&file.path) {
            continue;
        }
        let mut code = blank(&file.text, false);
        if skip_tests {
            code = without_tests(&code);
        }
        for (at, word) in occurrences(&code, words) {
            violations.push(Violation {
                path: file.path.clone(),
                line: line_of(&code, at),
                message: format!("`{word}`: {why}"),
            });
        }
    }
    violations
}

/// Whether `path` is a library crate's source (`secret-*/src/`, its binaries excluded).
fn is_library_source(path: &str) -> bool {
    path.starts_with("secret-")
        && path.split('/').nth(1) == Some("src")
        && !path.split('/').any(|part| part == "bin")
}

// ---------------------------------------------------------------------------------------
// Only the CLI prints.
// ---------------------------------------------------------------------------------------

/// Libraries return data; only `secret-build`'s `cli` writes to the process's streams, and
/// the build-script helper, whose output is cargo's protocol.
fn only_the_cli_prints(files: &[SourceFile]) -> Vec<Violation> {
    forbidden_in_code(
        files,
        |path| {
            is_library_source(path)
                && !path.starts_with("secret-build/src/cli/")
                && path != "secret-build/src/build.rs"
        },
        false,
        &[
            "print!",
            "println!",
            "eprint!",
            "eprintln!",
            "dbg!",
            "stdout()",
            "stderr()",
        ],
        "only secret-build's cli prints (a library returns what it has to say; the CLI \
         writes it through `Io`)",
    )
}

#[test]
fn only_the_cli_prints_in_the_tree() {
    assert_tidy("only the CLI prints", only_the_cli_prints(&tree()));
}

#[test]
fn only_the_cli_prints_fails_on_a_println_in_the_runtime() {
    let broken = copy(&[
        (
            "secret-runtime/src/handle.rs",
            "//! Handles.\nfn expose() {\n    // println!(\"in a comment\");\n    let _ = \"println!(in a string)\";\n    println!(\"exposed\");\n}\n",
        ),
        (
            "secret-build/src/cli/list.rs",
            "//! The CLI prints.\nfn list() {\n    println!(\"a list\");\n}\n",
        ),
    ]);
    let violations = only_the_cli_prints(&broken);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "secret-runtime/src/handle.rs");
    assert_eq!(violations[0].line, 5);
    assert!(violations[0].message.contains("`println!`"));
}

// ---------------------------------------------------------------------------------------
// The run time writes no file.
// ---------------------------------------------------------------------------------------

/// What writes a file: the standard library's calls, and `secret-core`'s writers (the
/// store's locked update, the memory's save, private files).
const FILE_WRITES: &[&str] = &[
    "fs::write",
    "File::create",
    "OpenOptions",
    "create_dir",
    "fs::rename",
    "fs::copy",
    "fs::remove",
    "remove_file",
    "remove_dir",
    "hard_link",
    "set_permissions",
    "tempfile",
    "create_private",
    "file::update",
    ".save(",
    ".persist(",
];

/// `secret-runtime` reads the workspace and never changes it (its unit tests may set up
/// files).
fn the_runtime_writes_no_file(files: &[SourceFile]) -> Vec<Violation> {
    forbidden_in_code(
        files,
        |path| path.starts_with("secret-runtime/src/"),
        true,
        FILE_WRITES,
        "the run time reads files and never writes one (a service must be able to run on a \
         read-only file system, and must never change the store)",
    )
}

#[test]
fn the_runtime_writes_no_file_in_the_tree() {
    assert_tidy(
        "the run time writes no file",
        the_runtime_writes_no_file(&tree()),
    );
}

#[test]
fn the_runtime_writes_no_file_fails_on_a_write_in_the_runtime() {
    let broken = copy(&[(
        "secret-runtime/src/store.rs",
        "//! The store source.\nfn remember(memory: &Memory) {\n    memory.save().unwrap();\n    std::fs::write(\"cache\", b\"x\").unwrap();\n}\n\n#[cfg(test)]\nmod tests {\n    fn setup() {\n        std::fs::write(\"secrets.toml\", \"\").unwrap();\n    }\n}\n",
    )]);
    let violations = the_runtime_writes_no_file(&broken);
    let lines: Vec<usize> = violations.iter().map(|v| v.line).collect();
    assert_eq!(lines, [3, 4], "{violations:?}");
}

// ---------------------------------------------------------------------------------------
// Randomness from getrandom only.
// ---------------------------------------------------------------------------------------

/// Random sources other than the operating system's through `getrandom`.
const OTHER_RANDOMNESS: &[&str] = &[
    "RandomState",
    "rand::",
    "rand_core",
    "thread_rng",
    "fastrand",
    "OsRng",
    "ThreadRng",
];

/// Keys, nonces, tokens and delimiters come from `getrandom`: a hasher's seed
/// (`RandomState`) is no random source, and one source is one thing to review.
fn randomness_comes_from_getrandom_only(files: &[SourceFile]) -> Vec<Violation> {
    forbidden_in_code(
        files,
        |path| !path.starts_with("tests/fixtures/") && !path.starts_with("examples/"),
        false,
        OTHER_RANDOMNESS,
        "randomness comes from `getrandom` only",
    )
}

#[test]
fn randomness_comes_from_getrandom_only_in_the_tree() {
    assert_tidy(
        "randomness comes from getrandom only",
        randomness_comes_from_getrandom_only(&tree()),
    );
}

#[test]
fn randomness_comes_from_getrandom_only_fails_on_a_random_state() {
    let broken = copy(&[(
        "secret-build/src/cli/export.rs",
        "//! Export.\nfn delimiter() -> u64 {\n    let operand::x = 1;\n    std::collections::hash_map::RandomState::new().build_hasher().finish()\n}\n",
    )]);
    let violations = randomness_comes_from_getrandom_only(&broken);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].line, 4);
    assert!(violations[0].message.contains("`RandomState`"));
}

// ---------------------------------------------------------------------------------------
// The CLI escapes text from files.
// ---------------------------------------------------------------------------------------

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
                             tests/tests/tidy.rs with why it never holds text from a file)"
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

// ---------------------------------------------------------------------------------------
// The tree stands on its own and is unsigned.
// ---------------------------------------------------------------------------------------

/// Words that refer to documents this repository does not have, or mark who wrote a part
/// of it in which work session (lower case: matched without regard to case).
const OUTSIDE_OR_SIGNED: &[(&str, &str)] = &[
    ("spec.md", "a document outside the repository"),
    ("style.md", "a document outside the repository"),
    ("brief.md", "a document outside the repository"),
    ("spec section", "a document outside the repository"),
    ("the spec says", "a document outside the repository"),
    ("/work/", "a folder outside the repository"),
    ("(helper ", "a marker naming who wrote this"),
    ("--- (end", "a marker naming who wrote this"),
    ("(end helper", "a marker naming who wrote this"),
];

/// No reference to documents outside the repository, no marker naming an author or a work
/// session, and every relative Markdown link leads to a file of the tree.
fn self_contained_and_unsigned(files: &[SourceFile]) -> Vec<Violation> {
    let paths: BTreeSet<&str> = files.iter().map(|file| file.path.as_str()).collect();
    let mut violations = Vec::new();
    for file in files {
        if file.path == THIS_FILE {
            continue;
        }
        let lower = file.text.to_lowercase();
        for (word, what) in OUTSIDE_OR_SIGNED {
            let mut from = 0;
            while let Some(at) = lower[from..].find(word) {
                let at = from + at;
                violations.push(Violation {
                    path: file.path.clone(),
                    line: line_of(&lower, at),
                    message: format!(
                        "`{word}`: {what}; say what a reader needs here, in the tree's own words"
                    ),
                });
                from = at + word.len();
            }
        }
        if file.path.ends_with(".md") {
            violations.extend(broken_links(file, &paths));
        }
    }
    violations
}

/// The relative links of a Markdown file that lead nowhere in the tree.
fn broken_links(file: &SourceFile, paths: &BTreeSet<&str>) -> Vec<Violation> {
    let dir: Vec<&str> = file.path.split('/').collect();
    let dir = &dir[..dir.len() - 1];
    let mut violations = Vec::new();
    let mut in_code = false;
    for (index, line) in file.text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let target = &rest[at + 2..];
            let Some(end) = target.find(')') else { break };
            let link = &target[..end];
            rest = &target[end..];
            let path = link.split('#').next().unwrap();
            // A destination with a space is no link (`[s]B - R` in a formula).
            if path.is_empty()
                || path.contains(char::is_whitespace)
                || path.contains("://")
                || path.starts_with("mailto:")
            {
                continue;
            }
            let mut parts: Vec<&str> = dir.to_vec();
            let mut outside = false;
            for part in path.split('/') {
                match part {
                    "" | "." => {}
                    ".." => outside |= parts.pop().is_none(),
                    part => parts.push(part),
                }
            }
            let resolved = parts.join("/");
            let exists = paths.contains(resolved.as_str())
                || paths
                    .iter()
                    .any(|known| known.starts_with(&format!("{resolved}/")))
                || root().join(&resolved).exists();
            if outside || !exists {
                violations.push(Violation {
                    path: file.path.clone(),
                    line: index + 1,
                    message: format!("the link `{link}` leads to nothing in the repository"),
                });
            }
        }
    }
    violations
}

#[test]
fn the_tree_is_self_contained_and_unsigned() {
    assert_tidy(
        "the tree is self-contained and unsigned",
        self_contained_and_unsigned(&tree()),
    );
}

#[test]
fn the_tree_is_self_contained_and_unsigned_fails_on_a_reference_outside_and_a_marker() {
    let broken = copy(&[
        (
            ".ci/run",
            "#!/usr/bin/env bash\n# --- (helper crates)\ncargo test\n# --- (end crates)\n",
        ),
        (
            "tests/tests/check_rules.rs",
            "//! The rules of the check (spec section 5).\n",
        ),
        (
            "docs/guide.md",
            "# Guide\n\nSee [the format](format.md), [the spec](../../shared/SPEC.md) and [rules](#rules).\n",
        ),
        ("docs/format.md", "# Format\n"),
    ]);
    let mut found: Vec<String> = self_contained_and_unsigned(&broken)
        .iter()
        .map(|v| format!("{}:{}", v.path, v.line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ".ci/run:2",
            ".ci/run:4",
            "docs/guide.md:3",
            "docs/guide.md:3",
            "tests/tests/check_rules.rs:1"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Every module has a header.
// ---------------------------------------------------------------------------------------

/// Whether `path` is a Rust module of ours that needs a header: the crates, their tests
/// and benchmarks, the xtask, the fuzz targets and the example; not the fixture workspaces
/// (data for the scanner) nor the compile-fail cases (their line numbers are the test).
fn needs_header(path: &str) -> bool {
    path.ends_with(".rs")
        && !path.starts_with("tests/fixtures/")
        && !path.starts_with("secret-runtime/tests/ui-macro/tests/")
        && !path.starts_with("secret-runtime/tests/ui-hygiene/tests/")
}

/// Every Rust file starts with a `//!` comment saying what the module is for.
fn every_module_has_a_header(files: &[SourceFile]) -> Vec<Violation> {
    files
        .iter()
        .filter(|file| needs_header(&file.path))
        .filter(|file| {
            !file
                .text
                .lines()
                .find(|line| !line.trim().is_empty())
                .is_some_and(|line| line.starts_with("//!"))
        })
        .map(|file| Violation {
            path: file.path.clone(),
            line: 1,
            message: "the module has no header: start it with a `//!` comment saying what it \
                      is for"
                .to_owned(),
        })
        .collect()
}

#[test]
fn every_module_has_a_header_in_the_tree() {
    assert_tidy(
        "every module has a header",
        every_module_has_a_header(&tree()),
    );
}

#[test]
fn every_module_has_a_header_fails_on_a_module_without_one() {
    let broken = copy(&[
        ("secret-core/src/text.rs", "//! Text.\n\nfn a() {}\n"),
        ("secret-core/src/env.rs", "/// Not a header.\nfn b() {}\n"),
        (
            "secret-runtime/tests/ui-macro/tests/ui/bad_char.rs",
            "fn main() {}\n",
        ),
    ]);
    let violations = every_module_has_a_header(&broken);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "secret-core/src/env.rs");
}

// ---------------------------------------------------------------------------------------
// No import circle inside a crate.
// ---------------------------------------------------------------------------------------

/// The library crates: the folders `secret-*` with a `src/lib.rs`.
fn crates(files: &[SourceFile]) -> BTreeSet<String> {
    files
        .iter()
        .filter_map(|file| file.path.strip_suffix("/src/lib.rs"))
        .filter(|name| name.starts_with("secret-") && !name.contains('/'))
        .map(str::to_owned)
        .collect()
}

/// The module path inside the crate of a file under `src/` (`store/file.rs` is
/// `["store", "file"]`, `store/mod.rs` is `["store"]`, `lib.rs` is `[]`).
fn module_path(relative: &str) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// An import of one top-level module by another: where, and what.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    path: String,
    line: usize,
}

/// The names the crate root re-exports (`pub use store::{Store, Slot}` in `lib.rs`),
/// each with the top-level module it comes from.
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let code = blank(lib, false);
    let mut names = BTreeMap::new();
    for (at, _) in occurrences(&code, &["use "]) {
        let end = code[at..].find(';').map_or(code.len(), |e| at + e);
        let tree: String = code[at + 4..end].split_whitespace().collect();
        let tree = tree
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let Some(module) = tree.split("::").next() else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        for name in tree
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|name| !name.is_empty())
        {
            if !modules.contains(name) {
                names.entry(name.to_owned()).or_insert(module.to_owned());
            }
        }
    }
    names
}

/// The first segment of each path in the use tree or path starting at `at` (`{a::b, c}`
/// gives `a` and `c`; `store::Store` gives `store`).
fn first_segments(code: &str, at: usize) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let mut i = at;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'{') {
        let end = bytes[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(bytes.len(), |e| i + e);
        return vec![(i, code[i..end].to_owned())];
    }
    let mut found = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    let mut j = i;
    while j < bytes.len() {
        match bytes[j] {
            b'{' => {
                depth += 1;
                expecting = depth == 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => expecting = true,
            b if expecting && (b.is_ascii_alphabetic() || b == b'_') => {
                let end = bytes[j..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map_or(bytes.len(), |e| j + e);
                found.push((j, code[j..end].to_owned()));
                expecting = false;
                j = end;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    found
}

/// The imports between the top-level modules of each crate: paths through `crate::` and
/// through `super::` back to the crate root, outside comments and `#[cfg(test)]` items.
fn imports(files: &[SourceFile]) -> BTreeMap<String, Vec<Edge>> {
    let mut graph = BTreeMap::new();
    for krate in crates(files) {
        let src = format!("{krate}/src/");
        let sources: Vec<(&SourceFile, Vec<String>)> = files
            .iter()
            .filter_map(|file| {
                let relative = file.path.strip_prefix(&src)?;
                (relative.ends_with(".rs") && !relative.starts_with("bin/"))
                    .then(|| (file, module_path(relative)))
            })
            .collect();
        let modules: BTreeSet<String> = sources
            .iter()
            .filter_map(|(_, path)| path.first().cloned())
            .collect();
        let lib = sources
            .iter()
            .find(|(_, path)| path.is_empty())
            .map_or("", |(file, _)| file.text.as_str());
        let reexports = root_reexports(lib, &modules);
        let mut edges = Vec::new();
        for (file, path) in &sources {
            let Some(from) = path.first() else { continue };
            let code = without_tests(&blank(&file.text, false));
            let bytes = code.as_bytes();
            for (at, word) in occurrences(&code, &["crate::", "super::"]) {
                if at > 0 && bytes[at - 1] == b'$' {
                    continue;
                }
                // Walk `super::super::…` up from the file's module to the crate root.
                let mut after = at + word.len();
                let mut depth = path.len();
                if word == "super::" {
                    depth -= 1;
                    while code[after..].starts_with("super::") {
                        depth = depth.saturating_sub(1);
                        after += "super::".len();
                    }
                    if depth > 0 {
                        continue;
                    }
                }
                for (_, segment) in first_segments(&code, after) {
                    let to = if modules.contains(&segment) {
                        segment
                    } else if let Some(module) = reexports.get(&segment) {
                        module.clone()
                    } else {
                        continue;
                    };
                    if &to != from {
                        edges.push(Edge {
                            from: from.clone(),
                            to,
                            path: file.path.clone(),
                            line: line_of(&code, at),
                        });
                    }
                }
            }
        }
        graph.insert(krate, edges);
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn circles(edges: &[Edge]) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        next: BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            let index = self.index.len();
            self.index.insert(node, index);
            self.low.insert(node, index);
            self.stack.push(node);
            self.on_stack.insert(node);
            let next: Vec<&str> = self
                .next
                .get(node)
                .map(|set| set.iter().copied().collect())
                .unwrap_or_default();
            for to in next {
                if !self.index.contains_key(to) {
                    self.visit(to);
                    let low = self.low[node].min(self.low[to]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(to) {
                    let low = self.low[node].min(self.index[to]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut members = Vec::new();
                loop {
                    let member = self.stack.pop().unwrap();
                    self.on_stack.remove(member);
                    members.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if members.len() > 1 {
                    members.sort();
                    self.found.push(members);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        next: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for edge in edges {
        tarjan.next.entry(&edge.from).or_default().insert(&edge.to);
    }
    let nodes: Vec<&str> = tarjan.next.keys().copied().collect();
    for node in nodes {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// Each circle of imports among a crate's top-level modules, with its members and the
/// imports that close it.
fn no_import_circle(files: &[SourceFile]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (krate, edges) in imports(files) {
        for members in circles(&edges) {
            let inside: Vec<&Edge> = edges
                .iter()
                .filter(|edge| members.contains(&edge.from) && members.contains(&edge.to))
                .collect();
            let mut seen = BTreeSet::new();
            let list: Vec<String> = inside
                .iter()
                .filter(|edge| seen.insert((&edge.from, &edge.to)))
                .map(|edge| format!("{} -> {} ({}:{})", edge.from, edge.to, edge.path, edge.line))
                .collect();
            violations.push(Violation {
                path: format!("{krate}/src"),
                line: inside.first().map_or(0, |edge| edge.line),
                message: format!(
                    "the modules {} import each other in a circle: {}; move what they share \
                     into one of them or a module below both",
                    members.join(", "),
                    list.join(", ")
                ),
            });
        }
    }
    violations
}

#[test]
fn no_import_circle_inside_a_crate() {
    let tree = tree();
    // The reader sees the imports it judges: secret-core's modules use each other a lot.
    let graph = imports(&tree);
    assert!(graph.len() >= 7, "{:?}", graph.keys());
    assert!(
        graph["secret-core"].len() > 50,
        "{:?}",
        graph["secret-core"]
    );
    assert_tidy("no import circle inside a crate", no_import_circle(&tree));
}

#[test]
fn no_import_circle_fails_on_two_modules_importing_each_other() {
    let broken = copy(&[
        (
            "secret-core/src/lib.rs",
            "//! Core.\npub mod store;\npub mod edit;\npub mod text;\npub mod trust;\npub use trust::Trust;\n",
        ),
        (
            "secret-core/src/store/mod.rs",
            "//! Store.\nuse crate::{text::escape, edit::plan};\n",
        ),
        (
            "secret-core/src/store/file.rs",
            "//! Store file.\nuse super::Slot;\nuse super::super::Trust;\n",
        ),
        (
            "secret-core/src/edit/mod.rs",
            "//! Edit.\n// use crate::text::escape;\nfn f() { crate::store::Store::load(); }\n",
        ),
        (
            "secret-core/src/trust.rs",
            "//! Trust.\nuse crate::{text, edit::plan};\n#[cfg(test)]\nmod tests {\n    use crate::store::Store;\n}\n",
        ),
        (
            "secret-core/src/text.rs",
            "//! Text.\nfn f() { let _ = \"crate::store\"; }\n",
        ),
    ]);
    let violations = no_import_circle(&broken);
    assert_eq!(violations.len(), 1, "{violations:?}");
    let message = &violations[0].message;
    assert!(
        message.contains("the modules edit, store, trust import each other in a circle"),
        "{message}"
    );
    assert!(
        message.contains("edit -> store (secret-core/src/edit/mod.rs:3)"),
        "{message}"
    );
    assert!(
        message.contains("store -> edit (secret-core/src/store/mod.rs:2)"),
        "{message}"
    );
    assert!(
        message.contains("store -> trust (secret-core/src/store/file.rs:3)"),
        "{message}"
    );
    assert!(
        message.contains("trust -> edit (secret-core/src/trust.rs:2)"),
        "{message}"
    );
    assert!(!message.contains("-> text"), "{message}");
}
