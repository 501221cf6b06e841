//! `check-secrets --leaks`: stored values found in tracked files or the build output are
//! errors naming the file and the secret, never the value; short values are skipped with a
//! note; without an identity the check cannot run.

use crate::safety_support;

use std::process::Command;

use crate::safety_support::{Rng, Ws};

fn git(ws: &Ws, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(ws.root())
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn standard_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn leaked_values_are_errors_naming_file_and_secret_never_the_value() {
    let mut rng = Rng::from_env("check_leaks");
    let ws = Ws::new();
    let token = format!("tok-{}", rng.alnum(24));
    let password = format!("pw/\u{3ff}+{}", rng.alnum(20));
    let kept = format!("kept-{}", rng.alnum(24));
    ws.set("prod", "ApiToken", &token);
    ws.set("dev,local", "DbPassword", &password);
    ws.set("pr", "NeverLeaked", &kept);
    ws.set("local", "Short", "abc");
    git(&ws, &["init", "-q"]);

    // Clean: no leak, exit 0, and the short value is named in a note.
    let clean = ws.run(&["check-secrets", "--leaks"], b"");
    let stderr = String::from_utf8_lossy(&clean.stderr);
    assert_eq!(clean.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("not searched for, shorter than 6 bytes") && stderr.contains("Short"),
        "{stderr}"
    );

    // A tracked file with the token, a committed config with the password base64-encoded,
    // and a build artifact with the token; an untracked file is not looked at.
    ws_write(
        &ws,
        "src/config.rs",
        &format!("const T: &str = \"{token}\";\n"),
    );
    ws_write(
        &ws,
        "deploy/values.yaml",
        &format!("password: {}\n", standard_base64(password.as_bytes())),
    );
    ws_write(&ws, "notes.txt", &format!("{kept}\n"));
    git(&ws, &["add", "src/config.rs", "deploy/values.yaml"]);
    ws_write(&ws, "target/debug/app", &format!("\0\0ELF{token}\0"));

    for format in ["human", "json", "sarif", "github"] {
        let out = ws.run(&["check-secrets", "--leaks", "--format", format], b"");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}:\n{stdout}\n{stderr}");
        for (file, secret) in [
            ("src/config.rs", "ApiToken"),
            ("deploy/values.yaml", "DbPassword"),
            ("target/debug/app", "ApiToken"),
        ] {
            assert!(
                stdout.lines().any(|line| line
                    .contains(&format!("the value of secret `{secret}`"))
                    && line.contains(&format!("appears in plain text in {file}"))
                    || line.contains(&format!("appears base64-encoded in {file}"))),
                "{format}: no leak of {secret} in {file}:\n{stdout}"
            );
        }
        assert!(
            !stdout.contains("the value of secret `NeverLeaked`"),
            "an untracked file is not searched:\n{stdout}"
        );
        for value in [&token, &password, &kept] {
            assert!(!stdout.contains(value.as_str()) && !stderr.contains(value.as_str()));
        }
        if format == "human" {
            assert!(stdout.contains("error[leaked-secret]"), "{stdout}");
            assert!(
                stdout.contains("base64-encoded in deploy/values.yaml"),
                "{stdout}"
            );
        }
    }

    // No identity: the check cannot run, and says why.
    let out = ws
        .command(&["check-secrets", "--leaks"])
        .env_remove("SECRETS_IDENTITY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--leaks needs an identity"), "{stderr}");
}

fn ws_write(ws: &Ws, path: &str, text: &str) {
    let path = ws.root().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_value_with_a_trailing_newline_or_crlf_line_ends_is_still_found() {
    let mut rng = Rng::from_env("check_leaks_forms");
    let ws = Ws::new();
    // Set from a file that ends with a newline (stored as is), and a multi-line value.
    let token = format!("tok-{}", rng.alnum(24));
    let pem = format!("-----BEGIN KEY-----\n{}\n-----END KEY-----", rng.alnum(40));
    ws_write(&ws, "token.txt", &format!("{token}\n"));
    ws_write(&ws, "key.pem", &pem);
    for (name, file) in [("ApiToken", "token.txt"), ("TlsKey", "key.pem")] {
        let path = ws.root().join(file);
        let out = ws.run(
            &[
                "secret",
                "set",
                "--type",
                "prod",
                "--from-file",
                path.to_str().unwrap(),
                name,
            ],
            b"",
        );
        safety_support::assert_success(&out);
    }
    git(&ws, &["init", "-q"]);
    // The token without its newline, and the key with Windows line ends.
    ws_write(
        &ws,
        "src/config.rs",
        &format!("const T: &str = \"{token}\";\n"),
    );
    ws_write(&ws, "deploy/key.pem", &pem.replace('\n', "\r\n"));
    git(&ws, &["add", "src/config.rs", "deploy/key.pem"]);

    let out = ws.run(&["check-secrets", "--leaks"], b"");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for (secret, file) in [("ApiToken", "src/config.rs"), ("TlsKey", "deploy/key.pem")] {
        assert!(
            stdout.contains(&format!(
                "the value of secret `{secret}` (type:production) appears in plain text in {file}"
            )),
            "no leak of {secret} in {file}:\n{stdout}"
        );
    }
    assert!(!stdout.contains(&token));
}
