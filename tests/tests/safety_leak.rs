//! The leak test: random values (new each run, with bytes that make base64 use `+`, `/`
//! and padding) are set for every type and a named environment; then every command runs —
//! `init`, `set` (stdin and `--from-file`), a refused `set`, `list`, `unset`, `rekey`,
//! `check-secrets` in each format and with `--leaks`, `run`, `export` — a fixture crate
//! declaring the secrets is built with `SECRETS_ENV` set to `production` and `staging`
//! (compile errors: one secret has no value) and `local` (a warning), and its binary is run
//! with one secret missing, directly and through `secret run`. Then the workspace, every captured output and the fixture's build
//! output (its binaries, rlibs, dep-info, fingerprints, incremental caches) are searched
//! for each value in plain text and base64 (standard and URL-safe, padded or not, at any
//! alignment): there must be no hit outside the explicit exports (`export`'s stdout, its
//! `dir:` folder and `$GITHUB_ENV` file), which are checked to hold the values, so the
//! search is known to work.
//!
//! The fixture is built in this repository's target directory (`CARGO_TARGET_DIR`, as
//! `check_user_workspace.rs` does) so it reuses the compiled dependencies: a target
//! directory of its own would cost a full dependency build (1-2 minutes). The search then
//! covers the fixture's own artifacts — every file under the target directory whose path
//! names the fixture package — not the whole shared directory (gigabytes, written by
//! other tests too).

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::safety_support::{Rng, Ws, assert_success};
use secret_build::check::leaks::base64_forms;

const FIXTURE: &str = "leakfixture";

const SECRETS: [&str; 4] = ["LeakToken", "LeakPassword", "LeakPrivateKey", "LeakUrl"];

/// The source of the fixture binary: declares the secrets (and one never set), checks them
/// all at start-up and prints only lengths.
const MAIN_RS: &str = r#"//! Leak fixture.
use secret_runtime::{Secret, secret};

/// API token
static TOKEN: Secret = secret!("LeakToken");
/// Database password
static PASSWORD: Secret = secret!("LeakPassword");
/// A private key
static KEY: Secret = secret!("LeakPrivateKey");
/// A URL with credentials
static URL: Secret = secret!("LeakUrl");
/// Never set anywhere
static MISSING: Secret = secret!("LeakMissing");

fn main() -> std::process::ExitCode {
    for handle in [&TOKEN, &PASSWORD, &KEY, &URL, &MISSING] {
        match handle.expose() {
            Ok(value) => println!("{handle:?} {handle} has {} bytes", value.len()),
            Err(error) => eprintln!("error: {error}"),
        }
    }
    if let Err(missing) = secret_runtime::check_all() {
        eprintln!("error: {missing}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
"#;

/// A random value: an alphanumeric run, then characters whose UTF-8 bytes make base64 use
/// `+` and `/`, quotes, backslashes, `$`, `=`, `#`, spaces, non-ASCII; length not a
/// multiple of 3 half of the time (padding).
fn random_value(rng: &mut Rng) -> String {
    const AWKWARD: &[&str] = &[
        "\u{3ff}", "\u{fbf}", "ÿ", "þ", "\u{7fb}", "?", ">", "\"", "'", "\\", "$HOME", "=", "#",
        " ", "é", "日本", "😀", "\t",
    ];
    let len = 12 + rng.below(20) as usize;
    let mut value = rng.alnum(len);
    for _ in 0..4 + rng.below(6) {
        value.push_str(AWKWARD[rng.below(AWKWARD.len() as u64) as usize]);
        let len = rng.below(4) as usize;
        value.push_str(&rng.alnum(len));
    }
    value
}

/// Every captured output, by what produced it.
#[derive(Default)]
struct Captured {
    outputs: Vec<(String, Vec<u8>)>,
    explicit: Vec<(String, Vec<u8>)>,
}

impl Captured {
    fn keep(&mut self, what: &str, output: &Output) {
        self.outputs
            .push((format!("{what} (stdout)"), output.stdout.clone()));
        self.outputs
            .push((format!("{what} (stderr)"), output.stderr.clone()));
    }
}

fn cargo(ws: &Ws, env: &str) -> Output {
    Command::new(env!("CARGO"))
        .args(["build", "--package", FIXTURE])
        .current_dir(ws.root())
        .env("CARGO_TARGET_DIR", target_dir())
        .env("SECRETS_ENV", env)
        .env("SECRETS_IDENTITY", &ws.identity)
        .env_remove("RUSTFLAGS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Every regular file under `dir`, not following symbolic links.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn no_value_leaks_into_outputs_files_or_build_artifacts() {
        let mut rng = Rng::from_env("leak");
        let ws = Ws::new();
        let repo = repo();
        std::fs::write(
            ws.root().join("Cargo.toml"),
            format!("[workspace]\nresolver = \"3\"\nmembers = [\"{FIXTURE}\"]\n{FIXTURE_PROFILE}"),
        )
        .unwrap();
        std::fs::create_dir_all(ws.root().join(FIXTURE).join("src")).unwrap();
        std::fs::write(
        ws.root().join(FIXTURE).join("Cargo.toml"),
        format!(
            "[package]\nname = \"{FIXTURE}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\nsecret-runtime = {{ path = {:?} }}\n{}",
            repo.join("secret-runtime"),
            shared_deps(),
        ),
    )
    .unwrap();
        std::fs::write(ws.root().join(FIXTURE).join("src/main.rs"), MAIN_RS).unwrap();
        std::fs::copy(repo.join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();
        let outside = tempfile::tempdir().unwrap();

        let mut captured = Captured::default();
        let init = ws.run(&["secret", "init"], b"");
        assert_success(&init);
        captured.keep("init", &init);

        // A value per secret and type, and one for the named environment `staging`.
        let mut values: BTreeMap<(String, String), String> = BTreeMap::new();
        for name in SECRETS {
            for scope in ["prod", "dev", "pr", "local"] {
                let value = random_value(&mut rng);
                let out = if rng.below(2) == 0 {
                    ws.run(&["secret", "set", "--type", scope, name], value.as_bytes())
                } else {
                    let file = outside.path().join("value.txt");
                    std::fs::write(&file, &value).unwrap();
                    let out = ws.run(
                        &["secret", "set", "--type", scope, "--from-file"]
                            .into_iter()
                            .chain([file.to_str().unwrap(), name])
                            .collect::<Vec<_>>(),
                        b"",
                    );
                    std::fs::remove_file(&file).unwrap();
                    out
                };
                assert_success(&out);
                captured.keep("set", &out);
                values.insert((name.to_owned(), scope.to_owned()), value);
            }
            let value = random_value(&mut rng);
            let out = ws.run(
                &["secret", "set", "--env", "staging", name],
                value.as_bytes(),
            );
            assert_success(&out);
            captured.keep("set --env staging", &out);
            values.insert((name.to_owned(), "staging".to_owned()), value);
        }
        // A refused set (the type already has a value): the error must not echo the new value.
        let refused = random_value(&mut rng);
        let out = ws.run(
            &["secret", "set", "--type", "prod,dev", "LeakToken"],
            refused.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        captured.keep("refused set", &out);
        values.insert(("LeakToken".to_owned(), "refused".to_owned()), refused);

        // An extra value, then unset, then rekey.
        let dropped = random_value(&mut rng);
        assert_success(&ws.run(
            &["secret", "set", "--type", "prod", "Dropped"],
            dropped.as_bytes(),
        ));
        values.insert(("Dropped".to_owned(), "prod".to_owned()), dropped);
        for args in [
            &["secret", "unset", "--type", "prod", "Dropped"][..],
            &["secret", "rekey", "--all", "--yes"],
            &["secret", "list"],
            &["secret", "list", "--format", "json"],
            &["check-secrets", "--env", "all"],
            &["check-secrets", "--env", "prod", "--format", "json"],
            &["check-secrets", "--env", "prod", "--format", "sarif"],
            &["check-secrets", "--env", "all", "--format", "github"],
            &["check-secrets", "--env", "prod", "--leaks"],
            // `LeakMissing` has no value on purpose: deliver the others anyway (the warning
            // naming it is searched too).
            &[
                "secret",
                "run",
                "--env",
                "prod",
                "--allow-missing",
                "--",
                "sh",
                "-c",
                "test -n \"$SECRET_LeakToken\"",
            ],
            &[
                "secret",
                "run",
                "--env",
                "staging",
                "--allow-missing",
                "--",
                "sh",
                "-c",
                "exit 3",
            ],
        ] {
            let out = ws.run(args, b"");
            captured.keep(&args.join(" "), &out);
            let code = out.status.code();
            match args[..2] {
                ["check-secrets", _] => assert!(code == Some(1), "{args:?}: {out:?}"),
                _ if args.contains(&"exit 3") => assert_eq!(code, Some(3), "{args:?}"),
                _ => assert_success(&out),
            }
            if args.contains(&"--leaks") {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(!stdout.contains("leaked-secret"), "{stdout}");
            }
        }

        // Explicit exports: their output holds values by design; kept apart and checked to
        // hold them, which proves the search finds what it looks for.
        let github_env = outside.path().join("github_env");
        std::fs::write(&github_env, "").unwrap();
        for format in ["dotenv", "json", "k8s", "github"] {
            let out = ws
                .command(&[
                    "secret",
                    "export",
                    "--env",
                    "prod",
                    "--allow-missing",
                    "--format",
                    format,
                ])
                .env("GITHUB_ENV", &github_env)
                .output()
                .unwrap();
            // The dotenv form refuses values no quoting carries through every dotenv reader
            // (quotes, `\`, `$` together): its error, naming them, is searched like the rest.
            let refused = format == "dotenv"
                && out.status.code() == Some(2)
                && String::from_utf8_lossy(&out.stderr).contains("in dotenv form");
            if !refused {
                assert_success(&out);
            }
            captured
                .outputs
                .push((format!("export {format} (stderr)"), out.stderr.clone()));
            captured
                .explicit
                .push((format!("export {format} (stdout)"), out.stdout.clone()));
        }
        let dir = outside.path().join("exported");
        let out = ws.run(
            &[
                "secret",
                "export",
                "--env",
                "prod",
                "--allow-missing",
                "--format",
                &format!("dir:{}", dir.display()),
            ],
            b"",
        );
        assert_success(&out);
        captured.keep("export dir:", &out);
        captured.explicit.push((
            "$GITHUB_ENV".to_owned(),
            std::fs::read(&github_env).unwrap(),
        ));
        for name in SECRETS {
            captured.explicit.push((
                format!("dir:/{name}"),
                std::fs::read(dir.join(name)).unwrap(),
            ));
        }

        // Build the fixture: an error for production (LeakMissing has no
        // value) and for staging (a development environment), a warning locally; run it with
        // the missing secret.
        for env in ["production", "staging"] {
            let build = cargo(&ws, env);
            captured.keep(&format!("cargo build ({env})"), &build);
            let stderr = String::from_utf8_lossy(&build.stderr);
            assert!(!build.status.success(), "{stderr}");
            assert!(stderr.contains("LeakMissing"), "{stderr}");
        }
        let build = cargo(&ws, "local");
        captured.keep("cargo build (local)", &build);
        assert_success(&build);
        let binary = target_dir().join("debug").join(FIXTURE);
        for env in ["production", "staging", "local"] {
            let out = Command::new(&binary)
                .current_dir(ws.root())
                .env_clear()
                .env("HOME", ws.home.path())
                .env("SECRETS_IDENTITY", &ws.identity)
                .env("SECRETS_ENV", env)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{env}: {stderr}");
            assert!(stderr.contains("LeakMissing"), "{stderr}");
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("Secret(\"LeakToken\", set)"),
                "{out:?}"
            );
            captured.keep(&format!("fixture ({env})"), &out);
        }
        // Through `secret run`: values reach the program as SECRET_<Name> variables.
        let out = ws.run(
            &[
                "secret",
                "run",
                "--env",
                "prod",
                "--allow-missing",
                "--",
                binary.to_str().unwrap(),
            ],
            b"",
        );
        captured.keep("secret run fixture", &out);

        // The search: one Aho-Corasick automaton over every pattern: each value as is,
        // JSON-escaped, `Debug`-escaped, and base64-encoded.
        let mut patterns: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
        for ((name, scope), value) in &values {
            let key = format!("{name} ({scope})");
            let json = serde_json::to_string(value).unwrap();
            let debug = format!("{value:?}");
            let mut forms = vec![
                ("plain", value.as_bytes().to_vec()),
                ("json", json.as_bytes()[1..json.len() - 1].to_vec()),
                ("debug", debug.as_bytes()[1..debug.len() - 1].to_vec()),
            ];
            for form in base64_forms(value.as_bytes()) {
                forms.push(("base64", form.to_vec()));
            }
            for (how, form) in forms {
                patterns.push((key.clone(), how, form));
            }
        }
        let automaton =
            aho_corasick::AhoCorasick::new(patterns.iter().map(|(_, _, form)| form)).unwrap();
        let mut hits = std::collections::BTreeSet::new();
        let mut search = |place: &str, bytes: &[u8]| {
            for hit in automaton.find_overlapping_iter(bytes) {
                let (key, how, _) = &patterns[hit.pattern().as_usize()];
                hits.insert(format!("{key}, {how}, in {place}"));
            }
        };
        for (what, bytes) in &captured.outputs {
            search(what, bytes);
        }
        let mut files = files_under(ws.root());
        files.extend(files_under(ws.home.path()));
        let target = target_dir();
        let fixture_files: Vec<PathBuf> = files_under(&target.join("debug"))
            .into_iter()
            .filter(|path| {
                path.strip_prefix(&target)
                    .unwrap()
                    .to_string_lossy()
                    .contains(FIXTURE)
            })
            .collect();
        assert!(
            fixture_files.iter().any(|path| path.ends_with(FIXTURE)),
            "the fixture binary is searched"
        );
        files.extend(fixture_files);
        for file in &files {
            search(&file.display().to_string(), &std::fs::read(file).unwrap());
        }
        assert!(
            hits.is_empty(),
            "values found:\n{}",
            hits.into_iter().collect::<Vec<_>>().join("\n")
        );

        // The explicit exports do hold the production values: the search works.
        let exported_json: BTreeMap<String, String> = serde_json::from_slice(
            &captured
                .explicit
                .iter()
                .find(|(what, _)| what == "export json (stdout)")
                .unwrap()
                .1,
        )
        .unwrap();
        for name in SECRETS {
            let value = &values[&(name.to_owned(), "prod".to_owned())];
            assert_eq!(&exported_json[name], value);
            let forms: Vec<Vec<u8>> = std::iter::once(value.as_bytes().to_vec())
                .chain(
                    base64_forms(value.as_bytes())
                        .iter()
                        .map(|form| form.to_vec()),
                )
                .collect();
            for (what, bytes) in &captured.explicit {
                let holds_plain = what == "$GITHUB_ENV" || what == &format!("dir:/{name}");
                if !(holds_plain || what.starts_with("export k8s")) {
                    continue;
                }
                assert!(
                    forms
                        .iter()
                        .any(|form| bytes.windows(form.len()).any(|window| window == &form[..])),
                    "{name}'s production value is not in {what}"
                );
            }
        }
        eprintln!(
            "leak: {} values, {} patterns, {} outputs and {} files searched",
            values.len(),
            patterns.len(),
            captured.outputs.len(),
            files.len()
        );
    }
}
