//! Attack 10: the outputs reviewers audit with (`list`, `log`, the `git diff` textconv, the
//! check) printing raw control, bidirectional and zero-width characters from a committed
//! scope key.

use super::*;

/// An environment name that reverses the text after it, hides a zero-width space and clears
/// the screen when printed raw.
const HOSTILE: &str = "prod\u{202e}ue\u{200b}\u{1b}[2J";

/// Asserts `text` shows the hostile scope only escaped.
#[track_caller]
fn escaped(output: &str, text: &str) {
    for raw in ['\u{202e}', '\u{200b}', '\u{1b}'] {
        assert!(
            !text.contains(raw),
            "{output} prints {raw:?} raw:\n{text:?}"
        );
    }
    assert!(
        text.contains("prod\\u{202e}ue\\u{200b}\\u{1b}[2J"),
        "{output} does not show the scope escaped:\n{text}"
    );
}

/// A committed value whose scope key holds control, bidirectional and zero-width characters
/// is shown escaped by every audit output: `list`'s problem lines, `secret log`, the `git
/// diff` and `git log -p` textconv, and `check-secrets` (human and GitHub annotations).
/// Regression: `list`'s problem lines printed the scope raw.
#[test]
fn audit_outputs_escape_committed_scope_keys() {
    let team = Team::new();
    let ws = &team.ws;
    let key = format!("env:{HOSTILE}")
        .replace('\u{1b}', "\\u001B")
        .replace('\u{202e}', "\\u202E")
        .replace('\u{200b}', "\\u200B");
    let armor = store_support::age_encrypt(&[&team.ops.key.public], "hostile-value");
    let hostile = format!(
        "[Token.\"{key}\"]\nrecipients = [\n    \"{}\",\n]\nvalue = \"\"\"\n{}\n\"\"\"\n",
        team.ops.key.public,
        armor.trim_end()
    );
    let header = hostile.lines().next().unwrap().to_owned();
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), &header, Some(&hostile)),
    )
    .unwrap();
    let scope = secret_core::Scope::Envs([HOSTILE.to_owned()].into());
    let store = secret_core::Store::load(ws.root()).unwrap();
    assert!(store.get("Token", &scope).is_some(), "the table is read");
    commit(ws, "hostile scope");

    let out = ws.secret(&["list"], "");
    escaped("list", &out.all());
    let out = ws.secret(&["log", "Token"], "");
    ok(&out);
    escaped("log", &out.all());
    let diff = git_ok(ws.root(), &["diff", "HEAD~1", "--", "secrets.enc.toml"]);
    escaped("git diff", &diff);
    let log = git_ok(ws.root(), &["log", "-p", "-1", "--", "secrets.enc.toml"]);
    escaped("git log -p", &log);
    for format in ["human", "github"] {
        let out = ws.check(&["--env", "all", "--format", format]);
        escaped(&format!("check-secrets --format {format}"), &out.all());
    }
}
