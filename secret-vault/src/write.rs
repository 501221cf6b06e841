//! Writing a KV secret (feature `http`): check-and-set, read back when the outcome is
//! unknown, and the owner's mark in its custom metadata.

use std::collections::BTreeMap;
use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};
use secret_core::backend::BackendErrorKind;
use secret_core::{Error, Scope};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::Client;
use crate::http::Retry;
use crate::kv::{OWNER_KEY, Versioned};
use crate::mask::zero_json;

impl Client {
    /// Writes `values` as the new version of `name`, only if its current version is still
    /// `version` (check-and-set; 0: only if it does not exist), and returns the version
    /// written. With no values, an empty version is written the same way and then marked
    /// deleted (that version only), so a value another writer stored meanwhile is never
    /// removed.
    ///
    /// When the write may have reached the server but no answer says so (the connection
    /// closed or timed out after it was sent, a 5xx from a gateway), the secret is read
    /// back before anything else is decided: the values are there (written), the version
    /// is unchanged (not applied: sent again while the budget lasts), or someone else
    /// changed it (a conflict). When reading back fails too, the error is
    /// [`BackendErrorKind::OutcomeUnknown`].
    pub fn write(
        &self,
        name: &str,
        values: &BTreeMap<Scope, SecretString>,
        version: u64,
    ) -> Result<u64, Error> {
        let path = self.config().data_path(name);
        let data: serde_json::Map<String, Value> = values
            .iter()
            .map(|(scope, value)| (scope.key(), Value::String(value.expose_secret().to_owned())))
            .collect();
        let mut document = json!({ "options": { "cas": version }, "data": data });
        let body = Zeroizing::new(document.to_string());
        zero_json(&mut document);
        let secrets: Vec<&SecretString> = values.values().collect();
        let started = Instant::now();
        let mut backoff = crate::http::FIRST_BACKOFF;
        let written = loop {
            let sent = self.send("POST", &path, Some(&body), Retry::IfNotApplied, &secrets);
            let unknown = match sent {
                Ok((answer, _)) if matches!(answer.status, 200 | 204) => {
                    let response: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
                    break response["data"]["version"].as_u64().unwrap_or(version + 1);
                }
                Ok((answer, _))
                    if answer.status == 400 && answer.text.contains("check-and-set") =>
                {
                    // An earlier attempt of this write may be what moved the version.
                    if let Ok(now) = self.read(name)
                        && same_values(&now, values)
                    {
                        break now.version;
                    }
                    let mut error = self
                        .error(format!("{path} was changed by someone else meanwhile (check-and-set on version {version} failed); this change of {name} was not written"))
                        .with_help("run the command again: it reads the new version first");
                    error.kind = BackendErrorKind::Conflict;
                    return Err(error.into());
                }
                Ok((answer, mask)) => {
                    return Err(self
                        .status_error(&answer, &format!("writing {path}"), &mask)
                        .into());
                }
                Err(Error::Backend(error)) if error.kind == BackendErrorKind::OutcomeUnknown => {
                    *error
                }
                Err(error) => return Err(error),
            };
            // Sent, outcome unknown: read it back (with a budget of its own).
            match self.read(name) {
                Ok(now) if same_values(&now, values) && now.version > version => break now.version,
                Ok(now) if now.version == version => {
                    if started.elapsed() + backoff >= self.http.budget {
                        let mut error = unknown;
                        error.message = format!(
                            "{}; read back, {name} is unchanged: this change was not written",
                            error.message
                        );
                        error.kind = BackendErrorKind::Transient;
                        return Err(error.into());
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(crate::http::MAX_BACKOFF);
                }
                Ok(_) => {
                    let mut error = self
                        .error(format!("{path} was changed by someone else meanwhile, while this write of {name} went unanswered; this change is not what it holds now"))
                        .with_help("run the command again: it reads the new version first");
                    error.kind = BackendErrorKind::Conflict;
                    return Err(error.into());
                }
                Err(read_error) => {
                    let mut error = unknown;
                    let cause = match &read_error {
                        Error::Backend(backend) => backend.message.clone(),
                        other => other.to_string(),
                    };
                    error.message = format!(
                        "{}; reading {name} back failed too ({cause}): whether this change was written is not known",
                        error.message
                    );
                    error.help = Some(format!(
                        "run the command again when the server answers: it reads {name} first, and `bao kv get {path}` shows what the server holds"
                    ));
                    error.kind = BackendErrorKind::OutcomeUnknown;
                    return Err(error.into());
                }
            }
        };
        if values.is_empty() {
            // Tidy-up only: the empty version already holds no value. A policy without
            // `update` on the delete path leaves it visible as an empty secret.
            let config = self.config();
            let delete = format!("{}/delete/{}", config.mount, config.secret_path(name));
            let body = json!({ "versions": [written] }).to_string();
            let _ = self.send("POST", &delete, Some(&body), Retry::Always, &[]);
        }
        Ok(written)
    }

    /// Marks `name` as owned by `owner` in its custom metadata (the secret's other custom
    /// metadata, `custom`, kept as it is).
    pub fn mark(
        &self,
        name: &str,
        owner: &str,
        custom: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let config = self.config();
        let path = config.metadata_path(name);
        let mut all = custom.clone();
        all.insert(OWNER_KEY.to_owned(), owner.to_owned());
        let body = json!({ "custom_metadata": all }).to_string();
        let (answer, mask) = self.send("POST", &path, Some(&body), Retry::Always, &[])?;
        match answer.status {
            200 | 204 => Ok(()),
            _ => {
                let error = self.status_error(
                    &answer,
                    &format!("marking {name} as owned by `{owner}` at {path}"),
                    &mask,
                );
                let help = match answer.status {
                    401 | 403 => format!(
                        "allow `create` and `update` on {}/metadata/{}* in the token's policy: the mark is how this workspace knows its secrets",
                        config.mount,
                        if config.prefix.is_empty() {
                            String::new()
                        } else {
                            format!("{}/", config.prefix)
                        }
                    ),
                    _ => error.help.clone().unwrap_or_default(),
                };
                Err(error.with_help(help).into())
            }
        }
    }
}

/// Whether `read` holds exactly `values`.
fn same_values(read: &Versioned, values: &BTreeMap<Scope, SecretString>) -> bool {
    read.foreign.is_none()
        && read.conflicts.is_empty()
        && read.values.len() == values.len()
        && read
            .values
            .iter()
            .zip(values)
            .all(|((a, x), (b, y))| a == b && x.expose_secret() == y.expose_secret())
}
