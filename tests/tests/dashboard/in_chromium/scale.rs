//! A workspace of 300 secrets in 6 environments on a desktop and a phone screen, and the
//! screenshots of docs/dashboard.md.
//!
//! The screenshots are written under the target folder (`target/tmp/`); with
//! `DASHBOARD_SCREENSHOTS_TO_DOCS=1` they are copied into `docs/` as well (tests never
//! change tracked files otherwise).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use super::open;
use crate::dashboard_support::Dashboard;
use crate::dashboard_support::browser::Browser;
use crate::store_support::{Ws, ok};

/// How many rows of the grid are wholly inside the viewport.
const ROWS_IN_VIEW: &str = "return [...document.querySelectorAll('#grid-body .row:not([hidden])')]
    .filter((row) => { const r = row.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })
    .length;";

const VISIBLE_ROWS: &str =
    "return document.querySelectorAll('#grid-body .row:not([hidden])').length;";

/// `count` declared secrets with descriptions, the named environments `staging` and
/// `prod-eu`, and values for most: every 7th name has none for production.
fn many(count: usize) -> Ws {
    let mut ws = Ws::new();
    let mut code = String::from("use secret_runtime::{secret, Secret};\n");
    for i in 0..count {
        code.push_str(&format!(
            "/// The API key of service {i}, used by the billing and reporting jobs\n\
             static S{i}: Secret = secret!(\"Service{i:03}ApiKey\");\n"
        ));
    }
    code.push_str("fn main() {}\n");
    ws.with_app(&code);
    let key = ws.key("alice");
    ws.use_key(&key);
    ws.config(
        "staging = \"development\"\nprod-eu = \"production\"",
        &format!(
            "production = [\"{0}\"]\ndevelopment = [\"{0}\"]\npreview = [\"{0}\"]\nlocal = [\"{0}\"]",
            key.public
        ),
    );
    for (flag, scope, gap) in [
        ("--type", "prod", 7),
        ("--type", "dev", 11),
        ("--type", "preview", 5),
        ("--type", "local", 13),
        ("--env", "staging", 3),
        ("--env", "prod-eu", 4),
    ] {
        let lines: String = (0..count)
            .filter(|i| i % gap != 0)
            .map(|i| format!("Service{i:03}ApiKey=value-{scope}-{i}-0123456789abcdef\n"))
            .collect();
        ws.write("values.env", &lines);
        ok(&ws.secret(&["import", flag, scope, "values.env"], ""));
    }
    std::fs::remove_file(ws.root().join("values.env")).unwrap();
    ws
}

#[test]
#[ignore = "needs chromium and chromium-driver: .ci/run runs it with --ignored"]
fn three_hundred_secrets_load_filter_and_fit_a_phone() {
    let ws = many(300);
    let mut ui = Dashboard::start(&ws);
    let browser = Browser::start();
    open(&mut ui, &browser);
    assert_eq!(browser.eval(VISIBLE_ROWS), json!(300));
    let summary = browser.text("#summary");
    assert!(summary.starts_with("300 secrets"), "{summary}");
    // 43 of 0..300 are multiples of 7; the summary is above the grid.
    assert!(summary.contains("production 43"), "{summary}");
    assert_eq!(browser.text("#missing-0"), "43 missing");
    assert_eq!(
        browser.eval(
            "return document.getElementById('summary').getBoundingClientRect().bottom \
             < document.getElementById('grid').getBoundingClientRect().top;"
        ),
        json!(true)
    );

    // Compact rows: at least 20 wholly visible on a 1280x800 screen.
    let in_view = browser.eval(ROWS_IN_VIEW).as_u64().unwrap();
    assert!(in_view >= 20, "{in_view} rows in view");

    // Search by name and by description.
    browser.type_into("#search", "Service017");
    browser.wait_for(
        "one row",
        "return document.querySelectorAll('#grid-body .row:not([hidden])').length === 1;",
    );
    assert_eq!(browser.text("#shown"), "1 of 300");
    assert!(browser.visible("#row-Service017ApiKey"));
    browser.clear("#search");
    browser.type_into("#search", "service 42,");
    browser.wait_for(
        "one row",
        "return document.querySelectorAll('#grid-body .row:not([hidden])').length === 1;",
    );
    assert!(browser.visible("#row-Service042ApiKey"));
    browser.clear("#search");
    browser
        .eval("document.getElementById('search').dispatchEvent(new Event('input')); return true;");

    // The summary's chip filters the grid to what is missing for production.
    browser.click("#summary button[data-filter=\"missing:production\"]");
    assert_eq!(
        browser.eval("return document.getElementById('filter').value;"),
        json!("missing:production")
    );
    assert_eq!(browser.eval(VISIBLE_ROWS), json!(43));
    let column = browser.cell("Service007ApiKey", "production");
    let column = format!(":scope > {}", column.split(" > ").nth(1).unwrap());
    let all_missing = browser.eval(&format!(
        "return [...document.querySelectorAll('#grid-body .row:not([hidden])')]
           .every((row) => row.querySelector({}).classList.contains('missing'));",
        json!(column)
    ));
    assert_eq!(all_missing, json!(true));
    browser.eval(
        "const f = document.getElementById('filter'); f.value = 'all'; \
         f.dispatchEvent(new Event('change')); return true;",
    );
    assert_eq!(browser.eval(VISIBLE_ROWS), json!(300));

    // A phone: nothing wider than the screen, every environment's column in view, readable
    // text, and the editor as a sheet over the grid.
    browser.viewport(390, 844, 2.0, true);
    let facts = browser.eval(
        "const wrap = document.querySelector('.grid-wrap');
         return {
           page: document.documentElement.scrollWidth,
           grid: wrap.scrollWidth - wrap.clientWidth,
           font: parseFloat(getComputedStyle(document.querySelector('#grid-body .name')).fontSize),
         };",
    );
    assert!(facts["page"].as_f64().unwrap() <= 390.0, "{facts}");
    assert!(facts["grid"].as_f64().unwrap() <= 0.0, "{facts}");
    assert!(facts["font"].as_f64().unwrap() >= 12.0, "{facts}");
    let in_view = browser.eval(ROWS_IN_VIEW).as_u64().unwrap();
    assert!(in_view >= 15, "{in_view} rows in view on a phone");
    browser.click(&browser.cell("Service007ApiKey", "production"));
    browser.wait_for(
        "the editor's sheet",
        "const r = document.getElementById('side').getBoundingClientRect(); \
         return r.top < innerHeight && r.bottom <= innerHeight + 1;",
    );
    let focus = browser.eval(
        "return [document.activeElement.id, document.body.className, document.getElementById('name').value];",
    );
    assert_eq!(focus, json!(["value", "side-open", "Service007ApiKey"]));
}

/// A workspace that looks like a real one, for the screenshots.
fn demo() -> Ws {
    let dir = tempfile::Builder::new()
        .prefix("acme-shop.")
        .tempdir()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut vars = BTreeMap::new();
    vars.insert("HOME".to_owned(), home.path().as_os_str().to_owned());
    let mut ws = Ws { dir, home, vars };
    let secrets = [
        (
            "StripeApiKey",
            "Stripe secret key for charging cards",
            false,
        ),
        (
            "StripeWebhookSecret",
            "Signs the events Stripe posts to /webhooks/stripe",
            false,
        ),
        (
            "DatabaseUrl",
            "Postgres connection string with the app user's password",
            false,
        ),
        ("RedisPassword", "Password of the session cache", false),
        ("SentryDsn", "Where the services report errors", false),
        (
            "GithubAppKey",
            "Private key of the GitHub App that opens release PRs",
            false,
        ),
        ("SlackBotToken", "Posts deploy notices to #releases", false),
        (
            "SendgridApiKey",
            "Sends receipts and password resets",
            false,
        ),
        ("JwtSigningKey", "Signs customer session tokens", false),
        (
            "S3SecretAccessKey",
            "Uploads invoices to the documents bucket",
            false,
        ),
        ("OpenAiApiKey", "Summaries in the support inbox", false),
        ("DatadogApiKey", "Metrics, when enabled", true),
    ];
    let code: String = secrets
        .iter()
        .enumerate()
        .map(|(i, (name, doc, optional))| {
            let optional = if *optional { ", optional" } else { "" };
            format!("/// {doc}\nstatic S{i}: Secret = secret!(\"{name}\"{optional});\n")
        })
        .collect();
    ws.with_app(&format!(
        "use secret_runtime::{{secret, Secret}};\n{code}fn main() {{}}\n"
    ));
    let alice = ws.key("alice");
    let bob = ws.key("bob");
    ws.use_key(&alice);
    let config = |development: &str| {
        ws.config(
            "staging = \"development\"\nprod-eu = \"production\"",
            &format!(
                "production = [\"{a}\", \"{b}\"]\ndevelopment = [{development}]\npreview = [\"{a}\"]\nlocal = [\"{a}\"]",
                a = alice.public,
                b = bob.public
            ),
        )
    };
    let set = |flags: &[&str], name: &str| {
        let mut args = vec!["set"];
        args.extend_from_slice(flags);
        args.push(name);
        ok(&ws.secret(&args, &format!("demo-{name}-value")));
    };
    // Bob reads development while three of its values are written.
    config(&format!("\"{}\"", alice.public));
    for (name, _, _) in &secrets[..7] {
        set(&["--type", "dev,local"], name);
    }
    config(&format!("\"{}\", \"{}\"", alice.public, bob.public));
    for (name, _, _) in &secrets[7..10] {
        set(&["--type", "dev,local"], name);
    }
    for (name, _, _) in &secrets[..8] {
        set(&["--type", "prod"], name);
    }
    set(&["--type", "preview"], "DatabaseUrl");
    set(&["--type", "preview"], "StripeApiKey");
    set(&["--env", "prod-eu"], "DatabaseUrl");
    set(&["--type", "local"], "LegacyMailgunKey");
    // Bob leaves development: the values he could read are due for rotation.
    config(&format!("\"{}\"", alice.public));
    ok(&ws.secret(&["rekey"], ""));
    ws.write(".secrets.local.toml", "OpenAiApiKey = \"my-own-key\"\n");
    ws
}

#[test]
#[ignore = "needs chromium and chromium-driver: .ci/run runs it with --ignored"]
fn screenshots_for_the_docs() {
    let ws = demo();
    let mut ui = Dashboard::start(&ws);
    let browser = Browser::start();
    open(&mut ui, &browser);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let desktop = out.join("dashboard-1280x800.png");
    let phone = out.join("dashboard-390x844.png");

    // The grid with the side panel open on a missing production value.
    browser.click(&browser.cell("SendgridApiKey", "preview"));
    browser.wait_contains("#details", "declared at");
    browser.eval("document.activeElement.blur(); return true;");
    browser.move_pointer(1, 790);
    browser.screenshot(&desktop);

    browser.click("#close-side");
    browser.viewport(390, 844, 2.0, true);
    browser.wait_for(
        "the sheet to close",
        "return getComputedStyle(document.getElementById('side')).visibility === 'hidden';",
    );
    browser.screenshot(&phone);
    for shot in [&desktop, &phone] {
        assert!(
            std::fs::metadata(shot).unwrap().len() > 10_000,
            "{}",
            shot.display()
        );
    }
    if std::env::var_os("DASHBOARD_SCREENSHOTS_TO_DOCS").is_some_and(|value| value == "1") {
        let docs = secret_tests::repo().join("docs");
        std::fs::copy(&desktop, docs.join("dashboard-1280x800.png")).unwrap();
        std::fs::copy(&phone, docs.join("dashboard-390x844.png")).unwrap();
    }
}
