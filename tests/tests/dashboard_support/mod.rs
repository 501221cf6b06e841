//! Helpers for the dashboard tests: `secret ui` as a real process (its output, new links
//! through its stdin, raw HTTP requests that control every header), small HTTP listeners
//! that stand for other local programs, and the workspaces the tests open.
#![allow(dead_code, unreachable_pub)]

pub mod browser;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::store_support::Ws;

/// `secret ui` running in the background.
pub struct Dashboard {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Mutex<Receiver<String>>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub port: u16,
    /// The link printed at start (`--no-open`), until [`Dashboard::link`] hands it out.
    first_link: Option<String>,
    output: Arc<Mutex<String>>,
    /// Where launcher files go (`XDG_RUNTIME_DIR`).
    pub runtime_dir: tempfile::TempDir,
}

impl Dashboard {
    /// `secret ui --port 0 --no-open` on `ws`.
    pub fn start(ws: &Ws) -> Self {
        Self::start_with(ws, &["--port", "0", "--no-open"], &[])
    }

    /// `secret ui ARGS` on `ws` with `env` added; waits for the line naming its address.
    pub fn start_with(ws: &Ws, args: &[&str], env: &[(&str, &str)]) -> Self {
        let runtime_dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_secret-cli"));
        command
            .args(["secret", "ui"])
            .args(args)
            .arg("--workspace")
            .arg(ws.root())
            .env_remove("SECRETS_IDENTITY_KEY")
            .env_remove("BROWSER")
            .env("XDG_RUNTIME_DIR", runtime_dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &ws.vars {
            command.env(name, value);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let (send, lines) = channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in stdout.lines().map_while(Result::ok) {
                    output.lock().unwrap().push_str(&format!("{line}\n"));
                    let _ = send.send(line);
                }
            });
        }
        let mut stderr = child.stderr.take().unwrap();
        {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            });
        }
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the dashboard did not start: {}", output.lock().unwrap()));
        let base = first
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the first line: {first:?}"))
            .to_owned();
        let port = base.rsplit(':').next().unwrap().parse().unwrap();
        let mut dashboard = Self {
            stdin: child.stdin.take(),
            child,
            lines: Mutex::new(lines),
            base,
            port,
            first_link: None,
            output,
            runtime_dir,
        };
        if args.contains(&"--no-open") {
            dashboard.first_link = Some(dashboard.next_link());
        }
        dashboard
    }

    fn next_link(&mut self) -> String {
        loop {
            let line = self
                .lines
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no link printed: {}", self.output()));
            if let Some(link) = line
                .split_whitespace()
                .find(|word| word.starts_with("http://") && word.contains("/#token="))
            {
                return link.to_owned();
            }
        }
    }

    /// A one-time link: the one printed at start, then a new one per line on stdin.
    pub fn link(&mut self) -> String {
        if let Some(link) = self.first_link.take() {
            return link;
        }
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
        self.next_link()
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Stops the process (SIGKILL) and waits for it; the port is free afterwards.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `Host` as a browser sends it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `Origin` as the dashboard's own page sends it.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    /// One raw HTTP/1.1 request, so the test controls every header (`Host` included).
    pub fn http(&self, request: &str) -> Response {
        http(self.port, request)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut head = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("Host: {}\r\n", self.host()));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        self.http(&format!("{head}\r\n"))
    }

    /// A JSON POST with `Host` (unless given) and the given headers.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
        self.post_raw(path, headers, "application/json", &body.to_string())
    }

    pub fn post_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &str,
    ) -> Response {
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            head.push_str(&format!("Host: {}\r\n", self.host()));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        self.http(&format!("{head}\r\n{body}"))
    }

    /// Trades a new link for a session, as the page does; returns the session and this
    /// start's identity.
    pub fn session(&mut self) -> Session {
        let link = self.link();
        let answer = self.post(
            "/api/session",
            &[("Origin", &self.origin())],
            &json!({ "token": token_of(&link) }),
        );
        assert_eq!(answer.status, 200, "{answer:?}");
        let body = answer.json();
        Session {
            session: body["session"].as_str().unwrap().to_owned(),
            instance: body["instance"].as_str().unwrap().to_owned(),
        }
    }

    /// An API request with a session, as the page sends it.
    pub fn api(&self, session: &Session, path: &str, body: &Value) -> Response {
        self.post(
            path,
            &[
                ("Origin", &self.origin()),
                ("X-Dashboard-Session", &session.session),
            ],
            body,
        )
    }

    /// The state (at once when it differs from `since`, else when it changes).
    pub fn state(&self, session: &Session, since: &str) -> Response {
        self.get(
            &format!("/api/state?since={since}"),
            &[("X-Dashboard-Session", &session.session)],
        )
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A session of the dashboard, as a tab holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub session: String,
    pub instance: String,
}

/// The token of a printed link.
pub fn token_of(link: &str) -> &str {
    link.split("/#token=").nth(1).expect("a link with a token")
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The status line and headers, lowercased.
    pub head: String,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }

    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
    }
}

/// One raw HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`); decodes a chunked
/// body.
pub fn http(port: u16, request: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Longer than a page's request for changes waits (25 s): an answer that never comes
    // fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    if let Err(error) = stream.read_to_end(&mut bytes) {
        panic!(
            "no answer to {}: {error}",
            request.lines().next().unwrap_or_default()
        );
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let head = head.to_ascii_lowercase();
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response { status, head, body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A local HTTP server standing for another program on this machine: answers every request
/// with `answer(request)` and keeps every request it received, whole.
pub struct Listener {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    /// Binds 127.0.0.1:`port` (0: any free port).
    pub fn start(
        port: u16,
        answer: impl Fn(&str) -> (u16, &'static str, String) + Send + Sync + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        {
            let received = received.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().map_while(Result::ok) {
                    let received = received.clone();
                    let answer = answer.clone();
                    std::thread::spawn(move || serve(stream, &received, &*answer));
                }
            });
        }
        Ok(Self { port, received })
    }

    /// Everything received so far (each request's head and body).
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(
    mut stream: TcpStream,
    received: &Mutex<Vec<String>>,
    answer: &dyn Fn(&str) -> (u16, &'static str, String),
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // A request is whole once its head and `Content-Length` bytes of body arrived.
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                received.lock().unwrap().push(text.clone());
                let (status, content_type, body) = answer(&text);
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => {
                if !buffer.is_empty() {
                    received.lock().unwrap().push(text);
                }
                return;
            }
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A workspace declaring `ApiKey` (with a doc comment) and `DbPassword`, one key that
/// reads and writes every type, and a named environment `staging`.
pub fn workspace() -> Ws {
    let mut ws = Ws::new();
    ws.with_app(
        "/// The payment provider's API key\nstatic API_KEY: Secret = secret!(\"ApiKey\");\n\
         /// The database password\nstatic DB: Secret = secret!(\"DbPassword\");\nfn main() {}\n",
    );
    let key = ws.key("alice");
    ws.use_key(&key);
    ws.config(
        "staging = \"development\"",
        &format!(
            "production = [\"{0}\"]\ndevelopment = [\"{0}\"]\npreview = [\"{0}\"]\nlocal = [\"{0}\"]",
            key.public
        ),
    );
    ws
}
