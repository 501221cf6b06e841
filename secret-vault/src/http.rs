//! HTTP to the server (feature `http`): one agent (rustls; the public roots or `ca_file`;
//! the proxy the environment selects; no redirects followed), attempts retried with
//! backoff within the time budget, and every failure turned into a message that says
//! what happened: no connection, no answer, a redirect and where to, TLS spoken to a
//! plain server or the reverse, an answer that is not HTTP, the proxy and its variable.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use secret_core::Error;
use secret_core::backend::{Address, BackendError, BackendErrorKind};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::mask::{Mask, clean};
use crate::settings::Settings;

/// The largest response read: far above any KV answer of this tool.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// The first wait between attempts; each next one doubles, up to [`MAX_BACKOFF`].
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What may be sent again after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, logins, renewals, metadata: the same request again does no harm.
    Always,
    /// A check-and-set write: sent again only when it cannot have been applied (no
    /// connection was made, or a 503 or 429 answer). Otherwise the caller gets
    /// [`BackendErrorKind::OutcomeUnknown`] and reads the secret back.
    IfNotApplied,
}

/// A server's answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) text: Zeroizing<String>,
    /// The `Location` header of a redirect.
    pub(crate) location: Option<String>,
}

/// A failed attempt without an answer.
struct Failed {
    /// Whether the request may have reached the server.
    sent: bool,
    /// Whether another attempt may succeed.
    transient: bool,
    message: String,
    help: String,
}

/// The agent and what it connects to.
pub(crate) struct Http {
    pub(crate) settings: Settings,
    agent: ureq::Agent,
    pub(crate) budget: Duration,
}

impl Http {
    pub(crate) fn new(settings: Settings) -> Result<Self, Error> {
        use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
        let config = &settings.config;
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
        let proxy = match &settings.proxy {
            None => None,
            Some(proxy) => Some(ureq::Proxy::new(&proxy.url).map_err(|_| {
                BackendError::new(
                    config,
                    format!("{}=`{}` is not a proxy URL", proxy.var, proxy.shown),
                )
                .with_help(format!(
                    "set {} to `http://host:port`, or add the server's host to NO_PROXY",
                    proxy.var
                ))
            })?),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .max_redirects(0)
            .proxy(proxy)
            .build()
            .new_agent();
        Ok(Self {
            budget: Duration::from_secs(config.timeout_seconds),
            settings,
            agent,
        })
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> BackendError {
        let mut error = BackendError::new(&self.settings.config, message);
        error.server = self.settings.describe();
        error
    }

    /// Sends `method /v1/<path>` with `token` until an answer that is not a 5xx or 429
    /// comes, or the budget is spent; each attempt gets the budget that is left.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&SecretString>,
        retry: Retry,
        mask: &Mask,
    ) -> Result<Answer, Error> {
        let started = Instant::now();
        let deadline = started + self.budget;
        let mut attempts = 0u32;
        let mut backoff = FIRST_BACKOFF;
        loop {
            attempts += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let outcome = self.exchange(
                method,
                path,
                body,
                token,
                left.max(Duration::from_millis(1)),
            );
            let again = match &outcome {
                Ok(answer) => match answer.status {
                    429 | 503 => true,
                    500 | 502 | 504..=599 => retry == Retry::Always,
                    _ => false,
                },
                Err(failed) => failed.transient && (retry == Retry::Always || !failed.sent),
            };
            let time_left = deadline.saturating_duration_since(Instant::now());
            if again && time_left > backoff {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            let tried = if attempts > 1 {
                format!(
                    " ({attempts} attempts within {})",
                    seconds(Instant::now().saturating_duration_since(started))
                )
            } else {
                String::new()
            };
            return match outcome {
                Ok(answer) if again => {
                    let mut error =
                        self.status_error(&answer, &format!("{method} {path}"), mask, "");
                    error.message.push_str(&tried);
                    error.kind = BackendErrorKind::Transient;
                    Err(error.into())
                }
                Ok(answer)
                    if retry == Retry::IfNotApplied && matches!(answer.status, 500..=599) =>
                {
                    let mut error =
                        self.status_error(&answer, &format!("{method} {path}"), mask, "");
                    error.message.push_str(&tried);
                    error.kind = BackendErrorKind::OutcomeUnknown;
                    Err(error.into())
                }
                Ok(answer) => Ok(answer),
                Err(failed) => {
                    let kind = if retry == Retry::IfNotApplied && failed.sent {
                        BackendErrorKind::OutcomeUnknown
                    } else if failed.transient {
                        BackendErrorKind::Transient
                    } else {
                        BackendErrorKind::Permanent
                    };
                    let mut error = self
                        .error(format!("{}{tried}", failed.message))
                        .with_help(failed.help);
                    error.kind = kind;
                    Err(error.into())
                }
            };
        }
    }

    /// One attempt, given `timeout`.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&SecretString>,
        timeout: Duration,
    ) -> Result<Answer, Failed> {
        let config = &self.settings.config;
        let url = format!("{}/v1/{path}", config.address);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose_secret());
        }
        if let Some(namespace) = &config.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let built = match body {
            Some(body) => request.body(body.as_bytes().to_vec()),
            None => request.body(Vec::new()),
        };
        let request = built.map_err(|error| Failed {
            sent: false,
            transient: false,
            message: format!("cannot build the request for {path}: {error}"),
            help: String::new(),
        })?;
        // The connection gets a millisecond less than the whole attempt, so that running
        // out of time while connecting (nothing sent) is told apart from running out of
        // time waiting for the answer.
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(timeout))
            .timeout_connect(Some(
                timeout
                    .saturating_sub(Duration::from_millis(1))
                    .max(Duration::from_millis(1)),
            ))
            .build();
        let mut response = self
            .agent
            .run(request)
            .map_err(|error| self.failed(error, path))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(|error| self.failed(error, path))?;
        Ok(Answer {
            status,
            text: Zeroizing::new(text),
            location,
        })
    }

    /// What a transport error means, in words.
    fn failed(&self, error: ureq::Error, path: &str) -> Failed {
        let settings = &self.settings;
        let address = &settings.config.address;
        let through = match &settings.proxy {
            Some(proxy) => format!(" through the proxy {} (from {})", proxy.shown, proxy.var),
            None => String::new(),
        };
        let check_address = match settings.address_from {
            Some(var) => format!("check {var}"),
            None => "check `address` in [backend] (or set VAULT_ADDR)".to_owned(),
        };
        let mask = Mask::default();
        let budget = format!(
            "within the time budget of {} s (`timeout_seconds` in [backend])",
            settings.config.timeout_seconds
        );
        let detail = |error: &dyn std::fmt::Display| clean(&error.to_string(), &mask, 200);
        match error {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => Failed {
                sent: false,
                transient: true,
                message: format!("cannot connect to {address}{through} {budget}"),
                help: format!("{check_address}, that the server runs and that this machine reaches it"),
            },
            ureq::Error::Timeout(_) => Failed {
                sent: true,
                transient: true,
                message: format!("no answer for {path} {budget}"),
                help: "check that the server runs and is not overloaded, or raise `timeout_seconds` in [backend]".to_owned(),
            },
            ureq::Error::HostNotFound => Failed {
                sent: false,
                transient: true,
                message: format!("cannot find the host of {address}{through} (DNS)"),
                help: check_address,
            },
            ureq::Error::ConnectionFailed => Failed {
                sent: false,
                transient: true,
                message: format!("cannot connect to {address}{through}"),
                help: format!("{check_address}, and that the server runs"),
            },
            ureq::Error::Io(io) if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::NetworkDown
                    | std::io::ErrorKind::AddrNotAvailable
            ) => {
                let (message, help) = match &settings.proxy {
                    Some(proxy) => (
                        format!("cannot connect to the proxy {} (from {}): {}", proxy.shown, proxy.var, detail(&io)),
                        format!("check {} or unset it; NO_PROXY lists the hosts reached without a proxy", proxy.var),
                    ),
                    None => (
                        format!("cannot connect to {address}: {}", detail(&io)),
                        format!("{check_address}, and that the server runs"),
                    ),
                };
                Failed { sent: false, transient: true, message, help }
            }
            ureq::Error::Io(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
            {
                let inner = io.into_inner().expect("checked above");
                let tls = *inner.downcast::<rustls::Error>().expect("checked above");
                self.failed(ureq::Error::Rustls(tls), path)
            }
            ureq::Error::Io(io) => Failed {
                sent: true,
                transient: true,
                message: format!("the connection to {address}{through} broke before an answer came for {path}: {}", detail(&io)),
                help: "check that the server runs, and any proxy or load balancer in between".to_owned(),
            },
            ureq::Error::ConnectProxyFailed(text) => Failed {
                sent: false,
                transient: true,
                message: format!("the proxy{through} did not connect to {address}: {}", clean(&text, &mask, 200)),
                help: match &settings.proxy {
                    Some(proxy) => format!("check {}, or add the server's host to NO_PROXY", proxy.var),
                    None => String::new(),
                },
            },
            ureq::Error::BodyExceedsLimit(limit) => Failed {
                sent: true,
                transient: false,
                message: format!("the response for {path} is larger than {limit} bytes, more than any KV answer of this tool"),
                help: format!("{check_address}: it must be the Vault or OpenBao server itself"),
            },
            ureq::Error::Rustls(rustls::Error::InvalidMessage(_)) | ureq::Error::Tls(_)
                if self.address_tls() =>
            {
                Failed {
                    sent: false,
                    transient: false,
                    message: format!("{address} does not answer in TLS: `https://` was written but the server seems to speak plain HTTP"),
                    help: format!("{check_address}: write `http://` for a server without TLS (only on this machine), or enable TLS on the server"),
                }
            }
            ureq::Error::Rustls(rustls::Error::InvalidCertificate(why)) => Failed {
                sent: false,
                transient: false,
                message: format!("the TLS certificate of {address} is not trusted: {}", detail(&format!("{why:?}"))),
                help: "set `ca_file` in [backend] to the PEM file of the CA that signed it".to_owned(),
            },
            ureq::Error::Rustls(other) => Failed {
                sent: false,
                transient: false,
                message: format!("TLS with {address} failed: {}", detail(&other)),
                help: format!("{check_address}, and `ca_file` in [backend]"),
            },
            ureq::Error::Protocol(protocol) => Failed {
                sent: true,
                transient: false,
                message: format!(
                    "{address}{through} answered with something that is not HTTP: {}",
                    detail(&protocol)
                ),
                help: if self.address_tls() {
                    format!("{check_address}: it must be the Vault or OpenBao server itself")
                } else {
                    format!("{check_address}: if the server speaks TLS, write `https://`")
                },
            },
            other => Failed {
                sent: true,
                transient: false,
                message: format!("the request for {path} to {address}{through} failed: {}", detail(&other)),
                help: check_address,
            },
        }
    }

    fn address_tls(&self) -> bool {
        Address::parse(&self.settings.config.address).is_ok_and(|address| address.tls)
    }

    /// Whether `answer` is a TLS server's reply to plain HTTP.
    pub(crate) fn plain_to_tls(&self, answer: &Answer) -> bool {
        answer.status == 400
            && answer
                .text
                .contains("Client sent an HTTP request to an HTTPS server")
    }

    /// `what failed with HTTP <status>: <the server's errors>`, the server's text masked,
    /// escaped and shortened; redirects, TLS mismatches and a missing namespace in words.
    pub(crate) fn status_error(
        &self,
        answer: &Answer,
        what: &str,
        mask: &Mask,
        token_source: &str,
    ) -> BackendError {
        let settings = &self.settings;
        let config = &settings.config;
        let check_address = match settings.address_from {
            Some(var) => format!("check {var}"),
            None => "check `address` in [backend]".to_owned(),
        };
        let status = answer.status;
        if (300..400).contains(&status) {
            let target = match &answer.location {
                Some(location) => format!("to {}", clean(location, mask, 200)),
                None => "without saying where to".to_owned(),
            };
            return self
                .error(format!("{what}: the server redirects (HTTP {status}) {target}"))
                .with_help(format!(
                    "{check_address}: write the address of the server itself (redirects are not followed, so the token goes nowhere else)"
                ));
        }
        if self.plain_to_tls(answer) {
            return self
                .error(format!(
                    "{what}: {} speaks TLS, but the address starts with `http://`",
                    config.address
                ))
                .with_help(format!("{check_address}: write `https://`"));
        }
        let detail: Vec<String> = match serde_json::from_str::<Value>(&answer.text) {
            Ok(value) => value["errors"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|text| clean(text, mask, 300))
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) if answer.text.trim().is_empty() => Vec::new(),
            Err(_) => vec![clean(&answer.text, mask, 200)],
        };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::mask::cut(&detail.join("; "), 600))
        };
        let through = match &settings.proxy {
            Some(proxy) if matches!(status, 407 | 502 | 504) => {
                format!(" (through the proxy {} from {})", proxy.shown, proxy.var)
            }
            _ => String::new(),
        };
        let error = self.error(format!("{what} failed with HTTP {status}{through}{detail}"));
        if status == 404 && answer.text.contains("namespace not found") {
            let namespace = config.namespace.as_deref().unwrap_or("");
            let from = match settings.namespace_from {
                Some(var) => var.to_owned(),
                None => "`namespace` in [backend]".to_owned(),
            };
            return self
                .error(format!("{what}: the server has no namespace `{namespace}`"))
                .with_help(format!(
                    "check {from}: `bao namespace list` shows the namespaces"
                ));
        }
        match status {
            401 | 403 => error.with_help(format!(
                "the token{} was rejected or its policy does not allow this: check that it is valid, not expired, and allowed on {}/",
                if token_source.is_empty() { String::new() } else { format!(" (from {token_source})") },
                config.data_path("").trim_end_matches('/')
            )),
            404 => error.with_help(format!(
                "check `mount = \"{}\"`{}: it must be a KV version 2 secrets engine",
                config.mount,
                if config.namespace.is_some() { " and the namespace" } else { "" }
            )),
            407 => error.with_help("the proxy wants credentials: put them in the proxy variable's URL, or add the server's host to NO_PROXY"),
            429 => error.with_help("the server limits the rate of requests: try again later, or raise `timeout_seconds` to wait longer"),
            503 => error.with_help("the server is sealed, not initialised, or in standby: try again when it is unsealed"),
            500..=599 => error.with_help("the server (or a gateway in front of it) failed: try again later"),
            _ => error,
        }
    }

    pub(crate) fn json(&self, text: &str, path: &str) -> Result<Value, Error> {
        serde_json::from_str(text).map_err(|_| self.not_kv(path).into())
    }

    fn not_kv(&self, path: &str) -> BackendError {
        self.error(format!("the response for {path} is not the JSON of a KV v2 engine"))
            .with_help(format!(
                "check `address` in [backend] and that `mount = \"{}\"` is a KV version 2 secrets engine",
                self.settings.config.mount
            ))
    }

    /// An answer in JSON whose shape is not a KV v2 engine's.
    pub(crate) fn wrong_shape(&self, path: &str, what: &str) -> BackendError {
        self.error(format!(
            "the answer for {path} is not shaped like a KV v2 engine's: {what}"
        ))
        .with_help(format!(
            "check `address` in [backend] (or VAULT_ADDR) and that `mount = \"{}\"` is a KV version 2 secrets engine; nothing was used from this answer",
            self.settings.config.mount
        ))
    }
}

/// `1.5 s`, `3 s`.
fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}
