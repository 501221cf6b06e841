//! The dashboard's changes and reveals. Each goes through the same functions as `set`,
//! `unset` and `reveal`, runs off the server's thread (a write waiting for the store's lock
//! holds up nothing else), and answers JSON that names the form field a problem concerns.
//!
//! A set checks the form it is sent, every time: a conflict is an answer, never a silent
//! move; a move goes ahead only when the values it would narrow are still the ones the page
//! showed (`expect`), and is checked again under the store's lock.

use std::sync::Arc;

use axum::extract::{Json, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret as _, SecretString};
use secret_core::edit::Narrowed;
use secret_core::{Config, Identities, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

use super::server::{Ui, blocking};
use crate::cli::{Failure, ScopeArgs, set};

/// A request to change or read one value. No `Debug`: it may hold the value.
#[derive(Deserialize)]
pub(super) struct Target {
    name: String,
    /// Environment types, as `--type` takes them.
    #[serde(default)]
    types: Vec<String>,
    /// Named environments, as `--env` takes them.
    #[serde(default)]
    envs: Vec<String>,
    /// A stored value's scope key (`type:development,local`), instead of types or envs.
    #[serde(default)]
    scope: Option<String>,
    /// `set --move`, for the other values named in `expect` only.
    #[serde(default, rename = "move")]
    move_scopes: bool,
    /// The scope keys of the values a move narrows, as the page showed them.
    #[serde(default)]
    expect: Option<Vec<String>>,
    /// The value (`set` only).
    #[serde(default)]
    value: Option<String>,
}

/// The part of the form a problem concerns: the page shows the message next to it.
#[derive(Clone, Copy)]
enum Field {
    Name,
    Scope,
    Value,
    Form,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Scope => "scope",
            Self::Value => "value",
            Self::Form => "form",
        }
    }
}

/// A refused request, as the page shows it.
struct Refused {
    field: Field,
    failure: Failure,
    conflict: Option<Value>,
}

impl Refused {
    fn new(field: Field, failure: impl Into<Failure>) -> Self {
        Self {
            field,
            failure: failure.into(),
            conflict: None,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let status = match (&self.conflict, self.failure.code) {
            (Some(_), _) => StatusCode::CONFLICT,
            (None, 1) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({
            "ok": false,
            "field": self.field.name(),
            "error": self.failure.message,
            "help": self.failure.help,
            "conflict": self.conflict,
        });
        (status, Json(body)).into_response()
    }
}

fn answer(result: Result<Value, Refused>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(refused) => refused.into_response(),
    }
}

impl Target {
    fn scope(&self, state: &secret_core::state::State) -> Result<Scope, Refused> {
        if let Some(key) = &self.scope {
            return Scope::parse_key(key)
                .map_err(|why| Refused::new(Field::Scope, Failure::usage(why)));
        }
        let failure = match (self.types.is_empty(), self.envs.is_empty()) {
            (true, true) => Failure::usage(
                "choose at least one environment type or named environment".to_owned(),
            ),
            (false, false) => Failure::usage(
                "a value covers either types or named environments, not both".to_owned(),
            )
            .with_help("set them one after the other"),
            _ => {
                return ScopeArgs {
                    types: self.types.clone(),
                    envs: self.envs.clone(),
                }
                .scope(state)
                .map_err(|failure| Refused::new(Field::Scope, failure));
            }
        };
        Err(Refused::new(Field::Scope, failure))
    }
}

/// What every request on one value reads first.
struct Prepared {
    /// `secrets.toml` as written (writes sign under the rules it signs for).
    config: Config,
    scope: Scope,
    /// The store as readers judge it (signed rules, history, this clone's memory).
    state: secret_core::state::State,
    ids: Identities,
}

fn prepare(ui: &Ui, target: &Target) -> Result<Prepared, Refused> {
    set::check_name(&target.name).map_err(|failure| Refused::new(Field::Name, failure))?;
    let state = crate::trusted::Trusted::open(&ui.root, &ui.vars())
        .map_err(|error| Refused::new(Field::Form, error))?
        .state;
    let config = state.config().clone();
    let scope = target.scope(&state)?;
    let ids = Identities::from_vars(ui.vars()).map_err(|error| Refused::new(Field::Form, error))?;
    Ok(Prepared {
        config,
        scope,
        state,
        ids,
    })
}

/// A problem `set` finds before the value: a conflict (with what a move would do), or
/// another refusal next to its field.
fn refuse_set(prepared: &Prepared, name: &str, error: secret_core::Error) -> Refused {
    let secret_core::Error::Conflict { others, .. } = &error else {
        let field = match error {
            secret_core::Error::NoRecipients { .. } => Field::Scope,
            _ => Field::Form,
        };
        return Refused::new(field, error);
    };
    // What the move would do; it may fail for another reason (no writer), shown instead.
    let moves = match set::preflight(&prepared.state, name, &prepared.scope, true, &prepared.ids) {
        Ok(moves) => moves,
        Err(error) => return refuse_set(prepared, name, error),
    };
    let labels: Vec<String> = others.iter().map(Scope::describe).collect();
    let mut refused = Refused::new(
        Field::Scope,
        Failure::data(format!(
            "{name} already has a value for {}",
            labels.join("; ")
        )),
    );
    refused.conflict = Some(json!({
        "others": others.iter().map(Scope::key).collect::<Vec<_>>(),
        "labels": labels,
        "moves": moves.iter().map(|change| json!({
            "from": change.from.describe(),
            "to": change.to.as_ref().map(Scope::describe),
        })).collect::<Vec<_>>(),
    }));
    refused
}

/// What `set` checks before it asks for the value: the page asks this first, so a problem
/// is shown before the value leaves it. Also says whether any code declares the name.
pub(super) async fn preflight(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    blocking(move || {
        answer((|| {
            let prepared = prepare(&ui, &target)?;
            set::preflight(
                &prepared.state,
                &target.name,
                &prepared.scope,
                false,
                &prepared.ids,
            )
            .map_err(|error| refuse_set(&prepared, &target.name, error))?;
            let last = ui.watch.last();
            let known = last.declared.contains(&target.name) || last.names.contains(&target.name);
            let suggestion = (!known)
                .then(|| {
                    secret_core::error::did_you_mean(
                        &target.name,
                        last.declared.iter().map(String::as_str),
                    )
                })
                .flatten();
            Ok(json!({ "ok": true, "undeclared": !known, "suggestion": suggestion }))
        })())
    })
    .await
}

/// Sets a value: the checks of `preflight` again on the form as sent, then the write.
pub(super) async fn set(State(ui): State<Arc<Ui>>, Json(mut target): Json<Target>) -> Response {
    let value = SecretString::from(target.value.take().unwrap_or_default());
    blocking(move || {
        answer((|| {
            let prepared = prepare(&ui, &target)?;
            let checked = set::preflight(
                &prepared.state,
                &target.name,
                &prepared.scope,
                false,
                &prepared.ids,
            );
            let moving = match checked {
                // Nothing overlaps (any more): a plain set.
                Ok(_) => false,
                Err(secret_core::Error::Conflict { ref others, .. })
                    if target.move_scopes
                        && target.expect.as_deref().is_some_and(|expect| {
                            others.iter().map(Scope::key).eq(expect.iter().cloned())
                        }) =>
                {
                    true
                }
                Err(error) => return Err(refuse_set(&prepared, &target.name, error)),
            };
            if value.expose_secret().is_empty() {
                return Err(Refused::new(
                    Field::Value,
                    Failure::data(format!("the value of {} is empty", target.name))
                        .with_help("type the value, or unset it"),
                ));
            }
            let narrowed = set::write_value(
                &ui.root,
                &prepared.config,
                &target.name,
                &prepared.scope,
                &value,
                moving,
                &prepared.ids,
            )
            .map_err(|error| refuse_set(&prepared, &target.name, error))?;
            refresh(&ui);
            let recipients =
                secret_core::rules::recipients_for(prepared.state.effective(), &prepared.scope)
                    .len();
            let mut lines = vec![format!(
                "set {} for {} (encrypted to {recipients} recipient{})",
                target.name,
                prepared.scope.describe(),
                if recipients == 1 { "" } else { "s" }
            )];
            lines.extend(set::narrowed_lines(&target.name, &narrowed));
            Ok(json!({ "ok": true, "message": lines.join("\n") }))
        })())
    })
    .await
}

/// Computes the new state in the background, so the waiting pages get it at once.
fn refresh(ui: &Arc<Ui>) {
    let ui = ui.clone();
    drop(tokio::task::spawn_blocking(move || ui.watch.current()));
}

pub(super) async fn unset(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    blocking(move || {
        answer((|| {
            set::check_name(&target.name).map_err(|failure| Refused::new(Field::Name, failure))?;
            let state = crate::trusted::Trusted::open(&ui.root, &ui.vars())
                .map_err(|error| Refused::new(Field::Form, error))?
                .state;
            let scope = target.scope(&state)?;
            let narrowed =
                set::unset_value(&ui.root, state.config(), &target.name, &scope, &ui.vars())
                    .map_err(|error| Refused::new(Field::Form, error))?;
            refresh(&ui);
            let lines: Vec<String> = narrowed
                .iter()
                .map(|change: &Narrowed| match &change.to {
                    Some(rest) => format!(
                        "unset {} for {}; its value for {} is kept",
                        target.name,
                        scope.describe(),
                        rest.describe()
                    ),
                    None => format!(
                        "removed the value of {} for {}",
                        target.name,
                        change.from.describe()
                    ),
                })
                .collect();
            Ok(json!({ "ok": true, "message": lines.join("\n") }))
        })())
    })
    .await
}

/// Decrypts one value with the user's own identity, after the same signature check as
/// `reveal`; the answer is not cached (`Cache-Control: no-store`, set by the guard). Reads
/// the store without its lock, so a write waiting for the lock does not hold it up.
pub(super) async fn reveal(State(ui): State<Arc<Ui>>, Json(target): Json<Target>) -> Response {
    blocking(move || {
        answer((|| {
            let prepared = prepare(&ui, &target)?;
            let value = prepared
                .state
                .decrypt_slot(&target.name, &prepared.scope, &prepared.ids)
                .map_err(|error| Refused::new(Field::Form, error))?;
            Ok(json!({ "ok": true, "value": value.expose_secret() }))
        })())
    })
    .await
}
