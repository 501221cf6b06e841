//! The dashboard's HTTP server: the guard every request passes (Host, token exchange,
//! session cookie, Origin and CSRF token on state changes, security headers) and the
//! handlers, which call the same functions as the CLI commands.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::{ExposeSecret as _, SecretString};
use secret_core::{Config, Identities, Scope};
use serde::Deserialize;
use serde_json::json;

use super::page::{self, Model};
use crate::cli::{Failure, ScopeArgs, set};

/// The page's script and style, served from the binary (no third-party assets).
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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

    fn get(&self, name: &str) -> Option<OsString> {
        self.0.get(name).cloned()
    }
}

/// A bound, not yet running dashboard.
pub(super) struct Server {
    listener: std::net::TcpListener,
    ui: Arc<Ui>,
}

/// What every request is checked against, and the workspace it works on.
struct Ui {
    root: PathBuf,
    vars: Vars,
    port: u16,
    /// In the printed URL; exchanged for the session cookie.
    token: String,
    /// The session cookie's value.
    session: String,
    /// Sent by the page's script in `X-CSRF-Token` with every POST.
    csrf: String,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: any free port) and draws the tokens.
    pub(super) fn bind(root: PathBuf, port: u16, vars: Vars) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))?;
        let port = listener.local_addr()?.port();
        let ui = Ui {
            root,
            vars,
            port,
            token: random_hex()?,
            session: random_hex()?,
            csrf: random_hex()?,
        };
        Ok(Self {
            listener,
            ui: Arc::new(ui),
        })
    }

    /// The URL to open: with the token, which the first request exchanges for a cookie.
    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?token={}", self.ui.port, self.ui.token)
    }

    /// Serves until the process is stopped.
    pub(super) fn run(self) -> std::io::Result<()> {
        self.listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let ui = self.ui;
        let std_listener = self.listener;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener)?;
            axum::serve(listener, router(ui)).await
        })
    }
}

/// 128 random bits, hex.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    // `getrandom::Error` is `std::error::Error` only with getrandom's `std` feature, which a
    // build of `xtask` alone (`cargo build --release -p xtask`, as bench/run.sh does) lacks.
    getrandom::getrandom(&mut bytes).map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Compares secrets in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

fn router(ui: Arc<Ui>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/grid", get(grid))
        .route("/version", get(version))
        .route("/app.js", get(app_js))
        .route("/app.css", get(app_css))
        .route("/api/preflight", post(preflight))
        .route("/api/set", post(set_value))
        .route("/api/unset", post(unset_value))
        .route("/api/reveal", post(reveal))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::from_fn_with_state(ui.clone(), guard))
        .with_state(ui)
}

/// What the guard decided.
enum Admit {
    /// An authenticated request: handle it.
    Pass,
    /// The printed URL: set the session cookie and redirect to the URL without the token.
    Exchange,
}

impl Ui {
    fn cookie_name(&self) -> String {
        format!("secrets-ui-{}", self.port)
    }

    fn admit(&self, request: &Request) -> Result<Admit, (StatusCode, &'static str)> {
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
        if request.method() == Method::GET
            && request.uri().path() == "/"
            && let Some(token) = request
                .uri()
                .query()
                .into_iter()
                .flat_map(|query| query.split('&'))
                .find_map(|pair| pair.strip_prefix("token="))
        {
            return if same(token, &self.token) {
                Ok(Admit::Exchange)
            } else {
                Err((
                    StatusCode::FORBIDDEN,
                    "refused: this link's token is not this dashboard's; open the URL `cargo xtask secret ui` printed",
                ))
            };
        }
        let cookie_name = self.cookie_name();
        let has_session = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == cookie_name && same(value, &self.session));
        if !has_session {
            return Err((
                StatusCode::UNAUTHORIZED,
                "refused: no session; open the URL `cargo xtask secret ui` printed (with its token)",
            ));
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let origins = [
                format!("http://127.0.0.1:{}", self.port),
                format!("http://localhost:{}", self.port),
            ];
            let origin = header_text(headers, header::ORIGIN.as_str());
            if !origins
                .iter()
                .any(|allowed| Some(allowed.as_str()) == origin)
            {
                return Err((
                    StatusCode::FORBIDDEN,
                    "refused: a change must come from the dashboard's own page (Origin)",
                ));
            }
            let csrf = header_text(headers, "x-csrf-token").unwrap_or_default();
            if !same(csrf, &self.csrf) {
                return Err((
                    StatusCode::FORBIDDEN,
                    "refused: missing or wrong CSRF token; reload the page",
                ));
            }
        }
        Ok(Admit::Pass)
    }

    fn vars(&self) -> impl Fn(&str) -> Option<OsString> + '_ {
        |name| self.vars.get(name)
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

async fn guard(State(ui): State<Arc<Ui>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = match ui.admit(&request) {
        Ok(Admit::Pass) => next.run(request).await,
        Ok(Admit::Exchange) => {
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                ui.cookie_name(),
                ui.session
            );
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err((status, why)) if api => (
            status,
            Json(json!({ "ok": false, "error": why, "help": [] })),
        )
            .into_response(),
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

/// Reads what the page shows: the check's report and the identity.
fn load(ui: &Ui) -> Result<Model, Failure> {
    let vars = ui.vars();
    let config = Config::load(&ui.root)?;
    let report = crate::check::check_with(&ui.root, &crate::check::Options::default(), &vars)
        .map_err(|error| match error {
            crate::check::CheckError::File(error) => Failure::from_file(error),
            other => Failure::usage(other.to_string()),
        })?;
    let (keys, identity) = match Identities::from_vars(&vars) {
        Ok(ids) if ids.is_empty() => (
            Vec::new(),
            format!(
                "no identity in {}: you can see the grid, not set or reveal values",
                ids.source()
            ),
        ),
        Ok(ids) => (ids.public_keys().to_vec(), format!("{}", ids.source())),
        Err(error) => (Vec::new(), Failure::from(error).message),
    };
    let named_envs = config
        .environments
        .keys()
        .filter(|name| !name.contains('*'))
        .cloned()
        .collect();
    Ok(Model {
        root: ui.root.clone(),
        report,
        named_envs,
        keys,
        identity,
    })
}

async fn index(State(ui): State<Arc<Ui>>) -> Response {
    let html = page::page(&load(&ui), &ui.csrf, &fingerprint(&ui.root));
    html_response(html)
}

async fn grid(State(ui): State<Arc<Ui>>) -> Response {
    html_response(page::grid(&load(&ui)))
}

async fn version(State(ui): State<Arc<Ui>>) -> Response {
    fingerprint(&ui.root).into_response()
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response()
}

async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

fn html_response(html: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// Changes when `secrets.toml`, the store or a file the scanner reads changes (by the CLI,
/// an editor or `git checkout`): the page polls it and redraws the grid.
fn fingerprint(root: &Path) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !(name.starts_with('.') || name == "target" || name == "node_modules")
        });
    for entry in walk.flatten() {
        let name = entry.file_name().to_string_lossy();
        let watched = name.ends_with(".rs") || name == "Cargo.toml" || name.starts_with("secrets");
        if !entry.file_type().is_file() || !watched {
            continue;
        }
        entry.path().hash(&mut hasher);
        if let Ok(meta) = entry.metadata() {
            meta.len().hash(&mut hasher);
            meta.modified().ok().hash(&mut hasher);
        }
    }
    format!("{:016x}", hasher.finish())
}

/// A request to change or read one value. No `Debug`: it may hold the value.
#[derive(Deserialize)]
struct Target {
    name: String,
    /// Environment types, as `--type` takes them.
    #[serde(default)]
    types: Vec<String>,
    /// Named environments, as `--env` takes them.
    #[serde(default)]
    envs: Vec<String>,
    /// A stored value's scope key (`type:development,local`), instead of types or envs.
    #[serde(default)]
    scope: Option<String>,
    /// `set --move`.
    #[serde(default, rename = "move")]
    move_scopes: bool,
    /// The value (`set` only).
    #[serde(default)]
    value: Option<String>,
}

impl Target {
    fn scope(&self, state: &secret_core::state::State) -> Result<Scope, Failure> {
        if let Some(key) = &self.scope {
            return Scope::parse_key(key).map_err(Failure::usage);
        }
        match (self.types.is_empty(), self.envs.is_empty()) {
            (true, true) => Err(Failure::usage(
                "choose at least one environment type or named environment".to_owned(),
            )),
            (false, false) => Err(Failure::usage(
                "a value covers either types or named environments, not both".to_owned(),
            )
            .with_help("set them one after the other")),
            _ => ScopeArgs {
                types: self.types.clone(),
                envs: self.envs.clone(),
            }
            .scope(state),
        }
    }
}

/// An API answer: `{"ok": true, "message": ...}` or the failure, as the CLI words it.
fn answer(result: Result<serde_json::Value, Failure>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(failure) => failure_response(failure, None),
    }
}

fn failure_response(failure: Failure, conflict: Option<Vec<String>>) -> Response {
    let status = match (&conflict, failure.code) {
        (Some(_), _) => StatusCode::CONFLICT,
        (None, 1) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({
        "ok": false,
        "error": failure.message,
        "help": failure.help,
        "conflict": conflict,
    });
    (status, Json(body)).into_response()
}

/// What `set` checks before it asks for the value: the page asks this first, so a
/// conflict is shown (with the move) before the value leaves the browser.
async fn preflight(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    let checked = (|| {
        let (_, scope, state, ids) = prepare(&ui, &target)?;
        Ok(set::preflight(
            &state,
            &target.name,
            &scope,
            target.move_scopes,
            &ids,
        ))
    })();
    match checked {
        Ok(Ok(())) => Json(json!({ "ok": true })).into_response(),
        Ok(Err(error)) => {
            let described = match &error {
                secret_core::Error::Conflict { others, .. } => {
                    Some(others.iter().map(Scope::describe).collect())
                }
                _ => None,
            };
            failure_response(Failure::from(error), described)
        }
        Err(failure) => failure_response(failure, None),
    }
}

fn prepare(
    ui: &Ui,
    target: &Target,
) -> Result<(Config, Scope, secret_core::state::State, Identities), Failure> {
    set::check_name(&target.name)?;
    let config = Config::load(&ui.root)?;
    let state = crate::trusted::Trusted::open(&ui.root, &ui.vars())?.state;
    let scope = target.scope(&state)?;
    let ids = Identities::from_vars(ui.vars())?;
    Ok((config, scope, state, ids))
}

async fn set_value(State(ui): State<Arc<Ui>>, Json(mut target): Json<Target>) -> Response {
    let value = SecretString::from(target.value.take().unwrap_or_default());
    answer((|| {
        let (config, scope, state, ids) = prepare(&ui, &target)?;
        set::preflight(&state, &target.name, &scope, target.move_scopes, &ids)?;
        if value.expose_secret().is_empty() {
            return Err(
                Failure::data(format!("the value of {} is empty", target.name))
                    .with_help("type the value, or unset it"),
            );
        }
        let narrowed = set::write_value(
            &ui.root,
            &config,
            &target.name,
            &scope,
            &value,
            target.move_scopes,
            &ids,
        )?;
        let recipients = secret_core::rules::recipients_for(state.effective(), &scope).len();
        let mut lines = vec![format!(
            "set {} for {} (encrypted to {recipients} recipient{})",
            target.name,
            scope.describe(),
            if recipients == 1 { "" } else { "s" }
        )];
        lines.extend(set::narrowed_lines(&target.name, &narrowed));
        Ok(json!({ "ok": true, "message": lines.join("\n") }))
    })())
}

async fn unset_value(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    answer((|| {
        set::check_name(&target.name)?;
        let config = Config::load(&ui.root)?;
        let state = crate::trusted::Trusted::open(&ui.root, &ui.vars())?.state;
        let scope = target.scope(&state)?;
        let narrowed = set::unset_value(&ui.root, &config, &target.name, &scope, &ui.vars())?;
        let lines: Vec<String> = narrowed
            .iter()
            .map(|change| match &change.to {
                Some(rest) => format!(
                    "unset {} for {}; its value for {} is kept",
                    target.name,
                    scope.describe(),
                    rest.describe()
                ),
                None => format!(
                    "removed the value of {} for {}",
                    target.name,
                    change.from.describe()
                ),
            })
            .collect();
        Ok(json!({ "ok": true, "message": lines.join("\n") }))
    })())
}

/// Decrypts one value with the user's own identity, after the same signature check as
/// `reveal`; the answer is not cached (`Cache-Control: no-store`, set by the guard).
async fn reveal(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    answer((|| {
        let (_, scope, state, ids) = prepare(&ui, &target)?;
        let value = state.decrypt_slot(&target.name, &scope, &ids)?;
        Ok(json!({ "ok": true, "value": value.expose_secret() }))
    })())
}
