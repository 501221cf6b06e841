//! Every code block of the README and `docs/` that a user copies is checked, so a snippet
//! that no longer works fails the suite: TOML is parsed, Rust is compiled (all blocks in one
//! scratch workspace), shell goes through `sh -n`, JSON and YAML are parsed, Dockerfiles
//! are parsed by Docker's own BuildKit parser (the PyPI package `dockerfile`, installed by
//! `scripts/snippet-tools.sh`), and the `.dockerignore` keeps the build output and every
//! local override file out of the image. The dependency lines of every Markdown file are
//! the same and name the repository of this project's manifest.
//!
//! A block that is a fragment (a statement of a function shown above, a transcript) is
//! skipped only with a reason, written on the line before it as
//! `<!-- not checked: REASON -->`; blocks of program output are `text`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};

/// One fenced code block.
#[derive(Debug, Clone)]
struct Block {
    /// The Markdown file, relative to the repository.
    file: String,
    /// The line of the opening fence.
    line: usize,
    lang: String,
    /// The block's text, without the fence's indentation.
    text: String,
    /// The reason given for not checking it.
    skip: Option<String>,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The Markdown files whose blocks users copy: the README and `docs/`.
fn documents() -> Vec<PathBuf> {
    let repo = repo();
    let mut files = vec![repo.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn blocks_of(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.strip_prefix(repo()).unwrap().display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            index += 1;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let lang = info.split([',', ' ']).next().unwrap_or_default().to_owned();
        let skip = lines[..index]
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .and_then(|before| {
                before
                    .trim()
                    .strip_prefix("<!-- not checked: ")?
                    .strip_suffix("-->")
                    .map(|reason| reason.trim().to_owned())
            });
        let start = index;
        let mut body = String::new();
        index += 1;
        while index < lines.len() && lines[index].trim_start() != "```" {
            let line = lines[index];
            let cut = line
                .char_indices()
                .take_while(|(at, ch)| *at < indent && *ch == ' ')
                .count();
            body.push_str(&line[cut..]);
            body.push('\n');
            index += 1;
        }
        index += 1;
        blocks.push(Block {
            file: file.clone(),
            line: start + 1,
            lang,
            text: body,
            skip,
        });
    }
    blocks
}

fn blocks() -> Vec<Block> {
    documents()
        .iter()
        .flat_map(|path| blocks_of(path))
        .collect()
}

/// The checked blocks of `lang`.
fn checked(lang: &str) -> Vec<Block> {
    blocks()
        .into_iter()
        .filter(|block| block.lang == lang && block.skip.is_none())
        .collect()
}

/// The languages the suite checks, and `text` (program output, never copied).
const LANGUAGES: [&str; 8] = [
    "rust",
    "toml",
    "sh",
    "dockerfile",
    "yaml",
    "json",
    "gitignore",
    "text",
];

#[test]
fn every_block_is_checked_or_says_why_not() {
    let mut unknown = Vec::new();
    for block in blocks() {
        match &block.skip {
            Some(reason) => assert!(
                reason.split_whitespace().count() >= 3,
                "{}: say why the block is not checked in a few words, not `{reason}`",
                block.at()
            ),
            None if !LANGUAGES.contains(&block.lang.as_str()) => unknown.push(format!(
                "{}: a ```{} block: use a checked language ({}), or add `<!-- not checked: REASON -->` on the line before it",
                block.at(),
                block.lang,
                LANGUAGES.join(", ")
            )),
            None => {}
        }
    }
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
}

#[test]
fn toml_blocks_parse() {
    let blocks = checked("toml");
    assert!(blocks.len() >= 5, "{blocks:?}");
    for block in blocks {
        if let Err(error) = toml_span::parse(&block.text) {
            panic!("{}: {error}\n{}", block.at(), block.text);
        }
    }
}

#[test]
fn json_blocks_parse() {
    for block in checked("json") {
        if let Err(error) = serde_json::from_str::<serde_json::Value>(&block.text) {
            panic!("{}: {error}\n{}", block.at(), block.text);
        }
    }
}

#[test]
fn shell_blocks_pass_sh_n() {
    let blocks = checked("sh");
    assert!(blocks.len() >= 5, "{blocks:?}");
    for block in blocks {
        let mut child = Command::new("sh")
            .arg("-n")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(block.text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}: sh -n: {}\n{}",
            block.at(),
            String::from_utf8_lossy(&out.stderr),
            block.text
        );
    }
}

/// The cache of `scripts/snippet-tools.sh`: `SNIPPET_TOOLS`, else its default path, when the
/// tools are there; `None` (a skip, or a failure with `CI=true`) otherwise.
fn tools() -> Option<PathBuf> {
    let cache = std::env::var_os("SNIPPET_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            let base = std::env::var_os("SECRETS_TOOLKIT_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .map(|home| PathBuf::from(home).join(".cache/secrets-toolkit"))
                })?;
            Some(base.join("snippet-tools"))
        })?;
    let found = Command::new("python3")
        .args(["-c", "import dockerfile, yaml"])
        .env("PYTHONPATH", cache.join("python"))
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return Some(cache);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the Dockerfile and YAML parsers are missing: run scripts/snippet-tools.sh"
    );
    // Straight to stderr, past the test harness's capture: a skip must show.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: Dockerfile and YAML blocks need `scripts/snippet-tools.sh` (PyPI dockerfile, pyyaml)"
    );
    None
}

/// Runs `script` with the tools' Python packages, `input` on stdin; its JSON output.
fn python(cache: &Path, script: &str, input: &str) -> Result<serde_json::Value, String> {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .env("PYTHONPATH", cache.join("python"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn yaml_blocks_parse() {
    let Some(cache) = tools() else { return };
    let blocks = checked("yaml");
    assert!(!blocks.is_empty());
    for block in blocks {
        let parsed = python(
            &cache,
            "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin.read()) is not None, sys.stdout)",
            &block.text,
        );
        assert_eq!(parsed, Ok(serde_json::json!(true)), "{}", block.at());
    }
}

const PARSE_DOCKERFILE: &str = "import sys, json, dockerfile
print(json.dumps([
    {'cmd': c.cmd, 'sub_cmd': c.sub_cmd, 'json': c.json, 'original': c.original,
     'flags': list(c.flags), 'value': list(c.value)}
    for c in dockerfile.parse_string(sys.stdin.read())
]))";

/// `CMD`, `ENTRYPOINT` and `HEALTHCHECK CMD` in exec form: the text after the instruction
/// is exactly a JSON array of strings (a comment after it makes Docker run it through a
/// shell, as `/bin/sh -c '["billing"] # ...'`, which exits 127).
fn assert_exec_form(block: &Block, command: &serde_json::Value) {
    let cmd = command["cmd"].as_str().unwrap().to_ascii_uppercase();
    let original = command["original"].as_str().unwrap();
    let rest = match cmd.as_str() {
        "CMD" | "ENTRYPOINT" => original[cmd.len()..].trim(),
        "HEALTHCHECK"
            if command["sub_cmd"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("cmd")) =>
        {
            let at = original.to_ascii_uppercase().find(" CMD ").unwrap();
            original[at + 5..].trim()
        }
        _ => return,
    };
    assert_eq!(
        command["json"],
        serde_json::json!(true),
        "{}: `{original}` is not in exec form",
        block.at()
    );
    let array: Result<Vec<String>, _> = serde_json::from_str(rest);
    assert!(
        array.is_ok(),
        "{}: `{original}`: the exec form is exactly a JSON array of strings, with nothing after it",
        block.at()
    );
}

#[test]
fn dockerfiles_parse_in_exec_form_and_share_the_cache() {
    let Some(cache) = tools() else { return };
    let blocks = checked("dockerfile");
    assert!(blocks.len() >= 2, "{blocks:?}");
    for block in &blocks {
        let commands = python(&cache, PARSE_DOCKERFILE, &block.text)
            .unwrap_or_else(|error| panic!("{}: {error}", block.at()));
        let commands = commands.as_array().unwrap();
        assert!(!commands.is_empty(), "{}", block.at());
        for command in commands {
            assert_exec_form(block, command);
            // Everything copied into the image comes from the build context.
            let flags: Vec<&str> = command["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|flag| flag.as_str().unwrap())
                .collect();
            if command["cmd"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("copy")
                && !flags.iter().any(|flag| flag.starts_with("--from"))
            {
                let values = command["value"].as_array().unwrap();
                for source in &values[..values.len() - 1] {
                    let source = source.as_str().unwrap();
                    assert!(
                        !source.starts_with("..") && !source.starts_with('/'),
                        "{}: `COPY {source}` is outside the build context",
                        block.at()
                    );
                }
            }
        }
        // A full Dockerfile: the check and the build run cargo with the same caches.
        let cargo_runs: Vec<Vec<&str>> = commands
            .iter()
            .filter(|command| {
                command["cmd"].as_str().unwrap().eq_ignore_ascii_case("run")
                    && command["value"][0].as_str().unwrap().contains("cargo ")
            })
            .map(|command| {
                let mut mounts: Vec<&str> = command["flags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|flag| flag.as_str().unwrap())
                    .filter(|flag| flag.starts_with("--mount=type=cache"))
                    .collect();
                mounts.sort_unstable();
                mounts
            })
            .collect();
        if cargo_runs.is_empty() {
            continue;
        }
        let text = &block.text;
        assert!(
            text.contains("cargo xtask check-secrets") && text.contains("cargo build --release"),
            "{}: the check and the release build",
            block.at()
        );
        assert!(
            cargo_runs.iter().all(|mounts| *mounts == cargo_runs[0])
                && cargo_runs[0]
                    .iter()
                    .any(|mount| mount.contains("target=/src/target")),
            "{}: every cargo step mounts the same caches, target/ included: {cargo_runs:?}",
            block.at()
        );
    }
}

#[test]
fn the_readme_and_delivery_dockerfiles_are_the_same() {
    let full = |file: &str| -> String {
        blocks_of(&repo().join(file))
            .into_iter()
            .find(|block| block.lang == "dockerfile" && block.text.contains("FROM "))
            .unwrap_or_else(|| panic!("{file} has a Dockerfile"))
            .text
    };
    assert_eq!(full("README.md"), full("docs/delivery.md"));
    let ignore = |file: &str| -> String {
        blocks_of(&repo().join(file))
            .into_iter()
            .find(|block| block.lang == "gitignore")
            .unwrap_or_else(|| panic!("{file} has a .dockerignore"))
            .text
    };
    assert_eq!(ignore("README.md"), ignore("docs/delivery.md"));
}

/// Whether a `.dockerignore` line leaves `path` (relative to the build context) out: a
/// name at the root, or at any depth with `**/`, and everything under it.
fn ignores(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim().trim_end_matches('/');
    let (any_depth, pattern) = match pattern.strip_prefix("**/") {
        Some(rest) => (true, rest),
        None => (false, pattern.trim_start_matches('/')),
    };
    let parts: Vec<&str> = path.split('/').collect();
    (0..parts.len())
        .filter(|&start| any_depth || start == 0)
        .any(|start| parts[start] == pattern)
}

#[test]
fn the_dockerignore_keeps_build_output_and_local_overrides_out() {
    let blocks: Vec<Block> = checked("gitignore")
        .into_iter()
        .filter(|block| block.text.contains(".dockerignore"))
        .collect();
    assert!(!blocks.is_empty());
    for block in blocks {
        let patterns: Vec<&str> = block
            .text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        let mut must = vec![
            "target/release/billing".to_owned(),
            "billing/target/debug/billing".to_owned(),
        ];
        // Every local override file (the list the check uses).
        must.extend(
            secret_build::check::OVERRIDE_FILES
                .iter()
                .map(|file| (*file).to_owned()),
        );
        for path in must {
            assert!(
                patterns.iter().any(|pattern| ignores(pattern, &path)),
                "{}: the .dockerignore does not leave out {path}",
                block.at()
            );
        }
        for kept in ["secrets.toml", "secrets.enc.toml", "billing/src/main.rs"] {
            assert!(
                !patterns.iter().any(|pattern| ignores(pattern, kept)),
                "{}: the build needs {kept}",
                block.at()
            );
        }
    }
}

/// The dependency line of every Markdown file: a git dependency on the repository of this
/// project's manifest, with the `version` cargo uses once the crates are published; the same
/// prefix everywhere (features may follow).
#[test]
fn dependency_lines_are_one_and_name_the_manifest_repository() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let value = |key: &str| -> String {
        let line = manifest
            .lines()
            .find(|line| line.starts_with(&format!("{key} = \"")))
            .unwrap_or_else(|| panic!("Cargo.toml has no `{key}`"));
        line.split('"').nth(1).unwrap().to_owned()
    };
    let repository = value("repository");
    assert!(
        repository.starts_with("https://") && !repository.contains("example.invalid"),
        "the manifest's repository is a placeholder: {repository}"
    );
    let version = value("version");
    let minor: Vec<&str> = version.split('.').take(2).collect();
    let expected = format!(
        "{{ git = \"{repository}\", version = \"{}\"",
        minor.join(".")
    );
    let mut markdown = documents();
    for entry in std::fs::read_dir(repo()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && path.join("README.md").is_file() {
            markdown.push(path.join("README.md"));
        }
    }
    markdown.push(repo().join("ARCHITECTURE.md"));
    let mut found = 0;
    let mut wrong = Vec::new();
    for path in markdown {
        let text = std::fs::read_to_string(&path).unwrap();
        for (index, line) in text.lines().enumerate() {
            for krate in [
                "secret-runtime",
                "secret-build",
                "secret-core",
                "secret-macros",
                "secret-syntax",
                "secret-age",
            ] {
                let Some(at) = line.find(&format!("{krate} = {{")) else {
                    continue;
                };
                let rest = &line[at + krate.len() + 3..];
                // `secrets = { package = "secret-runtime", ... }`: a shorthand in prose.
                if rest.contains("...") {
                    continue;
                }
                found += 1;
                if !rest.starts_with(&expected) {
                    wrong.push(format!(
                        "{}:{}: `{}` should start `{krate} = {expected}`",
                        path.strip_prefix(repo()).unwrap().display(),
                        index + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(found >= 4, "only {found} dependency lines found");
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    /// Every Rust block, each a module of one library in a scratch workspace that depends on
    /// this repository's crates, built with the suite's target directory (so only the
    /// snippets are compiled).
    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn rust_blocks_compile() {
        let blocks = checked("rust");
        assert!(blocks.len() >= 5, "{blocks:?}");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = repo();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"doc-snippets\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {:?} }}\nsecret-build = {{ path = {:?} }}\n\n[workspace]\n{FIXTURE_PROFILE}{}",
            repo.join("secret-runtime"),
            repo.join("secret-build"),
            shared_deps(),
        ),
    )
    .unwrap();
        std::fs::copy(repo.join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
        let mut lib = String::new();
        let mut origin = BTreeMap::new();
        for (index, block) in blocks.iter().enumerate() {
            let module = format!("snippet_{index}");
            lib.push_str(&format!("mod {module};\n"));
            std::fs::write(
                root.join(format!("src/{module}.rs")),
                format!(
                    "//! {}\n#![allow(dead_code, unused_imports, unused_variables)]\n{}",
                    block.at(),
                    block.text
                ),
            )
            .unwrap();
            origin.insert(format!("src/{module}.rs"), block.at());
        }
        std::fs::write(root.join("src/lib.rs"), lib).unwrap();
        let out = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--offline"])
            .current_dir(root)
            .env("CARGO_TARGET_DIR", target_dir())
            .env("SECRETS_BUILD_CHECK", "off")
            .env_remove("RUSTFLAGS")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        for (file, at) in &origin {
            stderr = stderr.replace(file, &format!("{file} ({at})"));
        }
        assert!(
            out.status.success(),
            "the Rust blocks do not compile:\n{stderr}"
        );
    }
}
