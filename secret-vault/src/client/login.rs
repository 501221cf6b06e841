//! Credentials and their lifetime (feature `http`): the token from the environment or
//! `~/.vault-token`, or an AppRole login; renewed (or a new login made) two thirds into its
//! lease, and, when that fails, kept while it is still valid and tried again soon.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use secret_core::Error;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::Client;
use crate::http::Retry;
use crate::mask::zero_json;
use crate::settings::Vars;

/// What an AppRole login needs, kept to log in again before the token expires.
pub(crate) struct AppRole {
    pub(crate) mount: String,
    pub(crate) role_id: SecretString,
    pub(crate) secret_id: SecretString,
}

/// The current token and its lifetime.
pub(crate) struct Login {
    pub(crate) token: SecretString,
    /// When the token stops working; `None`: it does not expire, or its lifetime is unknown.
    pub(crate) expires: Option<Instant>,
    /// When to renew it (or log in again): two thirds into its lease, then, after a failed
    /// attempt, again soon while it is still valid.
    pub(crate) renew_at: Option<Instant>,
    /// Failed renewals in a row, for the wait before the next one.
    pub(crate) failures: u32,
}

impl Login {
    pub(crate) fn new(token: SecretString, lease: Option<Duration>) -> Self {
        let now = Instant::now();
        Self {
            token,
            expires: lease.map(|lease| now + lease),
            renew_at: lease.map(|lease| now + lease * 2 / 3),
            failures: 0,
        }
    }

    fn valid(&self) -> bool {
        self.expires.is_none_or(|expires| Instant::now() < expires)
    }
}

pub(crate) fn var(vars: Vars<'_>, names: &[&'static str]) -> Option<(SecretString, &'static str)> {
    names.iter().find_map(|name| {
        let value = vars(name)?.into_string().ok()?;
        let value = Zeroizing::new(value);
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| (SecretString::from(trimmed), *name))
    })
}

impl Client {
    /// Logs in with the AppRole credentials.
    pub(crate) fn approle_login(&self) -> Result<Login, Error> {
        let approle = self.approle.as_ref().expect("an AppRole client");
        let body = Zeroizing::new(
            json!({
                "role_id": approle.role_id.expose_secret(),
                "secret_id": approle.secret_id.expose_secret(),
            })
            .to_string(),
        );
        let path = format!("auth/{}/login", approle.mount);
        let mask = self.mask(None, &[]);
        let answer = self
            .http
            .send("POST", &path, Some(&body), None, Retry::Always, &mask)?;
        if answer.status != 200 {
            let error = self.http.status_error(
                &answer,
                &format!("AppRole login at {path}"),
                &mask,
                self.token_source,
            );
            return Err(match answer.status {
                400 | 401 | 403 => error.with_help("check VAULT_ROLE_ID and VAULT_SECRET_ID, and that the AppRole method is mounted at `approle_mount`"),
                _ => error,
            }
            .into());
        }
        let mut response: Value = self.http.json(&answer.text, &path)?;
        let token = response["auth"]["client_token"]
            .as_str()
            .ok_or_else(|| self.error(format!("the AppRole login at {path} returned no token")))?;
        let token = SecretString::from(token);
        let lease = response["auth"]["lease_duration"].as_u64().unwrap_or(0);
        zero_json(&mut response);
        Ok(Login::new(
            token,
            (lease > 0).then(|| Duration::from_secs(lease)),
        ))
    }

    /// The token's remaining lifetime when it can be renewed (`auth/token/lookup-self`):
    /// `None` when it does not expire, cannot be renewed, or the lookup is refused (the
    /// requests that follow report a bad token). A server that cannot be reached is an
    /// error here, so a dead server costs one time budget, not one per request.
    pub(crate) fn token_lifetime(&self) -> Result<Option<Duration>, Error> {
        let token = self.current_token();
        let mask = self.mask(None, &[]);
        let answer = self.http.send(
            "GET",
            "auth/token/lookup-self",
            None,
            Some(&token),
            Retry::Always,
            &mask,
        )?;
        match answer.status {
            200 => {}
            300..=399 => {
                return Err(self
                    .http
                    .status_error(&answer, "looking up the token", &mask, self.token_source)
                    .into());
            }
            404 if answer.text.contains("namespace not found") => {
                return Err(self
                    .http
                    .status_error(&answer, "looking up the token", &mask, self.token_source)
                    .into());
            }
            400 if self.http.plain_to_tls(&answer) => {
                return Err(self
                    .http
                    .status_error(&answer, "looking up the token", &mask, self.token_source)
                    .into());
            }
            _ => return Ok(None),
        }
        let Ok(mut response) = serde_json::from_str::<Value>(&answer.text) else {
            return Ok(None);
        };
        let ttl = response["data"]["ttl"].as_u64().unwrap_or(0);
        let renewable = response["data"]["renewable"].as_bool() == Some(true);
        zero_json(&mut response);
        Ok((renewable && ttl > 0).then(|| Duration::from_secs(ttl)))
    }

    /// Renews the token (`auth/token/renew-self`): its new lease.
    fn renew(&self, token: &SecretString) -> Result<Option<Duration>, Error> {
        let mask = self.mask(None, &[]);
        let answer = self.http.send(
            "POST",
            "auth/token/renew-self",
            Some("{}"),
            Some(token),
            Retry::Always,
            &mask,
        )?;
        if answer.status != 200 {
            return Err(self
                .http
                .status_error(&answer, "renewing the token", &mask, self.token_source)
                .into());
        }
        let mut response: Value = self.http.json(&answer.text, "auth/token/renew-self")?;
        let lease = response["auth"]["lease_duration"].as_u64().unwrap_or(0);
        let renewable = response["auth"]["renewable"].as_bool() == Some(true);
        zero_json(&mut response);
        Ok((renewable && lease > 0).then(|| Duration::from_secs(lease)))
    }

    fn current_token(&self) -> SecretString {
        self.login
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .token
            .clone()
    }

    /// The token to send, after a renewal (or a new AppRole login) when one is due. A
    /// renewal that fails while the current token is still valid keeps it and tries again
    /// soon; only a token that has expired makes the failure an error.
    pub(crate) fn token(&self) -> Result<SecretString, Error> {
        let lock = || {
            self.login
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
        };
        let due = |login: &Login| login.renew_at.is_some_and(|at| Instant::now() >= at);
        {
            let login = lock();
            if !due(&login) {
                return Ok(login.token.clone());
            }
        }
        let _renewing = self
            .renewing
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let token = {
            let login = lock();
            if !due(&login) {
                // Another thread renewed it meanwhile.
                return Ok(login.token.clone());
            }
            login.token.clone()
        };
        let renewed = if self.approle.is_some() {
            self.approle_login()
        } else {
            self.renew(&token)
                .map(|lease| Login::new(token.clone(), lease))
        };
        let mut login = lock();
        match renewed {
            Ok(new) => {
                *login = new;
                Ok(login.token.clone())
            }
            Err(error) if login.valid() => {
                // Try again soon, while the token still works: after 1 s, doubling up to
                // a third of what is left.
                login.failures = login.failures.saturating_add(1);
                let wait = Duration::from_secs(1 << login.failures.min(6));
                let left = login.expires.map_or(wait, |expires| {
                    expires.saturating_duration_since(Instant::now()) / 3
                });
                login.renew_at = Some(Instant::now() + wait.min(left));
                drop(error);
                Ok(login.token.clone())
            }
            Err(error) => Err(error),
        }
    }
}

/// The token `vault login` / `bao login` saved in `~/.vault-token`.
pub(crate) fn token_file(vars: Vars<'_>) -> Option<(SecretString, &'static str)> {
    let home = std::path::PathBuf::from(vars("HOME")?);
    let text = Zeroizing::new(std::fs::read_to_string(home.join(".vault-token")).ok()?);
    let token = text.trim();
    (!token.is_empty()).then(|| (SecretString::from(token), "~/.vault-token"))
}
