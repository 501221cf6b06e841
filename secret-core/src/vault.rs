//! A blocking client of the Vault/OpenBao KV v2 engine (feature `vault`): the layout of
//! [`crate::backend`], token or AppRole login, check-and-set writes.
//!
//! HTTP goes through `ureq` with rustls (the public webpki roots, or instead only the
//! certificates of `ca_file` in `[backend]`)
//! and the table's `timeout_seconds` per request; no async runtime. The token is held in a
//! [`SecretString`], sent only in the `X-Vault-Token` header, and appears in no message and
//! no `Debug` output. Values are never part of an error either: a failed response is
//! described by its status and the server's `errors` list, which never echo values.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::backend::{Auth, BackendConfig, BackendError};
use crate::env::Scope;
use crate::error::Error;

pub use crate::versioned::Versioned;

/// A logged-in connection to the backend of `[backend]`.
pub struct Client {
    config: BackendConfig,
    agent: ureq::Agent,
    login: Mutex<Login>,
    token_source: &'static str,
    /// The AppRole credentials, kept to log in again before the token expires.
    approle: Option<(String, SecretString, SecretString)>,
}

/// The current token and when to replace it.
struct Login {
    token: SecretString,
    /// Two thirds into the lease of an AppRole login: the next request logs in again
    /// first. `None`: the token does not expire or its lifetime is unknown.
    renew_at: Option<Instant>,
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
    /// from `VAULT_TOKEN` or `BAO_TOKEN`, else the file `~/.vault-token` that `vault login`
    /// and `bao login` write, or an AppRole login with `VAULT_ROLE_ID` and `VAULT_SECRET_ID`
    /// (or `BAO_ROLE_ID`, `BAO_SECRET_ID`). Then checks that `mount` is a KV version 2
    /// engine: a wrong mount is an error naming it, never an empty store.
    pub fn connect(
        config: &BackendConfig,
        vars: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, Error> {
        let agent = agent(config)?;
        let mut client = Self {
            config: config.clone(),
            agent,
            login: Mutex::new(Login {
                token: SecretString::from(""),
                renew_at: None,
            }),
            token_source: "",
            approle: None,
        };
        match &config.auth {
            Auth::Token => {
                let (token, source) = var(vars, &["VAULT_TOKEN", "BAO_TOKEN"])
                    .or_else(|| token_file(vars))
                    .ok_or_else(|| {
                    BackendError::new(config, "no token: VAULT_TOKEN and BAO_TOKEN are not set and there is no ~/.vault-token")
                        .with_help("set VAULT_TOKEN (or BAO_TOKEN) to a token allowed to read and write the KV paths, log in with `bao login`, or use `auth = \"approle\"` in [backend]")
                })?;
                let renew_at = client.token_lifetime(&token);
                *client.login.get_mut().expect("not shared yet") = Login { token, renew_at };
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
                client.approle = Some((mount.clone(), role_id, secret_id));
                client.token_source = "AppRole login";
                let login = client.approle_login()?;
                *client.login.get_mut().expect("not shared yet") = login;
            }
        }
        client.check_mount()?;
        Ok(client)
    }

    /// Logs in with the AppRole credentials.
    fn approle_login(&self) -> Result<Login, Error> {
        let (mount, role_id, secret_id) = self.approle.as_ref().expect("an AppRole client");
        let body = Zeroizing::new(
            json!({
                "role_id": role_id.expose_secret(),
                "secret_id": secret_id.expose_secret(),
            })
            .to_string(),
        );
        let path = format!("auth/{mount}/login");
        let (status, text) = self.send_as("POST", &path, Some(&body), None)?;
        let text = Zeroizing::new(text);
        if status != 200 {
            return Err(self
                .status_error(status, &text, &format!("AppRole login at {path}"))
                .with_help("check VAULT_ROLE_ID and VAULT_SECRET_ID, and that the AppRole method is mounted at `approle_mount`")
                .into());
        }
        let mut response: Value = self.json(&text, &path)?;
        let token = response["auth"]["client_token"]
            .as_str()
            .ok_or_else(|| self.error(format!("the AppRole login at {path} returned no token")))?;
        let token = SecretString::from(token);
        let lease = response["auth"]["lease_duration"].as_u64().unwrap_or(0);
        zero_json(&mut response);
        Ok(Login {
            token,
            renew_at: (lease > 0)
                .then(|| Instant::now() + Duration::from_millis(lease * 1000 * 2 / 3)),
        })
    }

    /// When to renew a renewable token with a TTL (two thirds into it), from
    /// `auth/token/lookup-self`; `None` when it does not expire, cannot be renewed, or
    /// the lookup is not allowed (the requests that follow report a bad token).
    fn token_lifetime(&self, token: &SecretString) -> Option<Instant> {
        let (status, text) = self
            .send_as("GET", "auth/token/lookup-self", None, Some(token))
            .ok()?;
        let mut response: Value = serde_json::from_str(&Zeroizing::new(text)).ok()?;
        let ttl = response["data"]["ttl"].as_u64().unwrap_or(0);
        let renewable = response["data"]["renewable"].as_bool() == Some(true);
        zero_json(&mut response);
        (status == 200 && renewable && ttl > 0)
            .then(|| Instant::now() + Duration::from_millis(ttl * 1000 * 2 / 3))
    }

    /// Renews `token` (`auth/token/renew-self`); when to renew it next.
    fn renew(&self, token: &SecretString) -> Option<Instant> {
        let (status, text) = self
            .send_as("POST", "auth/token/renew-self", Some("{}"), Some(token))
            .ok()?;
        let mut response: Value = serde_json::from_str(&Zeroizing::new(text)).ok()?;
        let lease = response["auth"]["lease_duration"].as_u64().unwrap_or(0);
        let renewable = response["auth"]["renewable"].as_bool() == Some(true);
        zero_json(&mut response);
        (status == 200 && renewable && lease > 0)
            .then(|| Instant::now() + Duration::from_millis(lease * 1000 * 2 / 3))
    }

    /// Checks that `mount` is the mount point of a KV version 2 engine.
    fn check_mount(&self) -> Result<(), Error> {
        let mount = &self.config.mount;
        let path = format!("sys/internal/ui/mounts/{mount}");
        let (status, text) = self.send("GET", &path, None)?;
        let not_found = || {
            self.error(format!(
                "there is no secrets engine at `mount = \"{mount}\"` (or this token may not use it)"
            ))
            .with_help(format!(
                "check `mount` in [backend] of {}: `bao secrets list` shows the mounts; the KV v2 engine of a dev server is `secret`",
                self.config.config.display()
            ))
        };
        match status {
            200 => {}
            404 => return Err(not_found().into()),
            403 if text.contains("preflight") => return Err(not_found().into()),
            _ => {
                return Err(self
                    .status_error(status, &text, &format!("checking the mount `{mount}`"))
                    .into());
            }
        }
        let response: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let data = &response["data"];
        let Some(kind) = data["type"].as_str() else {
            return Err(self
                .error(format!(
                    "the server's description of `mount = \"{mount}\"` is not that of a secrets engine"
                ))
                .with_help("check `address` in [backend]: it must be the Vault or OpenBao server itself")
                .into());
        };
        let found = data["path"].as_str().unwrap_or("").trim_end_matches('/');
        if !found.is_empty() && found != mount {
            return Err(self
                .error(format!(
                    "`mount = \"{mount}\"` is a folder inside the mount `{found}`"
                ))
                .with_help(format!(
                    "write `mount = \"{found}\"` and put the rest in `prefix`"
                ))
                .into());
        }
        let version = data["options"]["version"].as_str().unwrap_or("1");
        match (kind, version) {
            ("kv", "2") => Ok(()),
            ("kv" | "generic", _) => Err(self
                .error(format!(
                    "`mount = \"{mount}\"` is a KV version 1 engine; the backend needs version 2 (versions and check-and-set writes)"
                ))
                .with_help(format!(
                    "upgrade it with `bao kv enable-versioning {mount}`, or mount a KV v2 engine (`bao secrets enable -path=NAME kv-v2`) and name it in `mount`"
                ))
                .into()),
            (other, _) => Err(self
                .error(format!(
                    "`mount = \"{mount}\"` is a `{}` engine, not KV version 2",
                    clean(other)
                ))
                .with_help("name a KV version 2 engine in `mount` (`bao secrets list` shows them)")
                .into()),
        }
    }

    /// The backend's configuration.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// `OpenBao at http://127.0.0.1:8200`.
    pub fn describe(&self) -> String {
        self.config.describe()
    }

    /// The keys under the prefix that are not folders, sorted: the secrets of this
    /// workspace, and whatever else is stored there.
    pub fn list(&self) -> Result<Vec<String>, Error> {
        let folder = if self.config.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", self.config.prefix)
        };
        let path = format!("{}/metadata{folder}", self.config.mount);
        let (status, text) = self.send("GET", &format!("{path}?list=true"), None)?;
        match status {
            200 => {
                let response: Value = self.json(&text, &path)?;
                let Some(keys) = response["data"]["keys"].as_array() else {
                    return Err(self.not_kv(&path).into());
                };
                let mut names: Vec<String> = keys
                    .iter()
                    .filter_map(Value::as_str)
                    // Sub-folders (`other/`) hold no secret of this workspace.
                    .filter(|key| !key.ends_with('/'))
                    .map(str::to_owned)
                    .collect();
                names.sort();
                Ok(names)
            }
            // An empty folder; a missing route has an error text.
            404 if no_errors(&text) => Ok(Vec::new()),
            _ => Err(self
                .status_error(status, &text, &format!("listing {path}"))
                .into()),
        }
    }

    /// Reads the values of `name` in one request; a secret that does not exist has
    /// version 0 and no values, one whose latest version is deleted has that version.
    pub fn read(&self, name: &str) -> Result<Versioned, Error> {
        let path = self.config.data_path(name);
        let (status, text) = self.send("GET", &path, None)?;
        let text = Zeroizing::new(text);
        match status {
            200 => {
                let mut response: Value = self.json(&text, &path)?;
                let Some(version) = response["data"]["metadata"]["version"].as_u64() else {
                    zero_json(&mut response);
                    return Err(self.not_kv(&path).into());
                };
                let mut values = BTreeMap::new();
                let mut problems = Vec::new();
                let mut keys: BTreeMap<Scope, String> = BTreeMap::new();
                if let Some(data) = response["data"]["data"].as_object() {
                    for (key, value) in data {
                        let Ok(scope) = Scope::parse_key(key) else {
                            problems.push(format!("`{}` is not a scope", clean(key)));
                            continue;
                        };
                        if let Some(first) = keys.get(&scope) {
                            problems.push(format!(
                                "`{}` and `{}` are the same scope",
                                clean(first),
                                clean(key)
                            ));
                            continue;
                        }
                        let Some(value) = value.as_str() else {
                            problems.push(format!("the value of `{}` is not a string", clean(key)));
                            continue;
                        };
                        keys.insert(scope.clone(), key.clone());
                        values.insert(scope, SecretString::from(value));
                    }
                }
                zero_json(&mut response);
                if problems.is_empty() {
                    Ok(Versioned {
                        version,
                        values,
                        problem: None,
                    })
                } else {
                    Ok(Versioned {
                        version,
                        values: BTreeMap::new(),
                        problem: Some(problems.join(", ")),
                    })
                }
            }
            // Not found (version 0), or its latest version deleted: the answer still
            // carries that version, which a check-and-set write must name. Reading it
            // here, not in a second request, leaves no gap for a concurrent write.
            404 if no_errors(&text) || deleted_version(&text).is_some() => {
                let response: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                Ok(Versioned {
                    version: response["data"]["metadata"]["version"]
                        .as_u64()
                        .unwrap_or(0),
                    values: BTreeMap::new(),
                    problem: None,
                })
            }
            _ => Err(self
                .status_error(status, &text, &format!("reading {path}"))
                .into()),
        }
    }

    /// Writes `values` as the new version of `name`, only if its current version is still
    /// `version` (check-and-set; 0: only if it does not exist). With no values, an empty
    /// version is written the same way and then marked deleted (that version only), so a
    /// value another writer stored meanwhile is never removed.
    pub fn write(
        &self,
        name: &str,
        values: &BTreeMap<Scope, SecretString>,
        version: u64,
    ) -> Result<(), Error> {
        let path = self.config.data_path(name);
        let data: serde_json::Map<String, Value> = values
            .iter()
            .map(|(scope, value)| (scope.key(), Value::String(value.expose_secret().to_owned())))
            .collect();
        let mut document = json!({ "options": { "cas": version }, "data": data });
        let body = Zeroizing::new(document.to_string());
        zero_json(&mut document);
        let (status, text) = self.send("POST", &path, Some(&body))?;
        match status {
            200 | 204 => {}
            400 if text.contains("check-and-set") => {
                let mut error = self
                    .error(format!("{path} was changed by someone else meanwhile (check-and-set on version {version} failed); this change of {name} was not written"))
                    .with_help("run the command again: it reads the new version first");
                error.conflict = true;
                return Err(error.into());
            }
            _ => {
                return Err(self
                    .status_error(status, &text, &format!("writing {path}"))
                    .into());
            }
        }
        if values.is_empty() {
            // Tidy-up only: the empty version already holds no value. A policy without
            // `update` on the delete path leaves it visible as an empty secret.
            let written: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if let Some(new) = written["data"]["version"].as_u64() {
                let delete = format!(
                    "{}/delete/{}",
                    self.config.mount,
                    self.config.secret_path(name)
                );
                let body = json!({ "versions": [new] }).to_string();
                let _ = self.send("POST", &delete, Some(&body));
            }
        }
        Ok(())
    }

    /// Sends one authenticated request to `/v1/<path>` (logging in again first when an
    /// AppRole token is two thirds into its lease); returns the status and the body.
    fn send(&self, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), Error> {
        let token = self.token()?;
        let (status, text) = self.send_as(method, path, body, Some(&token))?;
        // An AppRole token revoked or expired early: one new login, one retry.
        if status == 403 && self.approle.is_some() && text.contains("permission denied") {
            let login = self.approle_login()?;
            let token = login.token.clone();
            *self
                .login
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) = login;
            return self.send_as(method, path, body, Some(&token));
        }
        Ok((status, text))
    }

    /// The token to send, after a new AppRole login (or a renewal) when the current one is
    /// due. The lock is not held while logging in: an error message masks the token, which
    /// takes the lock too.
    fn token(&self) -> Result<SecretString, Error> {
        let lock = || {
            self.login
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
        };
        let (token, due) = {
            let login = lock();
            let due = login.renew_at.is_some_and(|at| Instant::now() >= at);
            (login.token.clone(), due)
        };
        if !due {
            return Ok(token);
        }
        if self.approle.is_some() {
            let login = self.approle_login()?;
            let token = login.token.clone();
            *lock() = login;
            Ok(token)
        } else {
            let renew_at = self.renew(&token);
            lock().renew_at = renew_at;
            Ok(token)
        }
    }

    /// Sends one request to `/v1/<path>` with `token`, if any.
    fn send_as(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&SecretString>,
    ) -> Result<(u16, String), Error> {
        let url = format!("{}/v1/{path}", self.config.address);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose_secret());
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
                        .map_err(|error| self.transport(error, path))
                }),
            None => request
                .body(())
                .map_err(|error| {
                    Error::from(self.error(format!("cannot build the request: {error}")))
                })
                .and_then(|request| {
                    self.agent
                        .run(request)
                        .map_err(|error| self.transport(error, path))
                }),
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(|error| self.transport(error, path))?;
        Ok((status, text))
    }

    fn json(&self, text: &str, path: &str) -> Result<Value, Error> {
        serde_json::from_str(text).map_err(|_| self.not_kv(path).into())
    }

    fn not_kv(&self, path: &str) -> BackendError {
        self.error(format!(
            "the response for {path} is not the JSON of a KV v2 engine"
        ))
        .with_help(format!(
            "check `address` in [backend] and that `mount = \"{}\"` is a KV version 2 secrets engine",
            self.config.mount
        ))
    }

    fn error(&self, message: String) -> BackendError {
        BackendError::new(&self.config, message)
    }

    fn transport(&self, error: ureq::Error, path: &str) -> Error {
        let (message, help) = match &error {
            ureq::Error::Timeout(_) => (
                format!("no answer for {path} within {} seconds", self.config.timeout_seconds),
                "check that the server runs and is not overloaded, or raise `timeout_seconds` in [backend]".to_owned(),
            ),
            ureq::Error::BodyExceedsLimit(limit) => {
                let error = self
                    .error(format!(
                        "the response for {path} is larger than {limit} bytes, more than any KV answer of this tool"
                    ))
                    .with_help("check `address` in [backend]: it must be the Vault or OpenBao server itself");
                return error.into();
            }
            _ => (
                format!("cannot reach the server: {}", clean(&error.to_string())),
                "check `address` in [backend], that the server runs and that this machine reaches it".to_owned(),
            ),
        };
        let mut error = self.error(message).with_help(help);
        error.unreachable = true;
        error.into()
    }

    /// `what failed with HTTP <status>: <the server's errors>`, the server's text cleaned
    /// of control characters, shortened, and with the token masked (a proxy may echo it).
    fn status_error(&self, status: u16, text: &str, what: &str) -> BackendError {
        let token = self.login.lock().map(|login| login.token.clone()).ok();
        let detail: Vec<String> = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|value| {
                value["errors"].as_array().map(|errors| {
                    errors
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|text| {
                            let mut text = clean(text);
                            if let Some(token) = &token
                                && !token.expose_secret().is_empty()
                            {
                                text = text.replace(token.expose_secret(), "[token]");
                            }
                            text
                        })
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

/// The largest response read: far above any KV answer of this tool.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// Whether a 404's body has an empty `errors` list: KV's "no such secret", as opposed to
/// "no such route" (a wrong mount) or a body that is not the server's.
fn no_errors(text: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .is_some_and(|value| value["errors"].as_array().is_some_and(Vec::is_empty))
}

/// The version of a 404 answer for a secret whose latest version is deleted (it has the
/// metadata and no `errors`).
fn deleted_version(text: &str) -> Option<u64> {
    serde_json::from_str::<Value>(text).ok()?["data"]["metadata"]["version"].as_u64()
}

/// Server text fit for a terminal and a CI log: control characters (escape sequences,
/// line breaks) become spaces, and it is cut at 300 characters.
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out.trim().to_owned()
}

/// The token `vault login` / `bao login` saved in `~/.vault-token`.
fn token_file(vars: &dyn Fn(&str) -> Option<OsString>) -> Option<(SecretString, &'static str)> {
    let home = std::path::PathBuf::from(vars("HOME")?);
    let text = Zeroizing::new(std::fs::read_to_string(home.join(".vault-token")).ok()?);
    let token = text.trim();
    (!token.is_empty()).then(|| (SecretString::from(token), "~/.vault-token"))
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
