//! A WebDriver session on headless Chromium, through chromedriver on a loopback port: a
//! few JSON calls over `ureq` (already a dependency) instead of an async WebDriver crate.
//! The viewport is set through Chromium's device metrics, so a screenshot is exactly the
//! page at that size.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Browser {
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
    /// A new browser with a fresh profile and a 1280x800 viewport.
    pub fn start() -> Self {
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            panic!(
                "the dashboard's browser tests need Chromium and chromedriver on PATH \
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
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
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
                "goog:loggingPrefs": { "browser": "ALL" },
            }}})),
        );
        browser.session = session["sessionId"].as_str().unwrap().to_owned();
        browser.viewport(1280, 800, 1.0, false);
        browser
    }

    /// A WebDriver command; returns its `value`, panics with the driver's error.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// A WebDriver command; returns its `value`, or the driver's error.
    pub fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
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

    pub fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// The viewport's size in CSS pixels, its pixel ratio, and whether it is a phone's.
    pub fn viewport(&self, width: u32, height: u32, scale: f64, mobile: bool) {
        self.command(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile,
                }}),
            ),
        );
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn back(&self) {
        self.command("POST", "/back", Some(json!({})));
    }

    pub fn source(&self) -> String {
        self.command("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The cookies the browser would send to the current page.
    pub fn cookies(&self) -> Value {
        self.command("GET", "/cookie", None)
    }

    /// Opens a new tab and switches to it; returns its handle.
    pub fn new_tab(&self) -> String {
        let tab = self.command("POST", "/window/new", Some(json!({ "type": "tab" })));
        let handle = tab["handle"].as_str().unwrap().to_owned();
        self.switch_to(&handle);
        handle
    }

    pub fn tab(&self) -> String {
        self.command("GET", "/window", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn switch_to(&self, handle: &str) {
        self.command("POST", "/window", Some(json!({ "handle": handle })));
    }

    /// What the page logged (errors included), as text.
    pub fn console(&self) -> String {
        self.try_call(
            "POST",
            &format!("/session/{}/se/log", self.session),
            Some(json!({ "type": "browser" })),
        )
        .map(|value| value.to_string())
        .unwrap_or_default()
    }

    /// Evaluates `script` (a function body) in the page.
    pub fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Waits (up to 20 s) until `script` returns something truthy; returns it.
    pub fn wait_for(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.eval(script);
            if !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0)
            {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "waited in vain for {what}; message: {:?}; errors: {:?}; console: {}",
                self.text("#message"),
                self.text("#form-error"),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 20 s) until `css` matches an element; returns its WebDriver id.
    pub fn find(&self, css: &str) -> String {
        self.wait_for(
            css,
            &format!("return document.querySelector({}) !== null;", json!(css)),
        );
        let element = self.command(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        element[ELEMENT].as_str().unwrap().to_owned()
    }

    /// Runs an element command on what `css` matches; when the page redrew the element in
    /// between, finds it again and retries.
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

    pub fn click(&self, css: &str) {
        self.on_element(css, "click", json!({}));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        self.on_element(css, "value", json!({ "text": text }));
    }

    pub fn clear(&self, css: &str) {
        self.on_element(css, "clear", json!({}));
    }

    /// The text of `css` (`textContent`, trimmed; "" when nothing matches).
    pub fn text(&self, css: &str) -> String {
        let value = self.eval(&format!(
            "const e = document.querySelector({}); return e ? e.textContent : '';",
            json!(css)
        ));
        value.as_str().unwrap_or_default().trim().to_owned()
    }

    /// Waits (up to 20 s) until the text of `css` is `want`.
    pub fn wait_text(&self, css: &str, want: &str) {
        self.wait_for(
            &format!("{css} to read {want:?} (it reads {:?})", self.text(css)),
            &format!(
                "const e = document.querySelector({}); return !!e && e.textContent.trim() === {};",
                json!(css),
                json!(want)
            ),
        );
    }

    /// Waits (up to 20 s) until the text of `css` contains `want`.
    pub fn wait_contains(&self, css: &str, want: &str) -> String {
        self.wait_for(
            &format!("{css} to contain {want:?} (it reads {:?})", self.text(css)),
            &format!(
                "const e = document.querySelector({}); return !!e && e.textContent.includes({}) && e.textContent;",
                json!(css),
                json!(want)
            ),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub fn visible(&self, css: &str) -> bool {
        self.eval(&format!(
            "const e = document.querySelector({}); return !!e && e.getClientRects().length > 0;",
            json!(css)
        )) == json!(true)
    }

    /// Waits until the page shows a state (its grid is built and laid out).
    pub fn wait_ready(&self) {
        self.wait_for(
            "the dashboard to show its grid",
            "return document.body.dataset.ready === 'yes';",
        );
    }

    /// The CSS selector of the grid's cell button for `name` in environment `env`.
    pub fn cell(&self, name: &str, env: &str) -> String {
        let column = self.wait_for(
            &format!("a column {env}"),
            &format!(
                "const i = [...document.querySelectorAll('#grid-head [data-env]')].findIndex(e => e.dataset.env === {}); return i >= 0 && i + 2;",
                json!(env)
            ),
        );
        format!("#row-{name} > :nth-child({column}) button")
    }

    /// The class of the cell of `name` in `env` (`cell set`, `cell missing error`, ...).
    pub fn cell_class(&self, name: &str, env: &str) -> String {
        let css = self.cell(name, env);
        self.eval(&format!(
            "const e = document.querySelector({}); return e ? e.className : '';",
            json!(css)
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits until the cell of `name` in `env` has class `state` (`set`, `missing`, ...).
    pub fn wait_cell(&self, name: &str, env: &str, state: &str) {
        let css = self.cell(name, env);
        self.wait_for(
            &format!(
                "{name} for {env} to be {state} (it is {:?})",
                self.cell_class(name, env)
            ),
            &format!(
                "const e = document.querySelector({}); return !!e && e.classList.contains({});",
                json!(css),
                json!(state)
            ),
        );
    }

    /// Moves the pointer to (`x`, `y`) in the viewport (off the element it hovered).
    pub fn move_pointer(&self, x: u32, y: u32) {
        self.command(
            "POST",
            "/actions",
            Some(json!({ "actions": [{
                "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
                "actions": [{ "type": "pointerMove", "x": x, "y": y, "duration": 0 }],
            }]})),
        );
    }

    pub fn screenshot(&self, path: &Path) {
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
