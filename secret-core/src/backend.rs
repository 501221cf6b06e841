//! The `[backend]` table of `secrets.toml`: values kept in a Vault or OpenBao KV v2 engine
//! instead of `secrets.enc.toml`, and the errors talking to it.
//!
//! ```toml
//! [backend]
//! kind = "openbao"                  # or "vault"
//! address = "https://bao.example.com:8200"
//! mount = "secret"                  # the KV v2 engine's mount (default "secret")
//! prefix = "myapp"                  # folder of this workspace's secrets (default: none)
//! auth = "token"                    # or "approle" (default "token")
//! approle_mount = "approle"         # where the AppRole method is mounted (default "approle")
//! ca_file = "certs/bao-ca.pem"      # the CA certificates (PEM) to trust instead of the public roots
//! namespace = "team-a"              # Vault Enterprise / OpenBao namespace (optional)
//! owner = "myapp"                   # the name this workspace marks its KV secrets with (default: prefix)
//! timeout_seconds = 10              # the time budget of one request, retries included (default 10)
//! ```
//!
//! Layout: one KV v2 secret per secret name, at `<mount>/data/<prefix>/<Name>`, holding one
//! key per value, named by its scope exactly as in `secrets.enc.toml` (`type:production`,
//! `type:development,local`, `env:staging`). The same one-value-per-type rule and the same
//! precedence (environment > pattern > type) apply.
//!
//! Credentials never come from this file: the token is read from `VAULT_TOKEN` (or
//! `BAO_TOKEN`); AppRole logs in with `VAULT_ROLE_ID` and `VAULT_SECRET_ID` (or the `BAO_`
//! forms).
//!
//! This module has no heavy dependency: the HTTP client is the `secret-vault` crate.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::file_error::{FileError, did_you_mean};
use crate::toml_file::{self, Key, Spanned, Value, ValueInner, article};

/// Which server speaks the KV v2 protocol. Both behave the same; the name is used in
/// messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// HashiCorp Vault.
    Vault,
    /// OpenBao.
    OpenBao,
}

impl BackendKind {
    /// The name shown in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Vault => "Vault",
            Self::OpenBao => "OpenBao",
        }
    }
}

/// How the tool gets a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A token from `VAULT_TOKEN` or `BAO_TOKEN`.
    Token,
    /// AppRole login with `VAULT_ROLE_ID`/`VAULT_SECRET_ID` (or `BAO_ROLE_ID`/`BAO_SECRET_ID`).
    AppRole {
        /// The mount of the AppRole auth method (`approle`).
        mount: String,
    },
}

/// The validated `[backend]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// Vault or OpenBao.
    pub kind: BackendKind,
    /// The server's address, `http(s)://host:port`, without a trailing `/`.
    pub address: String,
    /// The KV v2 mount, without slashes around it.
    pub mount: String,
    /// The folder of this workspace's secrets under the mount, without slashes around it;
    /// may be empty.
    pub prefix: String,
    /// How to get a token.
    pub auth: Auth,
    /// The CA certificates (PEM) trusted instead of the public (webpki) roots, resolved
    /// against the workspace root.
    pub ca_file: Option<PathBuf>,
    /// The namespace sent as `X-Vault-Namespace`, if any.
    pub namespace: Option<String>,
    /// The name this workspace marks the KV secrets it writes with (`owner`, else
    /// `prefix`); `None` when neither is set, and this workspace may then not write.
    pub owner: Option<String>,
    /// The time budget of one request in seconds: every attempt and retry of it fits in it.
    pub timeout_seconds: u64,
    /// `secrets.toml`, for messages.
    pub config: PathBuf,
    /// The line of the `[backend]` table.
    pub line: usize,
}

impl BackendConfig {
    /// `OpenBao at http://127.0.0.1:8200`: how messages name the server.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.kind.name(), self.address)
    }

    /// A warning when the token would travel in clear text: `http://` to a host that is not
    /// this machine (`localhost`, `127.0.0.1`, `[::1]`).
    pub fn plain_http_warning(&self) -> Option<String> {
        let address = Address::parse(&self.address).ok()?;
        (!address.tls && !address.is_loopback()).then(|| {
            format!(
                "{}:{}: `address = \"{}\"` is plain http to another machine: the token and every value cross the network unencrypted; use https://",
                self.config.display(),
                self.line,
                self.address
            )
        })
    }

    /// The logical path of `name`'s KV secret below the mount (`myapp/GitHubAPIToken`).
    pub fn secret_path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// The path `bao kv get` shows for `name`: `secret/data/myapp/GitHubAPIToken`.
    pub fn data_path(&self, name: &str) -> String {
        format!("{}/data/{}", self.mount, self.secret_path(name))
    }

    /// The path of `name`'s metadata (versions, deletion): `secret/metadata/myapp/GitHubAPIToken`.
    pub fn metadata_path(&self, name: &str) -> String {
        format!("{}/metadata/{}", self.mount, self.secret_path(name))
    }
}

/// A server address as `[backend]`, `VAULT_ADDR` and `BAO_ADDR` give it:
/// `http(s)://host[:port]`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `https://`.
    pub tls: bool,
    /// The host: a name, an IPv4 address, or an IPv6 address without its brackets.
    pub host: String,
    /// The port, when written.
    pub port: Option<u16>,
}

impl Address {
    /// Parses `text` (surrounding spaces and trailing `/` ignored). Refused, with the
    /// reason: another scheme, a path, a query, a fragment, a user name or password
    /// (`http://localhost:8200@other:8200` goes to `other`, which a reader of the file
    /// does not expect), spaces, an empty host, a port that is not a number.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim().trim_end_matches('/');
        let (tls, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err("it does not start with `http://` or `https://`");
        };
        if rest.contains('@') {
            return Err(
                "it holds a user name or password (`user@`): the request would go to the host after the `@`",
            );
        }
        if rest.contains(['/', '?', '#', '\\']) {
            return Err("it has a path, a query or a fragment");
        }
        if rest.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            return Err("it contains spaces or control characters");
        }
        let (host, port) = match rest.strip_prefix('[') {
            Some(inner) => {
                let (host, after) = inner.split_once(']').ok_or("its IPv6 address has no `]`")?;
                if host.parse::<std::net::Ipv6Addr>().is_err() {
                    return Err("the part in brackets is not an IPv6 address");
                }
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or("something follows the `]`")?),
                };
                (host, port)
            }
            None => match rest.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            },
        };
        if host.is_empty() {
            return Err("it has no host");
        }
        if host.contains(':') && !rest.starts_with('[') {
            return Err("an IPv6 address must be written in brackets");
        }
        let port = match port {
            None => None,
            Some(port) => Some(
                port.parse::<u16>()
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or("its port is not a number from 1 to 65535")?,
            ),
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the host is this machine: `localhost`, or a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => write!(f, "{scheme}://{host}:{port}"),
            None => write!(f, "{scheme}://{host}"),
        }
    }
}

/// The keys of the `[backend]` table.
pub(crate) const BACKEND_KEYS: [&str; 10] = [
    "kind",
    "address",
    "mount",
    "prefix",
    "auth",
    "approle_mount",
    "ca_file",
    "namespace",
    "owner",
    "timeout_seconds",
];

/// The `[backend]` table as written, with positions for messages.
#[derive(Debug, Default)]
pub(crate) struct RawBackend {
    kind: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    mount: Option<Spanned<String>>,
    prefix: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    approle_mount: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    namespace: Option<Spanned<String>>,
    owner: Option<Spanned<String>>,
    timeout_seconds: Option<Spanned<i64>>,
}

impl RawBackend {
    /// Reads the `[backend]` table (the value of `key`): only its known keys, each of its
    /// type.
    pub(crate) fn read(
        path: &Path,
        text: &str,
        key: &Key<'_>,
        value: Value<'_>,
    ) -> Result<Self, FileError> {
        let table = crate::toml_file::table_value(
            path,
            text,
            key,
            value,
            "`kind = \"openbao\"`, `address = ...`",
        )?;
        let table = toml_file::in_file_order(table);
        if let Some((key, _)) = table
            .iter()
            .find(|(key, _)| !BACKEND_KEYS.contains(&key.name.as_ref()))
        {
            return Err(crate::toml_file::unknown_key(
                path,
                text,
                key,
                &BACKEND_KEYS,
                "[backend]",
            ));
        }
        let mut raw = Self::default();
        for (key, mut value) in table {
            let name = key.name.as_ref();
            let slot = match name {
                "kind" => &mut raw.kind,
                "address" => &mut raw.address,
                "mount" => &mut raw.mount,
                "prefix" => &mut raw.prefix,
                "auth" => &mut raw.auth,
                "approle_mount" => &mut raw.approle_mount,
                "ca_file" => &mut raw.ca_file,
                "namespace" => &mut raw.namespace,
                "owner" => &mut raw.owner,
                _ => {
                    let span = value.span;
                    raw.timeout_seconds = match value.take() {
                        ValueInner::Integer(seconds) => Some(Spanned::with_span(seconds, span)),
                        other => {
                            return Err(FileError::at(
                                path,
                                text,
                                Some(span.start),
                                format!(
                                    "`{name}` should be an integer, not {}",
                                    article(other.type_str())
                                ),
                            )
                            .with_help("use a number of seconds from 1 to 600"));
                        }
                    };
                    continue;
                }
            };
            *slot = Some(toml_file::string(path, text, name, &mut value)?);
        }
        Ok(raw)
    }

    /// Validates the table whose header starts at byte `start` of `text`.
    pub(crate) fn validate(
        self,
        path: &Path,
        text: &str,
        start: usize,
    ) -> Result<BackendConfig, FileError> {
        let at = |offset: usize, message: String| FileError::at(path, text, Some(offset), message);
        let kind = match &self.kind {
            None => {
                return Err(at(start, "[backend] has no `kind`".to_owned())
                    .with_help("add `kind = \"openbao\"` or `kind = \"vault\"`, or remove [backend] to keep values in secrets.enc.toml"));
            }
            Some(kind) => match kind.value.as_str() {
                "vault" => BackendKind::Vault,
                "openbao" | "bao" => BackendKind::OpenBao,
                other => {
                    let help = match did_you_mean(other, ["vault", "openbao"]) {
                        Some(known) => format!("did you mean `{known}`?"),
                        None => "the supported backends are `vault` and `openbao` (both KV v2)"
                            .to_owned(),
                    };
                    return Err(
                        at(kind.span.start, format!("unknown backend kind `{other}`"))
                            .with_help(help),
                    );
                }
            },
        };
        let address = match &self.address {
            None => {
                return Err(at(start, "[backend] has no `address`".to_owned())
                    .with_help("add the server's address, for example `address = \"https://bao.example.com:8200\"`"));
            }
            Some(address) => match Address::parse(&address.value) {
                Ok(_) => address.value.trim().trim_end_matches('/').to_owned(),
                Err(why) => {
                    return Err(at(
                        address.span.start,
                        format!("`{}` is not a server address: {why}", address.value),
                    )
                    .with_help(
                        "write `http://host:port` or `https://host:port`, nothing before the host and nothing after the port",
                    ));
                }
            },
        };
        let segment_path =
            |value: &Spanned<String>, key: &str, allow_empty: bool| -> Result<String, FileError> {
                let trimmed = value.value.trim_matches('/');
                let valid = (allow_empty || !trimmed.is_empty())
                    && trimmed.split('/').all(|part| {
                        trimmed.is_empty()
                            || (!part.is_empty()
                                && part != "."
                                && part != ".."
                                && part.chars().all(|ch| {
                                    ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')
                                }))
                    });
                if valid {
                    Ok(trimmed.to_owned())
                } else {
                    Err(at(
                    value.span.start,
                    format!("`{}` is not a valid `{key}`", value.value),
                )
                .with_help(format!(
                    "`{key}` is a path of ASCII letters, digits, `-`, `_` and `.`, separated by `/`"
                )))
                }
            };
        let mount = match &self.mount {
            Some(mount) => segment_path(mount, "mount", false)?,
            None => "secret".to_owned(),
        };
        let prefix = match &self.prefix {
            Some(prefix) => segment_path(prefix, "prefix", true)?,
            None => String::new(),
        };
        let approle_mount = match &self.approle_mount {
            Some(value) => segment_path(value, "approle_mount", false)?,
            None => "approle".to_owned(),
        };
        let auth = match &self.auth {
            None => Auth::Token,
            Some(auth) => match auth.value.as_str() {
                "token" => Auth::Token,
                "approle" => Auth::AppRole {
                    mount: approle_mount,
                },
                other => {
                    let help = match did_you_mean(other, ["token", "approle"]) {
                        Some(known) => format!("did you mean `{known}`?"),
                        None => "use `token` (VAULT_TOKEN or BAO_TOKEN) or `approle` (VAULT_ROLE_ID and VAULT_SECRET_ID)".to_owned(),
                    };
                    return Err(
                        at(auth.span.start, format!("unknown auth method `{other}`"))
                            .with_help(help),
                    );
                }
            },
        };
        if self.approle_mount.is_some() && auth == Auth::Token {
            let span = self.approle_mount.as_ref().map_or(start, |v| v.span.start);
            return Err(at(
                span,
                "`approle_mount` is set but `auth` is not `approle`".to_owned(),
            )
            .with_help("add `auth = \"approle\"`, or remove `approle_mount`"));
        }
        let root = path.parent().unwrap_or(Path::new("."));
        let ca_file = self.ca_file.as_ref().map(|file| root.join(&file.value));
        let namespace = self
            .namespace
            .as_ref()
            .map(|value| segment_path(value, "namespace", false))
            .transpose()?;
        let owner = match &self.owner {
            Some(value) => Some(segment_path(value, "owner", false)?),
            None => (!prefix.is_empty()).then(|| prefix.clone()),
        };
        let timeout_seconds = match &self.timeout_seconds {
            None => 10,
            Some(value) => match u64::try_from(value.value) {
                Ok(seconds @ 1..=600) => seconds,
                _ => {
                    return Err(at(
                        value.span.start,
                        format!("`timeout_seconds = {}` is out of range", value.value),
                    )
                    .with_help("use a number of seconds from 1 to 600"));
                }
            },
        };
        Ok(BackendConfig {
            kind,
            address,
            mount,
            prefix,
            auth,
            ca_file,
            namespace,
            owner,
            timeout_seconds,
            config: path.to_owned(),
            line: crate::file_error::line_of(text, start),
        })
    }
}

/// What kind of failure a [`BackendError`] is: what asking again would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// Asking again gives the same answer (a rejected token, a wrong mount, a refused
    /// write) until someone changes something.
    #[default]
    Permanent,
    /// A check-and-set conflict: someone else changed the secret since it was read, and
    /// nothing of this change was written. Running the command again applies it to the new
    /// version.
    Conflict,
    /// The server could not be reached, or answered 5xx or 429, on every attempt within the
    /// time budget: asking again later may succeed. Never cached at run time.
    Transient,
    /// A write was sent and no answer said whether the server applied it, and reading the
    /// secret again did not tell either.
    OutcomeUnknown,
}

/// What went wrong talking to the backend. The message names the server (kind and address)
/// and never contains the token or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    /// `OpenBao at http://127.0.0.1:8200`.
    pub server: String,
    /// What failed.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// `secrets.toml`, whose `[backend]` table selects the server.
    pub config: PathBuf,
    /// The line of the `[backend]` table.
    pub line: Option<usize>,
    /// What asking again would do.
    pub kind: BackendErrorKind,
}

impl BackendError {
    /// An error of the backend `config`.
    pub fn new(config: &BackendConfig, message: impl Into<String>) -> Self {
        Self {
            server: config.describe(),
            message: message.into(),
            help: None,
            config: config.config.clone(),
            line: Some(config.line),
            kind: BackendErrorKind::Permanent,
        }
    }

    /// Adds a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The error as a [`FileError`] pointing at the `[backend]` table.
    pub fn report(&self) -> FileError {
        FileError {
            path: self.config.clone(),
            line: self.line,
            message: format!("{}: {}", self.server, self.message),
            help: self.help.clone(),
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.server, self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BackendError {}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, crate::FileError> {
        Config::parse(Path::new("/ws/secrets.toml"), text)
    }

    #[test]
    fn a_full_table() {
        let config = parse(
            "[backend]\nkind = \"openbao\"\naddress = \"http://127.0.0.1:8200/\"\nmount = \"/kv/\"\nprefix = \"apps/myapp\"\nauth = \"approle\"\nca_file = \"ca.pem\"\ntimeout_seconds = 3\n",
        )
        .unwrap();
        let backend = config.backend.unwrap();
        assert_eq!(backend.address, "http://127.0.0.1:8200");
        assert_eq!(backend.mount, "kv");
        assert_eq!(backend.data_path("A"), "kv/data/apps/myapp/A");
        assert_eq!(
            backend.auth,
            super::Auth::AppRole {
                mount: "approle".into()
            }
        );
        assert_eq!(backend.ca_file.as_deref(), Some(Path::new("/ws/ca.pem")));
        assert_eq!(backend.line, 1);
        assert_eq!(backend.describe(), "OpenBao at http://127.0.0.1:8200");
    }

    #[test]
    fn plain_http_to_another_machine_is_warned_about() {
        let warning = |address: &str| {
            parse(&format!(
                "[backend]\nkind = \"vault\"\naddress = \"{address}\"\n"
            ))
            .unwrap()
            .backend
            .unwrap()
            .plain_http_warning()
        };
        let text = warning("http://vault.internal:8200").unwrap();
        assert!(
            text.starts_with(
                "/ws/secrets.toml:1: `address = \"http://vault.internal:8200\"` is plain http"
            ),
            "{text}"
        );
        for quiet in [
            "https://vault.internal:8200",
            "http://127.0.0.1:8200",
            "http://localhost:1",
            "http://[::1]:8200",
        ] {
            assert_eq!(warning(quiet), None, "{quiet}");
        }
    }

    // Regression test: `http://localhost:8200@other-host:8200` passed validation without the
    // plain-http warning while the client went to `other-host`.
    #[test]
    fn an_address_with_a_user_name_is_refused() {
        let error = parse(
            "[backend]\nkind = \"vault\"\naddress = \"http://localhost:8200@other-host:8200\"\n",
        )
        .unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.message.contains("user name or password"), "{error}");
        for bad in [
            "http://user:pw@host",
            "ftp://host",
            "http://",
            "http://host:port",
            "http://host:0",
            "http://host/v1",
            "http://host?x",
            "http://::1:8200",
            "http://[::1",
            "http://ho st",
        ] {
            assert!(super::Address::parse(bad).is_err(), "{bad}");
        }
        let address = super::Address::parse(" https://[::1]:8200/ ").unwrap();
        assert_eq!(
            (address.tls, address.host.as_str(), address.port),
            (true, "::1", Some(8200))
        );
        assert!(address.is_loopback());
        assert_eq!(address.to_string(), "https://[::1]:8200");
        assert!(
            super::Address::parse("http://LOCALHOST")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn the_owner_is_the_prefix_unless_written() {
        let owner = |extra: &str| {
            parse(&format!(
                "[backend]\nkind = \"vault\"\naddress = \"https://v:1\"\n{extra}"
            ))
            .unwrap()
            .backend
            .unwrap()
            .owner
        };
        assert_eq!(owner(""), None);
        assert_eq!(
            owner("prefix = \"apps/billing\"\n").as_deref(),
            Some("apps/billing")
        );
        assert_eq!(
            owner("prefix = \"apps\"\nowner = \"billing\"\n").as_deref(),
            Some("billing")
        );
        let error =
            parse("[backend]\nkind = \"vault\"\naddress = \"https://v:1\"\nowner = \"a b\"\n")
                .unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
    }

    #[test]
    fn defaults() {
        let config =
            parse("[environments]\n\n[backend]\nkind = \"vault\"\naddress = \"https://v:1\"\n")
                .unwrap();
        let backend = config.backend.unwrap();
        assert_eq!(backend.data_path("A"), "secret/data/A");
        assert_eq!(backend.auth, super::Auth::Token);
        assert_eq!((backend.line, backend.timeout_seconds), (3, 10));
    }

    #[test]
    fn strict_keys_and_values_with_lines() {
        let error = parse("[backend]\nkind = \"vault\"\nadress = \"http://x\"\n").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert_eq!(error.message, "unknown key `adress`");
        assert_eq!(error.help.as_deref(), Some("did you mean `address`?"));
        let error = parse("[backend]\nkind = \"vaut\"\naddress = \"http://x\"\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert_eq!(error.help.as_deref(), Some("did you mean `vault`?"));
        let error = parse("[backend]\nkind = \"vault\"\naddress = \"x:8200\"\n").unwrap_err();
        assert!(error.message.contains("not a server address"), "{error}");
        let error = parse("[backend]\nkind = \"vault\"\n").unwrap_err();
        assert_eq!(error.message, "[backend] has no `address`");
        let error =
            parse("[backend]\nkind = \"vault\"\naddress = \"http://x\"\nprefix = \"a/../b\"\n")
                .unwrap_err();
        assert_eq!(error.line, Some(4));
        let error =
            parse("[backend]\nkind = \"vault\"\naddress = \"http://x\"\nauth = \"aprole\"\n")
                .unwrap_err();
        assert_eq!(error.help.as_deref(), Some("did you mean `approle`?"));
    }
}
