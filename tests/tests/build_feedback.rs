//! Build-time feedback in a real user workspace built with cargo: the `secret!` macro's
//! warning (local) and error (cloud environments) at the call site, rebuild tracking after
//! `secret set`/`unset` and a change of `SECRETS_ENV` with no `cargo clean`, the opt-out,
//! silence without `secrets.toml`, the build-script helper, and silence for an `optional`
//! secret.
//!
//! The workspace shares this repository's target directory and `Cargo.lock`, so the
//! dependencies compiled for the test suite are reused.

use secret_tests::{FIXTURE_PROFILE, repo, shared_deps, target_dir};
use std::process::Output;

use crate::store_support::{Ws, ok};

const APP_MAIN: &str = r#"use secret_runtime::{Secret, secret};

/// Token for the GitHub API
static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");

fn main() {
    let signing_key = secret!("WebhookSigningKey");
    // Optional: never a warning or an error, whatever the environment.
    let dsn = secret!("SentryDSN", optional);
    println!("{GITHUB_TOKEN:?} {signing_key:?} {dsn:?}");
}
"#;

/// A user workspace: `app` declares two secrets; `scripted` declares one and runs the
/// build-script helper.
fn workspace() -> Ws {
    let ws = Ws::new();
    let repo = repo();
    let runtime = repo.join("secret-runtime");
    let build = repo.join("secret-build");
    ws.write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [\"app\", \"scripted\"]\n{FIXTURE_PROFILE}"
        ),
    );
    for dir in ["app/src", "scripted/src"] {
        std::fs::create_dir_all(ws.root().join(dir)).unwrap();
    }
    ws.write(
        "app/Cargo.toml",
        &format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {runtime:?} }}\n{}", shared_deps()),
    );
    ws.write("app/src/main.rs", APP_MAIN);
    ws.write(
        "scripted/Cargo.toml",
        &format!(
            "[package]\nname = \"scripted\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nsecret-runtime = {{ path = {runtime:?} }}\n\n[build-dependencies]\nsecret-build = {{ path = {build:?}, default-features = false, features = [\"build-helper\"] }}\n{}",
            shared_deps(),
        ),
    );
    ws.write(
        "scripted/build.rs",
        "fn main() {\n    secret_build::build::check();\n}\n",
    );
    ws.write(
        "scripted/src/main.rs",
        "static DB: secret_runtime::Secret = secret_runtime::secret!(\"DatabaseURL\");\nstatic DSN: secret_runtime::Secret = secret_runtime::secret!(\"SentryDSN\", optional);\n\nfn main() {\n    println!(\"{DB:?} {DSN:?}\");\n}\n",
    );
    std::fs::copy(repo.join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();
    ws
}

/// `cargo <args>` in the workspace, with `SECRETS_ENV` and `SECRETS_BUILD_CHECK` as given.
fn cargo(ws: &Ws, args: &[&str], env: Option<&str>, mode: Option<&str>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .current_dir(ws.root())
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("SECRETS_ENV")
        .env_remove("SECRETS_BUILD_CHECK")
        .env("NO_COLOR", "1");
    if let Some(env) = env {
        command.env("SECRETS_ENV", env);
    }
    if let Some(mode) = mode {
        command.env("SECRETS_BUILD_CHECK", mode);
    }
    command.output().unwrap()
}

/// A diagnostic from `cargo build --message-format=json`: level, message, primary line and
/// column.
#[derive(Debug, PartialEq, Eq)]
struct Message {
    level: String,
    text: String,
    line: u64,
    column: u64,
}

/// `cargo build -p app --message-format=json` (what `cargo check` and an editor show, the
/// macro expanding the same way): its exit status and the diagnostics of `app`
/// that mention a secret.
fn build_app(ws: &Ws, env: Option<&str>, mode: Option<&str>) -> (bool, Vec<Message>) {
    let output = cargo(
        ws,
        &["build", "-p", "app", "--message-format=json"],
        env,
        mode,
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut messages = Vec::new();
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if value["reason"] != "compiler-message"
            || !value["package_id"].as_str().unwrap_or("").contains("app")
        {
            continue;
        }
        let message = &value["message"];
        let text = message["message"].as_str().unwrap().to_owned();
        if !text.contains("secret") {
            continue;
        }
        let span = message["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|span| span["is_primary"] == true)
            .unwrap();
        messages.push(Message {
            level: message["level"].as_str().unwrap().to_owned(),
            text,
            line: span["line_start"].as_u64().unwrap(),
            column: span["column_start"].as_u64().unwrap(),
        });
    }
    messages.sort_by_key(|message| message.line);
    (output.status.success(), messages)
}

fn warning(name: &str, line: u64, column: u64) -> Message {
    Message {
        level: "warning".to_owned(),
        text: format!(
            "use of deprecated constant `{}::missing_secret`: secret `{name}` has no value for local; set it with `cargo xtask secret set --type local {name}`",
            if name == "GitHubAPIToken" {
                "GITHUB_TOKEN"
            } else {
                "main"
            }
        ),
        line,
        column,
    }
}

/// Tests of the slow tier (ignored by a plain `cargo test`; see `tests/tests/main.rs`).
mod slow {
    use super::*;

    #[test]
    #[ignore = "slow: builds a separate workspace with cargo, which compiles this repository's crates again; .ci/run runs it (`cargo test -p secret-tests --test suite ::slow:: -- --ignored`)"]
    fn build_feedback_follows_the_store_without_cargo_clean() {
        let mut ws = workspace();

        // No secrets.toml: one warning per crate says its secrets are unchecked and how to
        // start (regression: there was none at all), not under the `missing_secret` prefix.
        let (success, messages) = build_app(&ws, None, None);
        assert!(success);
        assert_eq!(
        messages,
        [Message {
            level: "warning".to_owned(),
            text: "use of deprecated constant `GITHUB_TOKEN::secrets_unchecked`: this crate declares secrets, but the workspace has no secrets.toml, so no build checks that they have values; run `cargo xtask secret init` to start, or set SECRETS_BUILD_CHECK=off to silence this".to_owned(),
            line: 4,
            column: 39,
        }]
    );
        let (_, messages) = build_app(&ws, None, Some("off"));
        assert_eq!(messages, [], "the opt-out silences it");
        let output = cargo(&ws, &["build", "-p", "scripted"], None, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
        stderr.contains("warning: scripted@0.1.0: scripted declares secrets, but the workspace has no secrets.toml"),
        "{stderr}"
    );

        let key = ws.key("dev");
        ws.use_key(&key);
        let all = ["production", "development", "preview", "local"]
            .map(|ty| format!("{ty} = [\"{}\"]", key.public))
            .join("\n");
        ws.config("", &all);
        ok(&ws.secret(&["init"], ""));

        // Local: a warning at each call site, naming the secret and the command.
        let (success, messages) = build_app(&ws, None, None);
        assert!(success);
        assert_eq!(
            messages,
            [
                warning("GitHubAPIToken", 4, 39),
                warning("WebhookSigningKey", 7, 31)
            ]
        );

        ok(&ws.secret(
            &["set", "--type", "dev,local", "GitHubAPIToken"],
            "ghp_local_value",
        ));
        let (_, messages) = build_app(&ws, None, None);
        assert_eq!(
            messages,
            [warning("WebhookSigningKey", 7, 31)],
            "set is seen with no cargo clean"
        );

        ok(&ws.secret(&["unset", "--type", "dev,local", "GitHubAPIToken"], ""));
        let (_, messages) = build_app(&ws, None, None);
        assert_eq!(messages.len(), 2, "unset is seen too: {messages:?}");

        // The opt-out for -D warnings builds, tracked like SECRETS_ENV.
        let (success, messages) = build_app(&ws, None, Some("cloud-only"));
        assert!(success);
        assert_eq!(messages, []);

        // Production: a compile error at the call site; passes once the values are set.
        let (success, messages) = build_app(&ws, Some("prod"), None);
        assert!(!success);
        assert_eq!(
        messages[0],
        Message {
            level: "error".to_owned(),
            text: "secret `GitHubAPIToken` has no value for production, which this build targets (SECRETS_ENV=prod); set it with `cargo xtask secret set --type prod GitHubAPIToken`; see every missing secret at once with `cargo xtask check-secrets --env production`".to_owned(),
            line: 4,
            column: 39,
        }
    );
        assert_eq!(messages.len(), 2, "{messages:?}");
        ok(&ws.secret(
            &["set", "--type", "prod", "GitHubAPIToken"],
            "ghp_prod_value",
        ));
        ok(&ws.secret(
            &["set", "--type", "prod", "WebhookSigningKey"],
            "whsec_prod_value",
        ));
        let (success, messages) = build_app(&ws, Some("prod"), None);
        assert!(success, "{messages:?}");
        assert_eq!(messages, []);

        // A malformed secrets.toml: for local, one warning per crate naming the file and line
        // (not under the `missing_secret` prefix); for a deploy build, a compile error saying
        // why (regression: prod built with only a warning).
        let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
        ws.write("secrets.toml", &format!("{config}\n[enviroments]\n"));
        let (success, messages) = build_app(&ws, None, None);
        assert!(success, "{messages:?}");
        assert_eq!(messages.len(), 1, "one warning per crate: {messages:?}");
        assert!(
            messages[0]
                .text
                .starts_with("use of deprecated constant `GITHUB_TOKEN::secrets_unchecked`: "),
            "{messages:?}"
        );
        assert!(messages[0].text.contains("secrets.toml:"), "{messages:?}");
        assert!(
            messages[0]
                .text
                .ends_with("(the build-time secret check is skipped)"),
            "{messages:?}"
        );
        let (success, messages) = build_app(&ws, Some("prod"), None);
        assert!(!success, "{messages:?}");
        assert_eq!(messages.len(), 1, "one error per crate: {messages:?}");
        assert_eq!(messages[0].level, "error");
        assert!(
            messages[0]
                .text
                .starts_with("the secrets of this build cannot be checked (SECRETS_ENV=prod): "),
            "{messages:?}"
        );
        assert!(
            messages[0].text.contains("unknown key `enviroments`"),
            "{messages:?}"
        );
        ws.write("secrets.toml", &config);

        // A merge-conflict marker in the store: a deploy build fails saying why.
        let store = std::fs::read_to_string(ws.root().join("secrets.enc.toml")).unwrap();
        ws.write(
            "secrets.enc.toml",
            &format!("{store}<<<<<<< HEAD\n=======\n>>>>>>> branch\n"),
        );
        let (success, messages) = build_app(&ws, Some("prod"), None);
        assert!(!success, "{messages:?}");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].text.contains("secrets.enc.toml:"),
            "{messages:?}"
        );
        ws.write("secrets.enc.toml", &store);

        // A typo in SECRETS_ENV: an error listing the known environments.
        let (success, messages) = build_app(&ws, Some("prdo"), None);
        assert!(!success, "{messages:?}");
        assert_eq!(
            messages[0].text,
            "the secrets of this build cannot be checked (SECRETS_ENV=prdo): SECRETS_ENV=prdo is not an environment of this workspace; the known environments are production (prod), development (dev), preview (pr), local"
        );

        // A project that leaves a type out of `types`: a plain (local) build of a project
        // without local says nothing, and a build for a type it does not use fails naming
        // `types`.
        ws.write(
            "secrets.toml",
            &format!("types = [\"production\", \"development\"]\n{config}"),
        );
        // Until the change is signed, builds go by the signed rules: local is still used.
        let (_, messages) = build_app(&ws, None, None);
        assert!(!messages.is_empty(), "{messages:?}");
        ok(&ws.secret(&["rekey", "--yes"], ""));
        let (success, messages) = build_app(&ws, None, None);
        assert!(success && messages.is_empty(), "{messages:?}");
        let (success, messages) = build_app(&ws, Some("preview"), None);
        assert!(!success, "{messages:?}");
        assert!(
            messages[0]
                .text
                .starts_with("the secrets of this build cannot be checked (SECRETS_ENV=preview): ")
                && messages[0]
                    .text
                    .contains("this project does not use the environment type `preview`"),
            "{messages:?}"
        );
        ws.write("secrets.toml", &config);
        ok(&ws.secret(&["rekey", "--yes"], ""));

        // The build-script helper: a warning line for local, a failed build for production.
        let output = cargo(&ws, &["build", "-p", "scripted"], None, None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            !stderr.contains("deprecated"),
            "the macro leaves the report to the build script: {stderr}"
        );
        assert!(
        stderr.contains("warning: scripted@0.1.0: secret `DatabaseURL` (scripted/src/main.rs:1:37) has no value for local; set it with `cargo xtask secret set --type local DatabaseURL`"),
        "{stderr}"
    );
        let output = cargo(&ws, &["build", "-p", "scripted"], Some("prod"), None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(
        stderr.contains("error: scripted@0.1.0: secret `DatabaseURL` (scripted/src/main.rs:1:37) has no value for production; set it with `cargo xtask secret set --type prod DatabaseURL`; see every missing secret of scripted at once with `cargo xtask check-secrets --env production -p scripted`"),
        "{stderr}"
    );
        assert!(!stderr.contains("SentryDSN"), "optional: {stderr}");
        ws.write("secrets.toml", &format!("{config}\n[enviroments]\n"));
        let output = cargo(&ws, &["build", "-p", "scripted"], Some("prod"), None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(
        stderr.contains("error: scripted@0.1.0: the secrets of this build cannot be checked (SECRETS_ENV=prod): "),
        "{stderr}"
    );
        ws.write("secrets.toml", &config);
        ok(&ws.secret(&["set", "--type", "prod", "DatabaseURL"], "postgres://prod"));
        let output = cargo(&ws, &["build", "-p", "scripted"], Some("prod"), None);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
