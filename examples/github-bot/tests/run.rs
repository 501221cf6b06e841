//! Runs the example service as a user would: with nothing set it refuses to start and lists
//! every missing secret; with the values in `SECRET_<Name>` variables it runs.

use std::process::{Command, Output};

fn bot(vars: &[(&str, &str)]) -> Output {
    bot_with(&[], vars)
}

fn bot_with(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let workspace = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_github-bot"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SECRET") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .env("SECRETS_WORKSPACE", workspace.path())
        .envs(vars.iter().copied());
    command.output().unwrap()
}

#[test]
fn refuses_to_start_listing_every_missing_secret() {
    let output = bot(&[]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: 3 secrets could not be resolved\n"),
        "{stderr}"
    );
    for name in ["GitHubAPIToken", "SlackWebhookURL", "WebhookSigningKey"] {
        assert!(
            stderr.contains(&format!(
                "secret `{name}` has no value for environment local"
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("cargo xtask secret set --type local {name}")),
            "{stderr}"
        );
    }
}

const VALUES: [(&str, &str); 3] = [
    ("SECRET_GitHubAPIToken", "ghp_exampleTokenValue123"),
    ("SECRET_WebhookSigningKey", "whsec-example-signing-key"),
    (
        "SECRET_SlackWebhookURL",
        "https://hooks.slack.example/services/T000/B000/XXXX",
    ),
];

/// `--check`, as a Dockerfile runs it: the start-up check alone.
#[test]
fn check_flag_only_checks() {
    let output = bot_with(&["--check"], &[]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: 3 secrets could not be resolved\n"),
        "{stderr}"
    );

    let output = bot_with(&["--check"], &VALUES);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    assert_eq!(
        stdout, "ok: the 3 secrets this binary declares all have a value\n",
        "the service itself does not run"
    );
}

#[test]
fn runs_with_values_in_the_environment_and_prints_none_of_them() {
    let values = VALUES;
    let output = bot(&values);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("webhook signature verified"), "{stdout}");
    assert!(stdout.contains("Authorization: <redacted>"), "{stdout}");
    for (_, value) in values {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "a value leaked:\n{stdout}\n{stderr}"
        );
    }
}
