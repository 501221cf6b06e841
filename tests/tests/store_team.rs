//! The store in a team, through real git repositories: forged values are refused by every
//! reader and flagged by a keyless check, writers who cannot read, recipients that drift
//! from `secrets.toml`, rotation due after someone loses access, the merge driver (against
//! a model of the per-slot rule), the diff driver and `secret log`.

use std::collections::BTreeMap;
use std::process::Command;

use crate::store_support::{Key, Out, Ws, age_encrypt, git, git_ok, ok};
use secret_build::check::{Code, Options, Report, Severity, check_with};
use secret_core::{EnvType, Scope, Store};

const CLI: &str = env!("CARGO_BIN_EXE_secret-cli");

/// The check as CI runs it: no identity anywhere.
fn check(ws: &Ws, envs: &[&str]) -> Report {
    let envs: Vec<String> = envs.iter().map(|env| (*env).to_owned()).collect();
    check_with(ws.root(), &Options::envs(&envs), &|_| None).unwrap()
}

fn codes(report: &Report) -> Vec<(Severity, Code, String)> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code != Code::MissingSecret && d.code != Code::UndeclaredSecret)
        .map(|d| (d.severity, d.code, d.message.clone()))
        .collect()
}

/// ops reads and writes production; dev reads and writes development and local, and
/// ops too.
fn team() -> (Ws, Key, Key) {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let dev = ws.key("dev");
    ws.config(
        "",
        &format!(
            "production = [\"{o}\"]\ndevelopment = [\"{d}\", \"{o}\"]\nlocal = [\"{d}\", \"{o}\"]",
            o = ops.public,
            d = dev.public
        ),
    );
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "real-prod-value"));
    ok(&ws.secret(&["set", "--type", "dev,local", "Token"], "dev-value"));
    (ws, ops, dev)
}

/// Every reader, as ops (who can read production): each must refuse, naming the secret,
/// the scope and why; and no output may hold the forged value.
#[track_caller]
fn readers_refuse(ws: &mut Ws, ops: &Key, why: &str, forged: &str) {
    ws.use_key(ops);
    let outs: Vec<(&str, Out)> = vec![
        (
            "reveal",
            ws.secret(&["reveal", "--env", "prod", "Token"], ""),
        ),
        (
            "run",
            ws.secret(&["run", "--env", "prod", "--", "sh", "-c", "echo ran"], ""),
        ),
        (
            "export",
            ws.secret(&["export", "--env", "prod", "--format", "dotenv"], ""),
        ),
    ];
    for (command, out) in outs {
        assert_ne!(
            out.code,
            0,
            "{command} accepted a forged value: {}",
            out.all()
        );
        assert!(
            out.stderr.contains("Token (type:production)") && out.stderr.contains(why),
            "{command}: {}",
            out.stderr
        );
        assert!(!out.all().contains(forged), "{command}: {}", out.all());
        assert!(!out.stdout.contains("ran"), "{command} ran its child");
    }
}

/// The store's text with the production table of Token changed by `edit`.
fn edit_prod_table(ws: &Ws, edit: impl FnOnce(&str) -> String) {
    let text = String::from_utf8(ws.store_bytes()).unwrap();
    let start = text.find("[Token.\"type:production\"]").unwrap();
    let end = text[start..]
        .find("\"\"\"\n\n")
        .map_or(text.len(), |at| start + at + 4);
    let table = edit(&text[start..end]);
    std::fs::write(
        ws.store_path(),
        format!("{}{table}{}", &text[..start], &text[end..]),
    )
    .unwrap();
}

fn replace_value(table: &str, armor: &str) -> String {
    let from = table.find("value = \"\"\"\n").unwrap() + 12;
    let to = from + table[from..].find("\"\"\"").unwrap();
    format!("{}{}\n{}", &table[..from], armor.trim_end(), &table[to..])
}

#[test]
fn a_value_encrypted_with_the_age_tool_is_refused_and_flagged_without_a_key() {
    let (mut ws, ops, _) = team();
    let forged = age_encrypt(&[&ops.public], "attacker-prod-value");
    edit_prod_table(&ws, |table| replace_value(table, &forged));
    readers_refuse(
        &mut ws,
        &ops,
        "signature does not verify",
        "attacker-prod-value",
    );
    let report = check(&ws, &["prod"]);
    assert!(report.has_errors());
    let found = codes(&report);
    assert!(
        found
            .iter()
            .any(|(severity, code, message)| *severity == Severity::Error
                && *code == Code::ForgedValue
                && message.contains(&format!("claims writer {}", ops.public))),
        "{found:?}"
    );
    // Values of other scopes are not affected.
    ws.use_key(&ops);
    let out = ws.secret(&["reveal", "--env", "dev", "Token"], "");
    ok(&out);
    assert_eq!(out.stdout, "dev-value");
}

#[test]
fn set_without_a_writer_key_is_refused_before_the_value_is_read() {
    let (mut ws, _, dev) = team();
    let before = ws.store_bytes();
    ws.vars.remove("SECRETS_IDENTITY");
    let out = ws.secret(&["set", "--type", "prod", "Token"], "attacker-value");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("cannot write Token (type:production): values are signed by their writer and no identity was found"),
        "{}",
        out.stderr
    );
    ws.use_key(&dev);
    let out = ws.secret(&["set", "--type", "prod", "Token"], "attacker-value");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "your key ({}) may not write production",
            dev.public
        )),
        "{}",
        out.stderr
    );
    assert_eq!(ws.store_bytes(), before, "the store is unchanged");
}

#[test]
fn a_development_key_that_signs_a_production_value_is_refused() {
    let (mut ws, ops, dev) = team();
    // A developer's modified tool: encrypt to production *and* their own key, list both,
    // sign with their key, for this repository. Simulated in a copy of the workspace whose
    // signed rules make dev a production writer; the table is then copied back.
    let mut copy = Ws::new();
    for file in ["secrets.toml", "secrets.enc.toml"] {
        std::fs::copy(ws.root().join(file), copy.root().join(file)).unwrap();
    }
    copy.config(
        "",
        &format!(
            "production = [\"{o}\", \"{d}\"]\ndevelopment = [\"{d}\", \"{o}\"]\nlocal = [\"{d}\", \"{o}\"]",
            o = ops.public,
            d = dev.public
        ),
    );
    copy.use_key(&ops);
    ok(&copy.secret(&["rekey", "--yes"], ""));
    copy.use_key(&dev);
    ok(&copy.secret(&["set", "--type", "prod", "Token"], "attacker-prod-value"));
    let copied = String::from_utf8(copy.store_bytes()).unwrap();
    let start = copied.find("[Token.\"type:production\"]").unwrap();
    let end = copied[start..]
        .find("\"\"\"\n\n")
        .map_or(copied.len(), |at| start + at + 4);
    edit_prod_table(&ws, |_| copied[start..end].to_owned());
    readers_refuse(
        &mut ws,
        &ops,
        &format!(
            "was written by {}, who may not write production",
            dev.public
        ),
        "attacker-prod-value",
    );
    let found = codes(&check(&ws, &["prod"]));
    let has = |wanted: Code, text: &str| {
        found.iter().any(|(severity, code, message)| {
            *severity == Severity::Error && *code == wanted && message.contains(text)
        })
    };
    assert!(has(Code::UnauthorizedWriter, &dev.public), "{found:?}");
    assert!(has(Code::StaleRecipient, &dev.public), "{found:?}");
}

#[test]
fn extra_recipients_or_a_stripped_signature_are_refused() {
    let (mut ws, ops, dev) = team();
    // Encrypted to production and development keys, both listed, the signature kept.
    let forged = age_encrypt(&[&ops.public, &dev.public], "attacker-prod-value");
    let (o, d) = (ops.public.clone(), dev.public.clone());
    edit_prod_table(&ws, |table| {
        let listed = if d < o {
            format!("    \"{d}\",\n    \"{o}\",\n")
        } else {
            format!("    \"{o}\",\n    \"{d}\",\n")
        };
        replace_value(table, &forged).replace(&format!("    \"{o}\",\n"), &listed)
    });
    readers_refuse(
        &mut ws,
        &ops,
        "signature does not verify",
        "attacker-prod-value",
    );
    let found = codes(&check(&ws, &["prod"]));
    assert!(
        found
            .iter()
            .any(|(s, c, _)| *s == Severity::Error && *c == Code::ForgedValue),
        "{found:?}"
    );

    // The same with the signature removed: unsigned values are refused too.
    edit_prod_table(&ws, |table| {
        table
            .lines()
            .filter(|line| {
                !line.starts_with("writer =")
                    && !line.starts_with("written =")
                    && !line.starts_with("signature =")
            })
            .map(|line| format!("{line}\n"))
            .collect()
    });
    readers_refuse(&mut ws, &ops, "is not signed", "attacker-prod-value");
    let report = check(&ws, &["prod"]);
    assert!(report.has_errors());
    assert!(
        codes(&report).iter().any(|(s, c, m)| *s == Severity::Error
            && *c == Code::UnsignedValue
            && m.contains("`Token` (type:production) is not signed")),
        "{:?}",
        codes(&report)
    );
    // For a local environment an unsigned value is a warning in the check.
    edit_prod_table(&ws, |table| table.to_owned());
    let local = check(&ws, &["local"]);
    assert!(!local.has_errors(), "{:?}", codes(&local));
}

#[test]
fn a_writer_who_cannot_read_sets_values_readers_accept() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let ci = ws.key("ci");
    ws.write(
        "secrets.toml",
        &format!(
            "[recipients]\nproduction = [\"{o}\"]\n\n[writers]\nproduction = [\"{o}\", \"{c}\"]\n",
            o = ops.public,
            c = ci.public
        ),
    );
    ws.use_key(&ci);
    let out = ws.secret(&["set", "--type", "prod", "Token"], "rotated-by-ci");
    ok(&out);
    assert!(
        out.stdout.contains("encrypted to 1 recipient"),
        "{}",
        out.stdout
    );
    // The writer cannot read what it wrote.
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 1, "{}", out.all());
    // The reader accepts it, and the keyless check is clean.
    ws.use_key(&ops);
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    ok(&out);
    assert_eq!(out.stdout, "rotated-by-ci");
    let store = Store::load(ws.root()).unwrap();
    let prod = Scope::Types([EnvType::Production].into());
    assert_eq!(
        store
            .get("Token", &prod)
            .unwrap()
            .signed
            .as_ref()
            .unwrap()
            .writer,
        ci.public
    );
    assert!(codes(&check(&ws, &["prod"])).is_empty());
}

/// A git repository around `ws` with the store's drivers set up by `secret init`, running
/// the CLI binary instead of `cargo xtask secret`.
fn repository(ws: &mut Ws) {
    git_ok(ws.root(), &["init", "-q", "-b", "main"]);
    ws.vars.insert(
        "SECRETS_GIT_COMMAND".to_owned(),
        format!("{CLI} secret").into(),
    );
    let out = ws.secret(&["init"], "");
    ok(&out);
    assert!(out.stdout.contains(".gitattributes"), "{}", out.stdout);
    let attributes = std::fs::read_to_string(ws.root().join(".gitattributes")).unwrap();
    assert!(
        attributes.contains("secrets.enc.toml merge=secrets-store diff=secrets-store"),
        "{attributes}"
    );
    let driver = git_ok(
        ws.root(),
        &["config", "--get", "merge.secrets-store.driver"],
    );
    assert_eq!(
        driver.trim(),
        format!("{CLI} secret merge-driver %O %A %B %P")
    );
    git_ok(ws.root(), &["add", "-A"]);
    git_ok(ws.root(), &["commit", "-q", "-m", "base"]);
}

#[test]
fn removal_on_one_branch_and_addition_on_another_merge_then_stale_then_rotation_due() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let bob = ws.key("bob");
    let config = |people: &[&Key]| {
        let list: Vec<String> = people.iter().map(|k| format!("\"{}\"", k.public)).collect();
        format!(
            "[recipients]\nproduction = [{}]\nlocal = [\"{}\"]\n",
            list.join(", "),
            ops.public
        )
    };
    ws.write("secrets.toml", &config(&[&ops, &bob]));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Middle"], "middle-1"));
    repository(&mut ws);
    let dir = ws.root().to_owned();

    // Bob leaves: removed from secrets.toml and every value re-encrypted.
    git_ok(&dir, &["checkout", "-q", "-b", "bob-leaves"]);
    ws.write("secrets.toml", &config(&[&ops]));
    let out = ws.secret(&["rekey", "--yes"], "");
    ok(&out);
    assert!(
        out.stdout
            .contains(&format!("rotation due: {} could read it until", bob.public)),
        "{}",
        out.stdout
    );
    git_ok(&dir, &["commit", "-q", "-am", "bob leaves"]);

    // Meanwhile, on an older branch, two secrets are added (still encrypted to bob).
    git_ok(&dir, &["checkout", "-q", "main"]);
    git_ok(&dir, &["checkout", "-q", "-b", "features"]);
    ok(&ws.secret(&["set", "--type", "prod", "Zeta"], "zeta-1"));
    ok(&ws.secret(&["set", "--type", "prod", "Zulu"], "zulu-1"));
    git_ok(&dir, &["commit", "-q", "-am", "add zeta and zulu"]);

    let merge = git(&dir, &["merge", "-q", "--no-edit", "bob-leaves"]);
    assert!(
        merge.status.success(),
        "{}{}",
        String::from_utf8_lossy(&merge.stdout),
        String::from_utf8_lossy(&merge.stderr)
    );
    let store = Store::load(&dir).unwrap();
    assert_eq!(
        store.names().collect::<Vec<_>>(),
        ["Middle", "Zeta", "Zulu"]
    );

    // Zeta and Zulu are still readable by bob: an error for production until rekey.
    let found = codes(&check(&ws, &["prod"]));
    for name in ["Zeta", "Zulu"] {
        assert!(
            found.iter().any(|(s, c, m)| *s == Severity::Error
                && *c == Code::StaleRecipient
                && m.contains(&format!("`{name}`"))
                && m.contains(&bob.public)),
            "{found:?}"
        );
    }
    // Middle, re-encrypted when bob left, is due for rotation (a warning by default).
    assert!(
        found.iter().any(|(s, c, m)| *s == Severity::Warning
            && *c == Code::RotationDue
            && m.contains("`Middle`")
            && m.contains(&bob.public)),
        "{found:?}"
    );
    let mut options = Options::envs(&["prod".to_owned()]);
    options.deny_rotation_due = true;
    let strict = check_with(&dir, &options, &|_| None).unwrap();
    assert!(
        strict
            .diagnostics
            .iter()
            .any(|d| d.code == Code::RotationDue && d.severity == Severity::Error)
    );
    // `list` shows the same.
    let list = ws.secret(&["list"], "");
    assert!(list.all().contains("stale recipient"), "{}", list.all());

    ok(&ws.secret(&["rekey", "--yes"], ""));
    let found = codes(&check(&ws, &["prod"]));
    assert!(
        !found.iter().any(|(_, c, _)| *c == Code::StaleRecipient),
        "{found:?}"
    );
    for name in ["Middle", "Zeta", "Zulu"] {
        assert!(
            found
                .iter()
                .any(|(_, c, m)| *c == Code::RotationDue && m.contains(&format!("`{name}`"))),
            "{found:?}"
        );
    }
    // A new value ends the rotation.
    ok(&ws.secret(&["set", "--type", "prod", "Middle"], "middle-2"));
    let found = codes(&check(&ws, &["prod"]));
    assert!(
        !found
            .iter()
            .any(|(c, _, m)| *c == Severity::Warning && m.contains("`Middle`")),
        "{found:?}"
    );

    // The diff driver: one line per value, no ciphertext, no plaintext.
    let diff = git_ok(&dir, &["diff", "HEAD", "--", "secrets.enc.toml"]);
    assert!(!diff.contains("BEGIN AGE"), "{diff}");
    assert!(
        !diff.contains("middle-2") && !diff.contains("middle-1"),
        "{diff}"
    );
    let removed: Vec<&str> = diff
        .lines()
        .filter(|line| line.starts_with("-Middle "))
        .collect();
    let added: Vec<&str> = diff
        .lines()
        .filter(|line| line.starts_with("+Middle "))
        .collect();
    assert_eq!((removed.len(), added.len()), (1, 1), "{diff}");
    assert!(
        added[0].starts_with("+Middle type:production sha256:"),
        "{diff}"
    );
    assert!(
        added[0].contains(&format!("writer={}", ops.public)),
        "{diff}"
    );
    assert!(
        removed[0].contains(&format!("exposed={}@", bob.public)),
        "{diff}"
    );
    assert!(!added[0].contains("exposed="), "{diff}");

    // History: who changed which value, signed by whom.
    git_ok(&dir, &["commit", "-q", "-am", "rotate"]);
    let log = ws.secret(&["log", "Middle"], "");
    ok(&log);
    let lines: Vec<&str> = log.stdout.lines().collect();
    // Set; re-encrypted when bob left (merged); replaced after the rotation.
    assert_eq!(lines.len(), 3, "{}", log.stdout);
    assert!(lines[0].contains(&format!(
        "set Middle type:production signed by {}",
        ops.public
    )));
    assert!(
        lines[1].contains("re-encrypted Middle type:production"),
        "{}",
        log.stdout
    );
    assert!(
        lines[2].contains("changed Middle type:production"),
        "{}",
        log.stdout
    );
    assert!(
        lines
            .iter()
            .all(|line| line.contains("committed by Tester"))
    );
}

/// A table moves down the file when a rules version is added above it; `secret log` once
/// listed every value below as "re-signed" (and a removal as removed again) at each such
/// commit, though nothing about them changed.
#[test]
fn log_lists_a_value_once_when_rules_are_added_above_it() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    let dev = ws.key("dev");
    ws.config("", &format!("production = [\"{}\"]", ops.public));
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "one"));
    ok(&ws.secret(&["set", "--type", "prod", "Gone"], "one"));
    repository(&mut ws);
    ok(&ws.secret(&["unset", "--type", "prod", "Gone"], ""));
    git_ok(ws.root(), &["commit", "-q", "-am", "unset"]);
    for (n, key) in [&dev, &ops].into_iter().enumerate() {
        ws.config(
            "",
            &format!(
                "production = [\"{}\"]\ndevelopment = [\"{}\"]",
                ops.public, key.public
            ),
        );
        ok(&ws.secret(&["rekey", "--yes"], ""));
        git_ok(ws.root(), &["commit", "-q", "-am", &format!("rules {n}")]);
    }
    let log = ws.secret(&["log"], "");
    ok(&log);
    let about = |name: &str| -> Vec<&str> {
        log.stdout
            .lines()
            .filter(|line| line.contains(&format!(" {name} type:production")))
            .collect()
    };
    assert_eq!(about("Token").len(), 1, "{}", log.stdout);
    assert!(about("Token")[0].contains("set Token"), "{}", log.stdout);
    assert_eq!(about("Gone").len(), 2, "{}", log.stdout);
    assert!(about("Gone")[1].contains("removed Gone"), "{}", log.stdout);
    assert_eq!(
        log.stdout.matches("access rules version").count(),
        3,
        "{}",
        log.stdout
    );
}

#[test]
fn the_same_value_changed_on_both_branches_is_a_named_conflict() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
    );
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "one"));
    repository(&mut ws);
    let dir = ws.root().to_owned();
    git_ok(&dir, &["checkout", "-q", "-b", "a"]);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "two"));
    git_ok(&dir, &["commit", "-q", "-am", "a"]);
    git_ok(&dir, &["checkout", "-q", "main"]);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "three"));
    git_ok(&dir, &["commit", "-q", "-am", "b"]);
    let merge = git(&dir, &["merge", "--no-edit", "a"]);
    assert!(!merge.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&merge.stdout),
        String::from_utf8_lossy(&merge.stderr)
    );
    assert!(
        said.contains("conflict: Token (type:production) was changed on both branches"),
        "{said}"
    );
    let text = std::fs::read_to_string(ws.store_path()).unwrap();
    // Two whole tables between the markers, never interleaved lines.
    let ours = text.split("<<<<<<< ours\n").nth(1).unwrap();
    let (ours, theirs) = ours.split_once("=======\n").unwrap();
    let theirs = theirs.split(">>>>>>> theirs\n").next().unwrap();
    for side in [ours, theirs] {
        assert!(side.starts_with("[Token.\"type:production\"]\n"), "{side}");
        assert!(side.ends_with("\"\"\"\n"), "{side}");
        assert_eq!(side.matches("BEGIN AGE").count(), 1);
    }
    // Readers refuse the file until someone picks a side.
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("unresolved merge conflict"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_clone_without_the_driver_gets_a_note() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
    );
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "one"));
    repository(&mut ws);
    assert!(
        !check(&ws, &["prod"])
            .diagnostics
            .iter()
            .any(|d| d.code == Code::MergeDriverMissing)
    );
    let clone = tempfile::tempdir().unwrap();
    git_ok(
        clone.path(),
        &["clone", "-q", ws.root().to_str().unwrap(), "copy"],
    );
    let copy = clone.path().join("copy");
    let envs = ["prod".to_owned()];
    let report = check_with(&copy, &Options::envs(&envs), &|_| None).unwrap();
    let note = report
        .diagnostics
        .iter()
        .find(|d| d.code == Code::MergeDriverMissing)
        .expect("noted");
    // One line, not a warning on every check: the clone works without the driver.
    assert_eq!(note.severity, Severity::Note);
    assert_eq!(
        note.help.as_deref(),
        Some("cargo xtask secret init  (configures this clone's merge and diff drivers)")
    );
    // A CI clone is told it does not matter there.
    let ci = check_with(&copy, &Options::envs(&envs), &|name| {
        (name == "CI").then(|| "true".into())
    })
    .unwrap();
    let note = ci
        .diagnostics
        .iter()
        .find(|d| d.code == Code::MergeDriverMissing)
        .expect("noted");
    assert!(note.message.contains("this CI clone"), "{}", note.message);
}

/// Git keeps its textconv cache in notes commits and fails the whole `git diff` when it
/// cannot make one for want of an identity: in a clone whose git has no `user.name` and
/// `user.email`, `init` sets the diff driver up uncached (and says so), and `git diff` of
/// the store works.
#[test]
fn the_diff_works_where_git_has_no_identity() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
    );
    ws.use_key(&ops);
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "one"));
    git_ok(ws.root(), &["init", "-q", "-b", "main"]);
    git_ok(ws.root(), &["add", "-A"]);
    git_ok(ws.root(), &["commit", "-q", "-m", "base"]);
    // Git as on a machine with no identity configured (nothing global, nothing in the
    // environment); the real program, copied into the clone's git folder by `init`.
    let anonymous = |program: &str, args: &[&str]| {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(ws.root())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .envs(&ws.vars);
        for var in [
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "EMAIL",
        ] {
            command.env_remove(var);
        }
        command.output().unwrap()
    };
    let identity = anonymous("git", &["var", "GIT_COMMITTER_IDENT"])
        .status
        .success();
    let init = anonymous(CLI, &["secret", "init"]);
    let said = String::from_utf8_lossy(&init.stdout);
    assert!(init.status.success(), "{said}");
    assert_eq!(
        said.contains("note: git has no identity here"),
        !identity,
        "{said}"
    );
    ok(&ws.secret(&["set", "--type", "prod", "Token"], "two"));
    git_ok(ws.root(), &["commit", "-q", "-am", "two"]);
    // Between commits (blobs git would cache the conversion of, unlike the work tree's).
    let diff = anonymous("git", &["diff", "HEAD~1", "HEAD", "--", "secrets.enc.toml"]);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(text.contains("+Token type:production"), "{text}");
    assert!(text.contains("version=2"), "{text}");
}

/// What happens to one slot on one branch.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Keep,
    Set,
    Unset,
}

/// Twenty generated pairs of branches, each adding, changing and removing slots (two types
/// of five secrets) on both sides of a base; `git merge` with the driver must give what the
/// per-slot rule says: one side changed takes it, both the same takes it, both different is
/// a conflict naming that slot.
#[test]
fn generated_branch_pairs_merge_as_the_rule_says() {
    let mut seed: u64 = std::env::var("SECRETS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let names = ["Alpha", "Middle", "Zeta", "Zulu", "Omega"];
    let types = ["prod", "local"];
    let (mut clean, mut conflicted) = (0, 0);
    for round in 0..20 {
        let mut ws = Ws::new();
        let key = ws.key("me");
        ws.write(
            "secrets.toml",
            &format!(
                "[recipients]\nproduction = [\"{0}\"]\nlocal = [\"{0}\"]\n",
                key.public
            ),
        );
        ws.use_key(&key);
        let slots: Vec<(&str, &str)> = names
            .iter()
            .flat_map(|name| types.iter().map(move |ty| (*name, *ty)))
            .collect();
        for (name, ty) in &slots {
            if next(2) == 0 {
                ok(&ws.secret(&["set", "--type", ty, name], "base"));
            }
        }
        repository(&mut ws);
        let dir = ws.root().to_owned();
        let fingerprints = |ws: &Ws| -> BTreeMap<(String, String), String> {
            let store = Store::load(ws.root()).unwrap();
            store
                .names()
                .flat_map(|name| {
                    store
                        .slots(name)
                        .map(|(scope, entry)| ((name.to_owned(), scope.key()), entry.fingerprint()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let base = fingerprints(&ws);
        let mut sides = Vec::new();
        for branch in ["ours", "theirs"] {
            git_ok(&dir, &["checkout", "-q", "main"]);
            git_ok(&dir, &["checkout", "-q", "-b", branch]);
            for (name, ty) in &slots {
                let key = (
                    name.to_string(),
                    Scope::parse_key(&format!("type:{}", long(ty)))
                        .unwrap()
                        .key(),
                );
                let op = match next(4) {
                    0 => Op::Set,
                    1 if base.contains_key(&key) => Op::Unset,
                    _ => Op::Keep,
                };
                match op {
                    Op::Set => ok(&ws.secret(&["set", "--type", ty, name], branch)),
                    Op::Unset => ok(&ws.secret(&["unset", "--type", ty, name], "")),
                    Op::Keep => {}
                }
            }
            git_ok(&dir, &["add", "-A"]);
            git_ok(&dir, &["commit", "-q", "--allow-empty", "-m", branch]);
            sides.push(fingerprints(&ws));
        }
        let (ours, theirs) = (&sides[0], &sides[1]);
        let mut expected = BTreeMap::new();
        let mut conflicts = Vec::new();
        let keys: std::collections::BTreeSet<_> = base
            .keys()
            .chain(ours.keys())
            .chain(theirs.keys())
            .cloned()
            .collect();
        for key in keys {
            let (b, o, t) = (base.get(&key), ours.get(&key), theirs.get(&key));
            let taken = if o == t {
                o
            } else if b == o {
                t
            } else if b == t {
                o
            } else {
                conflicts.push(key.clone());
                continue;
            };
            if let Some(fingerprint) = taken {
                expected.insert(key, fingerprint.clone());
            }
        }
        git_ok(&dir, &["checkout", "-q", "ours"]);
        let merge = git(&dir, &["merge", "--no-edit", "theirs"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&merge.stdout),
            String::from_utf8_lossy(&merge.stderr)
        );
        if conflicts.is_empty() {
            clean += 1;
            assert!(merge.status.success(), "round {round}: {said}");
            assert_eq!(fingerprints(&ws), expected, "round {round}");
            let text = std::fs::read_to_string(ws.store_path()).unwrap();
            assert_eq!(text, Store::load(&dir).unwrap().render(), "round {round}");
        } else {
            conflicted += 1;
            assert!(!merge.status.success(), "round {round}: {said}");
            for (name, scope) in &conflicts {
                assert!(
                    said.contains(&format!(
                        "conflict: {name} ({scope}) was changed on both branches"
                    )),
                    "round {round}: {said}"
                );
            }
            assert_eq!(
                said.matches("was changed on both branches").count(),
                conflicts.len(),
                "round {round}: {said}"
            );
        }
    }
    // The generator exercises both outcomes.
    assert!(
        clean > 0 && conflicted > 0,
        "{clean} clean, {conflicted} conflicted"
    );
}

fn long(ty: &str) -> &str {
    match ty {
        "prod" => "production",
        other => other,
    }
}

#[test]
fn a_format_1_store_is_read_reported_unsigned_and_migrated() {
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
    );
    // A store as version 1 of the tool wrote it: the value behind a binding header, no
    // signature.
    let plaintext = format!(
        "secret-store v1\nToken\ntype:production\n{}\nold-value",
        ops.public
    );
    let armor = age_encrypt(&[&ops.public], &plaintext);
    ws.write(
        "secrets.enc.toml",
        &format!(
            "# Written by `cargo xtask secret`; do not edit by hand. Values are age-encrypted.\nversion = 1\n\n[Token.\"type:production\"]\nrecipients = [\n    \"{}\",\n]\nvalue = \"\"\"\n{}\n\"\"\"\n",
            ops.public,
            armor.trim_end()
        ),
    );
    ws.use_key(&ops);
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr
            .contains("the value of Token (type:production) is not signed")
            && out.stderr.contains("cargo xtask secret migrate"),
        "{}",
        out.stderr
    );
    let found = codes(&check(&ws, &["prod"]));
    assert!(
        found
            .iter()
            .any(|(s, c, _)| *s == Severity::Error && *c == Code::UnsignedValue),
        "{found:?}"
    );
    let out = ws.secret(
        &["migrate", "--yes", "--accept", "Token@type:production"],
        "",
    );
    ok(&out);
    assert!(
        out.stdout
            .contains(&format!("signed Token for production as {}", ops.public)),
        "{}",
        out.stdout
    );
    let out = ws.secret(&["reveal", "--env", "prod", "Token"], "");
    ok(&out);
    assert_eq!(out.stdout, "old-value", "the format 1 header is gone");
    let text = String::from_utf8(ws.store_bytes()).unwrap();
    assert!(text.contains("version = 3\n"), "{text}");
    assert!(codes(&check(&ws, &["prod"])).is_empty());
    // Nothing left to migrate.
    let out = ws.secret(&["migrate"], "");
    ok(&out);
    assert!(
        out.stdout.contains("every value is signed"),
        "{}",
        out.stdout
    );
}

/// A stored value is a standard age file: the `age` command-line tool decrypts it to exactly
/// the value (Debian package `age`, installed by `.ci/run`).
#[test]
#[ignore = "needs the `age` tool (apt-get install age); .ci/run runs it with --ignored"]
fn the_age_tool_decrypts_a_stored_value() {
    let age_bin = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("age"))
                .find(|path| path.is_file())
        })
        .expect("the `age` tool is installed (apt-get install age)");
    let mut ws = Ws::new();
    let ops = ws.key("ops");
    ws.write(
        "secrets.toml",
        &format!("[recipients]\nproduction = [\"{}\"]\n", ops.public),
    );
    ws.use_key(&ops);
    ok(&ws.secret(
        &["set", "--type", "prod", "Token"],
        "line one\nline \"two\" $x",
    ));
    let store = Store::load(ws.root()).unwrap();
    let prod = Scope::Types([EnvType::Production].into());
    let armored = ws.home.path().join("value.age");
    std::fs::write(&armored, store.get("Token", &prod).unwrap().ciphertext()).unwrap();
    let out = Command::new(age_bin)
        .arg("-d")
        .arg("-i")
        .arg(&ops.file)
        .arg(&armored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"line one\nline \"two\" $x");
}
