//! Example service: receives a GitHub webhook delivery, checks its signature with the
//! webhook signing key, and answers on the issue through the GitHub API.
//!
//! Every secret compiled into the binary is checked at start-up, so a missing value stops
//! the service with one message listing all of them. `github-bot --check` does only that
//! check and exits (0, or 1 listing what is missing): for a Dockerfile `RUN` or
//! `HEALTHCHECK`, or a deploy step, without starting the service.

use std::process::ExitCode;

use hmac::{Hmac, Mac};
use secret_runtime::{Secret, secret};
use sha2::Sha256;

/// Personal access token the bot uses to call the GitHub API
static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");

/// Key GitHub signs webhook deliveries with (`X-Hub-Signature-256`)
static WEBHOOK_SIGNING_KEY: Secret = secret!("WebhookSigningKey");

/// Incoming-webhook URL of the team's Slack channel
static SLACK_WEBHOOK_URL: Secret = secret!("SlackWebhookURL");

/// A webhook delivery as the HTTP layer hands it over.
struct Delivery<'a> {
    signature_header: String,
    payload: &'a [u8],
}

fn main() -> ExitCode {
    if let Err(missing) = secret_runtime::check_all() {
        eprintln!("error: {missing}");
        return ExitCode::FAILURE;
    }
    if std::env::args().nth(1).as_deref() == Some("--check") {
        let names: std::collections::BTreeSet<&str> = secret_runtime::declarations()
            .iter()
            .map(|declaration| declaration.name())
            .collect();
        println!(
            "ok: the {} secrets this binary declares all have a value",
            names.len()
        );
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let payload =
        br#"{"action":"opened","issue":{"number":7},"repository":{"full_name":"acme/widgets"}}"#;
    // In production GitHub computes this header; the example signs its own sample delivery.
    let delivery = Delivery {
        signature_header: sign(payload)?,
        payload,
    };
    verify(&delivery)?;
    println!(
        "webhook signature verified ({} bytes)",
        delivery.payload.len()
    );

    let request =
        github_client::comment_on_issue("acme/widgets", 7, "Thanks! A maintainer will look soon.")?;
    println!("prepared GitHub request:\n{request:?}");
    if GITHUB_TOKEN.expose()?.starts_with("ghp_") {
        println!("note: {GITHUB_TOKEN} is a classic token; fine-grained tokens are safer");
    }

    let slack = SLACK_WEBHOOK_URL.expose()?;
    let host = slack.split('/').nth(2).unwrap_or("<no host>");
    println!("would notify Slack via {host}");
    Ok(())
}

fn mac() -> Result<Hmac<Sha256>, Box<dyn std::error::Error>> {
    let key = WEBHOOK_SIGNING_KEY.expose()?;
    Ok(Hmac::<Sha256>::new_from_slice(key.as_bytes())?)
}

fn sign(payload: &[u8]) -> Result<String, Box<dyn std::error::Error>> {
    let mut mac = mac()?;
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    Ok(format!(
        "sha256={}",
        digest
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    ))
}

fn verify(delivery: &Delivery<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let hex = delivery
        .signature_header
        .strip_prefix("sha256=")
        .ok_or("the X-Hub-Signature-256 header does not start with sha256=")?;
    let expected: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()?;
    let mut mac = mac()?;
    mac.update(delivery.payload);
    mac.verify_slice(&expected)
        .map_err(|_| "the webhook signature does not match".into())
}
