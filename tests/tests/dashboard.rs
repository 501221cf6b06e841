//! The dashboard, `cargo xtask secret ui`, run as a real process: its guard over raw HTTP
//! (token, Host, Origin, CSRF token, headers), and the whole flow in headless Chromium
//! driven through WebDriver (grid, set, conflict and move, live updates, reveal, unset),
//! checking that no value shows up in a page's source, a URL or the server's output.
//!
//! The browser test needs Debian's `chromium` and `chromium-driver`; `.ci/run` installs
//! them and runs it (`--ignored`), where a missing browser fails it.

mod store_support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use store_support::{Ws, ok};

/// Values the tests set: none may appear anywhere but in the store (encrypted) and in
/// the answer to a reveal.
const PROD: &str = "zq9-PROD-value-Kx3";
const DEV_LOCAL: &str = "zq9-DEVLOCAL-value-Pw8";
const LOCAL: &str = "zq9-LOCAL-value-Tt5";
const STAGING: &str = "zq9-STAGING-value-Hh2";
const PREVIEW: &str = "zq9-PREVIEW-value-Mm6";
const ALL: [&str; 5] = [PROD, DEV_LOCAL, LOCAL, STAGING, PREVIEW];

/// A workspace declaring `ApiKey` (with a doc comment) and `DbPassword`, one key that
/// reads and writes every type, and a named environment `staging`.
fn workspace() -> Ws {
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

/// `secret ui` running in the background, its output collected.
struct Dashboard {
    child: Child,
    url: String,
    base: String,
    port: u16,
    output: Arc<Mutex<String>>,
}

impl Dashboard {
    fn start(ws: &Ws) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_secret-cli"));
        command
            .args(["secret", "ui", "--port", "0", "--no-open", "--workspace"])
            .arg(ws.root())
            .env_remove("SECRETS_IDENTITY_KEY")
            .env_remove("BROWSER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &ws.vars {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let output = Arc::new(Mutex::new(first.clone()));
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in the first line: {first:?}"))
            .to_owned();
        let base = url.split("/?").next().unwrap().to_owned();
        let port = base.rsplit(':').next().unwrap().parse().unwrap();
        let stderr = child.stderr.take().unwrap();
        for mut stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            });
        }
        Self {
            child,
            url,
            base,
            port,
            output,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// One raw HTTP/1.1 request, so the test controls every header (`Host` included).
    fn http(&self, request: &str) -> Response {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        Response {
            status,
            head: head.to_ascii_lowercase(),
            body: body.to_owned(),
        }
    }

    fn get(&self, path: &str, host: &str, cookie: Option<&str>) -> Response {
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        self.http(&format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n"
        ))
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
        let body = body.to_string();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        self.http(&format!("{head}\r\n{body}"))
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    /// The status line and headers, lowercased.
    head: String,
    body: String,
}

#[test]
fn the_guard_refuses_no_token_a_foreign_host_and_cross_origin_changes() {
    let ws = workspace();
    let ui = Dashboard::start(&ws);
    let host = format!("127.0.0.1:{}", ui.port);

    // No token, a wrong token: refused, nothing of the workspace shown.
    let none = ui.get("/", &host, None);
    assert_eq!(none.status, 401, "{none:?}");
    assert!(none.body.contains("open the URL"), "{none:?}");
    assert!(!none.body.contains("ApiKey"), "{none:?}");
    let wrong = ui.get("/?token=00112233445566778899aabbccddeeff", &host, None);
    assert_eq!(wrong.status, 403, "{wrong:?}");
    assert!(!wrong.head.contains("set-cookie"), "{wrong:?}");

    // The right token under a foreign Host (DNS rebinding): refused, no cookie.
    let token_path = &ui.url[ui.base.len()..];
    let token = token_path.trim_start_matches("/?token=");
    assert_eq!(token.len(), 32, "128 bits in hex: {}", ui.url);
    let rebound = ui.get(token_path, &format!("attacker.example:{}", ui.port), None);
    assert_eq!(rebound.status, 421, "{rebound:?}");
    assert!(!rebound.head.contains("set-cookie"), "{rebound:?}");

    // The printed URL: a session cookie, HttpOnly and SameSite=Strict, and a redirect to
    // the URL without the token.
    let exchange = ui.get(token_path, &host, None);
    assert_eq!(exchange.status, 303, "{exchange:?}");
    assert!(
        exchange.head.contains("\r\nlocation: /\r\n"),
        "{exchange:?}"
    );
    let cookie_line = exchange
        .head
        .lines()
        .find(|line| line.starts_with("set-cookie: "))
        .expect("a session cookie");
    assert!(
        cookie_line.contains("; httponly; samesite=strict; path=/"),
        "{cookie_line}"
    );
    let cookie = cookie_line["set-cookie: ".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains(token), "the cookie is not the URL's token");

    // With the cookie: the page, with a strict CSP and no caching; a foreign Host is still
    // refused.
    let page = ui.get("/", &host, Some(&cookie));
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("ApiKey"), "{}", page.body);
    assert!(
        page.head
            .contains("content-security-policy: default-src 'none'; script-src 'self'")
    );
    assert!(
        page.head.contains("cache-control: no-store"),
        "{}",
        page.head
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    let foreign = ui.get(
        "/",
        &format!("localhost.attacker.example:{}", ui.port),
        Some(&cookie),
    );
    assert_eq!(foreign.status, 421, "{foreign:?}");
    let csrf = page
        .body
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();

    // A change needs the cookie, this origin and the CSRF token; each refusal leaves the
    // store untouched.
    let body = json!({ "name": "ApiKey", "types": ["prod"], "value": PROD });
    let origin = format!("http://127.0.0.1:{}", ui.port);
    let attempts = [
        vec![("Origin", origin.as_str()), ("X-CSRF-Token", csrf.as_str())],
        vec![("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())],
        vec![
            ("Cookie", cookie.as_str()),
            ("Origin", "http://attacker.example"),
            ("X-CSRF-Token", csrf.as_str()),
        ],
        vec![("Cookie", cookie.as_str()), ("Origin", origin.as_str())],
        vec![
            ("Cookie", cookie.as_str()),
            ("Origin", origin.as_str()),
            ("X-CSRF-Token", "00112233445566778899aabbccddeeff"),
        ],
    ];
    for headers in &attempts {
        let refused = ui.post("/api/set", headers, &body);
        assert!(
            matches!(refused.status, 401 | 403),
            "{headers:?}: {refused:?}"
        );
        assert!(refused.body.contains("refused"), "{refused:?}");
        assert!(!ws.store_path().exists(), "{headers:?} wrote the store");
    }
    let all = [
        ("Cookie", cookie.as_str()),
        ("Origin", origin.as_str()),
        ("X-CSRF-Token", csrf.as_str()),
    ];
    let done = ui.post("/api/set", &all, &body);
    assert_eq!(done.status, 200, "{done:?}");
    assert!(done.body.contains("set ApiKey for production"), "{done:?}");
    assert!(!done.body.contains(PROD), "{done:?}");
    let store = String::from_utf8(ws.store_bytes()).unwrap();
    assert!(store.contains("ApiKey") && !store.contains(PROD), "{store}");

    // Reveal: the value, not cached.
    let revealed = ui.post(
        "/api/reveal",
        &all,
        &json!({ "name": "ApiKey", "scope": "type:production" }),
    );
    assert_eq!(revealed.status, 200, "{revealed:?}");
    assert!(revealed.body.contains(PROD), "{revealed:?}");
    assert!(
        revealed.head.contains("cache-control: no-store"),
        "{revealed:?}"
    );
    // A GET of an API route is not a way around the checks.
    assert_eq!(ui.get("/api/reveal", &host, Some(&cookie)).status, 405);

    assert!(!ui.output().contains(PROD), "{}", ui.output());
}

/// The cell of `name` for `env` in a page's HTML.
fn cell_html<'a>(page: &'a str, name: &str, env: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"cell-{name}-{env}\""))
        .unwrap_or_else(|| panic!("no cell {name} {env}"));
    let rest = &page[start..];
    &rest[..rest.find("</td>").unwrap()]
}

/// The stored value of `name` for `scope` in a page's HTML.
fn value_html<'a>(page: &'a str, name: &str, scope: &str) -> &'a str {
    let row = &page[page.find(&format!("id=\"row-{name}\"")).unwrap()..];
    let start = row
        .find(&format!("data-scope=\"{scope}\""))
        .unwrap_or_else(|| panic!("no value {name} {scope}"));
    let rest = &row[start..];
    &rest[..rest.find("</li>").unwrap()]
}

#[test]
fn the_grid_shows_the_states_the_check_knows() {
    let ws = workspace();
    let bob = ws.key("bob");
    let alice_public = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    let alice_public = alice_public.split('"').nth(3).unwrap().to_owned();
    assert!(alice_public.starts_with("age1"), "{alice_public}");
    ok(&ws.secret(&["set", "--type", "prod", "ApiKey"], PROD));
    ok(&ws.secret(&["set", "--type", "local", "Legacy"], LOCAL));
    ok(&ws.secret(&["set", "--type", "dev", "DbPassword"], DEV_LOCAL));
    // Development gains Bob, then loses him after `rekey` (he could read the value:
    // rotation due); then Bob may read production (its value is not encrypted to him yet),
    // and local moves to Bob alone (Alice's value is stale and no longer hers to write).
    let config = |production: &str, development: &str, local: &str| {
        ws.config(
            "staging = \"development\"",
            &format!(
                "production = [{production}]\ndevelopment = [{development}]\npreview = [\"{alice_public}\"]\nlocal = [{local}]"
            ),
        )
    };
    let a = format!("\"{alice_public}\"");
    let both = format!("\"{alice_public}\", \"{}\"", bob.public);
    config(&a, &both, &a);
    ok(&ws.secret(&["rekey", "--yes"], ""));
    config(&a, &a, &a);
    ok(&ws.secret(&["rekey", "--yes"], ""));
    config(&both, &a, &format!("\"{}\"", bob.public));

    let ui = Dashboard::start(&ws);
    let host = format!("127.0.0.1:{}", ui.port);
    let exchange = ui.get(&ui.url[ui.base.len()..], &host, None);
    let cookie = exchange
        .head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = ui.get("/", &host, Some(&cookie)).body;

    // The last change to secrets.toml is not signed: the page lists it, and the values are
    // judged by the signed rules, under which Bob reads neither production nor local yet.
    let unsigned = &page[page.find("unsigned-rules").unwrap()..];
    assert!(
        unsigned.contains(&format!("+ recipient production {}", bob.public)),
        "{unsigned}"
    );
    assert!(!cell_html(&page, "ApiKey", "production").contains("missing recipient"));
    assert!(cell_html(&page, "DbPassword", "development").contains("rotation due"));
    let legacy = cell_html(&page, "Legacy", "local");
    assert!(!legacy.contains("stale recipient"), "{legacy}");
    assert!(cell_html(&page, "ApiKey", "preview").contains("class=\"missing error\""));
    assert!(cell_html(&page, "ApiKey", "local").contains("class=\"missing warning\""));
    let row = &page[page.find("id=\"row-Legacy\"").unwrap()..];
    assert!(
        row[..row.find("</th>").unwrap()].contains(">unused</span>"),
        "{row}"
    );
    // Who can read each value: production is encrypted to Alice only (until a rekey).
    let production = value_html(&page, "ApiKey", "type:production");
    assert!(
        production.contains(&format!("title=\"{alice_public}\"")),
        "{production}"
    );
    assert!(
        !production.contains(&format!("title=\"{}\"", bob.public)),
        "{production}"
    );
    assert!(
        production.contains("(you)") && production.contains("Reveal"),
        "{production}"
    );
    // The findings, with their codes.
    for code in ["unsigned-rules", "rotation-due"] {
        assert!(page.contains(&format!("<code>{code}</code>")), "{code}");
    }
}

// ---- the browser ------------------------------------------------------------------------

/// A WebDriver session on headless Chromium, through chromedriver on a loopback port. A
/// few JSON calls over `ureq` (already a dependency) instead of an async WebDriver crate.
struct Browser {
    agent: ureq::Agent,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    fn start() -> Self {
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            panic!(
                "the dashboard's browser test needs Chromium and chromedriver on PATH \
                 (Debian: `apt-get install chromium chromium-driver`; .ci/run installs them)"
            );
        };
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut browser = Self {
            agent,
            base,
            session: String::new(),
            driver,
            _profile: profile,
        };
        let session = browser.call(
            "POST",
            "/session",
            Some(json!({ "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": chromium, "args": args },
            }}})),
        );
        browser.session = session["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    /// A WebDriver command; returns its `value`, panics with the driver's error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// A WebDriver command; returns its `value`, or the driver's error.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut response = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            None if method == "DELETE" => self.agent.delete(&url).call(),
            None => self.agent.get(&url).call(),
        }
        .map_err(|error| error.to_string())?;
        let text = response
            .body_mut()
            .with_config()
            .limit(50 << 20)
            .read_to_string()
            .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        if !response.status().is_success() {
            return Err(value["value"].to_string());
        }
        Ok(value["value"].clone())
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn source(&self) -> String {
        self.command("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Evaluates `script` (a function body) in the page.
    fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Waits (up to 10 s) until `css` matches an element; returns its WebDriver id.
    fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self.eval(&format!(
                "return document.querySelector({}) !== null;",
                json!(css)
            ));
            if found == json!(true) {
                let element = self.command(
                    "POST",
                    "/element",
                    Some(json!({ "using": "css selector", "value": css })),
                );
                return element[ELEMENT].as_str().unwrap().to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element matches {css}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs an element command on what `css` matches; when the page redrew the element in
    /// between (the grid refreshes itself every second), finds it again and retries.
    fn on_element(&self, css: &str, action: &str, body: Value) {
        for _ in 0..20 {
            let id = self.find(css);
            let path = format!("/session/{}/element/{id}/{action}", self.session);
            match self.try_call("POST", &path, Some(body.clone())) {
                Ok(_) => return,
                Err(error) if error.contains("stale element reference") => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(error) => panic!("POST {path}: {error}"),
            }
        }
        panic!("{css} kept being redrawn before it could be used");
    }

    fn click(&self, css: &str) {
        self.on_element(css, "click", json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        self.on_element(css, "value", json!({ "text": text }));
    }

    /// The text of `css` (`innerText`, or "" when nothing matches).
    fn text(&self, css: &str) -> String {
        let value = self.eval(&format!(
            "const e = document.querySelector({}); return e ? e.innerText : '';",
            json!(css)
        ));
        value.as_str().unwrap_or_default().trim().to_owned()
    }

    /// Waits (up to 10 s) until the text of `css` is `want`.
    fn wait_text(&self, css: &str, want: &str) {
        let started = Instant::now();
        loop {
            let text = self.text(css);
            if text == want {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{css}: {text:?}, expected {want:?}; message: {:?}",
                self.text("#message")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn visible(&self, css: &str) -> bool {
        self.eval(&format!(
            "const e = document.querySelector({}); return !!e && !e.hidden;",
            json!(css)
        )) == json!(true)
    }

    fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let data = self.command("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The first cell text of a cell is its state; `small` names the value's scope.
fn cell(name: &str, env: &str) -> String {
    format!("#cell-{name}-{env} button")
}

fn scope_of(name: &str, env: &str) -> String {
    format!("#cell-{name}-{env} small")
}

#[test]
#[ignore = "needs chromium and chromium-driver: .ci/run runs it with --ignored"]
fn dashboard_in_chromium() {
    let ws = workspace();
    let ui = Dashboard::start(&ws);
    let browser = Browser::start();
    let mut urls = Vec::new();

    // Without the token: refused.
    browser.goto(&format!("{}/", ui.base));
    assert!(
        browser.source().contains("refused: no session"),
        "{}",
        browser.source()
    );

    // The printed URL: the grid, on the URL without the token.
    browser.goto(&ui.url);
    assert_eq!(browser.url(), format!("{}/", ui.base));
    browser.wait_text(&cell("ApiKey", "production"), "missing");
    assert!(
        browser
            .text("#row-ApiKey")
            .contains("The payment provider's API key")
    );
    assert!(browser.text("#row-ApiKey").contains("app/src/main.rs:2"));
    let class = browser.eval("return document.getElementById('cell-ApiKey-production').className;");
    assert_eq!(class, json!("missing error"));
    let class = browser.eval("return document.getElementById('cell-ApiKey-local').className;");
    assert_eq!(
        class,
        json!("missing warning"),
        "missing for local is a warning"
    );

    // Setting a value through the form: missing becomes set.
    browser.click(&cell("ApiKey", "production"));
    assert_eq!(
        browser.eval("return document.getElementById('name').value;"),
        json!("ApiKey")
    );
    browser.type_into("#value", PROD);
    browser.click("#set-button");
    browser.wait_text(&cell("ApiKey", "production"), "set");
    assert!(
        browser
            .text("#message")
            .starts_with("set ApiKey for production")
    );
    assert_eq!(
        browser.eval("return document.getElementById('value').value;"),
        json!("")
    );
    urls.push(browser.url());

    // One value for development and local, then local alone: a conflict naming the other
    // value's scope, and the move that narrows it.
    browser.click(&cell("ApiKey", "development"));
    browser.click("#type-local");
    browser.type_into("#value", DEV_LOCAL);
    browser.click("#set-button");
    browser.wait_text(&scope_of("ApiKey", "local"), "development, local");
    browser.click(&cell("ApiKey", "local"));
    browser.type_into("#value", LOCAL);
    browser.click("#set-button");
    let started = Instant::now();
    while !browser.visible("#conflict") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no conflict shown: {}",
            browser.text("#message")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        browser
            .text("#conflict-text")
            .contains("already has a value for development, local"),
        "{}",
        browser.text("#conflict-text")
    );
    assert!(
        browser.text("#message").starts_with("error: "),
        "{}",
        browser.text("#message")
    );
    assert_eq!(
        browser.text(&scope_of("ApiKey", "local")),
        "development, local",
        "nothing changed yet"
    );
    browser.click("#move-button");
    browser.wait_text(&scope_of("ApiKey", "local"), "local");
    browser.wait_text(&scope_of("ApiKey", "development"), "development");
    assert!(
        browser.text("#message").contains(
            "moved: the other value of ApiKey now covers development (was development, local)"
        ),
        "{}",
        browser.text("#message")
    );

    // A named environment.
    browser.click(&cell("ApiKey", "staging"));
    browser.type_into("#value", STAGING);
    browser.click("#set-button");
    browser.wait_text(&scope_of("ApiKey", "staging"), "env staging");

    // Live: a value set by the CLI shows up without a reload.
    let marker = browser.eval("window.notReloaded = true; return true;");
    assert_eq!(marker, json!(true));
    ok(&ws.secret(&["set", "--type", "preview", "DbPassword"], PREVIEW));
    browser.wait_text(&cell("DbPassword", "preview"), "set");
    assert_eq!(
        browser.eval("return window.notReloaded === true;"),
        json!(true)
    );

    // The grid, for docs/dashboard.md.
    browser.eval("document.activeElement.blur(); window.scrollTo(0, 0); return true;");
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // The page's source so far holds no value.
    let source = browser.source();
    for value in ALL {
        assert!(!source.contains(value), "{value} in the page source");
    }

    // Reveal, on an explicit click only; hidden again on the second.
    let reveal = "#row-ApiKey li[data-scope=\"type:production\"] button[data-action=reveal]";
    let output = "#row-ApiKey li[data-scope=\"type:production\"] output";
    assert_eq!(browser.text(output), "");
    browser.click(reveal);
    browser.wait_text(output, PROD);
    browser.click(reveal);
    browser.wait_text(output, "");

    // Unset (a second click confirms): the cell is missing again.
    let unset = "#row-ApiKey li[data-scope=\"type:local\"] button[data-action=unset]";
    browser.click(unset);
    browser.wait_text(unset, "Click again to unset");
    browser.click(unset);
    browser.wait_text(&cell("ApiKey", "local"), "missing");
    assert_eq!(
        browser.text(&scope_of("ApiKey", "development")),
        "development"
    );
    urls.push(browser.url());

    // A forged cross-site POST from another page in the same browser (the classic CSRF
    // form, JSON smuggled in a text/plain body): refused, the store untouched.
    let before = ws.store_bytes();
    browser.goto("about:blank");
    browser.eval(&format!(
        "const f = document.createElement('form'); f.method = 'POST'; \
         f.action = '{}/api/unset'; f.enctype = 'text/plain'; \
         const i = document.createElement('input'); \
         i.name = '{{\"name\":\"ApiKey\",\"scope\":\"type:production\",\"x\":\"'; i.value = '\"}}'; \
         f.appendChild(i); document.body.appendChild(f); f.submit(); return true;",
        ui.base
    ));
    let started = Instant::now();
    while !browser.source().contains("refused") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            browser.source()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        ws.store_bytes(),
        before,
        "a cross-site POST changed the store"
    );

    // No value in a fresh page's source, in any URL, or in the server's output.
    browser.goto(&format!("{}/", ui.base));
    browser.wait_text(&cell("ApiKey", "production"), "set");
    let source = browser.source();
    let output = ui.output();
    urls.push(browser.url());
    for value in ALL {
        assert!(!source.contains(value), "{value} in the page source");
        assert!(
            !output.contains(value),
            "{value} in the server's output: {output}"
        );
        assert!(
            !urls.iter().any(|url| url.contains(value)),
            "{value} in {urls:?}"
        );
    }
}
