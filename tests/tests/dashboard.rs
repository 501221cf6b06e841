//! The dashboard, `cargo xtask secret ui`, run as a real process. Raw HTTP for the guard
//! and the attacks (so a test controls every header); headless Chromium through
//! chromedriver for what a user meets in a browser (`dashboard/in_chromium.rs`). No value
//! may show up in a page's source, a URL or the server's output.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver`; `.ci/run` installs
//! them and runs them (`--ignored`), where a missing browser fails them.

mod in_chromium;

use std::sync::mpsc::channel;
use std::time::Duration;

use crate::dashboard_support::{Dashboard, token_of, workspace};
use crate::store_support::ok;
use serde_json::{Value, json};

/// Values the tests set: none may appear anywhere but in the store (encrypted) and in
/// the answer to a reveal.
const PROD: &str = "zq9-PROD-value-Kx3";
const DEV_LOCAL: &str = "zq9-DEVLOCAL-value-Pw8";
const LOCAL: &str = "zq9-LOCAL-value-Tt5";
const STAGING: &str = "zq9-STAGING-value-Hh2";
const PREVIEW: &str = "zq9-PREVIEW-value-Mm6";
const ALL: [&str; 5] = [PROD, DEV_LOCAL, LOCAL, STAGING, PREVIEW];

#[test]
fn the_guard_refuses_without_a_session_a_foreign_host_and_cross_origin_changes() {
    let ws = workspace();
    let mut ui = Dashboard::start(&ws);
    let mut heads = Vec::new();

    // The page's shell is public and holds nothing of the workspace.
    let shell = ui.get("/", &[]);
    assert_eq!(shell.status, 200, "{shell:?}");
    assert!(!shell.body.contains("ApiKey"), "{}", shell.body);
    assert!(shell.body.contains("name=\"viewport\""), "{}", shell.body);
    assert!(!shell.body.contains("<script>"), "no inline script");
    assert!(
        shell
            .head
            .contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{}",
        shell.head
    );
    assert_eq!(shell.header("x-dashboard-instance"), None, "{}", shell.head);
    heads.push(shell.head);

    // Without a session, or with one this server never gave: refused, nothing shown.
    for session in [None, Some("00112233445566778899aabbccddeeff")] {
        let headers: Vec<(&str, &str)> = session
            .map(|session| ("X-Dashboard-Session", session))
            .into_iter()
            .collect();
        let refused = ui.get("/api/state?since=", &headers);
        assert_eq!(refused.status, 401, "{refused:?}");
        assert!(refused.body.contains("refused"), "{refused:?}");
        assert!(!refused.body.contains("ApiKey"), "{refused:?}");
        assert_eq!(refused.header("x-dashboard-instance"), None, "{refused:?}");
        heads.push(refused.head);
    }

    // DNS rebinding: a foreign Host is refused on every path, and the link's token is not
    // spent by it.
    let link = ui.link();
    let token = token_of(&link).to_owned();
    assert_eq!(token.len(), 32, "128 bits in hex: {link}");
    let foreign = format!("attacker.example:{}", ui.port);
    for path in ["/", "/js/app.js", "/api/state?since="] {
        let rebound = ui.get(path, &[("Host", &foreign)]);
        assert_eq!(rebound.status, 421, "{path}: {rebound:?}");
    }
    let rebound = ui.post(
        "/api/session",
        &[("Host", &foreign), ("Origin", &format!("http://{foreign}"))],
        &json!({ "token": token }),
    );
    assert_eq!(rebound.status, 421, "{rebound:?}");

    // A token sent from another origin (another loopback port is another origin), or with
    // no origin at all: refused.
    let other_port = format!("http://127.0.0.1:{}", ui.port.wrapping_add(1).max(1));
    for origin in [
        Some(other_port.as_str()),
        Some("http://attacker.example"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = origin
            .map(|origin| ("Origin", origin))
            .into_iter()
            .collect();
        let refused = ui.post("/api/session", &headers, &json!({ "token": token }));
        assert_eq!(refused.status, 403, "{origin:?}: {refused:?}");
    }

    // The page's own request: a session, which is not the token, and this start's identity.
    let traded = ui.post(
        "/api/session",
        &[("Origin", &ui.origin())],
        &json!({ "token": token }),
    );
    assert_eq!(traded.status, 200, "{traded:?}");
    let answer = traded.json();
    let session = answer["session"].as_str().unwrap().to_owned();
    let instance = answer["instance"].as_str().unwrap().to_owned();
    assert_eq!((session.len(), instance.len()), (32, 32), "{answer}");
    assert!(session != token && instance != token && session != instance);
    heads.push(traded.head);

    // With the session: the state, no caching, and this start's identity on the answer.
    let state = ui.get("/api/state?since=", &[("X-Dashboard-Session", &session)]);
    assert_eq!(state.status, 200, "{state:?}");
    assert!(state.json()["rows"].to_string().contains("ApiKey"));
    assert_eq!(
        state.header("x-dashboard-instance"),
        Some(instance.as_str())
    );
    assert!(
        state.head.contains("cache-control: no-store"),
        "{}",
        state.head
    );
    heads.push(state.head);

    // A change needs the session and this origin; each refusal leaves the store untouched.
    let body = json!({ "name": "ApiKey", "types": ["prod"], "value": PROD });
    let origin = ui.origin();
    let attempts: [&[(&str, &str)]; 6] = [
        &[("Origin", &origin)],
        &[
            ("Origin", &origin),
            ("X-Dashboard-Session", "00112233445566778899aabbccddeeff"),
        ],
        &[("X-Dashboard-Session", &session)],
        &[
            ("X-Dashboard-Session", &session),
            ("Origin", "http://attacker.example"),
        ],
        &[("X-Dashboard-Session", &session), ("Origin", &other_port)],
        &[("X-Dashboard-Session", &session), ("Origin", "null")],
    ];
    for headers in attempts {
        let refused = ui.post("/api/set", headers, &body);
        assert!(
            matches!(refused.status, 401 | 403),
            "{headers:?}: {refused:?}"
        );
        assert!(refused.body.contains("refused"), "{refused:?}");
        assert!(!ws.store_path().exists(), "{headers:?} wrote the store");
        heads.push(refused.head);
    }
    // A body that is not JSON (a form, `text/plain`): refused.
    let all = [
        ("Origin", origin.as_str()),
        ("X-Dashboard-Session", session.as_str()),
    ];
    let plain = ui.post_raw("/api/set", &all, "text/plain", &body.to_string());
    assert_eq!(plain.status, 415, "{plain:?}");
    assert!(!ws.store_path().exists());

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
    let get = ui.get("/api/reveal", &[("X-Dashboard-Session", &session)]);
    assert_eq!(get.status, 405, "{get:?}");

    // No answer set a cookie: there is nothing ambient to steal.
    for head in heads {
        assert!(!head.contains("set-cookie"), "{head}");
    }
    assert!(!ui.output().contains(PROD), "{}", ui.output());
}

#[test]
fn a_used_or_unknown_link_token_is_refused() {
    let ws = workspace();
    let mut ui = Dashboard::start(&ws);
    let origin = ui.origin();
    let link = ui.link();
    let token = token_of(&link);
    let trade = |token: &str| {
        ui.post(
            "/api/session",
            &[("Origin", &origin)],
            &json!({ "token": token }),
        )
    };

    let first = trade(token);
    assert_eq!(first.status, 200, "{first:?}");
    let session = first.json()["session"].as_str().unwrap().to_owned();

    // Used: refused, with the way to a new link; the form the launcher posts is refused too.
    let again = trade(token);
    assert_eq!(again.status, 410, "{again:?}");
    let why = again.json()["error"].as_str().unwrap().to_owned();
    assert!(why.contains("used already"), "{why}");
    assert!(why.contains("press Enter in the terminal"), "{why}");
    let form = ui.post_raw(
        "/open",
        &[("Origin", "null")],
        "application/x-www-form-urlencoded",
        &format!("token={token}"),
    );
    assert_eq!(form.status, 410, "{form:?}");
    assert!(!form.body.contains("handoff\" content=\""), "{form:?}");

    // Unknown: refused as not this dashboard's.
    let unknown = trade("00112233445566778899aabbccddeeff");
    assert_eq!(unknown.status, 403, "{unknown:?}");
    assert!(unknown.body.contains("not this dashboard's"), "{unknown:?}");

    // The first session still works; a new link (Enter in the terminal) makes another.
    let second = ui.session();
    assert_ne!(second.session, session);
    for session in [&session, &second.session] {
        let state = ui.get("/api/state?since=", &[("X-Dashboard-Session", session)]);
        assert_eq!(state.status, 200, "{state:?}");
    }
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

    let mut ui = Dashboard::start(&ws);
    let session = ui.session();
    let state = ui.state(&session, "").json();
    let envs: Vec<&str> = state["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|env| env["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        envs,
        ["production", "development", "preview", "local", "staging"]
    );
    let keys = state["keys"].as_array().unwrap();
    let row = |name: &str| -> Value {
        state["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };
    let cell = |name: &str, env: &str| -> Value {
        row(name)["cells"][envs.iter().position(|e| *e == env).unwrap()].clone()
    };
    // The value behind a set cell, with what the check knows of it.
    let value = |name: &str, env: &str| -> Value {
        let index = cell(name, env)[1].as_u64().unwrap() as usize;
        row(name)["values"][index].clone()
    };
    let badges = |name: &str, env: &str| value(name, env)["badges"].to_string();

    // The last change to secrets.toml is not signed: values are judged by the signed rules,
    // under which Bob reads neither production nor local yet (the finding names the change).
    assert_eq!(cell("ApiKey", "production")[0], "set");
    assert!(!badges("ApiKey", "production").contains("missing recipient"));
    assert!(badges("DbPassword", "development").contains("rotation due"));
    assert!(
        badges("DbPassword", "staging").contains("rotation due"),
        "staging is development"
    );
    let legacy = badges("Legacy", "local");
    assert!(!legacy.contains("stale recipient"), "{legacy}");
    assert_eq!(cell("ApiKey", "preview"), json!(["missing", "error"]));
    assert_eq!(cell("ApiKey", "local"), json!(["missing", "warning"]));
    assert_eq!(
        row("Legacy")["declared"],
        false,
        "stored, but no code declares it"
    );
    assert_eq!(cell("Legacy", "production"), json!(["none"]));
    assert_eq!(
        row("ApiKey")["description"],
        "The payment provider's API key"
    );
    assert_eq!(row("ApiKey")["places"], json!(["app/src/main.rs:2"]));
    // Who can read each value: production is encrypted to Alice only (until a rekey).
    let readers: Vec<&str> = value("ApiKey", "production")["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|index| keys[index.as_u64().unwrap() as usize].as_str().unwrap())
        .collect();
    assert_eq!(readers, [alice_public.as_str()]);
    assert_eq!(state["identity"]["keys"], json!([alice_public]));
    // The findings, with their codes; a missing value is a cell, not a finding.
    let codes = state["findings"].to_string();
    for code in ["unsigned-rules", "rotation-due"] {
        assert!(codes.contains(&format!("\"{code}\"")), "{code}: {codes}");
    }
    assert!(!codes.contains("missing-secret"), "{codes}");
    assert!(state["errors"].as_u64().unwrap() > 0);
    let text = state.to_string();
    for value in ALL {
        assert!(!text.contains(value), "{value} in the state");
    }
}

#[test]
fn a_busy_port_is_named_with_how_to_pick_another() {
    let ws = workspace();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = ws.secret(&["ui", "--port", &port, "--no-open"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains(&format!("error: cannot listen on 127.0.0.1:{port}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "help: another program (or another dashboard) uses port {port}: pick another with `--port N`, or leave `--port` out for any free port"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn the_browser_is_opened_on_a_private_file_and_no_command_line_carries_a_token() {
    let ws = workspace();
    let dir = tempfile::tempdir().unwrap();
    let argv = dir.path().join("argv");
    let opener = dir.path().join("browser.sh");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}.tmp'\nmv '{0}.tmp' '{0}'\n",
            argv.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let ui = Dashboard::start_with(
        &ws,
        &["--port", "0"],
        &[("BROWSER", opener.to_str().unwrap())],
    );
    let started = std::time::Instant::now();
    while !argv.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no browser opened: {}",
            ui.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // One argument: a file in a folder of its own under XDG_RUNTIME_DIR.
    let args = std::fs::read_to_string(&argv).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 1, "{args:?}");
    let file = std::path::PathBuf::from(args[0]);
    assert!(
        file.starts_with(ui.runtime_dir.path()),
        "{}",
        file.display()
    );
    let html = std::fs::read_to_string(&file).unwrap();
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 32, "{html}");
    assert!(
        !args[0].contains(&token),
        "the token is on the command line: {args:?}"
    );
    assert!(
        html.contains(&format!("action=\"{}/open\"", ui.base)),
        "{html}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
    // Neither in the output: the terminal says the browser was opened.
    let output = ui.output();
    assert!(!output.contains(&token), "{output}");
    assert!(output.contains("opened in your browser"), "{output}");
    assert!(!output.contains("#token="), "{output}");

    // The file's form (a local file posts with `Origin: null`): the page with the session
    // to keep; the file and its folder are gone; the token is spent.
    let form = ui.post_raw(
        "/open",
        &[("Origin", "null")],
        "application/x-www-form-urlencoded",
        &format!("token={token}"),
    );
    assert_eq!(form.status, 200, "{form:?}");
    let handoff = form
        .body
        .split("<meta name=\"handoff\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (session, instance) = handoff.split_once(' ').unwrap();
    assert!(
        !file.exists() && !file.parent().unwrap().exists(),
        "the launcher stayed"
    );
    let again = ui.post_raw(
        "/open",
        &[("Origin", "null")],
        "application/x-www-form-urlencoded",
        &format!("token={token}"),
    );
    assert_eq!(again.status, 410, "{again:?}");
    let state = ui.get("/api/state?since=", &[("X-Dashboard-Session", session)]);
    assert_eq!(state.status, 200, "{state:?}");
    assert_eq!(state.header("x-dashboard-instance"), Some(instance));
}

#[test]
fn local_override_files_change_the_state_a_waiting_page_gets() {
    // Regression test: `.secrets.local.toml` changed the grid but not the fingerprint the
    // page polled, so an open page never showed an override.
    let ws = workspace();
    let mut ui = Dashboard::start(&ws);
    let session = ui.session();
    let first = ui.state(&session, "").json();
    let version = first["version"].as_str().unwrap().to_owned();
    let local = first["environments"]
        .as_array()
        .unwrap()
        .iter()
        .position(|env| env["name"] == "local")
        .unwrap();
    let (send, receive) = channel();
    std::thread::scope(|scope| {
        // A page's request for changes, waiting.
        scope.spawn(|| send.send(ui.state(&session, &version)).unwrap());
        std::thread::sleep(Duration::from_millis(300));
        ws.write(".secrets.local.toml", &format!("ApiKey = \"{LOCAL}\"\n"));
        let changed = receive
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
            .json();
        assert_ne!(changed["version"], version, "{changed}");
        let row = changed["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["name"] == "ApiKey")
            .unwrap();
        assert_eq!(row["cells"][local], json!(["override"]), "{row}");
        assert!(
            !changed.to_string().contains(LOCAL),
            "the override's value is not shown"
        );
    });
}

#[test]
fn a_write_waiting_on_the_store_lock_does_not_stall_a_reveal() {
    // Regression test: one set waiting on the store's lock froze every request (4.4 s,
    // up to 10 s), reveals and page loads included.
    let ws = workspace();
    ok(&ws.secret(&["set", "--type", "prod", "ApiKey"], PROD));
    let mut ui = Dashboard::start_with(
        &ws,
        &["--port", "0", "--no-open"],
        &[("SECRETS_LOCK_TIMEOUT", "120")],
    );
    let session = ui.session();
    let (held, release) = (channel(), channel::<()>());
    let (set_done, set_answer) = channel();
    std::thread::scope(|scope| {
        let root = ws.root().to_owned();
        let (held_send, release_receive) = (held.0, release.1);
        scope.spawn(move || {
            secret_core::Store::update(&root, |_| {
                held_send.send(()).unwrap();
                // Released by the test, or after two minutes when it failed.
                let _ = release_receive.recv_timeout(Duration::from_secs(120));
                Ok::<_, secret_core::FileError>(())
            })
            .unwrap();
        });
        held.1.recv().unwrap();
        // A set, which waits for the lock.
        scope.spawn(|| {
            let answer = ui.api(
                &session,
                "/api/set",
                &json!({ "name": "DbPassword", "types": ["dev"], "value": DEV_LOCAL }),
            );
            set_done.send(answer).unwrap();
        });
        std::thread::sleep(Duration::from_millis(500));
        // Meanwhile: a reveal and the page's state are answered; the set still waits.
        let revealed = ui.api(
            &session,
            "/api/reveal",
            &json!({ "name": "ApiKey", "scope": "type:production" }),
        );
        assert_eq!(revealed.status, 200, "{revealed:?}");
        assert_eq!(revealed.json()["value"], PROD);
        assert_eq!(ui.state(&session, "").status, 200);
        assert!(
            set_answer.try_recv().is_err(),
            "the set did not wait for the lock"
        );
        let _ = release.0.send(());
        let set = set_answer.recv_timeout(Duration::from_secs(60)).unwrap();
        assert_eq!(set.status, 200, "{set:?}");
    });
}

#[test]
fn a_move_goes_ahead_only_for_the_values_the_page_showed() {
    // Regression test: after a conflict, Move sent whatever the form then held with no new
    // check, so a value typed for one secret moved another secret's values.
    let ws = workspace();
    ok(&ws.secret(&["set", "--type", "dev,local", "ApiKey"], DEV_LOCAL));
    let before = ws.store_bytes();
    let mut ui = Dashboard::start(&ws);
    let session = ui.session();
    let set = |extra: Value| {
        let mut body = json!({ "name": "ApiKey", "types": ["local"], "value": LOCAL });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ui.api(&session, "/api/set", &body)
    };

    // The conflict, with what a move would do.
    let checked = ui.api(
        &session,
        "/api/preflight",
        &json!({ "name": "ApiKey", "types": ["local"] }),
    );
    assert_eq!(checked.status, 409, "{checked:?}");
    let answer = checked.json();
    assert_eq!(answer["field"], "scope");
    assert_eq!(
        answer["conflict"]["others"],
        json!(["type:development,local"])
    );
    assert_eq!(
        answer["conflict"]["moves"],
        json!([{ "from": "development, local", "to": "development" }])
    );
    assert_eq!(
        answer["error"],
        "ApiKey already has a value for development, local"
    );

    // A move that does not name the values it narrows, or names others: refused.
    for extra in [
        json!({}),
        json!({ "move": true }),
        json!({ "move": true, "expect": ["type:production"] }),
        json!({ "move": true, "expect": [] }),
    ] {
        let refused = set(extra.clone());
        assert_eq!(refused.status, 409, "{extra}: {refused:?}");
        assert_eq!(
            refused.json()["conflict"]["others"],
            json!(["type:development,local"])
        );
        assert_eq!(ws.store_bytes(), before, "{extra} changed the store");
    }
    let moved = set(json!({ "move": true, "expect": ["type:development,local"] }));
    assert_eq!(moved.status, 200, "{moved:?}");
    assert!(
        moved.json()["message"].as_str().unwrap().contains(
            "moved: the other value of ApiKey now covers development (was development, local)"
        ),
        "{moved:?}"
    );
}

#[test]
fn each_problem_names_the_field_it_concerns_and_a_new_name_gets_a_suggestion() {
    let ws = workspace();
    let mut ui = Dashboard::start(&ws);
    let session = ui.session();
    let check = |body: Value| ui.api(&session, "/api/preflight", &body);

    let bad_name = check(json!({ "name": "1ApiKey", "types": ["prod"] }));
    assert_eq!(
        (bad_name.status, bad_name.json()["field"].clone()),
        (400, json!("name"))
    );
    assert!(bad_name.body.contains("starts with"), "{bad_name:?}");
    let no_scope = check(json!({ "name": "ApiKey" }));
    assert_eq!(
        (no_scope.status, no_scope.json()["field"].clone()),
        (400, json!("scope"))
    );
    let both = check(json!({ "name": "ApiKey", "types": ["prod"], "envs": ["staging"] }));
    assert_eq!(both.json()["field"], "scope");
    let empty = ui.api(
        &session,
        "/api/set",
        &json!({ "name": "ApiKey", "types": ["prod"], "value": "" }),
    );
    assert_eq!(
        (empty.status, empty.json()["field"].clone()),
        (422, json!("value"))
    );

    // A declared name; a new one, with the declared name it is closest to.
    let known = check(json!({ "name": "ApiKey", "types": ["prod"] })).json();
    assert_eq!(
        known,
        json!({ "ok": true, "undeclared": false, "suggestion": null })
    );
    let typo = check(json!({ "name": "ApiKye", "types": ["prod"] })).json();
    assert_eq!(
        typo,
        json!({ "ok": true, "undeclared": true, "suggestion": "ApiKey" })
    );
    assert!(!ws.store_path().exists());
}
