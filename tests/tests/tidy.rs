//! The tree's textual rules (ARCHITECTURE.md, "Invariants"), checked by reading the
//! repository's own files: only the CLI prints, the run time writes no file, randomness
//! comes from `getrandom` only, the CLI escapes text from files before a terminal sees it,
//! the tree refers to nothing outside it and carries no authorship markers, every module
//! says what it is for, no crate's top-level modules import each other in a circle, and
//! every test the invariants name exists.
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

/// This file states the rules: its broken copies hold the code they forbid.
const THIS_FILE: &str = "tests/tests/tidy.rs";

/// Whether `path` is this file or one of its modules (`tidy/`), which state the rules.
fn is_tidy(path: &str) -> bool {
    path == THIS_FILE || path.starts_with("tests/tests/tidy/")
}

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

mod circles;
mod escapes;
mod reading;

use reading::*;

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
// The tree stands on its own and is unsigned.
// ---------------------------------------------------------------------------------------

/// Words that refer to documents this repository does not have, or mark a part of it with
/// who wrote it (lower case: matched without regard to case). Each is written in two
/// pieces, so that this file does not itself hold the words it looks for.
const OUTSIDE_OR_SIGNED: &[(&str, &str)] = &[
    (concat!("sp", "ec.md"), "a document outside the repository"),
    (concat!("sty", "le.md"), "a document outside the repository"),
    (concat!("bri", "ef.md"), "a document outside the repository"),
    (
        concat!("spec ", "section"),
        "a document outside the repository",
    ),
    (
        concat!("the spec ", "says"),
        "a document outside the repository",
    ),
    (concat!("/wo", "rk/"), "a folder outside the repository"),
    (concat!("(hel", "per "), "a marker naming who wrote this"),
    (concat!("--- ", "(end"), "a marker naming who wrote this"),
    (concat!("(end ", "helper"), "a marker naming who wrote this"),
];

/// No reference to documents outside the repository, no marker naming an author, and every
/// relative Markdown link leads to a file of the tree.
fn self_contained_and_unsigned(files: &[SourceFile]) -> Vec<Violation> {
    let paths: BTreeSet<&str> = files.iter().map(|file| file.path.as_str()).collect();
    let mut violations = Vec::new();
    for file in files {
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
            concat!(
                "#!/usr/bin/env bash\n# --- (hel",
                "per crates)\ncargo test\n# --- ",
                "(end crates)\n"
            ),
        ),
        (
            "tests/tests/check_rules.rs",
            concat!("//! The rules of the check (spec ", "section 5).\n"),
        ),
        (
            "docs/guide.md",
            concat!(
                "# Guide\n\nSee [the format](format.md), [the spec](../../shared/SP",
                "EC.md) and [rules](#rules).\n"
            ),
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
// Every invariant names a test that exists.
// ---------------------------------------------------------------------------------------

/// The test functions ARCHITECTURE.md's "Invariants" section names (a backquoted snake_case
/// word of four or more parts) that no Rust file of the tree defines as `fn NAME(`.
fn the_invariants_name_tests_that_exist(files: &[SourceFile]) -> Vec<Violation> {
    let Some(architecture) = files.iter().find(|file| file.path == "ARCHITECTURE.md") else {
        return vec![Violation {
            path: "ARCHITECTURE.md".to_owned(),
            line: 1,
            message: "missing: the map of the repository, with its invariants".to_owned(),
        }];
    };
    let Some(start) = architecture.text.find("\n## Invariants") else {
        return vec![Violation {
            path: architecture.path.clone(),
            line: 1,
            message: "no `## Invariants` section".to_owned(),
        }];
    };
    let section = &architecture.text[start..];
    let section = match section[1..].find("\n## ") {
        Some(end) => &section[..end + 1],
        None => section,
    };
    let defined: BTreeSet<&str> = files
        .iter()
        .filter(|file| file.path.ends_with(".rs"))
        .flat_map(|file| file.text.split("fn ").skip(1))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .collect();
    invariant_test_names(section)
        .into_iter()
        .filter(|(_, word)| !defined.contains(word))
        .map(|(offset, word)| Violation {
            path: architecture.path.clone(),
            line: line_of(&architecture.text, start + offset),
            message: format!(
                "the invariant names `{word}`, which no test defines: name the test that checks it"
            ),
        })
        .collect()
}

/// The backquoted snake_case words of four or more parts in `section` (test names), with
/// their byte offsets.
fn invariant_test_names(section: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    let mut offset = 0;
    for (index, word) in section.split('`').enumerate() {
        let is_test_name = index % 2 == 1
            && word.split('_').count() >= 4
            && word
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
        if is_test_name {
            names.push((offset, word));
        }
        offset += word.len() + 1;
    }
    names
}

#[test]
fn the_invariants_name_tests_that_exist_in_the_tree() {
    let tree = tree();
    let architecture = tree
        .iter()
        .find(|file| file.path == "ARCHITECTURE.md")
        .expect("ARCHITECTURE.md");
    let named = invariant_test_names(
        &architecture.text[architecture.text.find("\n## Invariants").unwrap()..],
    );
    assert!(named.len() > 20, "the rule reads the section: {named:?}");
    assert_tidy(
        "every invariant names a test that exists",
        the_invariants_name_tests_that_exist(&tree),
    );
}

#[test]
fn the_invariants_name_tests_that_exist_fails_on_a_renamed_test() {
    let files = copy(&[
        (
            "ARCHITECTURE.md",
            "# Map\n\n## Invariants\n\n- **Values never leak:** `no_value_leaks_anywhere`.\n- **Names:** `names_are_checked_at_compile_time`.\n\n## After\n\n`not_an_invariant_test_name`\n",
        ),
        (
            "tests/tests/leak.rs",
            "#[test]\nfn no_value_leaks_into_outputs() {}\n#[test]\nfn names_are_checked_at_compile_time() {}\n",
        ),
    ]);
    let violations = the_invariants_name_tests_that_exist(&files);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].line, 5);
    assert!(violations[0].message.contains("`no_value_leaks_anywhere`"));
}

// ---------------------------------------------------------------------------------------
// Every ignored test says why; the slow tier is where `.ci/run` reaches it.
// ---------------------------------------------------------------------------------------

/// The command `.ci/run` runs the slow tier with (`tests/tests/main.rs`).
const SLOW_TIER: &str = "cargo test -p secret-tests --test suite ::slow:: -- --ignored";

/// In the integration tests: every `#[ignore]` gives its reason; a test ignored as slow
/// sits in its file's `mod slow` (so that `::slow::` selects it) and every test there is
/// ignored as slow; and `.ci/run` runs the tier when it has a test.
fn ignored_tests_say_why(files: &[SourceFile]) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut slow_tests = 0;
    for file in files {
        if !file.path.starts_with("tests/tests/")
            || !file.path.ends_with(".rs")
            || is_tidy(&file.path)
        {
            continue;
        }
        let lines: Vec<&str> = file.text.lines().collect();
        let slow_module = lines.iter().position(|line| line.trim() == "mod slow {");
        let mut at = |line: usize, message: &str| {
            violations.push(Violation {
                path: file.path.clone(),
                line: line + 1,
                message: message.to_owned(),
            });
        };
        for (index, line) in lines.iter().enumerate() {
            let line = line.trim();
            if line.starts_with("#[ignore") {
                if !line.starts_with("#[ignore = \"") {
                    at(
                        index,
                        "an ignored test says why: `#[ignore = \"needs ...\"]` or `#[ignore = \"slow: ...\"]`",
                    );
                } else if line.starts_with("#[ignore = \"slow:")
                    && slow_module.is_none_or(|module| index < module)
                {
                    at(
                        index,
                        "a slow test goes in the file's `mod slow { use super::*; ... }` at its end, where `::slow::` selects it",
                    );
                }
            }
            if line == "#[test]" && slow_module.is_some_and(|module| index > module) {
                slow_tests += 1;
                let attributes = lines[index..]
                    .iter()
                    .take_while(|line| !line.trim_start().starts_with("fn "));
                if !attributes
                    .clone()
                    .any(|line| line.trim().starts_with("#[ignore = \"slow:"))
                {
                    at(
                        index,
                        "a test in `mod slow` is `#[ignore = \"slow: ...\"]`, so that a plain `cargo test` leaves it to the slow tier",
                    );
                }
            }
        }
    }
    let ci = files.iter().find(|file| file.path == ".ci/run");
    if slow_tests > 0 && !ci.is_some_and(|ci| ci.text.contains(SLOW_TIER)) {
        violations.push(Violation {
            path: ".ci/run".to_owned(),
            line: 1,
            message: format!("the slow tier has tests but CI does not run them: add `{SLOW_TIER}`"),
        });
    }
    violations
}

#[test]
fn ignored_tests_say_why_in_the_tree() {
    assert_tidy("ignored tests say why", ignored_tests_say_why(&tree()));
}

#[test]
fn ignored_tests_say_why_fails_on_a_bare_ignore_a_stray_slow_test_and_no_ci_line() {
    let files = copy(&[
        (".ci/run", "cargo test --workspace\n"),
        (
            "tests/tests/store.rs",
            "#[test]\n#[ignore]\nfn bare() {}\n\n#[test]\n#[ignore = \"slow: big\"]\nfn stray() {}\n\nmod slow {\n    use super::*;\n\n    #[test]\n    #[cfg(unix)]\n    fn not_ignored() {}\n\n    #[test]\n    #[ignore = \"slow: big\"]\n    fn fine() {}\n}\n",
        ),
        (
            "tests/tests/vault.rs",
            "#[test]\n#[ignore = \"needs a server\"]\nfn fine() {}\n",
        ),
    ]);
    let found: Vec<String> = ignored_tests_say_why(&files)
        .iter()
        .map(|violation| format!("{}:{}", violation.path, violation.line))
        .collect();
    assert_eq!(
        found,
        [
            "tests/tests/store.rs:2",
            "tests/tests/store.rs:6",
            "tests/tests/store.rs:12",
            ".ci/run:1"
        ]
    );
}
