//! The attacks on the store's state, tried in real git repositories with generated
//! identities, as someone who can push to the repository (no key, or only a development
//! key): each must be refused by every reader (`reveal`, `run`, `export`, the run time's
//! store source) and reported by the keyless check with an error for cloud environments,
//! while the legitimate flows (join, leave, rekey, rotate, a `[writers]`-only CI key, merges
//! of different slots, a workspace in a subfolder) keep working.
//!
//! One module per attack, in `signed_state/`; the helpers here play the team (the CLI run in
//! process, the `secret-cli` binary for git's drivers) and the attacker (editing tables by
//! hand, and signing with a key the test holds, as a modified tool would).

use crate::store_support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use crate::store_support::{Key, Ws, git, git_ok, ok};
use secret_build::check::{Code, Options, Report, Severity, check_with};
use secret_core::identity::generate_identity;
use secret_core::rules::chain::Pin;
use secret_core::secrecy::ExposeSecret;

#[path = "signed_state/audit.rs"]
mod audit;
#[path = "signed_state/build_gate.rs"]
mod build_gate;
#[path = "signed_state/hidden.rs"]
mod hidden;
#[path = "signed_state/leaving.rs"]
mod leaving;
#[path = "signed_state/merges.rs"]
mod merges;
#[path = "signed_state/migrate.rs"]
mod migrate;
#[path = "signed_state/replay.rs"]
mod replay;
#[path = "signed_state/rollback.rs"]
mod rollback;
#[path = "signed_state/self_grant.rs"]
mod self_grant;
#[path = "signed_state/tables.rs"]
mod tables;
#[path = "signed_state/tuf.rs"]
mod tuf;

const CLI: &str = env!("CARGO_BIN_EXE_secret-cli");

/// The production table of `Token`, as the store writes its header.
const PROD: &str = "[Token.\"type:production\"]";

/// A team in a git repository: ops reads and writes production (and is its admin, as its
/// only writer); dev reads and writes development and local (ops too). `prod-eu` is a
/// production environment. Token has a production value (`prod-1`) and a development and
/// local one (`dev-1`), committed.
struct Team {
    ws: Ws,
    ops: Forger,
    dev: Forger,
}

impl Team {
    fn new() -> Team {
        let mut ws = Ws::new();
        let ops = Forger::new(&ws, "ops");
        let dev = Forger::new(&ws, "dev");
        ws.write("secrets.toml", &team_config(&ops.key, &dev.key, ""));
        ws.use_key(&ops.key);
        ok(&ws.secret(&["set", "--type", "prod", "Token"], "prod-1"));
        ok(&ws.secret(&["set", "--type", "dev,local", "Token"], "dev-1"));
        repository(&mut ws);
        Team { ws, ops, dev }
    }
}

/// The team's `secrets.toml`, with `extra` lines at the end.
fn team_config(ops: &Key, dev: &Key, extra: &str) -> String {
    format!(
        "[environments]\nprod-eu = \"production\"\n\n[recipients]\nproduction = [\"{o}\"]\ndevelopment = [\"{d}\", \"{o}\"]\nlocal = [\"{d}\", \"{o}\"]\n{extra}",
        o = ops.public,
        d = dev.public
    )
}

/// Makes `ws` a git repository with the store's drivers configured by `secret init`
/// (running the CLI binary), and commits everything.
fn repository(ws: &mut Ws) {
    git_ok(ws.root(), &["init", "-q", "-b", "main"]);
    drivers(ws);
    commit(ws, "base");
}

/// `secret init` in `ws` with git's drivers running the `secret-cli` binary.
fn drivers(ws: &mut Ws) {
    ws.vars.insert(
        "SECRETS_GIT_COMMAND".to_owned(),
        format!("{CLI} secret").into(),
    );
    ok(&ws.secret(&["init"], ""));
}

/// A fresh clone of `ws`'s repository (what CI checks out), with the same variables.
fn clone(ws: &Ws) -> Ws {
    let dir = tempfile::tempdir().unwrap();
    git_ok(
        dir.path(),
        &["clone", "-q", ws.root().to_str().unwrap(), "."],
    );
    Ws {
        dir,
        home: tempfile::tempdir().unwrap(),
        vars: ws.vars.clone(),
    }
}

/// Commits every change in the work tree.
fn commit(ws: &Ws, message: &str) {
    git_ok(ws.root(), &["add", "-A"]);
    git_ok(ws.root(), &["commit", "-q", "--allow-empty", "-m", message]);
}

/// The store's text.
fn store_text(ws: &Ws) -> String {
    String::from_utf8(ws.store_bytes()).unwrap()
}

/// The store's text at `revision`.
fn store_at(ws: &Ws, revision: &str) -> String {
    git_ok(
        ws.root(),
        &["show", &format!("{revision}:./secrets.enc.toml")],
    )
}

/// The tables of a store's text (each from its `[header]` line to its last line), after
/// the lines before the first table.
fn tables(text: &str) -> (String, Vec<String>) {
    let mut parts = text.trim_end().split("\n\n").map(str::to_owned);
    let prelude = parts.next().unwrap_or_default();
    (prelude, parts.collect())
}

/// The table whose first line is `header`.
fn table(text: &str, header: &str) -> String {
    tables(text)
        .1
        .into_iter()
        .find(|table| table.lines().next() == Some(header))
        .unwrap_or_else(|| panic!("no table {header} in\n{text}"))
}

/// `text` with the table whose first line is `header` replaced by `new` (added at the end
/// when absent), or removed when `new` is `None`.
fn with_table(text: &str, header: &str, new: Option<&str>) -> String {
    let (prelude, mut list) = tables(text);
    let at = list
        .iter()
        .position(|table| table.lines().next() == Some(header));
    match (at, new) {
        (Some(at), Some(new)) => list[at] = new.trim_end().to_owned(),
        (Some(at), None) => {
            list.remove(at);
        }
        (None, Some(new)) => list.push(new.trim_end().to_owned()),
        (None, None) => panic!("no table {header} in\n{text}"),
    }
    let mut out = prelude;
    for table in list {
        out.push_str("\n\n");
        out.push_str(&table);
    }
    out.push('\n');
    out
}

/// The store's identity (the `repository` of its signed rules).
fn repository_id(root: &Path) -> String {
    secret_core::state::State::load(root, None)
        .unwrap()
        .rules()
        .unwrap()
        .repository
        .clone()
}

// ---- the check, keyless ----

/// The check as CI runs it: no identity anywhere; `trust` is `--trust`.
fn check(ws: &Ws, envs: &[&str], trust: Option<&str>) -> Report {
    let envs: Vec<String> = envs.iter().map(|env| (*env).to_owned()).collect();
    let mut options = Options::envs(&envs);
    options.trust = trust.map(|pin| Pin::parse(pin).unwrap());
    check_with(ws.root(), &options, &|_| None).unwrap()
}

/// Every finding of `report` except those about declarations (the workspaces here declare
/// nothing), one line each.
fn findings(report: &Report) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code != Code::UndeclaredSecret)
        .map(|d| format!("{} {}: {}", d.severity.name(), d.code.as_str(), d.message))
        .collect()
}

/// Whether `report` has a finding of `severity` and `code` whose message holds every one of
/// `texts`.
fn has(report: &Report, severity: Severity, code: Code, texts: &[&str]) -> bool {
    report.diagnostics.iter().any(|d| {
        d.severity == severity && d.code == code && texts.iter().all(|t| d.message.contains(t))
    })
}

/// Asserts [`has`], showing every finding otherwise.
#[track_caller]
fn assert_has(report: &Report, severity: Severity, code: Code, texts: &[&str]) {
    assert!(
        has(report, severity, code, texts),
        "no {} {} with {texts:?} in\n{}",
        severity.name(),
        code.as_str(),
        findings(report).join("\n")
    );
}

// ---- the readers ----

/// What one reader made of the value of a secret.
#[derive(Debug)]
struct Read {
    reader: &'static str,
    /// The value delivered, if any.
    value: Option<String>,
    /// Everything it printed (the run time: its error).
    said: String,
}

/// The value of `name` for `env` as each reader gets it, with `ws`'s identity and
/// variables: `reveal`, `run` (what the child saw), `export --format dotenv`, and the run
/// time's resolver (`SECRETS_ENV=env`).
fn read_all(ws: &Ws, env: &str, name: &str) -> Vec<Read> {
    let mut reads = Vec::new();
    let out = ws.secret(&["reveal", "--env", env, name], "");
    reads.push(Read {
        reader: "reveal",
        value: (out.code == 0).then(|| out.stdout.clone()),
        said: out.all(),
    });
    let seen = ws.home.path().join("child-saw");
    let _ = std::fs::remove_file(&seen);
    let script = format!("printf %s \"$SECRET_{name}\" > '{}'", seen.display());
    let out = ws.secret(&["run", "--env", env, "--", "sh", "-c", &script], "");
    let child = std::fs::read_to_string(&seen).ok();
    reads.push(Read {
        reader: "run",
        value: child.filter(|_| out.code == 0),
        said: out.all(),
    });
    let out = ws.secret(&["export", "--env", env, "--format", "dotenv"], "");
    let prefix = format!("SECRET_{name}=");
    let exported = out.stdout.lines().find_map(|line| {
        line.strip_prefix(&prefix)
            .map(|value| value.trim_matches('\'').trim_matches('"').to_owned())
    });
    reads.push(Read {
        reader: "export",
        value: exported.filter(|_| out.code == 0),
        said: out.all(),
    });
    let mut vars: BTreeMap<String, OsString> = ws.vars.clone();
    vars.insert("SECRETS_ENV".to_owned(), env.into());
    vars.insert(
        "SECRETS_WORKSPACE".to_owned(),
        ws.root().as_os_str().to_owned(),
    );
    let resolved = secret_runtime::Resolver::from_vars(
        Arc::new(move |var| vars.get(var).cloned()),
        None,
        None,
    )
    .and_then(|resolver| resolver.resolve(name));
    reads.push(match resolved {
        Ok(value) => Read {
            reader: "run time",
            value: Some(value.expose_secret().to_owned()),
            said: String::new(),
        },
        Err(error) => Read {
            reader: "run time",
            value: None,
            said: error.to_string(),
        },
    });
    reads
}

/// Asserts every reader refuses the value of `name` for `env`, each saying every one of
/// `why`, and none delivers or prints `attacker` (the value the attacker wanted served).
#[track_caller]
fn every_reader_refuses(ws: &Ws, env: &str, name: &str, why: &[&str], attacker: &str) {
    refused(ws, env, name, why, attacker, true);
}

/// [`every_reader_refuses`] in a store where other values of `env` are refused too: `run`
/// and `export` deliver every value of the environment, so they fail on the first refused
/// one (by name), which may be another.
#[track_caller]
fn every_reader_refuses_among_others(ws: &Ws, env: &str, name: &str, why: &[&str], attacker: &str) {
    refused(ws, env, name, why, attacker, false);
}

#[track_caller]
fn refused(ws: &Ws, env: &str, name: &str, why: &[&str], attacker: &str, alone: bool) {
    for read in read_all(ws, env, name) {
        assert_eq!(
            read.value, None,
            "{} served a value: {}",
            read.reader, read.said
        );
        assert!(
            read.said.contains("it is refused") || read.said.contains("is refused"),
            "{} does not say it refuses:\n{}",
            read.reader,
            read.said
        );
        let whole_env = matches!(read.reader, "run" | "export");
        for text in why.iter().filter(|_| alone || !whole_env) {
            assert!(
                read.said.contains(text),
                "{} does not say `{text}`:\n{}",
                read.reader,
                read.said
            );
        }
        assert!(
            !read.said.contains(attacker),
            "{}: {}",
            read.reader,
            read.said
        );
    }
}

/// Asserts every reader delivers `value` for `name` in `env`.
#[track_caller]
fn every_reader_serves(ws: &Ws, env: &str, name: &str, value: &str) {
    for read in read_all(ws, env, name) {
        assert_eq!(
            read.value.as_deref(),
            Some(value),
            "{}: {}",
            read.reader,
            read.said
        );
    }
}

/// Asserts the readers of one value (`reveal`, the run time) deliver `value` for `name` in
/// `env` (in a store where `run` and `export` fail on other, refused values).
#[track_caller]
fn readers_of_one_value_serve(ws: &Ws, env: &str, name: &str, value: &str) {
    for read in read_all(ws, env, name)
        .into_iter()
        .filter(|read| matches!(read.reader, "reveal" | "run time"))
    {
        assert_eq!(
            read.value.as_deref(),
            Some(value),
            "{}: {}",
            read.reader,
            read.said
        );
    }
}

// ---- the attacker's modified tool ----

/// A key the test holds the secret of, to sign by hand what a modified tool would sign
/// (a generated identity, written like [`Ws::key`]'s so the CLI can use it too).
struct Forger {
    key: Key,
    secret: [u8; 32],
}

impl Forger {
    fn new(ws: &Ws, name: &str) -> Forger {
        let (identity, text) = generate_identity();
        let file = ws.home.path().join(format!("{name}.txt"));
        std::fs::write(&file, text.expose_secret()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Forger {
            key: Key {
                file,
                public: identity.to_public().to_string(),
            },
            secret: *identity.secret_bytes(),
        }
    }

    /// The XEdDSA signature of `message` by this key, base64: what the tool writes, made
    /// independently of it (Signal's XEdDSA, the nonce hashed from the key and message).
    fn sign(&self, message: &str) -> String {
        use base64::Engine as _;
        use curve25519_dalek::edwards::EdwardsPoint;
        use curve25519_dalek::scalar::Scalar;
        use sha2::{Digest, Sha512};
        let mut clamped = self.secret;
        clamped[0] &= 248;
        clamped[31] &= 127;
        clamped[31] |= 64;
        let k = Scalar::from_bytes_mod_order(clamped);
        let point = EdwardsPoint::mul_base(&k);
        let (a, public) = if point.compress().as_bytes()[31] & 0x80 != 0 {
            (-k, (-point).compress())
        } else {
            (k, point.compress())
        };
        let mut nonce = Sha512::new();
        nonce.update([0xFE]);
        nonce.update([0xFF; 31]);
        nonce.update(a.as_bytes());
        nonce.update(message.as_bytes());
        nonce.update([0u8; 64]);
        let r = Scalar::from_hash(nonce);
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let mut challenge = Sha512::new();
        challenge.update(big_r.as_bytes());
        challenge.update(public.as_bytes());
        challenge.update(message.as_bytes());
        let s = r + Scalar::from_hash(challenge) * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// The hex SHA-256 of an armored ciphertext as signed: its lines without trailing white
/// space or blank lines, joined by `\n`.
fn armor_digest(armor: &str) -> String {
    use sha2::{Digest, Sha256};
    let normalized = armor
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Sha256::digest(normalized.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A value as the attacker writes it by hand.
struct Forged<'a> {
    name: &'a str,
    scope: &'a str,
    recipients: &'a [&'a str],
    armor: &'a str,
    written: &'a str,
}

impl Forged<'_> {
    /// Its table in store format 3, signed by `by` for `repository` at `version`.
    fn table_v3(&self, by: &Forger, repository: &str, version: u64) -> String {
        let message = format!(
            "secrets.enc.toml value signature v3\nrepository {repository}\nname {}\nscope {}\nversion {version}\nrecipients {}\nexposed \nwriter {}\nwritten {}\nciphertext sha256:{}\n",
            self.name,
            self.scope,
            self.sorted().join(","),
            by.key.public,
            self.written,
            armor_digest(self.armor)
        );
        format!(
            "[{}.\"{}\"]\nversion = {version}\n{}writer = \"{}\"\nwritten = \"{}\"\nsignature = \"{}\"\nvalue = \"\"\"\n{}\n\"\"\"\n",
            self.name,
            self.scope,
            self.recipients_toml(),
            by.key.public,
            self.written,
            by.sign(&message),
            self.armor.trim_end()
        )
    }

    /// Its table in store format 2 (no repository, no version), signed by `by`; `None`
    /// leaves it unsigned.
    fn table_v2(&self, by: Option<&Forger>) -> String {
        let signed = match by {
            Some(by) => {
                let message = format!(
                    "secrets.enc.toml value signature v2\nname {}\nscope {}\nrecipients {}\nexposed \nwriter {}\nwritten {}\nciphertext sha256:{}\n",
                    self.name,
                    self.scope,
                    self.sorted().join(","),
                    by.key.public,
                    self.written,
                    armor_digest(self.armor)
                );
                format!(
                    "writer = \"{}\"\nwritten = \"{}\"\nsignature = \"{}\"\n",
                    by.key.public,
                    self.written,
                    by.sign(&message)
                )
            }
            None => String::new(),
        };
        format!(
            "[{}.\"{}\"]\n{}{signed}value = \"\"\"\n{}\n\"\"\"\n",
            self.name,
            self.scope,
            self.recipients_toml(),
            self.armor.trim_end()
        )
    }

    /// The recipients, sorted as the store keeps them.
    fn sorted(&self) -> Vec<&str> {
        let mut sorted = self.recipients.to_vec();
        sorted.sort();
        sorted
    }

    fn recipients_toml(&self) -> String {
        let mut out = String::from("recipients = [\n");
        for recipient in self.sorted() {
            out.push_str(&format!("    \"{recipient}\",\n"));
        }
        out.push_str("]\n");
        out
    }
}
