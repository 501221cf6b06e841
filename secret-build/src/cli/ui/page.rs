//! The dashboard's HTML, written by hand: every piece of text from the workspace goes
//! through [`esc`]. No value is ever part of a page (reveal answers a POST with JSON).

use std::fmt::Write as _;
use std::path::PathBuf;

use secret_core::{EnvKind, EnvType};

use crate::check::{Cell, Report, Severity, StoredValue};
use crate::cli::Failure;

/// What the page shows.
pub(super) struct Model {
    pub(super) root: PathBuf,
    pub(super) report: Report,
    /// Named environments from `secrets.toml` (not patterns), for the editor.
    pub(super) named_envs: Vec<String>,
    /// The user's public keys.
    pub(super) keys: Vec<String>,
    /// Where the identity comes from, or why there is none.
    pub(super) identity: String,
}

/// Escapes text for HTML content and quoted attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub(super) fn page(model: &Result<Model, Failure>, csrf: &str, version: &str) -> String {
    let mut html = String::new();
    let title = match model {
        Ok(model) => model
            .root
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Secrets · {}</title>\
         <meta name=\"csrf-token\" content=\"{}\"><meta name=\"version\" content=\"{}\">\
         <link rel=\"stylesheet\" href=\"/app.css\"><script src=\"/app.js\" defer></script>\
         </head><body><header><h1>Secrets</h1>",
        esc(&title),
        esc(csrf),
        esc(version)
    );
    if let Ok(model) = model {
        let _ = write!(
            html,
            "<p class=\"workspace\">{}</p><p id=\"identity\">identity: {}{}</p>",
            esc(&model.root.display().to_string()),
            esc(&model.identity),
            model
                .keys
                .iter()
                .map(|key| format!(" <code title=\"{}\">{}</code>", esc(key), esc(&short(key))))
                .collect::<String>()
        );
    }
    html.push_str("</header><main>");
    editor(&mut html, model.as_ref().ok());
    html.push_str("<section id=\"grid\" aria-live=\"polite\">");
    html.push_str(&grid(model));
    html.push_str("</section></main></body></html>\n");
    html
}

fn editor(html: &mut String, model: Option<&Model>) {
    html.push_str(
        "<section id=\"editor\"><h2>Set a value</h2>\
         <form id=\"set-form\" autocomplete=\"off\">\
         <label>Secret <input id=\"name\" name=\"name\" list=\"names\" required \
         pattern=\"[A-Za-z][A-Za-z0-9_]*\" spellcheck=\"false\"></label>\
         <fieldset><legend>Environment types</legend>",
    );
    for ty in EnvType::ALL {
        let _ = write!(
            html,
            "<label><input type=\"checkbox\" name=\"type\" id=\"type-{0}\" value=\"{0}\"> {0}</label>",
            ty.name()
        );
    }
    html.push_str("</fieldset>");
    let named = model
        .map(|model| model.named_envs.as_slice())
        .unwrap_or_default();
    if !named.is_empty() {
        html.push_str("<fieldset><legend>or named environments</legend>");
        for env in named {
            let _ = write!(
                html,
                "<label><input type=\"checkbox\" name=\"env\" id=\"env-{0}\" value=\"{0}\"> {0}</label>",
                esc(env)
            );
        }
        html.push_str("</fieldset>");
    }
    html.push_str(
        "<label>Value <input id=\"value\" name=\"value\" type=\"password\" \
         autocomplete=\"new-password\" required></label>\
         <button type=\"submit\" id=\"set-button\">Set</button></form>\
         <div id=\"conflict\" hidden><p id=\"conflict-text\"></p>\
         <button type=\"button\" id=\"move-button\">Move: narrow the other value and set this one</button> \
         <button type=\"button\" id=\"cancel-move\">Cancel</button></div>\
         <pre id=\"message\" role=\"status\"></pre></section>",
    );
}

/// The grid, the values and the findings: redrawn by the page when files change.
pub(super) fn grid(model: &Result<Model, Failure>) -> String {
    let model = match model {
        Ok(model) => model,
        Err(failure) => {
            let mut html = format!("<p class=\"failure\">error: {}</p>", esc(&failure.message));
            for help in &failure.help {
                let _ = write!(html, "<p class=\"help\">help: {}</p>", esc(help));
            }
            return html;
        }
    };
    let report = &model.report;
    let mut html = String::new();
    let _ = write!(
        html,
        "<p class=\"summary\">{} secret{} · {} error{} · {} warning{}</p>",
        report.rows.len(),
        plural(report.rows.len()),
        report.count(Severity::Error),
        plural(report.count(Severity::Error)),
        report.count(Severity::Warning),
        plural(report.count(Severity::Warning)),
    );
    if let Some(problem) = &report.state.rules_problem {
        let _ = write!(
            html,
            "<p class=\"failure\">The signed access rules cannot be trusted, so every value is refused: {}</p>",
            esc(problem)
        );
    }
    if !report.state.pending.is_empty() {
        let _ = write!(
            html,
            "<div class=\"failure unsigned-rules\"><p>secrets.toml changes the access rules in ways nobody allowed to has signed; they take effect once a writer signs them with <code>cargo xtask secret rekey</code>:</p><ul>"
        );
        for (change, _) in &report.state.pending {
            let _ = write!(html, "<li><code>{}</code></li>", esc(change));
        }
        html.push_str("</ul></div>");
    }
    html.push_str("<datalist id=\"names\">");
    for row in &report.rows {
        let _ = write!(html, "<option value=\"{}\">", esc(&row.name));
    }
    html.push_str("</datalist><table class=\"grid\"><thead><tr><th>Secret</th>");
    for env in &report.environments {
        let kind = match env.kind {
            EnvKind::Type => "type".to_owned(),
            _ => format!("{} env", env.ty.name()),
        };
        let _ = write!(
            html,
            "<th>{}<small>{}</small></th>",
            esc(&env.name),
            esc(&kind)
        );
    }
    html.push_str("</tr></thead><tbody>");
    let declarations = report.scan.by_name();
    for row in &report.rows {
        let _ = write!(
            html,
            "<tr id=\"row-{0}\"><th scope=\"row\"><span class=\"name\">{0}</span>",
            esc(&row.name)
        );
        if let Some(description) = &row.description {
            let _ = write!(html, "<p class=\"description\">{}</p>", esc(description));
        }
        html.push_str("<p class=\"declared\">");
        match declarations.get(row.name.as_str()) {
            Some(places) => {
                let places: Vec<String> = places
                    .iter()
                    .map(|place| {
                        format!(
                            "<code>{}:{}</code>",
                            esc(&place.path.display().to_string()),
                            place.line
                        )
                    })
                    .collect();
                let _ = write!(html, "declared at {}", places.join(", "));
            }
            None => html.push_str(
                "<span class=\"badge warning\">unused</span> stored, but no code declares it",
            ),
        }
        html.push_str("</p>");
        values(&mut html, model, &row.name);
        html.push_str("</th>");
        for (env, cell) in report.environments.iter().zip(&row.cells) {
            let kind = if env.kind == EnvKind::Type {
                "type"
            } else {
                "env"
            };
            let (class, label, via) = match cell {
                Cell::Set(scope) => ("set", "set", Some(scope)),
                Cell::Refused(scope) => ("missing error", "refused", Some(scope)),
                Cell::Missing if env.ty.is_cloud() && row.declared => {
                    ("missing error", "missing", None)
                }
                Cell::Missing if row.declared => ("missing warning", "missing", None),
                Cell::Missing => ("unset", "—", None),
                Cell::OptionalUnset => ("unset", "optional, unset", None),
                Cell::Override => ("set", "local override", None),
            };
            let _ = write!(
                html,
                "<td id=\"cell-{name}-{env}\" class=\"{class}\"><button type=\"button\" \
                 data-action=\"fill\" data-name=\"{name}\" data-kind=\"{kind}\" data-env=\"{env}\" \
                 title=\"set {name} for {env}\">{label}</button>",
                name = esc(&row.name),
                env = esc(&env.name),
            );
            if let Some(scope) = via {
                let _ = write!(html, "<small>{}</small>", esc(&scope.describe()));
                if let Some(stored) = report
                    .stored
                    .iter()
                    .find(|stored| stored.name == row.name && &stored.scope == scope)
                {
                    badges(&mut html, stored);
                }
            }
            html.push_str("</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    if !report.diagnostics.is_empty() {
        html.push_str("<section id=\"findings\"><h2>Findings</h2><ul>");
        for diagnostic in &report.diagnostics {
            let _ = write!(
                html,
                "<li class=\"{}\"><code>{}</code> {}",
                diagnostic.severity.name(),
                diagnostic.code.as_str(),
                esc(&diagnostic.message)
            );
            if let Some(help) = &diagnostic.help {
                let _ = write!(html, "<br><span class=\"help\">help: {}</span>", esc(help));
            }
            html.push_str("</li>");
        }
        html.push_str("</ul></section>");
    }
    html
}

/// The stored values of `name`: scope, who can read it, who wrote it, and the buttons.
fn values(html: &mut String, model: &Model, name: &str) {
    let stored: Vec<&StoredValue> = model
        .report
        .stored
        .iter()
        .filter(|stored| stored.name == name)
        .collect();
    if stored.is_empty() {
        return;
    }
    html.push_str("<ul class=\"values\">");
    for value in stored {
        let key = value.scope.key();
        let _ = write!(
            html,
            "<li data-scope=\"{}\"><span class=\"scope\">{}</span>",
            esc(&key),
            esc(&value.scope.describe())
        );
        let mut readable = false;
        if let Some(audit) = &value.audit {
            let readers: Vec<String> = audit
                .recipients
                .iter()
                .map(|key| {
                    let you = model.keys.contains(key);
                    readable |= you;
                    format!(
                        "<code title=\"{}\">{}</code>{}",
                        esc(key),
                        esc(&short(key)),
                        if you { " (you)" } else { "" }
                    )
                })
                .collect();
            let _ = write!(
                html,
                " <span class=\"readers\">readable by {}</span>",
                readers.join(", ")
            );
            if let Some(writer) = audit.trust.writer() {
                if model.keys.iter().any(|key| key == writer) {
                    html.push_str(" <span class=\"writer\">· written by you</span>");
                } else {
                    let _ = write!(
                        html,
                        " <span class=\"writer\">· written by <code title=\"{}\">{}</code></span>",
                        esc(writer),
                        esc(&short(writer))
                    );
                }
            }
            badges(html, value);
        }
        let action = |action: &str, label: &str| {
            format!(
                " <button type=\"button\" data-action=\"{action}\" data-name=\"{}\" data-scope=\"{}\">{label}</button>",
                esc(name),
                esc(&key)
            )
        };
        if readable {
            html.push_str(&action("reveal", "Reveal"));
            html.push_str("<output class=\"revealed\" hidden></output>");
        }
        html.push_str(&action("unset", "Unset"));
        html.push_str("</li>");
    }
    html.push_str("</ul>");
}

/// The states of a stored value the check knows, as badges.
fn badges(html: &mut String, value: &StoredValue) {
    let Some(audit) = &value.audit else { return };
    let mut add = |class: &str, text: &str| {
        let _ = write!(html, " <span class=\"badge {class}\">{text}</span>");
    };
    if !audit.trust.is_trusted() {
        add("error", audit.trust.code());
    }
    if !audit.drift.stale.is_empty() {
        add("warning", "stale recipient");
    }
    if !audit.drift.unreadable.is_empty() {
        add("warning", "missing recipient");
    }
    if !audit.exposed.is_empty() {
        add("warning", "rotation due");
    }
}

/// `age1abcdefgh…wxyz`: enough to tell keys apart on the page (the full key in `title`).
fn short(key: &str) -> String {
    if key.len() <= 16 || !key.is_ascii() {
        return key.to_owned();
    }
    format!("{}…{}", &key[..10], &key[key.len() - 4..])
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
