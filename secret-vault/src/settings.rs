//! Where to connect, as users of the Vault and OpenBao command-line tools expect: the
//! server from `VAULT_ADDR` (or `BAO_ADDR`) over `address` in `[backend]`, the namespace
//! from `VAULT_NAMESPACE` (or `BAO_NAMESPACE`) over `namespace`, and the proxy from
//! `HTTPS_PROXY` / `HTTP_PROXY` (or their lower-case forms) by the server's scheme, except
//! for hosts in `NO_PROXY` and for this machine, which is never reached through a proxy
//! (the rules of Go's `net/http`, which the Vault CLI uses).

use std::ffi::OsString;
use std::net::IpAddr;

use secret_core::backend::Address;
use secret_core::{BackendConfig, BackendError};

/// Reads an environment variable.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The server, namespace and proxy a client uses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[backend]` with `address` and `namespace` as used.
    pub config: BackendConfig,
    /// The variable the address came from (`VAULT_ADDR`), when not from `secrets.toml`.
    pub address_from: Option<&'static str>,
    /// The variable the namespace came from, when not from `secrets.toml`.
    pub namespace_from: Option<&'static str>,
    /// The proxy requests go through, if any.
    pub proxy: Option<Proxy>,
}

/// A proxy from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// The proxy's URL as written (it may hold a user name and password).
    pub url: String,
    /// The URL without the user name and password, for messages.
    pub shown: String,
    /// The variable it came from (`https_proxy`).
    pub var: &'static str,
    /// The password in the URL, masked in every message.
    pub password: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({} from {})", self.shown, self.var)
    }
}

/// The first of `names` that is set and not empty, with its name.
fn first(vars: Vars<'_>, names: &[&'static str]) -> Option<(String, &'static str)> {
    names.iter().find_map(|name| {
        let value = vars(name)?.into_string().ok()?;
        let value = value.trim().to_owned();
        (!value.is_empty()).then_some((value, *name))
    })
}

impl Settings {
    /// The settings for `config` in the environment `vars`.
    pub fn resolve(config: &BackendConfig, vars: Vars<'_>) -> Result<Self, BackendError> {
        let mut config = config.clone();
        let mut address_from = None;
        if let Some((text, var)) = first(vars, &["VAULT_ADDR", "BAO_ADDR"]) {
            let address = Address::parse(&text).map_err(|why| {
                BackendError::new(
                    &config,
                    format!(
                        "{var}=`{}` is not a server address: {why}",
                        secret_core::text::escape_control(&text)
                    ),
                )
                .with_help(format!(
                    "set {var} to `http://host:port` or `https://host:port`, or unset it to use `address` in [backend]"
                ))
            })?;
            let address = address.to_string();
            if address != config.address {
                config.address = address;
                address_from = Some(var);
            }
        }
        let mut namespace_from = None;
        if let Some((text, var)) = first(vars, &["VAULT_NAMESPACE", "BAO_NAMESPACE"]) {
            let namespace = text.trim_matches('/').to_owned();
            let valid = !namespace.is_empty()
                && namespace.split('/').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
                });
            if !valid {
                return Err(BackendError::new(
                    &config,
                    format!(
                        "{var}=`{}` is not a namespace",
                        secret_core::text::escape_control(&text)
                    ),
                )
                .with_help("a namespace is a path of ASCII letters, digits, `-`, `_` and `.`, separated by `/`"));
            }
            if config.namespace.as_deref() != Some(namespace.as_str()) {
                config.namespace = Some(namespace);
                namespace_from = Some(var);
            }
        }
        let address = Address::parse(&config.address).map_err(|why| {
            BackendError::new(&config, format!("`address` is not a server address: {why}"))
        })?;
        let proxy = proxy_for(&address, vars);
        Ok(Self {
            config,
            address_from,
            namespace_from,
            proxy,
        })
    }

    /// `OpenBao at http://127.0.0.1:8200`, with `(VAULT_ADDR)` when the address came
    /// from a variable.
    pub fn describe(&self) -> String {
        match self.address_from {
            Some(var) => format!("{} ({var})", self.config.describe()),
            None => self.config.describe(),
        }
    }

    /// A warning when the token would travel in clear text: `http://` to a host that is
    /// not this machine.
    pub fn plain_http_warning(&self) -> Option<String> {
        let var = self.address_from?;
        let address = Address::parse(&self.config.address).ok()?;
        (!address.tls && !address.is_loopback()).then(|| {
            format!(
                "{var}=`{}` is plain http to another machine: the token and every value cross the network unencrypted; use https://",
                self.config.address
            )
        })
    }

    /// A note when a variable replaced `address` or `namespace` of `[backend]`, for the
    /// CLI to show before it connects.
    pub fn override_note(&self, original: &BackendConfig) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(var) = self.address_from {
            parts.push(format!(
                "{var} ({}) replaces `address = \"{}\"`",
                self.config.address, original.address
            ));
        }
        if let Some(var) = self.namespace_from {
            parts.push(format!(
                "{var} ({}) replaces {}",
                self.config.namespace.as_deref().unwrap_or(""),
                match &original.namespace {
                    Some(namespace) => format!("`namespace = \"{namespace}\"`"),
                    None => "no namespace".to_owned(),
                }
            ));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "{}:{}: {}",
                original.config.display(),
                original.line,
                parts.join("; ")
            )
        })
    }
}

/// The proxy for requests to `address`, as Go's `ProxyFromEnvironment` picks it:
/// `HTTPS_PROXY` for `https://`, `HTTP_PROXY` for `http://` (upper case first), none for
/// `localhost` and loopback addresses, none for a host `NO_PROXY` lists.
pub(crate) fn proxy_for(address: &Address, vars: Vars<'_>) -> Option<Proxy> {
    if address.is_loopback() {
        return None;
    }
    let names: &[&'static str] = if address.tls {
        &["HTTPS_PROXY", "https_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy"]
    };
    let (text, var) = first(vars, names)?;
    if let Some((no_proxy, _)) = first(vars, &["NO_PROXY", "no_proxy"])
        && excluded(address, &no_proxy)
    {
        return None;
    }
    let url = if text.contains("://") {
        text
    } else {
        format!("http://{text}")
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
    let (userinfo, host) = match rest.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, rest),
    };
    let password = userinfo
        .and_then(|userinfo| userinfo.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .filter(|password| !password.is_empty());
    let shown = format!("{scheme}://{}", host.trim_end_matches('/'));
    Some(Proxy {
        url,
        shown,
        var,
        password,
    })
}

/// Whether `NO_PROXY` (`no_proxy`) exempts `address`: `*`; an IP address or CIDR block;
/// a domain, which matches itself and its subdomains (`.example.com` its subdomains
/// only); each optionally with `:port`.
fn excluded(address: &Address, no_proxy: &str) -> bool {
    let host = address.host.to_ascii_lowercase();
    let port = address.port.unwrap_or(if address.tls { 443 } else { 80 });
    let ip = host.parse::<IpAddr>().ok();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            if let Some((net, bits)) = entry.split_once('/') {
                return match (ip, net.parse::<IpAddr>(), bits.parse::<u32>()) {
                    (Some(ip), Ok(net), Ok(bits)) => in_block(ip, net, bits),
                    _ => false,
                };
            }
            let (name, entry_port) = split_port(&entry);
            if entry_port.is_some_and(|entry_port| entry_port != port) {
                return false;
            }
            if let Ok(entry_ip) = name.parse::<IpAddr>() {
                return ip == Some(entry_ip);
            }
            let name = name.strip_prefix('*').unwrap_or(name);
            match name.strip_prefix('.') {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == name || host.ends_with(&format!(".{name}")),
            }
        })
}

/// `host:port` split; `[v6]:port` and a bare IPv6 address too.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    if entry.matches(':').count() == 1 {
        let (host, port) = entry.split_once(':').unwrap_or((entry, ""));
        return (host, port.parse().ok());
    }
    (entry, None)
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;

    fn config(table: &str) -> BackendConfig {
        secret_core::Config::parse(
            Path::new("/ws/secrets.toml"),
            &format!("[backend]\nkind = \"openbao\"\n{table}"),
        )
        .unwrap()
        .backend
        .unwrap()
    }

    fn settings(table: &str, vars: &[(&str, &str)]) -> Result<Settings, BackendError> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        Settings::resolve(&config(table), &|name| vars.get(name).cloned())
    }

    // Regression test: `VAULT_ADDR` was silently ignored.
    #[test]
    fn vault_addr_replaces_the_address_and_says_so() {
        let table = "address = \"https://bao.example.com:8200\"\n";
        let s = settings(table, &[("VAULT_ADDR", "http://127.0.0.1:8200/")]).unwrap();
        assert_eq!(s.config.address, "http://127.0.0.1:8200");
        assert_eq!(
            s.describe(),
            "OpenBao at http://127.0.0.1:8200 (VAULT_ADDR)"
        );
        let note = s.override_note(&config(table)).unwrap();
        assert_eq!(
            note,
            "/ws/secrets.toml:1: VAULT_ADDR (http://127.0.0.1:8200) replaces `address = \"https://bao.example.com:8200\"`"
        );
        assert_eq!(s.plain_http_warning(), None);
        let s = settings(table, &[("VAULT_ADDR", "http://10.0.0.1:8200")]).unwrap();
        assert!(
            s.plain_http_warning()
                .unwrap()
                .starts_with("VAULT_ADDR=`http://10.0.0.1:8200` is plain http")
        );
        let s = settings(table, &[("BAO_ADDR", "https://bao.example.com:8200")]).unwrap();
        assert_eq!(
            (s.address_from, s.override_note(&config(table))),
            (None, None)
        );
        let error =
            settings(table, &[("VAULT_ADDR", "http://localhost:8200@evil:8200")]).unwrap_err();
        assert!(
            error
                .message
                .contains("VAULT_ADDR=`http://localhost:8200@evil:8200` is not a server address"),
            "{error}"
        );
        let s = settings(table, &[("VAULT_NAMESPACE", "team-a/")]).unwrap();
        assert_eq!(s.config.namespace.as_deref(), Some("team-a"));
        assert_eq!(s.namespace_from, Some("VAULT_NAMESPACE"));
        assert!(settings(table, &[("VAULT_NAMESPACE", "a b")]).is_err());
    }

    // Regression test: with `http_proxy` set, a 127.0.0.1 server was reached through the
    // proxy.
    #[test]
    fn proxies_as_go_picks_them_and_never_for_this_machine() {
        let proxy = |address: &str, vars: &[(&str, &str)]| {
            settings(&format!("address = \"{address}\"\n"), vars)
                .unwrap()
                .proxy
                .map(|p| (p.shown, p.var))
        };
        let all = [
            ("http_proxy", "http://u:pw@proxy:3128"),
            ("HTTPS_PROXY", "sproxy:3129"),
        ];
        for local in [
            "http://127.0.0.1:8200",
            "http://localhost:1",
            "https://[::1]:8200",
            "http://127.8.0.1",
        ] {
            assert_eq!(proxy(local, &all), None, "{local}");
        }
        assert_eq!(
            proxy("http://vault.internal:8200", &all),
            Some(("http://proxy:3128".to_owned(), "http_proxy"))
        );
        assert_eq!(
            proxy("https://vault.internal:8200", &all),
            Some(("http://sproxy:3129".to_owned(), "HTTPS_PROXY"))
        );
        let with = |no_proxy: &str| {
            let vars = [("http_proxy", "http://proxy:3128"), ("NO_PROXY", no_proxy)];
            proxy("http://vault.corp.example:8200", &vars).is_none()
        };
        for exempt in [
            "*",
            "corp.example",
            ".corp.example",
            "vault.corp.example:8200",
            "x, *.example",
        ] {
            assert!(with(exempt), "{exempt}");
        }
        for not in [
            "vault.corp.example:1",
            "other.example",
            "ault.corp.example",
            "10.0.0.0/8",
        ] {
            assert!(!with(not), "{not}");
        }
        let vars = [
            ("http_proxy", "http://proxy:3128"),
            ("no_proxy", "10.0.0.0/8"),
        ];
        assert_eq!(proxy("http://10.1.2.3:8200", &vars), None);
        assert!(proxy("http://11.1.2.3:8200", &vars).is_some());
        let password = settings(
            "address = \"http://vault.internal:8200\"\n",
            &[("http_proxy", "http://u:pw@proxy:3128")],
        )
        .unwrap()
        .proxy
        .unwrap()
        .password;
        assert_eq!(password.as_deref(), Some("pw"));
    }
}
