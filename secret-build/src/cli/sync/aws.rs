//! `secret sync --env E --to aws`: replicates the file store's values for E into AWS
//! Secrets Manager, one secret per name, named `<prefix><Name>` by the signed `[aws]` table.
//!
//! The plan is made before anything is written, from one listing of the secrets under the
//! prefix (names, ARNs, tags; never a value):
//! - no secret of that name: **create** it, tagged with this repository's identity, E's
//!   name and the value's signature fingerprint ([`secret_core::store::Entry::signature_fingerprint`]);
//! - this workspace's secret for E whose fingerprint tag differs: **update** it (a new
//!   version, then the tag); the same fingerprint: **unchanged**, nothing sent;
//! - this workspace's secret for E that the file store no longer has a value for: **schedule
//!   its deletion** with the configured recovery window (the report says until when it can
//!   be restored); one already scheduled is left so; one scheduled that has a value again is
//!   restored and updated.
//!
//! A secret without this repository's and E's tags is never changed or deleted: one whose
//! name the file store needs stops the sync before any write (a collision, reported with
//! whose it is); others are left alone and reported. Writes carry a client request token
//! derived from the fingerprint, so a write retried (by the SDK, or by the next run after
//! an interruption) is applied once; a write whose answer was lost is read back (the token
//! is the version's id). Throttling and 5xx answers are retried by the SDK within the
//! `timeout_seconds` budget; an access-denied answer names the action and the secret.
//! Credentials come from the SDK's standard chain; only names are printed, never values.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use aws_sdk_secretsmanager as sm;
use secrecy::{ExposeSecret, SecretString};
use secret_core::aws::AwsConfig;
use secret_core::backend::{BackendError, BackendErrorKind};
use secret_core::state::{Lookup, State};
use secret_core::{Environment, Error, Identities};
use sm::error::{ProvideErrorMetadata, SdkError};
use sm::types::{Filter, FilterNameStringType, Tag};

use super::SyncArgs;
use crate::cli::{Failure, Io};

/// The tag naming the repository (the store's identity) that wrote a secret.
pub(crate) const TAG_REPOSITORY: &str = "secrets-toolkit:repository";
/// The tag naming the environment a secret holds the value of.
pub(crate) const TAG_ENVIRONMENT: &str = "secrets-toolkit:environment";
/// The tag holding the signature fingerprint of the value the secret holds.
pub(crate) const TAG_FINGERPRINT: &str = "secrets-toolkit:fingerprint";

/// The signed `[aws]` table and the repository's identity.
pub(crate) struct Signed {
    pub(crate) aws: AwsConfig,
    pub(crate) repository: String,
}

/// The `[aws]` table of the signed access rules. An `[aws]` that only an unsigned edit of
/// `secrets.toml` states (or changes) is refused: values would go where nobody allowed.
pub(crate) fn signed_aws(state: &State) -> Result<Signed, Failure> {
    let path = state.config().path.display().to_string();
    let verified = state.rules().map_err(|error| {
        Failure::data(format!(
            "{path}: the access rules (and so [aws]) cannot be trusted: {}",
            error.describe()
        ))
        .with_help("`cargo xtask check-secrets` says what to do")
    })?;
    let signed = verified.config.aws.clone();
    let written = state.config().aws.clone();
    match (signed, written) {
        (Some(signed), Some(written)) if same_place(&signed, &written) => Ok(Signed {
            aws: signed,
            repository: verified.repository.clone(),
        }),
        (None, None) => Err(Failure::usage(format!("{path}: no [aws] table to sync to"))
            .with_help("add an [aws] table (region, prefix) to secrets.toml and sign it with `secret rekey`; see docs/delivery.md, \"Deploying to AWS\"")),
        (_, written) => {
            let line = written.as_ref().map_or(String::new(), |aws| format!(":{}", aws.line));
            Err(Failure::data(format!(
                "{path}{line}: [aws] in secrets.toml is not what the signed access rules say: an unsigned edit does not decide where values are sent"
            ))
            .with_help("an admin signs the change with `cargo xtask secret rekey` (it shows the change first)"))
        }
    }
}

/// Whether two `[aws]` tables say the same (positions aside).
fn same_place(a: &AwsConfig, b: &AwsConfig) -> bool {
    (
        &a.region,
        &a.prefix,
        &a.kms_key_id,
        a.recovery_window_days,
        a.timeout_seconds,
        &a.tags,
    ) == (
        &b.region,
        &b.prefix,
        &b.kms_key_id,
        b.recovery_window_days,
        b.timeout_seconds,
        &b.tags,
    )
}

/// A value to replicate, with its signature fingerprint.
struct Wanted {
    value: SecretString,
    fingerprint: String,
}

/// The file store's values for `env`, each with its fingerprint.
fn wanted_values(
    trusted: &crate::trusted::Trusted,
    env: &Environment,
    io: &Io<'_>,
) -> Result<(BTreeMap<String, Wanted>, Signed), Failure> {
    let state = &trusted.state;
    let signed = signed_aws(state)?;
    let names: Vec<&str> = state.store().names().collect();
    state.prepare(&names, env);
    let mut identities: Option<Identities> = None;
    let mut values = BTreeMap::new();
    let read = || -> Result<(), Error> {
        for name in names {
            let fingerprint = match state.lookup(name, env) {
                Lookup::None => continue,
                Lookup::Found { entry, .. } => Some(entry.signature_fingerprint()),
                _ => None,
            };
            if identities.is_none() {
                identities = Some(Identities::from_vars(io.vars)?);
            }
            let ids = identities.as_ref().expect("loaded above");
            // A refused value is an error here, naming why.
            if let (Some((_, value)), Some(fingerprint)) =
                (state.decrypt(name, env, ids)?, fingerprint)
            {
                values.insert(name.to_owned(), Wanted { value, fingerprint });
            }
        }
        Ok(())
    };
    let result = read();
    trusted.remember();
    result?;
    Ok((values, signed))
}

pub(super) fn run(root: &Path, args: &SyncArgs, io: &mut Io<'_>) -> Result<(), Failure> {
    // `secrets.toml` and the store are read and judged once.
    let trusted = crate::trusted::Trusted::open(root, io.vars)?;
    let env = super::super::resolve_env(&trusted.state, &args.env)?;
    let selected = super::super::deliver::selected_names(root, &args.packages, args.dev)?;
    let (mut source, signed) = wanted_values(&trusted, &env, io)?;
    if let Some(selected) = &selected {
        source.retain(|name, _| selected.contains(name));
    }
    let remote = Remote::connect(&signed.aws, io)?;
    let prefix = signed.aws.prefix_for(&env.name);
    let listed = remote.list(&prefix)?;
    let plan = plan(&signed, &env, &prefix, &source, listed, selected.as_ref());
    if !plan.collisions.is_empty() {
        let mut message = format!(
            "sync of {env} to {} stopped before any write: ",
            remote.describe()
        );
        let lines: Vec<String> = plan
            .collisions
            .iter()
            .map(|(name, why)| {
                format!(
                    "`{}{name}` {why}",
                    secret_core::text::escape_control(&prefix)
                )
            })
            .collect();
        message.push_str(&lines.join("; "));
        return Err(Failure::data(message).with_help(
            "sync never changes a secret it did not create for this workspace and environment: rename or delete that secret in AWS, or sign another [aws] prefix",
        ));
    }
    for (name, why) in &plan.left_alone {
        let _ = writeln!(
            io.stderr,
            "warning: `{}{}` {why}; sync leaves it alone",
            secret_core::text::escape_control(&prefix),
            secret_core::text::escape_control(name)
        );
    }
    execute(
        &remote,
        &signed,
        &env,
        &prefix,
        plan,
        source,
        args.dry_run,
        io,
    )
}

/// What sync does with one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    /// A new version; `restore` first when the secret is scheduled for deletion.
    Update {
        restore: bool,
    },
    Delete,
}

/// What sync will do, found before anything is written.
struct Plan {
    /// By name: the step and the secret's ARN (none to create).
    steps: BTreeMap<String, (Step, Option<String>)>,
    unchanged: usize,
    /// Names the file store has whose secret is not this workspace's, and whose it is.
    collisions: Vec<(String, String)>,
    /// Secrets under the prefix that are not this workspace's, left alone.
    left_alone: Vec<(String, String)>,
}

/// Whose a listed secret is: `None` when this workspace's for `env`, else why not.
fn not_ours(listed: &Listed, signed: &Signed, env: &Environment) -> Option<String> {
    let repository = listed.tags.get(TAG_REPOSITORY);
    let environment = listed.tags.get(TAG_ENVIRONMENT);
    match (repository, environment) {
        (None, _) => Some(format!(
            "exists and was not created by this tool (it has no `{TAG_REPOSITORY}` tag)"
        )),
        (Some(repository), _) if *repository != signed.repository => Some(format!(
            "belongs to another workspace (repository `{}`)",
            secret_core::text::escape_control(repository)
        )),
        (Some(_), Some(environment)) if *environment == env.name => None,
        (Some(_), other) => Some(format!(
            "holds this workspace's value for the environment `{}`, not {env} (give the [aws] prefix an `{{env}}`)",
            secret_core::text::escape_control(other.map_or("", String::as_str))
        )),
    }
}

fn plan(
    signed: &Signed,
    env: &Environment,
    prefix: &str,
    source: &BTreeMap<String, Wanted>,
    listed: Vec<Listed>,
    selected: Option<&BTreeSet<String>>,
) -> Plan {
    let mut plan = Plan {
        steps: BTreeMap::new(),
        unchanged: 0,
        collisions: Vec::new(),
        left_alone: Vec::new(),
    };
    let mut remote: BTreeMap<String, Listed> = BTreeMap::new();
    for listed in listed {
        let name = listed.name[prefix.len()..].to_owned();
        if secret_syntax::name::validate_name(&name).is_err() {
            // Deeper paths or other names under the prefix: never this tool's.
            if let Some(why) = not_ours(&listed, signed, env) {
                plan.left_alone.push((name, why));
            }
            continue;
        }
        remote.insert(name, listed);
    }
    let mut names: BTreeSet<&String> = source.keys().collect();
    names.extend(remote.keys());
    for name in names {
        if selected.is_some_and(|selected| !selected.contains(name)) {
            continue;
        }
        let wanted = source.get(name);
        let listed = remote.get(name);
        let step = match (wanted, listed) {
            (Some(_), None) => Some(Step::Create),
            (None, None) => None,
            (wanted, Some(listed)) => match (not_ours(listed, signed, env), wanted) {
                (Some(why), Some(_)) => {
                    plan.collisions.push((name.clone(), why));
                    continue;
                }
                (Some(why), None) => {
                    plan.left_alone.push((name.clone(), why));
                    continue;
                }
                (None, Some(_)) if listed.deleted => Some(Step::Update { restore: true }),
                (None, Some(wanted))
                    if listed.tags.get(TAG_FINGERPRINT) == Some(&wanted.fingerprint) =>
                {
                    None
                }
                (None, Some(_)) => Some(Step::Update { restore: false }),
                (None, None) if listed.deleted => None,
                (None, None) => Some(Step::Delete),
            },
        };
        match step {
            Some(step) => {
                plan.steps.insert(
                    name.clone(),
                    (step, listed.map(|listed| listed.arn.clone())),
                );
            }
            None if wanted.is_some() => plan.unchanged += 1,
            None => {}
        }
    }
    plan
}

#[allow(clippy::too_many_arguments)]
fn execute(
    remote: &Remote,
    signed: &Signed,
    env: &Environment,
    prefix: &str,
    plan: Plan,
    mut source: BTreeMap<String, Wanted>,
    dry_run: bool,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    let names: Vec<String> = plan.steps.keys().cloned().collect();
    let (mut created, mut updated, mut deleted) = (0usize, 0usize, 0usize);
    for (done, (name, (mut step, arn))) in plan.steps.into_iter().enumerate() {
        let full = format!("{prefix}{name}");
        if dry_run {
            let line = match step {
                Step::Create => format!("would create {name} ({full})"),
                Step::Update { restore: false } => format!("would update {name}"),
                Step::Update { restore: true } => {
                    format!("would restore and update {name} (scheduled for deletion)")
                }
                Step::Delete => format!(
                    "would schedule deletion of {name} (recoverable for {} days)",
                    signed.aws.recovery_window_days
                ),
            };
            match step {
                Step::Create => created += 1,
                Step::Update { .. } => updated += 1,
                Step::Delete => deleted += 1,
            }
            let _ = writeln!(io.stdout, "{line}");
            continue;
        }
        let result = match step {
            Step::Create => {
                let wanted = source.remove(&name).expect("planned from the source");
                remote
                    .create(&full, &wanted, signed, env)
                    .map(|existed| match existed {
                        false => format!("created {name} ({full})"),
                        true => {
                            step = Step::Update { restore: false };
                            format!("updated {name} (it existed, though the listing did not show it yet)")
                        }
                    })
            }
            Step::Update { restore } => {
                let wanted = source.remove(&name).expect("planned from the source");
                let arn = arn.expect("an update has a listed secret");
                remote.update(&arn, &full, &wanted, restore).map(|()| {
                    if restore {
                        format!("restored and updated {name} (it was scheduled for deletion)")
                    } else {
                        format!("updated {name}")
                    }
                })
            }
            Step::Delete => {
                let arn = arn.expect("a deletion has a listed secret");
                remote.delete(&arn, &full).map(|until| {
                    format!(
                        "scheduled deletion of {name}: the file store has no value for {env}; recoverable until {until}"
                    )
                })
            }
        };
        match result {
            Ok(line) => {
                match step {
                    Step::Create => created += 1,
                    Step::Update { .. } => updated += 1,
                    Step::Delete => deleted += 1,
                }
                let _ = writeln!(io.stdout, "{line}");
            }
            Err(error) => {
                let rest: Vec<&str> = names[done..].iter().map(String::as_str).collect();
                let _ = writeln!(
                    io.stderr,
                    "note: sync of {env} stopped at {name}: {created} created, {updated} updated, {deleted} scheduled for deletion before it (listed above); {}; running sync again finishes it",
                    super::not_written(&rest, &error)
                );
                return Err(error.into());
            }
        }
    }
    let mut extra = String::new();
    if !plan.left_alone.is_empty() {
        extra = format!(", {} not owned", plan.left_alone.len());
    }
    let _ = writeln!(
        io.stdout,
        "{} {env} to {}: {created} {}, {updated} {}, {deleted} {}, {} unchanged{extra}",
        if dry_run {
            "dry run, nothing written: sync of"
        } else {
            "synced"
        },
        remote.describe(),
        if dry_run { "to create" } else { "created" },
        if dry_run { "to update" } else { "updated" },
        if dry_run {
            "to schedule for deletion"
        } else {
            "scheduled for deletion"
        },
        plan.unchanged,
    );
    Ok(())
}

/// One secret of the listing.
#[derive(Debug)]
pub(crate) struct Listed {
    /// Its full name (`myapp/production/StripeKey`).
    pub(crate) name: String,
    pub(crate) arn: String,
    pub(crate) tags: BTreeMap<String, String>,
    /// Scheduled for deletion.
    pub(crate) deleted: bool,
}

/// A secret read back: its tags, the ids of its versions, whether it is scheduled for
/// deletion.
struct ReadBack {
    tags: BTreeMap<String, String>,
    versions: BTreeSet<String>,
    deleted: bool,
}

/// The Secrets Manager client of the `[aws]` region, on a single-threaded runtime.
pub(crate) struct Remote {
    runtime: tokio::runtime::Runtime,
    client: sm::Client,
    aws: AwsConfig,
    endpoint: Option<String>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({})", self.describe())
    }
}

/// How a failed request ended, for the caller to decide.
enum Failed {
    /// An answer said what went wrong.
    Answered(Error),
    /// No answer: a write may or may not have been applied.
    NoAnswer(Error),
}

impl Failed {
    fn error(self) -> Error {
        match self {
            Self::Answered(error) | Self::NoAnswer(error) => error,
        }
    }
}

impl Remote {
    /// The client for `aws`: credentials, retries and signing from the SDK (the standard
    /// chain and `AWS_ENDPOINT_URL` read from the process environment), the region and the
    /// time budget from `[aws]`.
    pub(crate) fn connect(aws: &AwsConfig, io: &Io<'_>) -> Result<Self, Failure> {
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Failure::data(format!("cannot start the AWS client: {error}")))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let config = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(aws.region.clone()))
                .http_client(http)
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5))
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_timeout(Duration::from_secs(aws.timeout_seconds))
                        .build(),
                )
                .load(),
        );
        let endpoint = ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|name| (io.vars)(name))
            .map(|value| value.to_string_lossy().into_owned())
            .filter(|value| !value.is_empty());
        Ok(Self {
            runtime,
            client: sm::Client::new(&config),
            aws: aws.clone(),
            endpoint,
        })
    }

    /// `AWS Secrets Manager (eu-west-1)`, with the endpoint when one is set.
    pub(crate) fn describe(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!(
                "AWS Secrets Manager at {} ({})",
                secret_core::text::escape_control(endpoint),
                secret_core::text::escape_control(&self.aws.region)
            ),
            None => format!(
                "AWS Secrets Manager ({})",
                secret_core::text::escape_control(&self.aws.region)
            ),
        }
    }

    /// An error of this client, pointing at `[aws]`.
    fn error(&self, message: String, help: Option<String>, kind: BackendErrorKind) -> Error {
        let mut error = BackendError {
            server: self.describe(),
            message,
            help: None,
            config: self.aws.config.clone(),
            line: Some(self.aws.line),
            kind,
        };
        if let Some(help) = help {
            error = error.with_help(help);
        }
        error.into()
    }

    /// What went wrong with `action` on `resource`: AWS's code and message (values being
    /// written masked, escaped, cut), access denied naming what the policy lacks.
    fn failed<E>(
        &self,
        action: &str,
        resource: &str,
        error: SdkError<E, sm::config::http::HttpResponse>,
        masked: Option<&SecretString>,
    ) -> Failed
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let clean = |text: &str| -> String {
            // The value as sent and as it appears inside a JSON string (a gateway quoting
            // the request body), longer first.
            let mut text = zeroize::Zeroizing::new(text.to_owned());
            if let Some(value) = masked.map(|value| value.expose_secret())
                && !value.is_empty()
            {
                let quoted = zeroize::Zeroizing::new(serde_json::Value::from(value).to_string());
                let escaped = &quoted[1..quoted.len() - 1];
                let mut forms = [escaped, value];
                forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
                for form in forms {
                    *text = text.replace(form, "[value]");
                }
            }
            let one_line = text.replace(['\n', '\r'], " ");
            let text = secret_core::text::escape_control(&one_line);
            let mut cut: String = text.chars().take(300).collect();
            if cut.len() < text.len() {
                cut.push('…');
            }
            cut
        };
        match &error {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let code = service.err().code().unwrap_or("").to_owned();
                let said = clean(service.err().message().unwrap_or(""));
                if code == "AccessDeniedException" || status == 403 {
                    let on = if action == "ListSecrets" {
                        "`*` (it cannot be limited to a path)".to_owned()
                    } else {
                        format!(
                            "arn:aws:secretsmanager:{}:<account>:secret:{}*",
                            self.aws.region,
                            self.aws.prefix.replace("{env}", "*")
                        )
                    };
                    return Failed::Answered(self.error(
                        format!("access denied: secretsmanager:{action} on `{resource}` ({said})"),
                        Some(format!(
                            "the credentials' IAM policy needs `secretsmanager:{action}` on {on}; see docs/delivery.md, \"Deploying to AWS\""
                        )),
                        BackendErrorKind::Permanent,
                    ));
                }
                let transient = status >= 500
                    || status == 429
                    || code.contains("Throttl")
                    || code == "TooManyRequestsException";
                let kind = if transient {
                    BackendErrorKind::Transient
                } else {
                    BackendErrorKind::Permanent
                };
                let help = transient.then(|| {
                    format!(
                        "AWS kept answering this way through every retry within `timeout_seconds = {}`; run sync again later",
                        self.aws.timeout_seconds
                    )
                });
                Failed::Answered(self.error(
                    format!("secretsmanager:{action} on `{resource}` failed: {code} (HTTP {status}): {said}"),
                    help,
                    kind,
                ))
            }
            SdkError::ConstructionFailure(_) => Failed::Answered(self.error(
                format!(
                    "secretsmanager:{action} on `{resource}` was not sent: {}",
                    clean(&chain(&error))
                ),
                None,
                BackendErrorKind::Permanent,
            )),
            _ => {
                let detail = clean(&chain(&error));
                if detail.contains("credential") {
                    return Failed::Answered(self.error(
                        format!("secretsmanager:{action} on `{resource}` was not sent: no AWS credentials ({detail})"),
                        Some("the AWS SDK's standard chain found no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in CI)".to_owned()),
                        BackendErrorKind::Permanent,
                    ));
                }
                Failed::NoAnswer(self.error(
                    format!("secretsmanager:{action} on `{resource}` got no answer: {detail}"),
                    Some(format!(
                        "no answer within `timeout_seconds = {}` and its retries; check the network and run sync again",
                        self.aws.timeout_seconds
                    )),
                    BackendErrorKind::Transient,
                ))
            }
        }
    }

    /// The secrets whose name starts with `prefix` (scheduled deletions included).
    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<Listed>, Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_secrets()
                .include_planned_deletion(true)
                .filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                )
                .max_results(100)
                .set_next_token(token.take());
            let page = self
                .runtime
                .block_on(request.send())
                .map_err(|error| self.failed("ListSecrets", prefix, error, None).error())?;
            for entry in page.secret_list() {
                let (Some(name), Some(arn)) = (entry.name(), entry.arn()) else {
                    continue;
                };
                // The filter matches more than a prefix (words); keep the prefix only.
                if !name.starts_with(prefix) {
                    continue;
                }
                out.push(Listed {
                    name: name.to_owned(),
                    arn: arn.to_owned(),
                    tags: tags_of(entry.tags()),
                    deleted: entry.deleted_date().is_some(),
                });
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The secret `id` (name or ARN): its tags and the versions with their stages; `None`
    /// when there is none.
    fn read_back(&self, id: &str) -> Result<Option<ReadBack>, Error> {
        match self
            .runtime
            .block_on(self.client.describe_secret().secret_id(id).send())
        {
            Ok(out) => {
                let versions = out
                    .version_ids_to_stages()
                    .map(|map| map.keys().cloned().collect())
                    .unwrap_or_default();
                Ok(Some(ReadBack {
                    tags: tags_of(out.tags()),
                    versions,
                    deleted: out.deleted_date().is_some(),
                }))
            }
            Err(SdkError::ServiceError(service))
                if service.err().code() == Some("ResourceNotFoundException") =>
            {
                Ok(None)
            }
            Err(error) => Err(self.failed("DescribeSecret", id, error, None).error()),
        }
    }

    /// Whether the version `token` of `id` exists, after a write whose outcome is unknown;
    /// the error says the outcome is unknown when reading back fails too.
    fn written(&self, id: &str, token: &str, error: Error) -> Result<(), Error> {
        match self.read_back(id) {
            Ok(Some(back)) if back.versions.contains(token) => Ok(()),
            Ok(_) => Err(error),
            Err(_) => Err(match error {
                Error::Backend(mut backend) => {
                    backend.kind = BackendErrorKind::OutcomeUnknown;
                    Error::Backend(backend)
                }
                other => other,
            }),
        }
    }

    /// Creates `full`; `Ok(true)` when it turned out to exist already as this workspace's
    /// (a listing that did not show it yet) and was updated instead.
    fn create(
        &self,
        full: &str,
        wanted: &Wanted,
        signed: &Signed,
        env: &Environment,
    ) -> Result<bool, Error> {
        let token = request_token(&wanted.fingerprint);
        let mut tags: Vec<Tag> = signed
            .aws
            .tags
            .iter()
            .map(|(key, value)| tag(key, value))
            .collect();
        tags.push(tag(TAG_REPOSITORY, &signed.repository));
        tags.push(tag(TAG_ENVIRONMENT, &env.name));
        tags.push(tag(TAG_FINGERPRINT, &wanted.fingerprint));
        let request = self
            .client
            .create_secret()
            .name(full)
            .description(format!(
                "Written by `secret sync --to aws` for the environment {}; changes are overwritten by the next sync",
                env.name
            ))
            .secret_string(wanted.value.expose_secret())
            .client_request_token(&token)
            .set_kms_key_id(self.aws.kms_key_id.clone())
            .set_tags(Some(tags));
        match self.runtime.block_on(request.send()) {
            Ok(_) => Ok(false),
            // Our own earlier attempt (its answer lost), a listing that did not show a
            // secret created moments before (ListSecrets is eventually consistent), or
            // someone else's: read back, and write it only when it is this workspace's.
            Err(SdkError::ServiceError(service))
                if service.err().code() == Some("ResourceExistsException") =>
            {
                match self.read_back(full)? {
                    Some(back)
                        if back.tags.get(TAG_REPOSITORY) == Some(&signed.repository)
                            && back.tags.get(TAG_ENVIRONMENT) == Some(&env.name) =>
                    {
                        if back.versions.contains(&token) && !back.deleted {
                            Ok(false)
                        } else {
                            self.update(full, full, wanted, back.deleted).map(|()| true)
                        }
                    }
                    _ => Err(self.error(
                        format!("`{full}` was created by someone else while sync ran"),
                        Some("run sync again: it reports whose the secret is".to_owned()),
                        BackendErrorKind::Conflict,
                    )),
                }
            }
            Err(error) => match self.failed("CreateSecret", full, error, Some(&wanted.value)) {
                Failed::Answered(error) => Err(error),
                Failed::NoAnswer(error) => self.written(full, &token, error).map(|()| false),
            },
        }
    }

    fn update(&self, arn: &str, full: &str, wanted: &Wanted, restore: bool) -> Result<(), Error> {
        if restore {
            self.runtime
                .block_on(self.client.restore_secret().secret_id(arn).send())
                .map_err(|error| self.failed("RestoreSecret", full, error, None).error())?;
        }
        let token = request_token(&wanted.fingerprint);
        let request = self
            .client
            .put_secret_value()
            .secret_id(arn)
            .secret_string(wanted.value.expose_secret())
            .client_request_token(&token);
        if let Err(error) = self.runtime.block_on(request.send()) {
            match self.failed("PutSecretValue", full, error, Some(&wanted.value)) {
                Failed::Answered(error) => return Err(error),
                Failed::NoAnswer(error) => self.written(arn, &token, error)?,
            }
        }
        // The value first, then the tag: interrupted between them, the next sync sends the
        // same version again (the token makes it a no-op) and then tags it.
        let request = self
            .client
            .tag_resource()
            .secret_id(arn)
            .tags(tag(TAG_FINGERPRINT, &wanted.fingerprint));
        self.runtime
            .block_on(request.send())
            .map_err(|error| self.failed("TagResource", full, error, None).error())?;
        Ok(())
    }

    /// Schedules the deletion of `arn`; the date until which it can be restored.
    fn delete(&self, arn: &str, full: &str) -> Result<String, Error> {
        let request = self
            .client
            .delete_secret()
            .secret_id(arn)
            .recovery_window_in_days(self.aws.recovery_window_days);
        let out = self
            .runtime
            .block_on(request.send())
            .map_err(|error| self.failed("DeleteSecret", full, error, None).error())?;
        Ok(out
            .deletion_date()
            .and_then(|date| date.fmt(sm::primitives::DateTimeFormat::DateTime).ok())
            .unwrap_or_else(|| format!("{} days from now", self.aws.recovery_window_days)))
    }
}

/// `error` and its sources, each once, joined with `: ` (no `Debug` forms).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    parts.join(": ")
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or("").to_owned())))
        .collect()
}

/// The client request token of a write of the value whose fingerprint is `fingerprint` (32
/// hex digits), in the UUID form AWS generates: the same value always sends the same
/// token, so AWS applies it once however often it is sent.
fn request_token(fingerprint: &str) -> String {
    let hex: String = fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .chain(std::iter::repeat('0'))
        .take(32)
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_tokens_are_uuid_shaped_and_follow_the_fingerprint() {
        let token = super::request_token("0123456789abcdef0123456789abcdef");
        assert_eq!(token, "01234567-89ab-cdef-0123-456789abcdef");
        assert_ne!(
            token,
            super::request_token("1123456789abcdef0123456789abcdef")
        );
    }
}
