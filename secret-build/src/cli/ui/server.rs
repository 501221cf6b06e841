//! The dashboard's HTTP server: the guard every request passes (Host, Origin, the session
//! header, security headers, this start's identity on every answer to a session) and the
//! routes. The page's shell, scripts and style are public and hold nothing of the
//! workspace; everything else needs a session (see [`super::auth`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Json, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Auth, INSTANCE_HEADER, Refusal, SESSION_HEADER};
use super::watch::Watch;
use super::{api, launch};

/// The page's shell, script (ES modules) and style, served from the binary (no third-party
/// assets).
const INDEX_HTML: &str = include_str!("index.html");
const SCRIPTS: [(&str, &str); 6] = [
    ("/js/app.js", include_str!("js/app.js")),
    ("/js/dom.js", include_str!("js/dom.js")),
    ("/js/model.js", include_str!("js/model.js")),
    ("/js/session.js", include_str!("js/session.js")),
    ("/js/grid.js", include_str!("js/grid.js")),
    ("/js/editor.js", include_str!("js/editor.js")),
];
const APP_CSS: &str = include_str!("app.css");
const ICON_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
    <rect width=\"32\" height=\"32\" rx=\"7\" fill=\"#2457d6\"/>\
    <circle cx=\"11\" cy=\"16\" r=\"5\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\"/>\
    <path d=\"M16 16h11M23 16v4M27 16v3\" stroke=\"#fff\" stroke-width=\"3\" stroke-linecap=\"round\"/></svg>";

/// The placeholder in `index.html` that the answer to the launcher's form fills.
const HANDOFF: &str = "<meta name=\"handoff\" content=\"\">";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// How long a page's request for changes waits before answering "unchanged".
const POLL_WAIT: Duration = Duration::from_secs(25);

/// How often the files are looked at while a page waits for changes.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The environment variables the dashboard reads (the identity), copied at start.
pub(super) struct Vars(BTreeMap<String, OsString>);

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Vars {
    const NAMES: [&'static str; 3] = [
        secret_core::identity::IDENTITY_VAR,
        secret_core::identity::IDENTITY_KEY_VAR,
        "HOME",
    ];

    pub(super) fn snapshot(vars: &dyn Fn(&str) -> Option<OsString>) -> Self {
        Self(
            Self::NAMES
                .iter()
                .filter_map(|name| vars(name).map(|value| ((*name).to_owned(), value)))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<OsString> {
        self.0.get(name).cloned()
    }
}

/// A bound, not yet serving dashboard.
pub(super) struct Server {
    listener: tokio::net::TcpListener,
    runtime: tokio::runtime::Runtime,
    ui: Arc<Ui>,
}

/// What every request is checked against, and the workspace it works on.
pub(super) struct Ui {
    pub(super) root: PathBuf,
    pub(super) vars: Arc<Vars>,
    port: u16,
    pub(super) auth: Auth,
    pub(super) watch: Watch,
    /// Where launcher files go.
    launchers: PathBuf,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: any free port), draws this start's identity and
    /// computes the first state.
    pub(super) fn bind(
        root: PathBuf,
        port: u16,
        vars: Vars,
        launchers: PathBuf,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let vars = Arc::new(vars);
        let watch_vars = vars.clone();
        let ui = Ui {
            watch: Watch::new(root.clone(), Box::new(move |name| watch_vars.get(name))),
            root,
            vars,
            port,
            auth: Auth::new()?,
            launchers,
        };
        // The first page load then only sends it.
        ui.watch.current();
        Ok(Self {
            listener,
            runtime,
            ui: Arc::new(ui),
        })
    }

    /// What the command needs while the server runs: links, launchers.
    pub(super) fn ui(&self) -> Arc<Ui> {
        self.ui.clone()
    }

    /// Serves until the process is stopped.
    pub(super) fn run(self) -> std::io::Result<()> {
        let Self {
            listener,
            runtime,
            ui,
        } = self;
        runtime.block_on(async move {
            tokio::spawn(watch_files(ui.clone()));
            axum::serve(listener, router(ui)).await
        })
    }
}

impl Ui {
    /// `http://127.0.0.1:PORT`.
    pub(super) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new one-time link: the token is in the fragment, which the browser never sends.
    pub(super) fn link(&self) -> std::io::Result<String> {
        let token = self.auth.issue(Instant::now())?;
        Ok(format!("{}/#token={token}", self.base()))
    }

    /// A new launcher file (see [`launch`]) for a new one-time token.
    pub(super) fn launcher(&self) -> std::io::Result<PathBuf> {
        let token = self.auth.issue(Instant::now())?;
        let file = launch::write(&self.launchers, &self.base(), &token)?;
        self.auth.attach_file(&token, file.clone());
        Ok(file)
    }

    /// Removes the launcher files not used yet (when the dashboard stops).
    pub(super) fn remove_launchers(&self) {
        for file in self.auth.files() {
            launch::remove(&file);
        }
    }

    /// The environment the handlers read the identity from.
    pub(super) fn vars(&self) -> impl Fn(&str) -> Option<OsString> + '_ {
        |name| self.vars.get(name)
    }
}

/// While a page waits for changes: looks at the files and computes the new state. Also
/// removes the launcher files of expired tokens.
async fn watch_files(ui: Arc<Ui>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        for file in ui.auth.expire(Instant::now()) {
            launch::remove(&file);
        }
        if ui.watch.watched() {
            let ui = ui.clone();
            let _ = tokio::task::spawn_blocking(move || ui.watch.current()).await;
        }
    }
}

fn router(ui: Arc<Ui>) -> Router {
    let mut router = Router::new();
    for (path, script) in SCRIPTS {
        router = router.route(
            path,
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    script,
                )
            }),
        );
    }
    router
        .route("/", get(index))
        .route("/app.css", get(app_css))
        .route("/icon.svg", get(icon))
        .route("/open", post(open))
        .route("/api/session", post(session))
        .route("/api/state", get(state))
        .route("/api/preflight", post(api::preflight))
        .route("/api/set", post(api::set))
        .route("/api/unset", post(api::unset))
        .route("/api/reveal", post(api::reveal))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn_with_state(ui.clone(), guard))
        .with_state(ui)
}

/// What a path needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The shell, scripts and style: nothing of the workspace.
    Public,
    /// Trading a link token for a session: the token is the credential.
    Trade,
    /// Everything else: a session.
    Session,
}

fn access(path: &str) -> Access {
    match path {
        "/" | "/app.css" | "/icon.svg" | "/favicon.ico" => Access::Public,
        _ if path.starts_with("/js/") => Access::Public,
        "/open" | "/api/session" => Access::Trade,
        _ => Access::Session,
    }
}

impl Ui {
    /// Checks a request; `Ok(true)` when it carries a session of this server start.
    fn admit(&self, request: &Request, access: Access) -> Result<bool, (StatusCode, &'static str)> {
        let headers = request.headers();
        let host = header_text(headers, header::HOST.as_str());
        let hosts = [
            format!("127.0.0.1:{}", self.port),
            format!("localhost:{}", self.port),
        ];
        if !hosts.iter().any(|allowed| Some(allowed.as_str()) == host) {
            return Err((
                StatusCode::MISDIRECTED_REQUEST,
                "refused: the Host header does not name this dashboard (127.0.0.1 or localhost and its port)",
            ));
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let origin = header_text(headers, header::ORIGIN.as_str());
            let own = [
                format!("http://127.0.0.1:{}", self.port),
                format!("http://localhost:{}", self.port),
            ];
            let allowed = own.iter().any(|allowed| Some(allowed.as_str()) == origin)
                // The launcher is a local file: its form posts with `Origin: null`.
                || (request.uri().path() == "/open" && matches!(origin, None | Some("null")));
            if !allowed {
                return Err((
                    StatusCode::FORBIDDEN,
                    "refused: a change must come from the dashboard's own page (Origin)",
                ));
            }
        }
        if access != Access::Session {
            return Ok(false);
        }
        let session = header_text(headers, SESSION_HEADER).unwrap_or_default();
        if session.is_empty() || !self.auth.knows(session) {
            return Err((
                StatusCode::UNAUTHORIZED,
                "refused: no session of this dashboard; open the link `cargo xtask secret ui` printed",
            ));
        }
        Ok(true)
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

async fn guard(State(ui): State<Arc<Ui>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = match ui.admit(&request, access(request.uri().path())) {
        Ok(session) => {
            let mut response = next.run(request).await;
            // Only a session holder learns this start's identity, so no other process can
            // answer a tab in its name.
            if session && let Ok(value) = HeaderValue::from_str(ui.auth.instance()) {
                response.headers_mut().insert(INSTANCE_HEADER, value);
            }
            response
        }
        Err((status, why)) if api => {
            (status, Json(json!({ "ok": false, "error": why }))).into_response()
        }
        Err((status, why)) => (status, why).into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn index() -> Response {
    html_response(INDEX_HTML.to_owned())
}

async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON_SVG).into_response()
}

fn html_response(html: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    token: String,
}

/// Trades `token` for a session; removes its launcher file.
fn trade(ui: &Ui, token: &str) -> Result<String, Refusal> {
    let traded = ui.auth.trade(token, Instant::now())?;
    if let Some(file) = traded.file {
        launch::remove(&file);
    }
    Ok(traded.session)
}

fn refusal_status(refusal: Refusal) -> StatusCode {
    match refusal {
        Refusal::Unknown => StatusCode::FORBIDDEN,
        Refusal::Used | Refusal::Expired => StatusCode::GONE,
    }
}

/// The launcher's form: the shell, with the session for the page to keep and a redirect to
/// `/` (so a reload does not post the spent token again).
async fn open(State(ui): State<Arc<Ui>>, Form(form): Form<TokenForm>) -> Response {
    match trade(&ui, &form.token) {
        Ok(session) => {
            // Both are hex.
            let handoff = format!(
                "<meta name=\"handoff\" content=\"{session} {}\">",
                ui.auth.instance()
            );
            html_response(INDEX_HTML.replacen(HANDOFF, &handoff, 1))
        }
        Err(refusal) => (refusal_status(refusal), refusal.message()).into_response(),
    }
}

/// The printed link: the page sends the token from the fragment and keeps the session.
async fn session(State(ui): State<Arc<Ui>>, Json(form): Json<TokenForm>) -> Response {
    match trade(&ui, &form.token) {
        Ok(session) => Json(json!({
            "ok": true,
            "session": session,
            "instance": ui.auth.instance(),
        }))
        .into_response(),
        Err(refusal) => (
            refusal_status(refusal),
            Json(json!({ "ok": false, "error": refusal.message() })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: String,
}

/// The page's state: at once when it differs from `since`, else when it changes (or after
/// [`POLL_WAIT`], as "unchanged"). A page has one such request open at all times, so it
/// learns at once when the server stops.
async fn state(State(ui): State<Arc<Ui>>, Query(since): Query<Since>) -> Response {
    let mut receiver = ui.watch.subscribe();
    let computing = ui.clone();
    let current = match tokio::task::spawn_blocking(move || computing.watch.current()).await {
        Ok(current) => current,
        Err(_) => ui.watch.last(),
    };
    // Anything newer that arrived meanwhile counts too.
    let latest = receiver.borrow_and_update().clone();
    let newest = if latest.version != current.version {
        latest
    } else {
        current
    };
    if newest.version != since.since {
        return json_bytes(newest.json.clone());
    }
    match tokio::time::timeout(POLL_WAIT, receiver.changed()).await {
        Ok(Ok(())) => json_bytes(receiver.borrow().json.clone()),
        _ => Json(json!({ "unchanged": true, "version": since.since })).into_response(),
    }
}

fn json_bytes(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Runs `work` on a thread of the blocking pool, so a request that waits (for the store's
/// lock, a slow disk) never holds up another.
pub(super) async fn blocking(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "ok": false, "error": "the dashboard failed on this request" })),
        )
            .into_response()
    })
}
