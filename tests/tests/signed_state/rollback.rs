//! Attack 1: an older, validly signed production table copied back from git history (a
//! revoked or leaked token), and the same to erase a rotation due.

use super::*;

/// A rolled-back production table is refused by every reader, in this clone (history and
/// memory) and in a fresh clone once the keyless check has walked its history, and the check
/// and `secret log` report it; a legitimate rotation (a new `set`) is served. Regression:
/// `secret log` showed the rollback as an ordinary change.
#[test]
fn rollback_of_a_production_table_from_history() {
    let team = Team::new();
    let ws = &team.ws;
    // The team rotates the token: version 2.
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-2"));
    commit(ws, "rotate the token");
    every_reader_serves(ws, "prod", "Token", "prod-2");

    // The attacker copies version 1 back from history and pushes it.
    let old = table(&store_at(ws, "HEAD~1"), PROD);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), PROD, Some(&old)),
    )
    .unwrap();
    commit(ws, "fix the token");
    let why = "is version 1, older than version 2 already trusted";
    every_reader_refuses(
        ws,
        "prod",
        "Token",
        &["Token (type:production)", why],
        "prod-1",
    );
    let report = check(ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::RolledBackValue,
        &[
            "`Token` (type:production) is version 1, older than version 2",
            "an older value was copied back",
        ],
    );

    // The history says so too.
    let log = ws.secret(&["log", "Token"], "");
    ok(&log);
    let last = log.stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains("changed Token type:production REFUSED (rolled-back-value): it is version 1, older than version 2"),
        "{}",
        log.stdout
    );

    // A fresh clone has no memory: the check learns from the history, and the run time
    // then refuses too.
    let fresh = clone(ws);
    let report = check(&fresh, &["prod"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::RolledBackValue,
        &["`Token`"],
    );
    every_reader_refuses(&fresh, "prod", "Token", &[why], "prod-1");
    let out = fresh.check(&["--env", "prod"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("rolled-back-value"), "{}", out.stdout);

    // Setting a new value is the way out.
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-3"));
    commit(ws, "rotate again");
    every_reader_serves(ws, "prod", "Token", "prod-3");
    assert!(!check(ws, &["prod"], None).has_errors());
}

/// Copying back the table from before a reader left (encrypted to them, with no rotation
/// due recorded) does not erase the rotation due: every reader refuses it and the check
/// fails, with or without `--deny-rotation-due`.
#[test]
fn rollback_that_erases_rotation_due() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let bob = ws.key("bob");
    let config = |readers: &[&Key]| {
        let keys: Vec<String> = readers
            .iter()
            .map(|k| format!("\"{}\"", k.public))
            .collect();
        format!("[recipients]\nproduction = [{}]\n", keys.join(", "))
    };
    ws.write("secrets.toml", &config(&[&ops, &bob]));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "known-to-bob"));
    repository(&mut ws);

    // Bob leaves: the token is re-encrypted and due for rotation.
    ws.write("secrets.toml", &config(&[&ops]));
    ok(&ws.secret(&["rekey", "--yes"], ""));
    commit(&ws, "bob leaves");
    let report = check(&ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Warning,
        Code::RotationDue,
        &["`Token`", &bob.public],
    );

    // The attacker copies the table from before bob left: no rotation due in it.
    let before = table(&store_at(&ws, "HEAD~1"), PROD);
    assert!(!before.contains("exposed"), "{before}");
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(&ws), PROD, Some(&before)),
    )
    .unwrap();
    commit(&ws, "restore the token");
    every_reader_refuses(
        &ws,
        "prod",
        "Token",
        &["is version 1, older than version 2 already trusted"],
        "known-to-bob",
    );
    let report = check(&ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::RolledBackValue,
        &["`Token`"],
    );
    assert_has(
        &report,
        Severity::Error,
        Code::StaleRecipient,
        &["`Token`", &bob.public],
    );
    let mut strict = Options::envs(&["prod".to_owned()]);
    strict.deny_rotation_due = true;
    assert!(
        check_with(ws.root(), &strict, &|_| None)
            .unwrap()
            .has_errors()
    );
}

/// The production table of `ws` replaced by its table at `revision`, committed.
fn roll_back(ws: &Ws, revision: &str) {
    let old = table(&store_at(ws, revision), PROD);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(ws), PROD, Some(&old)),
    )
    .unwrap();
    commit(ws, "restore the token");
}

/// A rotation made after a rollback takes a version above every version already trusted,
/// not just above the rolled-back one: copying back the value it replaced (which had that
/// version) is refused too. Regression: the rotation took the rolled-back version plus one,
/// the version of the value it replaced, which was then accepted when copied back.
#[test]
fn rollback_again_after_the_next_rotation() {
    let team = Team::new();
    let ws = &team.ws;
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-2"));
    commit(ws, "rotate");
    let rotated = git_ok(ws.root(), &["rev-parse", "HEAD"]).trim().to_owned();
    roll_back(ws, "HEAD~1");
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-3"));
    commit(ws, "rotate again");
    every_reader_serves(ws, "prod", "Token", "prod-3");
    roll_back(ws, &rotated);
    every_reader_refuses(ws, "prod", "Token", &["older than version"], "prod-2");
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::RolledBackValue,
        &["`Token` (type:production) is version 2, older than version 3"],
    );
    assert_has(
        &check(&clone(ws), &["prod"], None),
        Severity::Error,
        Code::RolledBackValue,
        &["`Token`"],
    );
}

/// `rekey --all` after a rollback (every value re-encrypted after a key leaked) leaves the
/// rolled-back value as it is, saying why, instead of signing it as a new version that
/// readers would accept. Regression: rekey re-encrypted the rolled-back value as a new
/// version, and every reader served it.
#[test]
fn rekey_after_a_rollback_does_not_sign_it_again() {
    let team = Team::new();
    let ws = &team.ws;
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-2"));
    commit(ws, "rotate");
    roll_back(ws, "HEAD~1");
    let out = ws.secret(&["rekey", "--all", "--yes"], "");
    assert!(
        out.stderr.contains(
            "warning: Token (type:production) is left as it is: it is version 1, older than version 2 already trusted"
        ),
        "{}",
        out.all()
    );
    commit(ws, "rekey");
    every_reader_refuses(ws, "prod", "Token", &["older than version 2"], "prod-1");
    assert_has(
        &check(&clone(ws), &["prod"], None),
        Severity::Error,
        Code::RolledBackValue,
        &["`Token`"],
    );
}

/// Moving part of a scope away from a rolled-back value (`set --move`, which re-encrypts
/// the rest of that value for its narrower scope) does not sign the rolled-back value
/// anew under the narrower scope: the command refuses, saying why, and the store is left
/// as it was.
#[test]
fn set_move_does_not_carry_a_rolled_back_value_to_a_new_scope() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!(
            "[recipients]\nproduction = [\"{o}\"]\npreview = [\"{o}\"]\n",
            o = ops.public
        ),
    );
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod,preview", "Token"], "old-token"));
    repository(&mut ws);
    ok(&ws.secret(&["set", "--type", "prod,preview", "Token"], "new-token"));
    commit(&ws, "rotate");
    let wide = "[Token.\"type:production,preview\"]";
    let old = table(&store_at(&ws, "HEAD~1"), wide);
    std::fs::write(
        ws.store_path(),
        with_table(&store_text(&ws), wide, Some(&old)),
    )
    .unwrap();
    commit(&ws, "restore the token");

    let before = ws.store_bytes();
    let out = ws.secret(
        &["set", "--type", "preview", "--move", "Token"],
        "preview-only",
    );
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr
            .contains("is version 1, older than version 2 already trusted"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.store_bytes(), before);
    every_reader_refuses(&ws, "prod", "Token", &["older than version 2"], "old-token");
}
