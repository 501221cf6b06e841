//! `secret sync --to aws` against moto's server (a local AWS endpoint on 127.0.0.1, started
//! per test; `scripts/moto.sh` installs it): what is created, updated, left alone and
//! scheduled for deletion; secrets this workspace did not create (a foreign one, a
//! collision, another workspace's under the same prefix) are never changed; a sync stopped
//! halfway converges on the next run; throttling is retried; access denied names the action
//! and the secret. The failures are made by a scripted proxy between the CLI and moto.
//! Requests go to 127.0.0.1 only: `AWS_ENDPOINT_URL`, dummy credentials, no instance
//! metadata. Without moto a test fails in CI (`CI=true`) and is skipped loudly elsewhere.
//! The tests that talk to AWS need the `aws` feature of this crate (`cargo test -p
//! secret-tests --features aws`); built without it they skip loudly, and one test checks
//! that the CLI then says how to enable it.

use crate::openbao_support;

use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::openbao_support::response;
use crate::openbao_support::scripted::{Act, Seen, scripted};
use crate::store_support::{Out, Ws, ok};

const REGION: &str = "eu-west-1";
const PREFIX: &str = "myapp/production/";
/// A value that JSON escapes: a gateway quoting the request body shows it changed.
const QUOTED_VALUE: &str = r#"sk_"quoted" \ value"#;

/// One moto server at a time per test binary (the machine is small).
static ONE_SERVER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running `moto_server` on 127.0.0.1; killed on drop.
struct Moto {
    address: String,
    child: Child,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_moto() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("MOTO_SERVER").filter(|bin| !bin.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let cache = match std::env::var_os("SECRETS_TOOLKIT_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/secrets-toolkit"),
    };
    let bin = cache.join("moto/venv/bin/moto_server");
    bin.is_file().then_some(bin)
}

/// Whether the CLI under test has `sync --to aws`; says loudly when not.
fn built_with_aws() -> bool {
    if cfg!(feature = "aws") {
        return true;
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n\n*** SKIPPED: built without the `aws` feature; run with `--features aws` to test `sync --to aws` ***\n\n"
    );
    false
}

fn start() -> Option<Moto> {
    if !built_with_aws() {
        return None;
    }
    let Some(bin) = find_moto() else {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "no moto_server: run scripts/moto.sh (CI runs it from .ci/run) or set MOTO_SERVER"
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n\n*** SKIPPED: no moto_server found; run scripts/moto.sh or set MOTO_SERVER to test `sync --to aws` ***\n\n"
        );
        return None;
    };
    let turn = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", bin.display()));
    let moto = Moto {
        address: format!("http://127.0.0.1:{port}"),
        child,
        _turn: turn,
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while moto.try_call("ListSecrets", "{}").is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on port {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Some(moto)
}

impl Moto {
    /// Calls the Secrets Manager JSON API directly (moto checks no signature), in the
    /// tests' region and moto's default account.
    fn try_call(&self, action: &str, body: &str) -> Result<serde_json::Value, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut answer = agent
            .post(&self.address)
            .header("X-Amz-Target", format!("secretsmanager.{action}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "Authorization",
                format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"),
            )
            .send(body)
            .map_err(|error| error.to_string())?;
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string().unwrap_or_default();
        if status != 200 {
            return Err(format!("{action}: HTTP {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|error| error.to_string())
    }

    fn call(&self, action: &str, body: serde_json::Value) -> serde_json::Value {
        self.try_call(action, &body.to_string()).unwrap()
    }

    /// The current value of the secret `name` (full name).
    fn value(&self, name: &str) -> Option<String> {
        self.try_call(
            "GetSecretValue",
            &serde_json::json!({ "SecretId": name }).to_string(),
        )
        .ok()
        .and_then(|out| out["SecretString"].as_str().map(str::to_owned))
    }

    /// The secret's description (tags, deletion date, versions).
    fn describe(&self, name: &str) -> serde_json::Value {
        self.call("DescribeSecret", serde_json::json!({ "SecretId": name }))
    }

    fn tag(&self, name: &str, key: &str) -> Option<String> {
        self.describe(name)["Tags"]
            .as_array()?
            .iter()
            .find(|tag| tag["Key"] == key)
            .and_then(|tag| tag["Value"].as_str().map(str::to_owned))
    }

    fn versions(&self, name: &str) -> usize {
        self.describe(name)["VersionIdsToStages"]
            .as_object()
            .map_or(0, |map| map.len())
    }

    fn scheduled_for_deletion(&self, name: &str) -> bool {
        !self.describe(name)["DeletedDate"].is_null()
    }
}

/// A workspace whose app declares `A`, `B` and `C`, with `[aws]` at `prefix`.
fn workspace(prefix: &str) -> Ws {
    let mut ws = Ws::new();
    ws.with_app(
        "use secret_runtime::{Secret, secret};\n\nstatic A: Secret = secret!(\"StripeKey\");\nstatic B: Secret = secret!(\"DatabaseUrl\");\nstatic C: Secret = secret!(\"SearchKey\");\n\nfn main() {\n    let _ = (&A, &B, &C);\n}\n",
    );
    let key = ws.key("me");
    let r = &key.public;
    ws.write(
        "secrets.toml",
        &format!(
            "[recipients]\nproduction = [\"{r}\"]\ndevelopment = [\"{r}\"]\npreview = [\"{r}\"]\nlocal = [\"{r}\"]\n\n[aws]\nregion = \"{REGION}\"\nprefix = \"{prefix}\"\nrecovery_window_days = 7\ntimeout_seconds = 20\ntags = {{ team = \"payments\" }}\n"
        ),
    );
    ws.use_key(&key);
    ws
}

fn set(ws: &Ws, name: &str, value: &str) {
    ok(&ws.secret(&["set", "--type", "prod", name], &format!("{value}\n")));
}

/// Runs `secret sync --env prod --to aws <extra>` as a process talking to `endpoint`.
fn sync(ws: &Ws, endpoint: &str, extra: &[&str]) -> Out {
    let mut args = vec!["sync", "--env", "prod", "--to", "aws"];
    args.extend(extra);
    cli(ws, endpoint, &args)
}

/// Runs `secret <args>` as a process (the AWS SDK reads the process environment) talking
/// to `endpoint`, with dummy credentials and no instance metadata; asserts no value shows.
fn cli(ws: &Ws, endpoint: &str, args: &[&str]) -> Out {
    cli_with(ws, endpoint, args, true)
}

fn cli_with(ws: &Ws, endpoint: &str, args: &[&str], credentials: bool) -> Out {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secret-cli"));
    command.env_clear();
    if credentials {
        command
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    }
    let output = command
        .args(["secret", args[0], "--workspace"])
        .arg(ws.root())
        .args(&args[1..])
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CARGO", env!("CARGO"))
        .envs(&ws.vars)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = Out {
        code: output.status.code().unwrap_or(255) as u8,
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    for value in [
        "sk_live_first",
        "sk_live_second",
        "postgres://db",
        "search-key",
        QUOTED_VALUE,
        r#"sk_\"quoted\" \\ value"#,
        "quoted",
    ] {
        assert!(
            !out.all().contains(value),
            "a value in the output:\n{}",
            out.all()
        );
    }
    out
}

fn describe(moto_address: &str) -> String {
    format!("AWS Secrets Manager at {moto_address} ({REGION})")
}

/// The secret's full name.
fn full(name: &str) -> String {
    format!("{PREFIX}{name}")
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn creates_updates_leaves_unchanged_and_schedules_deletion() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    set(&ws, "DatabaseUrl", "postgres://db");

    // A dry run says what it would do and writes nothing.
    let out = sync(&ws, &moto.address, &["--dry-run"]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "would create DatabaseUrl ({PREFIX}DatabaseUrl)\nwould create StripeKey ({PREFIX}StripeKey)\ndry run, nothing written: sync of production to {}: 2 to create, 0 to update, 0 to schedule for deletion, 0 unchanged\n",
            describe(&moto.address)
        )
    );
    assert_eq!(moto.value(&full("StripeKey")), None);

    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created DatabaseUrl ({PREFIX}DatabaseUrl)\ncreated StripeKey ({PREFIX}StripeKey)\nsynced production to {}: 2 created, 0 updated, 0 scheduled for deletion, 0 unchanged\n",
            describe(&moto.address)
        )
    );
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_first")
    );
    assert_eq!(
        moto.value(&full("DatabaseUrl")).as_deref(),
        Some("postgres://db")
    );
    assert_eq!(
        moto.tag(&full("StripeKey"), "secrets-toolkit:environment")
            .as_deref(),
        Some("production")
    );
    assert_eq!(
        moto.tag(&full("StripeKey"), "team").as_deref(),
        Some("payments")
    );
    let fingerprint = moto
        .tag(&full("StripeKey"), "secrets-toolkit:fingerprint")
        .unwrap();
    assert_eq!(fingerprint.len(), 32);

    // Nothing changed: nothing written, no new version.
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "synced production to {}: 0 created, 0 updated, 0 scheduled for deletion, 2 unchanged\n",
            describe(&moto.address)
        )
    );
    assert_eq!(moto.versions(&full("StripeKey")), 1);

    // A new value: a new version, a new fingerprint.
    set(&ws, "StripeKey", "sk_live_second");
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "updated StripeKey\nsynced production to {}: 0 created, 1 updated, 0 scheduled for deletion, 1 unchanged\n",
            describe(&moto.address)
        )
    );
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_second")
    );
    assert_ne!(
        moto.tag(&full("StripeKey"), "secrets-toolkit:fingerprint"),
        Some(fingerprint)
    );

    // A value removed from the store: its secret is scheduled for deletion, with the
    // recovery window; the next sync leaves it so.
    ok(&ws.secret(&["unset", "--type", "prod", "DatabaseUrl"], ""));
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert!(
        out.stdout.starts_with(
            "scheduled deletion of DatabaseUrl: the file store has no value for production; recoverable until 20"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with(": 0 created, 0 updated, 1 scheduled for deletion, 1 unchanged\n"),
        "{}",
        out.stdout
    );
    assert!(moto.scheduled_for_deletion(&full("DatabaseUrl")));
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert!(
        out.stdout
            .ends_with(": 0 created, 0 updated, 0 scheduled for deletion, 1 unchanged\n"),
        "{}",
        out.stdout
    );

    // A value again: the scheduled secret is restored and updated.
    set(&ws, "DatabaseUrl", "postgres://db");
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert!(
        out.stdout
            .starts_with("restored and updated DatabaseUrl (it was scheduled for deletion)\n"),
        "{}",
        out.stdout
    );
    assert!(!moto.scheduled_for_deletion(&full("DatabaseUrl")));
    assert_eq!(
        moto.value(&full("DatabaseUrl")).as_deref(),
        Some("postgres://db")
    );
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn foreign_secrets_are_left_alone_and_a_collision_stops_before_any_write() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    // Created by hand in the console: under the prefix, no tags.
    moto.call(
        "CreateSecret",
        serde_json::json!({ "Name": full("LegacyToken"), "SecretString": "by-hand" }),
    );
    let out = sync(&ws, &moto.address, &[]);
    ok(&out);
    assert_eq!(
        out.stderr,
        format!(
            "warning: `{PREFIX}LegacyToken` exists and was not created by this tool (it has no `secrets-toolkit:repository` tag); sync leaves it alone\n"
        )
    );
    assert!(
        out.stdout.ends_with(
            ": 1 created, 0 updated, 0 scheduled for deletion, 0 unchanged, 1 not owned\n"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(moto.value(&full("LegacyToken")).as_deref(), Some("by-hand"));

    // The store now has a value of that name: a collision, nothing is written at all.
    set(&ws, "LegacyToken", "search-key");
    set(&ws, "StripeKey", "sk_live_second");
    let out = sync(&ws, &moto.address, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "sync of production to {} stopped before any write: `{PREFIX}LegacyToken` exists and was not created by this tool (it has no `secrets-toolkit:repository` tag)",
            describe(&moto.address)
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("rename or delete that secret in AWS"),
        "{}",
        out.stderr
    );
    assert_eq!(moto.value(&full("LegacyToken")).as_deref(), Some("by-hand"));
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_first")
    );
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn a_second_workspace_sharing_the_account_and_prefix_keeps_the_first_ones_secrets() {
    let Some(moto) = start() else { return };
    let billing = workspace(PREFIX);
    set(&billing, "StripeKey", "sk_live_first");
    ok(&sync(&billing, &moto.address, &[]));

    let search = workspace(PREFIX);
    set(&search, "SearchKey", "search-key");
    let out = sync(&search, &moto.address, &[]);
    ok(&out);
    assert!(
        out.stderr.starts_with(&format!(
            "warning: `{PREFIX}StripeKey` belongs to another workspace (repository `"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.ends_with(
            ": 1 created, 0 updated, 0 scheduled for deletion, 0 unchanged, 1 not owned\n"
        ),
        "{}",
        out.stdout
    );
    // Billing's secret is not deleted, and billing in turn leaves search's alone.
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_first")
    );
    assert!(!moto.scheduled_for_deletion(&full("StripeKey")));
    let out = sync(&billing, &moto.address, &[]);
    ok(&out);
    assert!(
        out.stdout.ends_with(
            ": 0 created, 0 updated, 0 scheduled for deletion, 1 unchanged, 1 not owned\n"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        moto.value(&full("SearchKey")).as_deref(),
        Some("search-key")
    );
    // Search wants a value of billing's name: a collision, reported, never overwritten.
    set(&search, "StripeKey", "sk_live_second");
    let out = sync(&search, &moto.address, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains(&format!("`{PREFIX}StripeKey` belongs to another workspace")),
        "{}",
        out.stderr
    );
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_first")
    );
}

fn is(seen: &Seen, action: &str) -> bool {
    seen.head.to_ascii_lowercase().contains(&format!(
        "x-amz-target: secretsmanager.{}",
        action.to_ascii_lowercase()
    ))
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn a_sync_stopped_halfway_converges_and_a_lost_answer_is_not_written_twice() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "DatabaseUrl", "postgres://db");
    set(&ws, "SearchKey", "search-key");
    set(&ws, "StripeKey", "sk_live_first");
    // While the switch is on, the second CreateSecret is refused by a gateway (a 400 that
    // is not retried): the first secret is created, the rest are not.
    let proxy = scripted(Some(&moto.address), |seen, _, on| {
        if on && is(seen, "CreateSecret") && seen.body.contains("SearchKey") {
            Act::Answer(response(
                "400 Bad Request",
                r#"{"__type":"InvalidRequestException","message":"refused by the test"}"#,
            ))
        } else {
            Act::Forward
        }
    });
    proxy.set(true);
    let out = sync(&ws, &proxy.address, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert_eq!(
        out.stdout,
        format!("created DatabaseUrl ({PREFIX}DatabaseUrl)\n")
    );
    assert!(
        out.stderr.contains("note: sync of production stopped at SearchKey: 1 created, 0 updated, 0 scheduled for deletion before it (listed above); not written: SearchKey, StripeKey; running sync again finishes it"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("secretsmanager:CreateSecret on `myapp/production/SearchKey` failed: InvalidRequestException (HTTP 400): refused by the test"),
        "{}",
        out.stderr
    );
    assert_eq!(moto.value(&full("SearchKey")), None);

    // Next run: the answer to the first CreateSecret is lost (the connection is cut after
    // moto applied it). The SDK sends it again with the same token; sync reads it back and
    // reports it created, once.
    let cut = scripted(Some(&moto.address), |seen, _, _| {
        if is(seen, "CreateSecret") && seen.body.contains("SearchKey") {
            static FIRST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
            if FIRST.swap(false, std::sync::atomic::Ordering::SeqCst) {
                return Act::ForwardThenCut;
            }
        }
        Act::Forward
    });
    let out = sync(&ws, &cut.address, &[]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "created SearchKey ({PREFIX}SearchKey)\ncreated StripeKey ({PREFIX}StripeKey)\nsynced production to {}: 2 created, 0 updated, 0 scheduled for deletion, 1 unchanged\n",
            describe(&cut.address)
        )
    );
    assert_eq!(moto.versions(&full("SearchKey")), 1);
    assert_eq!(
        moto.value(&full("SearchKey")).as_deref(),
        Some("search-key")
    );
    let out = sync(&ws, &moto.address, &[]);
    assert!(
        out.stdout
            .ends_with(": 0 created, 0 updated, 0 scheduled for deletion, 3 unchanged\n"),
        "{}",
        out.stdout
    );
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn throttling_and_5xx_are_retried_and_access_denied_names_the_action_and_the_secret() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    // A 503 to the listing, two throttled answers to the write, then moto's.
    let throttled = scripted(Some(&moto.address), |seen, index, _| {
        static LEFT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(2);
        if is(seen, "ListSecrets") && index == 0 {
            return Act::Answer(response(
                "503 Service Unavailable",
                r#"{"__type":"ServiceUnavailable","message":"try again"}"#,
            ));
        }
        if is(seen, "CreateSecret")
            && LEFT
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |left| left.checked_sub(1),
                )
                .is_ok()
        {
            return Act::Answer(response(
                "400 Bad Request",
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            ));
        }
        Act::Forward
    });
    let out = sync(&ws, &throttled.address, &[]);
    ok(&out);
    assert!(
        out.stdout.starts_with("created StripeKey"),
        "{}",
        out.stdout
    );
    assert_eq!(throttled.count(|seen| is(seen, "ListSecrets")), 2);
    assert_eq!(throttled.count(|seen| is(seen, "CreateSecret")), 3);

    // A policy without secretsmanager:PutSecretValue.
    set(&ws, "StripeKey", "sk_live_second");
    let denied = scripted(Some(&moto.address), |seen, _, _| {
        if is(seen, "PutSecretValue") {
            return Act::Answer(response(
                "400 Bad Request",
                r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: secretsmanager:PutSecretValue because no identity-based policy allows it"}"#,
            ));
        }
        Act::Forward
    });
    let out = sync(&ws, &denied.address, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "{}: access denied: secretsmanager:PutSecretValue on `{PREFIX}StripeKey` (User: arn:aws:iam::123456789012:user/ci is not authorized",
            describe(&denied.address)
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "help: the credentials' IAM policy needs `secretsmanager:PutSecretValue` on arn:aws:secretsmanager:{REGION}:<account>:secret:{PREFIX}*"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(denied.count(|seen| is(seen, "PutSecretValue")), 1);
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_first")
    );
}

#[test]
#[cfg_attr(
    not(feature = "aws"),
    ignore = "needs `--features aws`; run with --features aws"
)]
fn an_unsigned_aws_table_is_refused_and_takes_effect_once_an_admin_signs_it() {
    if !built_with_aws() {
        return;
    }
    // Nothing listens here: a request would fail differently.
    let endpoint = openbao_support::closed_port();
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    let config = std::fs::read_to_string(ws.root().join("secrets.toml")).unwrap();
    ws.write(
        "secrets.toml",
        &config.replace(PREFIX, "attacker/production/"),
    );
    let out = sync(&ws, &endpoint, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains("[aws] in secrets.toml is not what the signed access rules say: an unsigned edit does not decide where values are sent"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(" rekey` (it shows the change first)"),
        "{}",
        out.stderr
    );
    // Signed by an admin, the new prefix takes effect: `rekey` shows the change first.
    let signed = ws.secret(&["rekey", "--yes"], "");
    ok(&signed);
    assert!(
        signed.all().contains(
            "  - aws prefix \"myapp/production/\"\n  + aws prefix \"attacker/production/\"\n"
        ),
        "{}",
        signed.all()
    );
    let aws = scripted(None, |seen, _, _| {
        if is(seen, "ListSecrets") {
            return Act::Answer(response("200 OK", r#"{"SecretList":[]}"#));
        }
        Act::Answer(response(
            "200 OK",
            r#"{"ARN":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:attacker/production/StripeKey-AbCdEf","Name":"attacker/production/StripeKey"}"#,
        ))
    });
    let out = sync(&ws, &aws.address, &[]);
    ok(&out);
    assert!(
        out.stdout
            .starts_with("created StripeKey (attacker/production/StripeKey)\n"),
        "{}",
        out.stdout
    );
    assert_eq!(
        aws.count(|seen| is(seen, "CreateSecret")
            && seen
                .body
                .contains("\"Name\":\"attacker/production/StripeKey\"")),
        1
    );
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn the_ecs_export_names_each_variable_and_the_synced_secrets_arn() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    set(&ws, "DatabaseUrl", "postgres://db");
    set(&ws, "SearchKey", "search-key");
    let export = ["export", "--env", "prod", "-p", "app", "--format", "ecs"];
    // Before any sync there is no ARN to give.
    let out = cli(&ws, &moto.address, &export);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("has no secret of this workspace for production named `{PREFIX}DatabaseUrl`, `{PREFIX}SearchKey`, `{PREFIX}StripeKey`")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("sync --env prod --to aws`"),
        "{}",
        out.stderr
    );
    ok(&sync(&ws, &moto.address, &[]));
    let out = cli(&ws, &moto.address, &export);
    ok(&out);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let arn = |name: &str| {
        moto.describe(&full(name))["ARN"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        entries,
        vec![
            serde_json::json!({ "name": "SECRET_DatabaseUrl", "valueFrom": arn("DatabaseUrl") }),
            serde_json::json!({ "name": "SECRET_SearchKey", "valueFrom": arn("SearchKey") }),
            serde_json::json!({ "name": "SECRET_StripeKey", "valueFrom": arn("StripeKey") }),
        ]
    );
    assert!(arn("StripeKey").starts_with(&format!(
        "arn:aws:secretsmanager:{REGION}:123456789012:secret:{PREFIX}StripeKey-"
    )));
}

#[test]
fn the_external_secret_export_maps_each_variable_to_its_secret_without_values() {
    let ws = workspace("myapp/{env}/");
    set(&ws, "StripeKey", "sk_live_first");
    set(&ws, "DatabaseUrl", "postgres://db");
    let args = [
        "export",
        "--env",
        "prod",
        "-p",
        "app",
        "--format",
        "external-secret",
        "--namespace",
        "shop",
    ];
    // SearchKey is declared and has no production value.
    let out = ws.secret(&args, "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("1 declared secret has no value for production: SearchKey"),
        "{}",
        out.stderr
    );
    let mut args = args.to_vec();
    args.push("--allow-missing");
    let out = ws.secret(&args, "");
    ok(&out);
    assert_eq!(
        out.stderr,
        "warning: no value for production, left out: SearchKey\n"
    );
    assert_eq!(
        out.stdout,
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: \"app-production\"\n  namespace: \"shop\"\nspec:\n  refreshInterval: 1h\n  secretStoreRef:\n    kind: SecretStore\n    name: \"aws-secrets-manager\"\n  target:\n    name: \"app-production\"\n    creationPolicy: Owner\n  data:\n    - secretKey: \"SECRET_DatabaseUrl\"\n      remoteRef:\n        key: \"myapp/production/DatabaseUrl\"\n    - secretKey: \"SECRET_StripeKey\"\n      remoteRef:\n        key: \"myapp/production/StripeKey\"\n"
    );
}

#[cfg(not(feature = "aws"))]
#[test]
fn without_the_aws_feature_sync_and_the_ecs_export_say_how_to_enable_it() {
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    for args in [
        &["sync", "--env", "prod", "--to", "aws"][..],
        &["export", "--env", "prod", "--format", "ecs"][..],
    ] {
        let out = ws.secret(args, "");
        assert_eq!(out.code, 2, "{}", out.all());
        assert!(
            out.stderr
                .contains("this build of the tool has no AWS support"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("enable the `aws` feature of secret-build"),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
}

#[test]
#[cfg_attr(
    not(feature = "aws"),
    ignore = "needs `--features aws`; run with --features aws"
)]
fn without_credentials_the_error_names_the_standard_chain_and_nothing_is_sent() {
    if !built_with_aws() {
        return;
    }
    let (endpoint, attempts) = openbao_support::silent_server();
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    let out = cli_with(
        &ws,
        &endpoint,
        &["sync", "--env", "prod", "--to", "aws"],
        false,
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(
            "secretsmanager:ListSecrets on `myapp/production/` was not sent: no AWS credentials"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("help: the AWS SDK's standard chain found no credentials"),
        "{}",
        out.stderr
    );
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn a_gateway_quoting_the_request_shows_no_value() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", QUOTED_VALUE);
    // A gateway's error that quotes the whole request body, value included.
    let quoting = scripted(Some(&moto.address), |seen, _, _| {
        if is(seen, "CreateSecret") {
            let body = serde_json::json!({
                "__type": "InvalidRequestException",
                "message": format!("cannot accept {}", seen.body),
            });
            return Act::Answer(response("400 Bad Request", &body.to_string()));
        }
        Act::Forward
    });
    let out = sync(&ws, &quoting.address, &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains(r#""SecretString":"[value]""#),
        "{}",
        out.stderr
    );
}

#[test]
#[ignore = "needs moto's server (scripts/moto.sh) and `--features aws`; run with --features aws -- --ignored"]
fn a_secret_the_listing_does_not_show_yet_is_read_back_and_updated() {
    let Some(moto) = start() else { return };
    let ws = workspace(PREFIX);
    set(&ws, "StripeKey", "sk_live_first");
    ok(&sync(&ws, &moto.address, &[]));
    set(&ws, "StripeKey", "sk_live_second");
    // ListSecrets is eventually consistent: a listing that does not show the secret yet.
    let stale = scripted(Some(&moto.address), |seen, _, _| {
        if is(seen, "ListSecrets") {
            return Act::Answer(response("200 OK", r#"{"SecretList":[]}"#));
        }
        Act::Forward
    });
    let out = sync(&ws, &stale.address, &[]);
    ok(&out);
    assert_eq!(
        out.stdout,
        format!(
            "updated StripeKey (it existed, though the listing did not show it yet)\nsynced production to {}: 0 created, 1 updated, 0 scheduled for deletion, 0 unchanged\n",
            describe(&stale.address)
        )
    );
    assert_eq!(
        moto.value(&full("StripeKey")).as_deref(),
        Some("sk_live_second")
    );
    // A foreign secret the listing did not show is not written.
    moto.call(
        "CreateSecret",
        serde_json::json!({ "Name": full("SearchKey"), "SecretString": "by-hand" }),
    );
    set(&ws, "SearchKey", "search-key");
    let out = sync(&ws, &stale.address, &[]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("`myapp/production/SearchKey` was created by someone else while sync ran"),
        "{}",
        out.stderr
    );
    assert_eq!(moto.value(&full("SearchKey")).as_deref(), Some("by-hand"));
}
