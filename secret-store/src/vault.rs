//! A blocking client of the Vault/OpenBao KV v2 engine (feature `vault`): the layout of
//! [`crate::backend`], token or AppRole login, check-and-set writes.
//!
//! HTTP goes through `ureq` with rustls (webpki roots, plus the `ca_file` of `[backend]`)
//! and the table's `timeout_seconds` per request; no async runtime. The token is held in a
//! [`SecretString`], sent only in the `X-Vault-Token` header, and appears in no message and
//! no `Debug` output. Values are never part of an error either: a failed response is
//! described by its status and the server's `errors` list, which never echo values.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::backend::{Auth, BackendConfig, BackendError};
use crate::env::{Environment, Scope};
use crate::error::Error;

/// The values of one secret in the backend: scope -> value, and the KV version they were
/// read at (0 when the secret does not exist), for the next check-and-set write.
pub struct Versioned {
    /// The KV metadata version (`options.cas` of the next write).
    pub version: u64,
    /// The values by scope.
    pub values: BTreeMap<Scope, SecretString>,
}

impl fmt::Debug for Versioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("version", &self.version)
            .field("scopes", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Versioned {
    /// The value that applies to `env` (environment > pattern > type), with its scope.
    pub fn lookup(&self, env: &Environment) -> Option<(&Scope, &SecretString)> {
        self.values
            .iter()
            .filter_map(|(scope, value)| scope.rank(env).map(|rank| (rank, scope, value)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, scope, value)| (scope, value))
    }
}

/// A logged-in connection to the backend of `[backend]`.
pub struct Client {
    config: BackendConfig,
    agent: ureq::Agent,
    token: SecretString,
    token_source: &'static str,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.config.describe())
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

fn var(
    vars: &dyn Fn(&str) -> Option<OsString>,
    names: &[&'static str],
) -> Option<(SecretString, &'static str)> {
    names.iter().find_map(|name| {
        let value = vars(name)?.into_string().ok()?;
        let value = Zeroizing::new(value);
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| (SecretString::from(trimmed), *name))
    })
}

impl Client {
    /// Connects to the backend of `config`, reading credentials through `vars`: the token
    /// from `VAULT_TOKEN` or `BAO_TOKEN`, or an AppRole login with `VAULT_ROLE_ID` and
    /// `VAULT_SECRET_ID` (or `BAO_ROLE_ID`, `BAO_SECRET_ID`). A token is not checked until
    /// the first request.
    pub fn connect(
        config: &BackendConfig,
        vars: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, Error> {
        let agent = agent(config)?;
        let mut client = Self {
            config: config.clone(),
            agent,
            token: SecretString::from(""),
            token_source: "",
        };
        match &config.auth {
            Auth::Token => {
                let (token, source) = var(vars, &["VAULT_TOKEN", "BAO_TOKEN"]).ok_or_else(|| {
                    BackendError::new(config, "no token: VAULT_TOKEN and BAO_TOKEN are not set")
                        .with_help("set VAULT_TOKEN (or BAO_TOKEN) to a token allowed to read and write the KV paths, or use `auth = \"approle\"` in [backend]")
                })?;
                client.token = token;
                client.token_source = source;
            }
            Auth::AppRole { mount } => {
                let missing = || {
                    BackendError::new(
                        config,
                        "AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID (or BAO_ROLE_ID and BAO_SECRET_ID)",
                    )
                    .with_help("set both variables to the role's credentials")
                };
                let (role_id, _) =
                    var(vars, &["VAULT_ROLE_ID", "BAO_ROLE_ID"]).ok_or_else(missing)?;
                let (secret_id, _) =
                    var(vars, &["VAULT_SECRET_ID", "BAO_SECRET_ID"]).ok_or_else(missing)?;
                let body = Zeroizing::new(
                    json!({
                        "role_id": role_id.expose_secret(),
                        "secret_id": secret_id.expose_secret(),
                    })
                    .to_string(),
                );
                let path = format!("auth/{mount}/login");
                let (status, text) = client.send("POST", &path, Some(&body), false)?;
                if status != 200 {
                    return Err(client
                        .status_error(status, &text, &format!("AppRole login at {path}"))
                        .with_help("check VAULT_ROLE_ID and VAULT_SECRET_ID, and that the AppRole method is mounted at `approle_mount`")
                        .into());
                }
                let response: Value = client.json(&text, &path)?;
                let token = response["auth"]["client_token"].as_str().ok_or_else(|| {
                    client.error(format!("the AppRole login at {path} returned no token"))
                })?;
                client.token = SecretString::from(token);
                client.token_source = "AppRole login";
            }
        }
        Ok(client)
    }

    /// The backend's configuration.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// `OpenBao at http://127.0.0.1:8200`.
    pub fn describe(&self) -> String {
        self.config.describe()
    }

    /// The names of the secrets under the prefix, sorted.
    pub fn list(&self) -> Result<Vec<String>, Error> {
        let folder = if self.config.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", self.config.prefix)
        };
        let path = format!("{}/metadata{folder}", self.config.mount);
        let (status, text) = self.send("GET", &format!("{path}?list=true"), None, true)?;
        match status {
            200 => {
                let response: Value = self.json(&text, &path)?;
                let mut names: Vec<String> = response["data"]["keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    // Sub-folders (`other/`) hold no secret of this workspace.
                    .filter(|key| !key.ends_with('/'))
                    .map(str::to_owned)
                    .collect();
                names.sort();
                Ok(names)
            }
            404 => Ok(Vec::new()),
            _ => Err(self
                .status_error(status, &text, &format!("listing {path}"))
                .into()),
        }
    }

    /// Reads the values of `name`; a secret that does not exist has version 0 and no
    /// values.
    pub fn read(&self, name: &str) -> Result<Versioned, Error> {
        let path = self.config.data_path(name);
        let (status, text) = self.send("GET", &path, None, true)?;
        let text = Zeroizing::new(text);
        match status {
            200 => {
                let mut response: Value = self.json(&text, &path)?;
                let version = response["data"]["metadata"]["version"]
                    .as_u64()
                    .unwrap_or(0);
                let mut values = BTreeMap::new();
                if let Some(data) = response["data"]["data"].as_object() {
                    for (key, value) in data {
                        let scope = Scope::parse_key(key).map_err(|message| {
                            self.error(format!("{path} holds the key `{key}`: {message}"))
                                .with_help(format!("the keys of {path} are scopes written by `cargo xtask secret set`; remove the others with `bao kv patch` or the UI"))
                        })?;
                        let Some(value) = value.as_str() else {
                            return Err(self
                                .error(format!("the value of `{key}` in {path} is not a string"))
                                .into());
                        };
                        values.insert(scope, SecretString::from(value));
                    }
                }
                zero_json(&mut response);
                Ok(Versioned { version, values })
            }
            // Not found, or its latest version deleted: the metadata still knows the version
            // a check-and-set write must name.
            404 => Ok(Versioned {
                version: self.current_version(name)?,
                values: BTreeMap::new(),
            }),
            _ => Err(self
                .status_error(status, &text, &format!("reading {path}"))
                .into()),
        }
    }

    fn current_version(&self, name: &str) -> Result<u64, Error> {
        let path = self.config.metadata_path(name);
        let (status, text) = self.send("GET", &path, None, true)?;
        match status {
            200 => {
                let response: Value = self.json(&text, &path)?;
                Ok(response["data"]["current_version"].as_u64().unwrap_or(0))
            }
            404 => Ok(0),
            _ => Err(self
                .status_error(status, &text, &format!("reading {path}"))
                .into()),
        }
    }

    /// Writes `values` as the new version of `name`, only if its current version is still
    /// `version` (check-and-set; 0: only if it does not exist). With no values the secret
    /// is deleted with all its versions.
    pub fn write(
        &self,
        name: &str,
        values: &BTreeMap<Scope, SecretString>,
        version: u64,
    ) -> Result<(), Error> {
        if values.is_empty() {
            return self.delete(name);
        }
        let path = self.config.data_path(name);
        let data: serde_json::Map<String, Value> = values
            .iter()
            .map(|(scope, value)| (scope.key(), Value::String(value.expose_secret().to_owned())))
            .collect();
        let mut document = json!({ "options": { "cas": version }, "data": data });
        let body = Zeroizing::new(document.to_string());
        zero_json(&mut document);
        let (status, text) = self.send("POST", &path, Some(&body), true)?;
        match status {
            200 | 204 => Ok(()),
            400 if text.contains("check-and-set") => {
                let mut error = self
                    .error(format!("{path} was changed by someone else meanwhile (check-and-set on version {version} failed); nothing was written"))
                    .with_help("run the command again");
                error.conflict = true;
                Err(error.into())
            }
            _ => Err(self
                .status_error(status, &text, &format!("writing {path}"))
                .into()),
        }
    }

    /// Deletes `name` with all its versions (its metadata).
    pub fn delete(&self, name: &str) -> Result<(), Error> {
        let path = self.config.metadata_path(name);
        let (status, text) = self.send("DELETE", &path, None, true)?;
        match status {
            200 | 204 | 404 => Ok(()),
            _ => Err(self
                .status_error(status, &text, &format!("deleting {path}"))
                .into()),
        }
    }

    /// Sends one request to `/v1/<path>`; returns the status and the body.
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        authenticated: bool,
    ) -> Result<(u16, String), Error> {
        let url = format!("{}/v1/{path}", self.config.address);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if authenticated {
            request = request.header("X-Vault-Token", self.token.expose_secret());
        }
        if let Some(namespace) = &self.config.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        let request = if body.is_some() {
            request.header("Content-Type", "application/json")
        } else {
            request
        };
        let result = match body {
            Some(body) => request
                .body(body.as_bytes().to_vec())
                .map_err(|error| {
                    Error::from(self.error(format!("cannot build the request: {error}")))
                })
                .and_then(|request| {
                    self.agent
                        .run(request)
                        .map_err(|error| self.transport(error))
                }),
            None => request
                .body(())
                .map_err(|error| {
                    Error::from(self.error(format!("cannot build the request: {error}")))
                })
                .and_then(|request| {
                    self.agent
                        .run(request)
                        .map_err(|error| self.transport(error))
                }),
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|error| self.transport(error))?;
        Ok((status, text))
    }

    fn json(&self, text: &str, path: &str) -> Result<Value, Error> {
        serde_json::from_str(text).map_err(|_| {
            self.error(format!(
                "the response for {path} is not the JSON of a KV v2 engine"
            ))
            .with_help(format!(
                "check that `mount = \"{}\"` is a KV version 2 secrets engine",
                self.config.mount
            ))
            .into()
        })
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::new(&self.config, message)
    }

    fn transport(&self, error: ureq::Error) -> Error {
        let help = match &error {
            ureq::Error::Timeout(_) => format!(
                "the server did not answer within {} seconds (`timeout_seconds` in [backend])",
                self.config.timeout_seconds
            ),
            _ => "check `address` in [backend], that the server runs and that this machine reaches it".to_owned(),
        };
        self.error(format!("cannot reach the server: {error}"))
            .with_help(help)
            .into()
    }

    fn status_error(&self, status: u16, text: &str, what: &str) -> BackendError {
        let detail: Vec<String> = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|value| {
                value["errors"].as_array().map(|errors| {
                    errors
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|text| text.trim().replace('\n', " "))
                        .collect()
                })
            })
            .unwrap_or_default();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {}", detail.join("; "))
        };
        let error = self.error(format!("{what} failed with HTTP {status}{detail}"));
        match status {
            401 | 403 => error.with_help(format!(
                "the token (from {}) was rejected or its policy does not allow this: check that it is valid, not expired, and allowed on {}/",
                self.token_source,
                self.config.data_path("").trim_end_matches('/')
            )),
            404 => error.with_help(format!(
                "check `mount = \"{}\"`: it must be a KV version 2 secrets engine",
                self.config.mount
            )),
            503 => error.with_help("the server is sealed or not initialised"),
            _ => error,
        }
    }
}

fn zero_json(value: &mut Value) {
    match value {
        Value::String(text) => zeroize::Zeroize::zeroize(text),
        Value::Array(items) => items.iter_mut().for_each(zero_json),
        Value::Object(map) => map.values_mut().for_each(zero_json),
        _ => {}
    }
}

fn agent(config: &BackendConfig) -> Result<ureq::Agent, Error> {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
    let mut tls = TlsConfig::builder();
    if let Some(file) = &config.ca_file {
        let pem = std::fs::read(file).map_err(|error| {
            BackendError::new(
                config,
                format!("cannot read ca_file {}: {error}", file.display()),
            )
        })?;
        let mut certs: Vec<Certificate<'static>> = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(PemItem::Certificate(cert)) = item {
                certs.push(cert);
            }
        }
        if certs.is_empty() {
            return Err(BackendError::new(
                config,
                format!("ca_file {} holds no PEM certificate", file.display()),
            )
            .into());
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    let agent_config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(config.timeout_seconds)))
        .tls_config(tls.build())
        .max_redirects(0)
        .build();
    Ok(agent_config.new_agent())
}
