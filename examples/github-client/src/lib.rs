//! Example library crate: a GitHub API client whose token is a declared secret.
//!
//! The service crate (`github-bot`) declares `GitHubAPIToken` too: names are global to the
//! workspace, so both crates get the same value.

use std::fmt;

use secret_runtime::{Secret, secret};

/// Personal access token the bot uses to call the GitHub API
static GITHUB_TOKEN: Secret = secret!("GitHubAPIToken");

/// An HTTP request ready to send. Its `Debug` hides the `Authorization` header.
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// Header name and value pairs.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body, if any.
    pub body: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            let shown = if name.eq_ignore_ascii_case("authorization") {
                "<redacted>"
            } else {
                value
            };
            writeln!(f, "{name}: {shown}")?;
        }
        if let Some(body) = &self.body {
            write!(f, "\n{body}")?;
        }
        Ok(())
    }
}

/// Builds the request that comments on an issue, authenticated with the API token.
pub fn comment_on_issue(
    repo: &str,
    issue: u64,
    text: &str,
) -> Result<Request, secret_runtime::Error> {
    let token = GITHUB_TOKEN.expose()?;
    Ok(Request {
        method: "POST",
        url: format!("https://api.github.com/repos/{repo}/issues/{issue}/comments"),
        headers: vec![
            ("Accept", "application/vnd.github+json".to_owned()),
            ("Authorization", format!("Bearer {token}")),
            ("User-Agent", "github-bot-example".to_owned()),
        ],
        body: Some(format!("{{\"body\":{text:?}}}")),
    })
}
