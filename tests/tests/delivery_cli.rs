//! `secret run` and `secret export` on a file store: what the child process sees and its
//! exit status, no value written to disk during a run, signals forwarded, and each export
//! format read back by what consumes it (a dotenv parser, JSON, a Kubernetes manifest,
//! `$GITHUB_ENV`, the `$SECRETS_DIR` source).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store_support::{Ws, ok};
use secret_core::secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

/// Values a naive quoting breaks.
const HOSTILE: [(&str, &str); 9] = [
    ("Newline", "line one\nline two\n"),
    ("Quotes", "it's \"quoted\" 'twice'"),
    ("Dollar", "$HOME ${PATH} $(id) `id`"),
    ("Backslash", "C:\\path\\n\\\\end\\"),
    ("Hash", "value # not a comment #"),
    ("Spaces", "  padded  "),
    ("Unicode", "pässwörd ✓ 日本"),
    ("Mixed", "a'b\"c$d\\e\nf#g"),
    ("Plain", "plain-value_123"),
];

/// A workspace with one key as recipient of every type, `staging` declared, and every
/// hostile value set for production.
fn workspace() -> Ws {
    let mut ws = Ws::new();
    let key = ws.key("me");
    let r = &key.public;
    ws.config(
        "staging = \"development\"",
        &format!("production = [\"{r}\"]\ndevelopment = [\"{r}\"]\nlocal = [\"{r}\"]"),
    );
    ws.use_key(&key);
    for (name, value) in HOSTILE {
        ok(&ws.secret(
            &[
                "set",
                "--type",
                "prod",
                "--from-file",
                &file_with(&ws, value),
                name,
            ],
            "",
        ));
    }
    ws
}

/// Writes `value` to a file in the home folder (outside the workspace), for `--from-file`,
/// which reads values as is (stdin would lose one trailing newline).
fn file_with(ws: &Ws, value: &str) -> String {
    let path = ws.home.path().join(format!("value-{}", sha(value)));
    std::fs::write(&path, value).unwrap();
    path.display().to_string()
}

fn sha(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}

/// The files directly in `dir`, each with its size and modification time.
fn temp_files(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let metadata = entry
                .metadata()
                .ok()
                .filter(|metadata| metadata.is_file())?;
            Some((entry.path(), (metadata.len(), metadata.modified().ok()?)))
        })
        .collect()
}

#[test]
fn run_passes_every_value_and_returns_the_exit_status() {
    let ws = workspace();
    let temp_dir = std::env::temp_dir();
    let temp_before = temp_files(&temp_dir);
    let before = (snapshot(ws.root()), snapshot(ws.home.path()));
    // The child checks each value by its hash: no value on any command line.
    let mut script = String::from("set -e\n");
    for (name, value) in HOSTILE {
        script.push_str(&format!(
            "[ \"$(printf %s \"$SECRET_{name}\" | sha256sum | cut -d' ' -f1)\" = {} ] || {{ echo \"wrong {name}\" >&2; exit 3; }}\n",
            sha(value)
        ));
    }
    script.push_str("[ \"$SECRETS_ENV\" = production ] || exit 4\nexit 7\n");
    let out = ws.secret(&["run", "--env", "prod", "--", "sh", "-c", &script], "");
    assert_eq!(out.code, 7, "the child's status comes back: {}", out.all());
    assert_eq!(out.all(), "", "run itself prints nothing");
    let after = (snapshot(ws.root()), snapshot(ws.home.path()));
    assert_eq!(before.0, after.0, "run wrote nothing in the workspace");
    assert_eq!(before.1, after.1, "run wrote nothing in the home folder");
    // The files of the temporary folder that are new or changed since the run started
    // (other tests write there too; files older than the run cannot hold its values).
    for (path, stamp) in temp_files(&temp_dir) {
        if temp_before.get(&path) == Some(&stamp) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("pässwörd ✓ 日本"),
            "{} holds a value",
            path.display()
        );
    }

    ok(&ws.secret(&["run", "--env", "prod", "--", "true"], ""));
    // A signal's death is 128 + the signal, as shells report it.
    let out = ws.secret(
        &["run", "--env", "prod", "--", "sh", "-c", "kill -KILL $$"],
        "",
    );
    assert_eq!(out.code, 128 + 9, "{}", out.all());
    let out = ws.secret(&["run", "--env", "prod", "--", "no-such-command-xyz"], "");
    assert_eq!(out.code, 127, "{}", out.all());
    assert!(
        out.stderr.contains("cannot run `no-such-command-xyz`"),
        "{}",
        out.stderr
    );
    // `--` is required: nothing after the flags is taken as a command by accident.
    let out = ws.secret(&["run", "--env", "prod", "true"], "");
    assert_eq!(out.code, 2, "{}", out.all());
}

#[test]
fn run_forwards_sigterm_to_the_child() {
    let ws = workspace();
    // The child sends SIGTERM to its parent (this process running `secret run`), which
    // must survive it and pass it on: the child's trap then exits 42.
    // It runs as its own process (the CLI executable): in this test process the signal
    // would also reach the children of tests running in parallel.
    let script = "trap 'exit 42' TERM; kill -TERM $PPID; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 1";
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_secret-cli"))
        .args(["secret", "run", "--env", "prod", "--workspace"])
        .arg(ws.root())
        .args(["--", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // As under `cargo xtask`: `run` asks cargo which secrets the workspace declares.
        .env("CARGO", env!("CARGO"))
        .envs(&ws.vars)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(42), "{stderr}");
}

#[test]
fn run_for_local_applies_the_override_files() {
    let mut ws = Ws::new();
    let key = ws.key("me");
    ws.config("", &format!("local = [\"{}\"]", key.public));
    ws.use_key(&key);
    ok(&ws.secret(&["set", "--type", "local", "A"], "stored\n"));
    ok(&ws.secret(&["set", "--type", "local", "B"], "stored\n"));
    ws.write(".secrets.local.toml", "A = \"from-override\"\n");
    let script = format!(
        "[ \"$(printf %s \"$SECRET_A\" | sha256sum | cut -d' ' -f1)\" = {} ] && [ \"$(printf %s \"$SECRET_B\" | sha256sum | cut -d' ' -f1)\" = {} ]",
        sha("from-override"),
        sha("stored")
    );
    let out = ws.secret(&["run", "--env", "local", "--", "sh", "-c", &script], "");
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn export_dotenv_reads_back_with_a_dotenv_parser() {
    let ws = workspace();
    // No quoting carries these through every dotenv reader (tests/export_dotenv.rs).
    let refused = ["Backslash", "Dollar", "Mixed", "Quotes"];
    let out = ws.secret(&["export", "--env", "prod", "--format", "dotenv"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("cannot write `Backslash`, `Dollar`, `Mixed`, `Quotes` in dotenv form"),
        "{}",
        out.stderr
    );
    for name in refused {
        ok(&ws.secret(&["unset", "--type", "prod", name], ""));
    }
    let out = ws.secret(&["export", "--env", "prod", "--format", "dotenv"], "");
    ok(&out);
    let parsed: BTreeMap<String, String> = dotenvy::from_read_iter(out.stdout.as_bytes())
        .map(|item| item.unwrap())
        .collect();
    for (name, value) in HOSTILE
        .into_iter()
        .filter(|(name, _)| !refused.contains(name))
    {
        assert_eq!(
            parsed[&format!("SECRET_{name}")],
            value,
            "{name} in:\n{}",
            out.stdout
        );
    }
    assert_eq!(parsed.len(), HOSTILE.len() - refused.len());

    // Not to a terminal by accident.
    let out = ws.run(
        &["export", "--env", "prod", "--format", "dotenv"],
        "",
        false,
        true,
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("refusing to print secret values to a terminal"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    let out = ws.run(
        &["export", "--env", "prod", "--format", "json", "--show"],
        "",
        false,
        true,
    );
    ok(&out);
}

#[test]
fn export_json_k8s_and_output_file() {
    let ws = workspace();
    let out = ws.secret(&["export", "--env", "prod", "--format", "json"], "");
    ok(&out);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    for (name, value) in HOSTILE {
        assert_eq!(json[name], value);
    }

    let out = ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--format",
            "k8s",
            "--name",
            "my-app",
            "--namespace",
            "apps",
        ],
        "",
    );
    ok(&out);
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(manifest["apiVersion"], "v1");
    assert_eq!(manifest["kind"], "Secret");
    assert_eq!(manifest["type"], "Opaque");
    assert_eq!(manifest["metadata"]["name"], "my-app");
    assert_eq!(manifest["metadata"]["namespace"], "apps");
    for (name, value) in HOSTILE {
        let encoded = manifest["data"][name].as_str().unwrap();
        assert_eq!(decode_base64(encoded), value.as_bytes(), "{name}");
    }
    let out = ws.secret(&["export", "--env", "prod", "--format", "k8s"], "");
    let manifest: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let name = manifest["metadata"]["name"].as_str().unwrap();
    assert!(name.ends_with("-production"), "{name}");
    assert!(
        name.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
        "{name}"
    );

    let out = ws.run(
        &[
            "export", "--env", "prod", "--format", "json", "--output", "out.json",
        ],
        "",
        false,
        true,
    );
    ok(&out);
    let path = ws.root().join("out.json");
    assert_eq!(mode(&path), 0o600);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["Unicode"], "pässwörd ✓ 日本");
}

#[test]
fn export_dir_is_what_the_secrets_dir_source_reads() {
    let ws = workspace();
    let dir = ws.home.path().join("mounted/secrets");
    let out = ws.secret(
        &[
            "export",
            "--env",
            "prod",
            "--format",
            &format!("dir:{}", dir.display()),
        ],
        "",
    );
    ok(&out);
    assert_eq!(mode(&dir), 0o700);
    let vars: BTreeMap<String, std::ffi::OsString> = [
        ("SECRETS_DIR".to_owned(), dir.clone().into_os_string()),
        ("SECRETS_ENV".to_owned(), "prod".into()),
        (
            "SECRETS_WORKSPACE".to_owned(),
            ws.home.path().as_os_str().to_owned(),
        ),
    ]
    .into();
    let resolver = secret_runtime::Resolver::from_vars(
        Arc::new(move |name| vars.get(name).cloned()),
        None,
        None,
    )
    .unwrap();
    for (name, value) in HOSTILE {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        let resolved = resolver.resolve(name).unwrap();
        assert_eq!(resolved.expose_secret(), value, "{name}");
    }
}

#[test]
fn export_github_masks_and_appends_to_github_env() {
    let mut ws = workspace();
    let env_file = ws.home.path().join("github_env");
    std::fs::write(&env_file, "EARLIER=1\n").unwrap();
    ws.vars
        .insert("GITHUB_ENV".to_owned(), env_file.clone().into_os_string());
    let out = ws.secret(&["export", "--env", "prod", "--format", "github"], "");
    ok(&out);
    for line in [
        "::add-mask::line one",
        "::add-mask::line two",
        "::add-mask::plain-value_123",
        "::add-mask::  padded  ",
    ] {
        assert!(
            out.stdout.lines().any(|l| l == line),
            "{line} in:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .lines()
            .all(|line| line.starts_with("::add-mask::")),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert!(text.starts_with("EARLIER=1\n"), "appended: {text}");
    let parsed = parse_github_env(&text);
    for (name, value) in HOSTILE {
        assert_eq!(parsed[&format!("SECRET_{name}")], value, "{name}");
    }
    let delimiter_line = text
        .lines()
        .find(|line| line.starts_with("SECRET_Newline<<"))
        .unwrap();
    assert!(
        delimiter_line.len() > "SECRET_Newline<<ghadelimiter_".len() + 16,
        "{delimiter_line}"
    );

    ws.vars.remove("GITHUB_ENV");
    let out = ws.secret(&["export", "--env", "prod", "--format", "github"], "");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("GITHUB_ENV is not set"),
        "{}",
        out.stderr
    );
}

/// Reads `$GITHUB_ENV` as the runner does: `NAME=value`, or `NAME<<DELIM` ... `DELIM`.
fn parse_github_env(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value: Vec<&str> = Vec::new();
            for line in lines.by_ref() {
                if line == delimiter {
                    break;
                }
                value.push(line);
            }
            out.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_owned(), value.to_owned());
        }
    }
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn decode_base64(text: &str) -> Vec<u8> {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let index = TABLE.iter().position(|b| *b == byte).unwrap() as u32;
        bits = (bits << 6) | index;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}
