//! The attacks TUF's clients are known to have fallen for, on the signed access rules and on
//! what a clone remembers: version numbers that skip or repeat, a memory updated from a state
//! that failed verification, rules rolled back to an older version, and the root replaced.

use std::collections::BTreeSet;

use secret_core::memory::Memory;
use secret_core::rules::chain;
use secret_core::rules::facts::facts_of;

use super::*;

/// The team with a second rules version: preview readers added, signed by ops.
fn two_versions() -> Team {
    let team = Team::new();
    let extra = format!("preview = [\"{}\"]\n", team.ops.key.public);
    team.ws.write(
        "secrets.toml",
        &team_config(&team.ops.key, &team.dev.key, &extra),
    );
    ok(&team.ws.secret(&["rekey", "--yes"], ""));
    commit(&team.ws, "preview readers");
    team
}

/// A rules chain whose version numbers skip (version 2 renumbered 3) or repeat (version 2's
/// table again as version 3, or twice as version 2) is refused: every reader refuses every
/// value and the check reports it as an error; the store as signed is served again.
#[test]
fn rules_versions_that_skip_or_repeat() {
    let team = two_versions();
    let ws = &team.ws;
    let signed = store_text(ws);
    let v2 = table(&signed, "[_rules.2]");
    let as_v3 = v2.replacen("[_rules.2]", "[_rules.3]", 1);

    let skipped = with_table(
        &with_table(&signed, "[_rules.2]", None),
        "[_rules.3]",
        Some(&as_v3),
    );
    std::fs::write(ws.store_path(), &skipped).unwrap();
    let why = "the access rules jump from version 1 to version 3: version 2 is missing";
    every_reader_refuses(ws, "prod", "Token", &[why], "prod-1");
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &[why],
    );

    std::fs::write(
        ws.store_path(),
        with_table(&signed, "[_rules.3]", Some(&as_v3)),
    )
    .unwrap();
    every_reader_refuses(
        ws,
        "prod",
        "Token",
        &["version 3 of the access rules is invalid"],
        "prod-1",
    );
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &["version 3 of the access rules is invalid"],
    );

    std::fs::write(ws.store_path(), format!("{signed}\n{v2}")).unwrap();
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secrets.enc.toml:"), "{}", out.stderr);
    let out = ws.check(&["--env", "prod"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("secrets.enc.toml:"), "{}", out.stderr);

    std::fs::write(ws.store_path(), &signed).unwrap();
    every_reader_serves(ws, "prod", "Token", "prod-1");
}

/// A check of a rolled-back store (the branch's history rewritten so that it no longer
/// holds the newer value) refuses it by the clone's memory alone and never lowers what the
/// memory holds; once the newer store is back it is served, and rolling back again is still
/// refused.
#[test]
fn memory_is_not_lowered_by_a_failed_verification() {
    let team = Team::new();
    let ws = &team.ws;
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-2"));
    commit(ws, "rotate");
    let newest = git_ok(ws.root(), &["rev-parse", "HEAD"]).trim().to_owned();
    assert!(!check(ws, &["prod"], None).has_errors());
    let prod = secret_core::Scope::Types([secret_core::EnvType::Production].into());
    let remembered = || Memory::load(ws.root()).unwrap().unwrap();
    assert_eq!(remembered().slot("Token", &prod), 2);
    let rules = (remembered().rules, remembered().rules_digest.clone());

    // The branch is forced back to before the rotation: the history no longer has it.
    git_ok(ws.root(), &["reset", "-q", "--hard", "HEAD~1"]);
    let report = check(ws, &["prod"], None);
    assert_has(
        &report,
        Severity::Error,
        Code::RolledBackValue,
        &["`Token` (type:production) is version 1, older than version 2"],
    );
    assert_has(
        &report,
        Severity::Warning,
        Code::RulesChanged,
        &["no longer contains commit"],
    );
    every_reader_refuses(ws, "prod", "Token", &["older than version 2"], "prod-1");
    assert_eq!(remembered().slot("Token", &prod), 2, "not lowered");
    assert_eq!(
        (remembered().rules, remembered().rules_digest.clone()),
        rules
    );

    git_ok(ws.root(), &["reset", "-q", "--hard", &newest]);
    every_reader_serves(ws, "prod", "Token", "prod-2");
    assert!(!check(ws, &["prod"], None).has_errors());
    git_ok(ws.root(), &["reset", "-q", "--hard", "HEAD~1"]);
    every_reader_refuses(ws, "prod", "Token", &["older than version 2"], "prod-1");
    assert_eq!(remembered().slot("Token", &prod), 2);
}

/// Removing the newest rules version (which took a production writer's access away) brings
/// back the older rules, under which the removed writer may write again; the store's history
/// (and the clone's memory) say the rules were rolled back, so every reader refuses every
/// value, in this clone and in a fresh one (where the run time refuses too once a command
/// has walked the history, even though that command found the store untrusted), and the
/// check reports it. Regression: a fresh clone's check found the rules rolled back but did
/// not remember the newer ones, so the run time accepted the rolled-back rules.
#[test]
fn rules_rolled_back_to_an_older_version() {
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
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-1"));
    repository(&mut ws);
    ws.write("secrets.toml", &config(&[&ops]));
    ok(&ws.secret(&["rekey", "--yes"], ""));
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "after-bob"));
    commit(&ws, "bob leaves; rotate");

    // Bob, in a copy without history, drops version 2 and writes with the real tool.
    let mut copy = Ws::new();
    copy.write("secrets.toml", &config(&[&ops, &bob]));
    std::fs::write(
        copy.store_path(),
        with_table(&store_text(&ws), "[_rules.2]", None),
    )
    .unwrap();
    copy.use_key(&bob);
    ok(&copy.secret(&["set", "--type", "prod", "Token"], "bob-value"));
    std::fs::copy(copy.store_path(), ws.store_path()).unwrap();
    ws.write("secrets.toml", &config(&[&ops, &bob]));
    commit(&ws, "restore access");

    let why = "the access rules are at version 1, and this clone trusted version 2: they were rolled back";
    every_reader_refuses(&ws, "prod", "Token", &[why], "bob-value");
    assert_has(
        &check(&ws, &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &[why],
    );
    let fresh = clone(&ws);
    assert_has(
        &check(&fresh, &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &["they were rolled back"],
    );
    every_reader_refuses(&fresh, "prod", "Token", &[why], "bob-value");
    // In a fresh clone whose first command is a reader, the run time refuses after it too.
    let fresh = clone(&ws);
    let out = fresh.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    every_reader_refuses(&fresh, "prod", "Token", &[why], "bob-value");
}

/// A store whose rules are replaced by another root, self-signed by the attacker for the
/// same repository identity (so every value they sign verifies under it), is refused: by the
/// history in the team's clone, by the memory alone once the branch's history is replaced
/// too, and in a fresh clone of that history by the pin in `SECRETS_TRUST`/`--trust` (a key
/// or a digest) that the team's own store satisfies.
#[test]
fn root_replaced_by_another_self_signed_root() {
    let team = Team::new();
    let ws = &team.ws;
    let team_root = secret_core::state::State::load(ws.root(), None)
        .unwrap()
        .rules()
        .unwrap()
        .root()
        .digest
        .clone();
    // Pinned, the team's store is trusted.
    for pin in [team.ops.key.public.as_str(), team_root.as_str()] {
        let report = check(ws, &["prod"], Some(pin));
        assert!(!report.has_errors(), "{}", findings(&report).join("\n"));
    }
    let mallory = Forger::new(ws, "mallory");
    let mut evil = Ws::new();
    let config = format!("[recipients]\nproduction = [\"{}\"]\n", mallory.key.public);
    evil.write("secrets.toml", &config);
    let repository = repository_id(ws.root());
    let facts = facts_of(
        &secret_core::Config::load(evil.root()).unwrap(),
        &repository,
    );
    let changes: Vec<String> = chain::diff(&BTreeSet::new(), &facts)
        .iter()
        .map(ToString::to_string)
        .collect();
    let signed = "2026-01-01T00:00:00Z";
    let message = chain::message(&repository, 1, None, signed, &changes);
    evil.write(
        "secrets.enc.toml",
        &format!(
            "version = 3\n\n[_rules.1]\nsigned = \"{signed}\"\nsignatures = [\n    \"{} {}\",\n]\nchanges = \"\"\"\n{}\n\"\"\"\n",
            mallory.key.public,
            mallory.sign(&message),
            changes.join("\n")
        ),
    );
    evil.use_key(&mallory.key);
    ok(&evil.secret(&["set", "--type", "prod", "Token"], "mallory-value"));
    assert_eq!(repository_id(evil.root()), repository);

    // Pushed on top of the team's history.
    std::fs::copy(evil.store_path(), ws.store_path()).unwrap();
    ws.write("secrets.toml", &config);
    commit(ws, "new store");
    let why = "the rules were replaced by another root";
    every_reader_refuses(ws, "prod", "Token", &[why], "mallory-value");
    assert_has(
        &check(ws, &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &[why],
    );

    // The branch's history replaced too: the memory alone catches it.
    git_ok(ws.root(), &["checkout", "-q", "--orphan", "evil"]);
    commit(ws, "the only commit");
    git_ok(ws.root(), &["branch", "-q", "-f", "main", "evil"]);
    git_ok(ws.root(), &["checkout", "-q", "main"]);
    assert_eq!(
        git_ok(ws.root(), &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
    every_reader_refuses(ws, "prod", "Token", &[why], "mallory-value");

    // A fresh clone of that history has neither: the pin outside the repository does it.
    let mut fresh = clone(ws);
    fresh.vars.insert(
        "SECRETS_TRUST".to_owned(),
        team.ops.key.public.clone().into(),
    );
    let pinned = "the access rules are not rooted in the pinned key";
    every_reader_refuses(&fresh, "prod", "Token", &[pinned], "mallory-value");
    for pin in [team.ops.key.public.as_str(), team_root.as_str()] {
        assert_has(
            &check(&fresh, &["prod"], Some(pin)),
            Severity::Error,
            Code::UntrustedRules,
            &["pinned"],
        );
        let out = fresh.check(&["--env", "prod", "--trust", pin]);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.stdout.contains("untrusted-rules"), "{}", out.stdout);
    }
}

/// Removing every rules version and marking the store format 2 (from before signed rules)
/// is a rollback too: readers refuse every value saying the rules were removed, the check
/// reports it without suggesting `migrate`, and `migrate` refuses to sign a new root over
/// secrets.toml (which would re-sign format-2 values the attacker signed under their own
/// grant). Regression: the store was taken for one from before signed rules, and the check
/// said to run `migrate`, which signed a new root.
#[test]
fn rules_removed_and_store_downgraded_to_format_2() {
    let team = Team::new();
    let (ops, dev) = (&team.ops, &team.dev);
    let ws = &team.ws;
    let text = store_text(ws);
    let downgraded =
        with_table(&text, "[_rules.1]", None).replace("version = 3\n", "version = 2\n");
    let armor = store_support::age_encrypt(&[&ops.key.public], "attacker-value");
    let planted = Forged {
        name: "Planted",
        scope: "type:production",
        recipients: &[&ops.key.public],
        armor: &armor,
        written: "2026-01-02T03:04:05Z",
    }
    .table_v2(Some(dev));
    std::fs::write(ws.store_path(), format!("{downgraded}\n{planted}")).unwrap();
    let writers = format!(
        "\n[writers]\nproduction = [\"{}\", \"{}\"]\n",
        ops.key.public, dev.key.public
    );
    ws.write("secrets.toml", &team_config(&ops.key, &dev.key, &writers));
    commit(ws, "simplify the store");

    let why = "this clone trusted version 1 of them: they were removed";
    every_reader_refuses_among_others(ws, "prod", "Token", &[why], "prod-1");
    every_reader_refuses_among_others(ws, "prod", "Planted", &[why], "attacker-value");
    let report = check(ws, &["prod"], None);
    assert_has(&report, Severity::Error, Code::UntrustedRules, &[why]);
    assert!(
        report
            .diagnostics
            .iter()
            .all(|d| !d.help.as_deref().unwrap_or("").contains("migrate")),
        "{:#?}",
        report.diagnostics
    );
    let before = ws.store_bytes();
    let out = ws.secret(&["migrate", "--yes"], "");
    assert_ne!(out.code, 0, "{}", out.all());
    assert!(out.stderr.contains(why), "{}", out.stderr);
    assert_eq!(ws.store_bytes(), before);
    assert_has(
        &check(&clone(ws), &["prod"], None),
        Severity::Error,
        Code::UntrustedRules,
        &[why],
    );
}
