//! `hardcoded-secret`: credentials written into the source, found by `check-secrets` for
//! each rule family and quiet on look-alikes; never printed by any output format; allowed
//! by a comment or by `[hardcoded] allow`; and `secret adopt` moving them into the store,
//! leaving source that compiles and reads the value from the store.

use crate::store_support;

use std::process::Command;

use crate::store_support::{Ws, ok};
use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};

// Made-up credentials of each provider's shape. Each is split in two, so that no scanner
// reading this file takes it for a leak; the fixtures get them whole.
const GITHUB: &str = concat!("gh", "p_PESr9smeeq0Ivqx10zlp6pF0eU6OKPfN1BXA");
const GITHUB_PAT: &str = concat!(
    "github_",
    "pat_VdQCwa20PEqiN8vNPoT0Hj_gzWt6VY7cXRHfkDTjqIdl9PaCXjw4KKAetC30DwaxkYqlEw4HdHpknWVFJf"
);
const GITLAB: &str = concat!("glp", "at-vvWdzvOhtqYJSSftDDsG");
const SLACK: &str = concat!("xo", "xb-1904378810-9053491086670-l592wVaNmoym1Vv1y04ewcle");
const STRIPE: &str = concat!("sk_", "live_2fsoi8DM0EgoMx2rbQFktIDn");
const AWS: &str = concat!("AK", "IA3TNJVDOH6FP3UTCI");
const GOOGLE: &str = concat!("AI", "zanZlVAvcx4g4gCJzm4UQAYyubSEzPW8RiFjg");
const NPM: &str = concat!("np", "m_SYOid1MFIfCgQVitQK2F7SvTH9Iy1vN6eFwx");
const PYPI: &str = concat!(
    "pypi-",
    "AgEIcHlwaS5vcmc9M-yCECSnNLvZ-I1Hdxo7fh5EHmotFM3HJfwh6pkFRtocDdG_Ra2kcVKmpwt"
);
const SENDGRID: &str = concat!(
    "SG",
    ".wcK-fVp_tQ7RJzQHy06ri3.3YXR33uipr3ysK-XQwIQlmj_v1dbbxG-cN9p_0YXPPF"
);
const TWILIO: &str = concat!("S", "K080e0d5c17d18644f60fef62c56f879e");
const PEM_BODY: &str = "1g+W4AmMJsgooU609ZC0sNi7H3/ee/a+kGxvJ/5/W2m6F8c1BfWPlHK+UF1mTABW";
const JWT: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    ".kQ2m7xL4pR8tV1nB6cZ3yHw9sD5fG0jA"
);
const DB_URL: &str = concat!("postgres://app:", "S3cr3tPa55w0rd@db.internal:5432/app");
const RANDOM: &str = "keEdoZdVvFYddC69jhFBcXhp";
const RANDOM_LONG: &str = "Qm9xR2k7Tz4pLw8vNc3sYh6jDf1aGb5u";

/// A workspace with one member `app` whose `src/main.rs` is `main_rs`.
fn workspace(main_rs: &str) -> Ws {
    let ws = Ws::new();
    ws.with_app(main_rs);
    ws
}

/// `(line, rule)` of each credential the scanner finds in the workspace.
fn found(ws: &Ws) -> Vec<(String, usize, &'static str)> {
    let report = secret_build::scan::scan_workspace_with(
        ws.root(),
        secret_build::scan::ScanOptions::with_hardcoded(),
    )
    .unwrap();
    report
        .hardcoded
        .iter()
        .map(|found| {
            (
                found.path.to_string_lossy().into_owned(),
                found.line,
                found.rule.as_str(),
            )
        })
        .collect()
}

#[test]
fn every_rule_family_finds_its_sample_with_the_line_and_rule() {
    let ws = workspace(&format!(
        r#"const GH: &str = "{GITHUB}";
const GH_FINE: &str = "{GITHUB_PAT}";
static GITLAB: &str = "{GITLAB}";
fn slack() -> String {{ format!("Bearer {{}}", "{SLACK}") }}
const STRIPE: &str = "{STRIPE}";
const AWS_ID: &str = "{AWS}";
const MAPS: &str = "{GOOGLE}";
const NPM: &str = r"{NPM}";
const PYPI: &str = "{PYPI}";
const MAIL: &str = "{SENDGRID}";
const TWILIO: &str = "{TWILIO}";
const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n";
const SESSION: &str = "{JWT}";
fn db() -> String {{ format!("{{}}?sslmode=require", "{DB_URL}") }}
struct Config {{ api_key: &'static str }}
const CONFIG: Config = Config {{ api_key: "{RANDOM}" }};
const STRIPE_WEBHOOK_SECRET: &str = "{RANDOM_LONG}";
fn headers(map: &mut Vec<(&str, &str)>) {{ map.push(("x-auth-token", "{RANDOM_LONG}")); }}
fn main() {{
    let password = String::from("{RANDOM}");
    let _ = (password, slack(), db());
}}
"#
    ));
    let rules: Vec<(usize, &str)> = found(&ws)
        .into_iter()
        .map(|(path, line, rule)| {
            assert_eq!(path, "app/src/main.rs");
            (line, rule)
        })
        .collect();
    assert_eq!(
        rules,
        [
            (1, "github-token"),
            (2, "github-token"),
            (3, "gitlab-token"),
            (4, "slack-token"),
            (5, "stripe-key"),
            (6, "aws-access-key"),
            (7, "google-api-key"),
            (8, "npm-token"),
            (9, "pypi-token"),
            (10, "sendgrid-key"),
            (11, "twilio-key"),
            (12, "private-key"),
            (13, "jwt"),
            (14, "url-password"),
            (16, "named-secret"),
            (17, "named-secret"),
            (18, "named-secret"),
            (20, "named-secret"),
        ]
    );
}

#[test]
fn look_alikes_placeholders_hashes_and_tests_are_quiet() {
    let ws = workspace(&format!(
        r#"const PLACEHOLDER: &str = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
const AWS_DOCS: &str = "AKIAIOSFODNN7EXAMPLE";
const GITHUB_TOKEN: &str = "<your-github-token>";
const API_KEY: &str = "your-api-key-here";
const PASSWORD: &str = "changeme";
const SESSION_TOKEN_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const CLIENT_SECRET: &str = "123e4567-e89b-12d3-a456-426614174000";
const GITHUB_TOKEN_ENV: &str = "GITHUB_TOKEN";
const BUILD_ID: &str = "{RANDOM}";
const LOCAL_DB: &str = "postgres://postgres:postgres@localhost:5432/app";
const TEMPLATE_DB: &str = "postgres://app:${{DB_PASSWORD}}@db:5432/app";
const SHORT_PASSWORD: &str = "hunter2";
const AUTH_TOKEN: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const EXAMPLE_TOKEN: &str = "{GITHUB}";
const HEADER: &str = "-----BEGIN PRIVATE KEY-----";
/// ghp_ in a comment: "{GITHUB}"
fn main() {{}}
#[test]
fn parses_a_token() {{ let token = "{GITHUB}"; }}
#[cfg(test)]
mod tests {{
    const TOKEN: &str = "{STRIPE}";
    fn helper() -> &'static str {{ "{GITLAB}" }}
}}
"#
    ));
    std::fs::create_dir_all(ws.root().join("app/tests")).unwrap();
    ws.write(
        "app/tests/client.rs",
        &format!("const TOKEN: &str = \"{GITHUB}\";\n#[test]\nfn t() {{}}\n"),
    );
    assert_eq!(found(&ws), []);
    // Test code is looked at when asked.
    let out = ws.check(&["--format", "json", "--hardcoded-in-tests"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let places: Vec<(String, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "hardcoded-secret")
        .map(|d| {
            (
                d["location"]["file"].as_str().unwrap().to_owned(),
                d["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("app/src/main.rs".to_owned(), 19),
            ("app/src/main.rs".to_owned(), 22),
            ("app/src/main.rs".to_owned(), 23),
            ("app/tests/client.rs".to_owned(), 1),
        ]
    );
}

#[test]
fn a_comment_or_the_workspace_allow_list_silences_a_finding() {
    let ws = workspace(&format!(
        "mod fixtures;\nconst A: &str = \"{GITHUB}\"; // secret: allow-hardcoded\n\
         // secret: allow-hardcoded (a public demo key)\nconst B: &str = \"{GITLAB}\";\n\
         const C: &str = \"{NPM}\";\nfn main() {{}}\n"
    ));
    ws.write(
        "app/src/fixtures.rs",
        &format!("pub const S: &str = \"{STRIPE}\";\n"),
    );
    // The scanner honours the comment; the allow list is the check's.
    assert_eq!(
        found(&ws),
        [
            ("app/src/fixtures.rs".to_owned(), 1, "stripe-key"),
            ("app/src/main.rs".to_owned(), 5, "npm-token"),
        ]
    );
    ws.write(
        "secrets.toml",
        "[hardcoded]\nallow = [\"app/src/fixture*.rs\"]\n",
    );
    let out = ws.check(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let places: Vec<(String, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "hardcoded-secret")
        .map(|d| {
            (
                d["location"]["file"].as_str().unwrap().to_owned(),
                d["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(places, [("app/src/main.rs".to_owned(), 5)]);
    // A mistyped key is an error naming the line, as anywhere in secrets.toml.
    ws.write("secrets.toml", "[hardcoded]\nalow = [\"x\"]\n");
    let out = ws.check(&[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secrets.toml:2"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `allow`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_output_format_prints_the_value_and_severity_follows_the_flags() {
    let ws = workspace(&format!(
        "const GH: &str = \"{GITHUB}\";\nfn main() {{ let url = format!(\"{{}}\", \"{DB_URL}\"); }}\n"
    ));
    for format in ["human", "json", "sarif", "github"] {
        let out = ws.check(&["--format", format]);
        assert_eq!(out.code, 0, "{format}: {}", out.all());
        for value in [GITHUB, DB_URL, &GITHUB[4..], "S3cr3tPa55w0rd"] {
            assert!(
                !out.all().contains(value),
                "{format} shows a value:\n{}",
                out.all()
            );
        }
        assert!(
            out.stdout.contains("hardcoded-secret"),
            "{format}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("`ghp_…`"), "{format}: {}", out.stdout);
        assert!(
            out.stdout.contains("`postgres://…`"),
            "{format}: {}",
            out.stdout
        );
        assert!(
            out.stdout
                .contains("adopt app/src/main.rs:1 --name Gh --type production"),
            "{format}: {}",
            out.stdout
        );
    }
    // The human output shows the source line with the literal replaced.
    let human = ws.check(&[]);
    assert!(
        human.stdout.contains("1 | const GH: &str = \"ghp_…\";"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains(
            "warning[hardcoded-secret]: a GitHub token is written into the source: `ghp_…`"
        ),
        "{}",
        human.stdout
    );
    // An error with the flag, or with `deny = true` in secrets.toml.
    let denied = ws.check(&["--deny-hardcoded"]);
    assert_eq!(denied.code, 1, "{}", denied.all());
    assert!(
        denied.stdout.contains("error[hardcoded-secret]"),
        "{}",
        denied.stdout
    );
    ws.write("secrets.toml", "[hardcoded]\ndeny = true\n");
    assert_eq!(ws.check(&[]).code, 1);
}

/// Another diagnostic on a line holding a credential shows that line too: the credential
/// is hidden there as well.
#[test]
fn a_credential_on_another_findings_line_is_hidden_too() {
    let ws = workspace(&format!(
        "fn main() {{ let _ = (secret!(\"Token\"), \"{GITHUB}\"); }}\n"
    ));
    let out = ws.check(&["--env", "prod"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stdout.contains("error[missing-secret]"),
        "{}",
        out.stdout
    );
    assert!(!out.all().contains(&GITHUB[4..]), "{}", out.all());
    assert!(
        out.stdout
            .contains("1 | fn main() { let _ = (secret!(\"Token\"), \"ghp_…\"); }"),
        "{}",
        out.stdout
    );
}

const SERVICE: &str = r#"use std::error::Error;

/// The deploy token
pub static DEPLOY_TOKEN: &'static str = "{GITLAB}";
const STRIPE_KEY: &str = "{STRIPE}";

struct Client {
    api_key: &'static str,
}

fn connect() -> Result<String, Box<dyn Error>> {
    let client = Client { api_key: "{RANDOM}" };
    let url = format!("{}|{}", "{DB_URL}", client.api_key);
    Ok(format!("{url}|{}|{}", DEPLOY_TOKEN, STRIPE_KEY))
}

fn main() {
    println!("{}", connect().unwrap());
}
"#;

/// Where `?` cannot stand, adopt says what to change, and neither the file nor the store
/// changes.
#[test]
fn adopt_changes_nothing_where_the_types_do_not_allow_it() {
    let mut ws = workspace(&format!(
        "const TOKEN: &str = \"{GITHUB}\";\nfn main() {{\n    println!(\"{{}}\", TOKEN);\n}}\n"
    ));
    let key = ws.key("me");
    ws.use_key(&key);
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", key.public),
    );
    let before = std::fs::read_to_string(ws.root().join("app/src/main.rs")).unwrap();
    let out = ws.secret(
        &[
            "adopt",
            "app/src/main.rs:1",
            "--name",
            "Token",
            "--type",
            "production",
        ],
        "",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(
            "app/src/main.rs:3: `TOKEN` is used where `TOKEN.expose()?` cannot stand: `fn main` returns nothing"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("help: make that function return a `Result`"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(&GITHUB[4..]), "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(ws.root().join("app/src/main.rs")).unwrap(),
        before
    );
    assert!(!ws.store_path().exists());
    // A literal evaluated at compile time cannot be read at run time either.
    ws.write(
        "app/src/main.rs",
        &format!("struct C {{ key: &'static str }}\nconst C1: C = C {{ key: \"{GITHUB}\" }};\nfn main() {{}}\n"),
    );
    let out = ws.secret(
        &[
            "adopt",
            "app/src/main.rs:2",
            "--name",
            "Token",
            "--type",
            "production",
        ],
        "",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("evaluated at compile time"),
        "{}",
        out.stderr
    );
    // Nor can it stand inside a format string.
    ws.write(
        "app/src/main.rs",
        &format!(
            "const TOKEN: &str = \"{GITHUB}\";\nfn run() -> Result<String, Box<dyn std::error::Error>> {{\n    Ok(format!(\"Bearer {{TOKEN}}\"))\n}}\nfn main() {{}}\n"
        ),
    );
    let out = ws.secret(
        &[
            "adopt",
            "app/src/main.rs:1",
            "--name",
            "Token",
            "--type",
            "production",
        ],
        "",
    );
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("app/src/main.rs:3: `TOKEN` is used inside a format string"),
        "{}",
        out.stderr
    );
    assert!(!ws.store_path().exists());
}

/// `init --hook` installs a pre-commit hook: a staged credential stops the commit, with
/// the place and the fix and without the value; the allow comment or a clean file lets
/// it through; test code is not looked at.
#[test]
fn the_pre_commit_hook_stops_a_commit_with_a_staged_credential() {
    let mut ws = workspace("fn main() {}\n");
    store_support::git_ok(ws.root(), &["init", "-q"]);
    ws.vars.insert(
        "SECRETS_GIT_COMMAND".to_owned(),
        format!("{} secret", env!("CARGO_BIN_EXE_secret-cli")).into(),
    );
    let init = ws.secret(&["init", "--hook"], "");
    ok(&init);
    assert!(
        init.stdout.contains("installed a pre-commit hook"),
        "{}",
        init.stdout
    );
    let commit = |message: &str| {
        let out = store_support::git(ws.root(), &["commit", "-q", "-m", message]);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    store_support::git_ok(ws.root(), &["add", "-A"]);
    let (committed, output) = commit("base");
    assert!(committed, "{output}");

    ws.write(
        "app/src/main.rs",
        &format!("const T: &str = \"{GITLAB}\";\nfn main() {{}}\n"),
    );
    std::fs::create_dir_all(ws.root().join("app/tests")).unwrap();
    ws.write(
        "app/tests/vectors.rs",
        &format!("const V: &str = \"{STRIPE}\";\n"),
    );
    store_support::git_ok(ws.root(), &["add", "-A"]);
    let (committed, output) = commit("a token");
    assert!(!committed, "{output}");
    assert!(
        output.contains(
            "error[hardcoded-secret]: a GitLab token is written into the source: `glpat-…`"
        ),
        "{output}"
    );
    assert!(output.contains(" --> app/src/main.rs:1:17"), "{output}");
    assert!(
        output.contains("adopt app/src/main.rs:1 --name T --type production"),
        "{output}"
    );
    assert!(output.contains("1 problem in the staged files"), "{output}");
    assert!(!output.contains(&GITLAB[6..]), "{output}");
    assert!(!output.contains("vectors.rs"), "{output}");

    // The staged version counts: allowing it in the working tree only is not enough.
    ws.write(
        "app/src/main.rs",
        &format!("const T: &str = \"{GITLAB}\"; // secret: allow-hardcoded\nfn main() {{}}\n"),
    );
    let (committed, _) = commit("still the token");
    assert!(!committed);
    store_support::git_ok(ws.root(), &["add", "-A"]);
    let (committed, output) = commit("an allowed token");
    assert!(committed, "{output}");
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    /// `adopt` on a `static`, a `const`, a struct field and a `format!` argument: the values
    /// go to the store, the source compiles and prints them read from the store, and the
    /// check finds nothing more.
    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn adopt_moves_each_kind_of_literal_into_the_store_and_the_result_runs() {
        let mut ws = workspace("fn main() {}\n");
        let key = ws.key("me");
        ws.use_key(&key);
        ws.write(
            "secrets.toml",
            &format!("[recipients]\nproduction = [\"{}\"]\n", key.public),
        );
        let text = SERVICE
            .replace("{GITLAB}", GITLAB)
            .replace("{STRIPE}", STRIPE)
            .replace("{RANDOM}", RANDOM)
            .replace("{DB_URL}", DB_URL);
        ws.write("app/src/main.rs", &text);
        ws.write(
            "Cargo.toml",
            &format!("[workspace]\nresolver = \"3\"\nmembers = [\"app\"]\n{FIXTURE_PROFILE}"),
        );
        ws.write(
            "app/Cargo.toml",
            &format!(
                "[package]\nname = \"adopted\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nsecret-runtime = {{ path = {:?} }}\n{}",
                repo().join("secret-runtime"),
                shared_deps(),
            ),
        );
        let flagged: Vec<usize> = found(&ws).iter().map(|(_, line, _)| *line).collect();
        assert_eq!(flagged, [4, 5, 12, 13]);

        let adopt = |place: &str, name: &str| {
            let out = ws.secret(
                &["adopt", place, "--name", name, "--type", "production"],
                "",
            );
            ok(&out);
            assert!(
                out.stdout.contains("still in git history"),
                "{}",
                out.stdout
            );
            out
        };
        let out = adopt("app/src/main.rs:4", "DeployToken");
        assert!(
            out.stdout
                .contains("app/src/main.rs:14: `DEPLOY_TOKEN` is now `DEPLOY_TOKEN.expose()?`"),
            "{}",
            out.stdout
        );
        adopt("app/src/main.rs:5", "StripeKey");
        // Each static goes before the function, so the lines below move down by two.
        adopt("app/src/main.rs:12", "ClientApiKey");
        adopt("app/src/main.rs:15", "DatabaseUrl");
        let source = std::fs::read_to_string(ws.root().join("app/src/main.rs")).unwrap();
        for value in [GITLAB, STRIPE, RANDOM, DB_URL] {
            assert!(!source.contains(value), "{source}");
        }
        for line in [
            "pub static DEPLOY_TOKEN: secret_runtime::Secret = secret_runtime::secret!(\"DeployToken\");",
            "static STRIPE_KEY: secret_runtime::Secret = secret_runtime::secret!(\"StripeKey\");",
            "static CLIENT_API_KEY: secret_runtime::Secret = secret_runtime::secret!(\"ClientApiKey\");",
            "    let client = Client { api_key: CLIENT_API_KEY.expose()? };",
            "    let url = format!(\"{}|{}\", DATABASE_URL.expose()?, client.api_key);",
            "    Ok(format!(\"{url}|{}|{}\", DEPLOY_TOKEN.expose()?, STRIPE_KEY.expose()?))",
        ] {
            assert!(source.contains(line), "{line}\nnot in:\n{source}");
        }
        assert_eq!(found(&ws), []);

        // It builds, and at run time each value comes from the store.
        let cargo = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO"));
            command
                .args(args)
                .current_dir(ws.root())
                .env("CARGO_TARGET_DIR", target_dir())
                .env("NO_COLOR", "1")
                .env("HTTPS_PROXY", "http://127.0.0.1:9")
                .env("HTTP_PROXY", "http://127.0.0.1:9")
                .env("CARGO_NET_RETRY", "0")
                .env_remove("RUSTFLAGS")
                .env_remove("SECRETS_ENV")
                .env_remove("SECRETS_BUILD_CHECK")
                .env_remove("SECRETS_WORKSPACE")
                .env_remove("SECRETS_IDENTITY_KEY")
                .env_remove("SECRETS_DIR")
                .env("SECRETS_IDENTITY", &key.file);
            command
        };
        std::fs::copy(repo().join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();
        let build = cargo(&["build", "--quiet", "--offline", "-p", "adopted"])
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{}",
            String::from_utf8_lossy(&build.stderr)
        );
        let run = Command::new(target_dir().join("debug/adopted"))
            .current_dir(ws.root())
            .env("SECRETS_ENV", "production")
            .env("SECRETS_WORKSPACE", ws.root())
            .env("SECRETS_IDENTITY", &key.file)
            .env_remove("SECRETS_IDENTITY_KEY")
            .env_remove("SECRETS_DIR")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            format!("{DB_URL}|{RANDOM}|{GITLAB}|{STRIPE}\n")
        );
    }
}
