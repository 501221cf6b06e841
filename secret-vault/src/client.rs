//! The blocking client of a Vault/OpenBao KV v2 engine (feature `http`): token or AppRole
//! login kept alive, the mount checked, strict reads, check-and-set writes whose outcome is
//! always known or said to be unknown, and ownership marks.
//!
//! Every request gets the time budget of `timeout_seconds`: a connection failure, a 5xx
//! or a 429 is retried with backoff (0.1 s, doubling, at most 2 s between attempts) until
//! the budget is spent; the attempt in flight gets what is left, so a server that never
//! answers costs one budget. A check-and-set write is retried only when it cannot have been
//! applied (no connection, 503, 429); otherwise it is read back before anything else is
//! decided. The token is held in a [`SecretString`], sent only in the `X-Vault-Token`
//! header, and never part of a message: server text is masked by value (token, AppRole
//! credentials, the proxy's password, the values being written) before it is cut.

mod login;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use secret_core::Error;
use secret_core::backend::{Auth, BackendConfig, BackendError};
use serde_json::Value;

use crate::http::{Answer, Http, Retry};
use crate::kv::{OWNER_KEY, Versioned};
use crate::mask::{Mask, clean};
use crate::settings::{Settings, Vars};
use login::{AppRole, Login, token_file, var};

/// A logged-in connection to the backend of `[backend]`.
pub struct Client {
    pub(crate) http: Http,
    pub(crate) login: Mutex<Login>,
    /// Held while the token is renewed or a new AppRole login made, so one thread does it.
    pub(crate) renewing: Mutex<()>,
    pub(crate) token_source: &'static str,
    pub(crate) approle: Option<AppRole>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.describe())
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the backend of `config`, reading the environment through `vars`: the
    /// server from `VAULT_ADDR` (or `BAO_ADDR`) if set, else `address`; the namespace
    /// likewise (`VAULT_NAMESPACE`); the proxy from `HTTPS_PROXY`/`HTTP_PROXY` and
    /// `NO_PROXY` (never for this machine); the token from `VAULT_TOKEN` or `BAO_TOKEN`,
    /// else the file `~/.vault-token` that `vault login` and `bao login` write, or an
    /// AppRole login with `VAULT_ROLE_ID` and `VAULT_SECRET_ID` (or `BAO_ROLE_ID`,
    /// `BAO_SECRET_ID`). Then checks that `mount` is a KV version 2 engine: a wrong mount
    /// is an error naming it, never an empty store.
    pub fn connect(config: &BackendConfig, vars: Vars<'_>) -> Result<Self, Error> {
        let settings = Settings::resolve(config, vars)?;
        let http = Http::new(settings)?;
        let mut client = Self {
            http,
            login: Mutex::new(Login::new(SecretString::from(""), None)),
            renewing: Mutex::new(()),
            token_source: "",
            approle: None,
        };
        match &config.auth {
            Auth::Token => {
                let (token, source) = var(vars, &["VAULT_TOKEN", "BAO_TOKEN"])
                    .or_else(|| token_file(vars))
                    .ok_or_else(|| {
                    client.error("no token: VAULT_TOKEN and BAO_TOKEN are not set and there is no ~/.vault-token")
                        .with_help("set VAULT_TOKEN (or BAO_TOKEN) to a token allowed to read and write the KV paths, log in with `bao login`, or use `auth = \"approle\"` in [backend]")
                })?;
                client.token_source = source;
                *client.login.get_mut().expect("not shared yet") = Login::new(token, None);
                let lease = client.token_lifetime()?;
                let login = client.login.get_mut().expect("not shared yet");
                let token = login.token.clone();
                *login = Login::new(token, lease);
            }
            Auth::AppRole { mount } => {
                let missing = || {
                    client
                        .error("AppRole login needs VAULT_ROLE_ID and VAULT_SECRET_ID (or BAO_ROLE_ID and BAO_SECRET_ID)")
                        .with_help("set both variables to the role's credentials")
                };
                let (role_id, _) =
                    var(vars, &["VAULT_ROLE_ID", "BAO_ROLE_ID"]).ok_or_else(missing)?;
                let (secret_id, _) =
                    var(vars, &["VAULT_SECRET_ID", "BAO_SECRET_ID"]).ok_or_else(missing)?;
                client.approle = Some(AppRole {
                    mount: mount.clone(),
                    role_id,
                    secret_id,
                });
                client.token_source = "AppRole login";
                let login = client.approle_login()?;
                *client.login.get_mut().expect("not shared yet") = login;
            }
        }
        client.check_mount()?;
        Ok(client)
    }

    /// The backend's configuration, with the address and namespace in use.
    pub fn config(&self) -> &BackendConfig {
        &self.http.settings.config
    }

    /// Where the address, namespace and proxy came from.
    pub fn settings(&self) -> &Settings {
        &self.http.settings
    }

    /// `OpenBao at http://127.0.0.1:8200`, with `(VAULT_ADDR)` when that variable chose it.
    pub fn describe(&self) -> String {
        self.http.settings.describe()
    }

    /// The name this workspace marks its secrets with, if `[backend]` gives one.
    pub fn owner(&self) -> Option<&str> {
        self.config().owner.as_deref()
    }

    /// The secrets to mask in messages: the current and the given tokens, the AppRole
    /// credentials, the proxy's password, and `values`.
    pub(crate) fn mask(
        &self,
        extra_token: Option<&SecretString>,
        values: &[&SecretString],
    ) -> Mask {
        let mut mask = Mask::default();
        if let Ok(login) = self.login.lock() {
            mask.add(login.token.expose_secret(), "token");
        }
        if let Some(token) = extra_token {
            mask.add(token.expose_secret(), "token");
        }
        if let Some(approle) = &self.approle {
            mask.add(approle.secret_id.expose_secret(), "secret id");
            mask.add(approle.role_id.expose_secret(), "role id");
        }
        if let Some(password) = self
            .http
            .settings
            .proxy
            .as_ref()
            .and_then(|proxy| proxy.password.as_deref())
        {
            mask.add(password, "proxy password");
        }
        for value in values {
            mask.add(value.expose_secret(), "value");
        }
        mask
    }

    /// An error of this backend: the message names the server as the client reaches it
    /// (with `(VAULT_ADDR)` when that variable chose it).
    pub fn error(&self, message: impl Into<String>) -> BackendError {
        self.http.error(message)
    }

    /// Sends one authenticated request (renewing the token first when due). Under
    /// AppRole, a request refused with "permission denied" logs in once more and is sent
    /// again: the token may have been revoked early.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        retry: Retry,
        values: &[&SecretString],
    ) -> Result<(Answer, Mask), Error> {
        let token = self.token()?;
        let mask = self.mask(Some(&token), values);
        let answer = self
            .http
            .send(method, path, body, Some(&token), retry, &mask)?;
        if answer.status == 403
            && self.approle.is_some()
            && answer.text.contains("permission denied")
        {
            let _renewing = self
                .renewing
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            let login = self.approle_login()?;
            let token = login.token.clone();
            *self
                .login
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) = login;
            let mask = self.mask(Some(&token), values);
            let answer = self
                .http
                .send(method, path, body, Some(&token), retry, &mask)?;
            return Ok((answer, mask));
        }
        Ok((answer, mask))
    }

    pub(crate) fn status_error(&self, answer: &Answer, what: &str, mask: &Mask) -> BackendError {
        self.http
            .status_error(answer, what, mask, self.token_source)
    }

    /// Checks that `mount` is the mount point of a KV version 2 engine.
    fn check_mount(&self) -> Result<(), Error> {
        let config = self.config();
        let mount = &config.mount;
        let path = format!("sys/internal/ui/mounts/{mount}");
        let (answer, mask) = self.send("GET", &path, None, Retry::Always, &[])?;
        let in_namespace = match &config.namespace {
            Some(namespace) => format!(" in the namespace `{namespace}`"),
            None => String::new(),
        };
        let not_found = || {
            self.error(format!(
                "there is no secrets engine at `mount = \"{mount}\"`{in_namespace} (or this token may not use it)"
            ))
            .with_help(format!(
                "check `mount` in [backend] of {}{}: `bao secrets list` shows the mounts; the KV v2 engine of a dev server is `secret`",
                config.config.display(),
                if in_namespace.is_empty() { "" } else { " and the namespace" }
            ))
        };
        match answer.status {
            200 => {}
            404 if !answer.text.contains("namespace not found")
                && !answer.text.contains("no handler") =>
            {
                return Err(not_found().into());
            }
            403 if answer.text.contains("preflight") => return Err(not_found().into()),
            _ => {
                return Err(self
                    .status_error(&answer, &format!("checking the mount `{mount}`"), &mask)
                    .into());
            }
        }
        let response: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
        let data = &response["data"];
        let Some(kind) = data["type"].as_str() else {
            return Err(self
                .error(format!(
                    "the server's description of `mount = \"{mount}\"` is not that of a secrets engine"
                ))
                .with_help("check `address` in [backend] (or VAULT_ADDR): it must be the Vault or OpenBao server itself")
                .into());
        };
        let found = data["path"].as_str().unwrap_or("").trim_end_matches('/');
        if !found.is_empty() && found != mount {
            return Err(self
                .error(format!(
                    "`mount = \"{mount}\"` is a folder inside the mount `{}`",
                    clean(found, &mask, 100)
                ))
                .with_help(format!(
                    "write `mount = \"{}\"` and put the rest in `prefix`",
                    clean(found, &mask, 100)
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
                    clean(other, &mask, 100)
                ))
                .with_help("name a KV version 2 engine in `mount` (`bao secrets list` shows them)")
                .into()),
        }
    }

    /// The keys under the prefix that are not folders, sorted: the secrets of this
    /// workspace, and whatever else is stored there.
    pub fn list(&self) -> Result<Vec<String>, Error> {
        let config = self.config();
        let folder = if config.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", config.prefix)
        };
        let path = format!("{}/metadata{folder}", config.mount);
        let (answer, mask) = self.send(
            "GET",
            &format!("{path}?list=true"),
            None,
            Retry::Always,
            &[],
        )?;
        match answer.status {
            200 => {
                let response: Value = self.http.json(&answer.text, &path)?;
                let Some(keys) = response["data"]["keys"].as_array() else {
                    return Err(self
                        .http
                        .wrong_shape(&path, "`data.keys` is not a list")
                        .into());
                };
                let mut names = Vec::with_capacity(keys.len());
                for key in keys {
                    let Some(key) = key.as_str() else {
                        return Err(self
                            .http
                            .wrong_shape(&path, "`data.keys` holds something that is not a string")
                            .into());
                    };
                    // Sub-folders (`other/`) hold no secret of this workspace.
                    if !key.ends_with('/') {
                        names.push(key.to_owned());
                    }
                }
                names.sort();
                Ok(names)
            }
            // An empty folder; a missing route has an error text.
            404 if no_errors(&answer.text) => Ok(Vec::new()),
            _ => Err(self
                .status_error(&answer, &format!("listing {path}"), &mask)
                .into()),
        }
    }

    /// Reads the values of `name` in one request; a secret that does not exist has
    /// version 0 and no values, one whose latest version is deleted has that version.
    /// An answer that is not the JSON of a KV v2 read is an error naming the path.
    pub fn read(&self, name: &str) -> Result<Versioned, Error> {
        let path = self.config().data_path(name);
        let (answer, mask) = self.send("GET", &path, None, Retry::Always, &[])?;
        match answer.status {
            200 => self.parse_read(&answer.text, &path, false),
            // Not found (version 0), or its latest version deleted: the answer still
            // carries that version, which a check-and-set write must name. Reading it
            // here, not in a second request, leaves no gap for a concurrent write.
            404 if no_errors(&answer.text) => Ok(Versioned::absent()),
            404 if deleted_version(&answer.text).is_some() => {
                self.parse_read(&answer.text, &path, true)
            }
            _ => Err(self
                .status_error(&answer, &format!("reading {path}"), &mask)
                .into()),
        }
    }

    /// A KV v2 read's JSON: `data.data` (an object of strings, or null for a deleted
    /// version) and `data.metadata` (version, custom metadata).
    fn parse_read(&self, text: &str, path: &str, deleted: bool) -> Result<Versioned, Error> {
        let mut response: Value = self.http.json(text, path)?;
        let result = self.versioned(&response, path, deleted);
        crate::mask::zero_json(&mut response);
        result
    }

    fn versioned(&self, response: &Value, path: &str, deleted: bool) -> Result<Versioned, Error> {
        let wrong = |what: &str| Error::from(self.http.wrong_shape(path, what));
        let metadata = &response["data"]["metadata"];
        let Some(version) = metadata["version"].as_u64() else {
            return Err(wrong("`data.metadata.version` is not a number"));
        };
        let mut custom = BTreeMap::new();
        match &metadata["custom_metadata"] {
            Value::Null => {}
            Value::Object(map) => {
                for (key, value) in map {
                    let Some(value) = value.as_str() else {
                        return Err(wrong(
                            "`data.metadata.custom_metadata` holds a value that is not a string",
                        ));
                    };
                    custom.insert(key.clone(), value.to_owned());
                }
            }
            _ => return Err(wrong("`data.metadata.custom_metadata` is not an object")),
        }
        let mut read = match &response["data"]["data"] {
            Value::Object(map) => Versioned::from_pairs(
                version,
                map.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            ),
            Value::Null
                if deleted
                    || metadata["deletion_time"]
                        .as_str()
                        .is_some_and(|t| !t.is_empty())
                    || metadata["destroyed"] == Value::Bool(true) =>
            {
                Versioned::at(version)
            }
            _ => return Err(wrong("`data.data` is not an object")),
        };
        read.owner = custom.remove(OWNER_KEY);
        read.custom = custom;
        Ok(read)
    }
}

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
