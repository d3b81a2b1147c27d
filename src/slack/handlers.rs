//! The two endpoints: `POST /slack/commands` and `POST /slack/interactions`.
//!
//! Each handler reads the raw body, verifies Slack's signature over it, and
//! only then parses it. Slack wants an answer within 3 seconds, so anything
//! that may be slow (planning, proposing, reading drift) runs in a spawned task that posts
//! its result to the request's `response_url`; the HTTP answer is immediate.
//! Access is checked before the backend is asked to do anything.
//!
//! Replies: command answers are ephemeral. After a button, success (proposed,
//! discarded) replaces the plan message so its buttons go away; refusals and
//! errors arrive as a new ephemeral message and leave the plan in place.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::backend::{BackendError, PlanSummary, Requester, SlackBackend};
use super::blocks;
use super::command::{self, Command};
use super::config::{Action, SlackConfig};
use super::verify;
use crate::drift::Report;

/// How long `status` may take before the answer would miss Slack's 3 seconds.
const STATUS_TIMEOUT: Duration = Duration::from_millis(2500);
/// How long a post to a `response_url` may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request was refused at the HTTP level (the user sees nothing from Slack).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Not provably from Slack: `401`.
    #[error(transparent)]
    Unauthorized(#[from] verify::Error),
    /// Signed, but not a request we understand: `400`.
    #[error("{0}")]
    BadRequest(String),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        };
        let body = json!({ "error": { "code": code, "message": self.to_string(), "details": null } });
        (status, Json(body)).into_response()
    }
}

/// Shared by both handlers.
pub(crate) struct App<B> {
    pub(crate) backend: Arc<B>,
    pub(crate) config: Arc<SlackConfig>,
    pub(crate) http: reqwest::Client,
    replay: Arc<verify::ReplayGuard>,
}

impl<B> Clone for App<B> {
    fn clone(&self) -> Self {
        App {
            backend: self.backend.clone(),
            config: self.config.clone(),
            http: self.http.clone(),
            replay: self.replay.clone(),
        }
    }
}

impl<B: SlackBackend> App<B> {
    pub(crate) fn new(backend: Arc<B>, config: SlackConfig) -> App<B> {
        let http = reqwest::Client::builder()
            // A redirect would let a response_url lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(POST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        App {
            backend,
            config: Arc::new(config),
            http,
            replay: Arc::default(),
        }
    }

    /// Verifies the signature over the raw body, then parses the form.
    async fn verified<T: DeserializeOwned>(&self, headers: &HeaderMap, body: Bytes) -> Result<T, Error> {
        self.replay.verify(
            &self.config.signing_secret,
            headers,
            &body,
            self.config.clock.now(),
        )?;
        let mut request = Request::new(Body::from(body));
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            request.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
        }
        *request.method_mut() = axum::http::Method::POST;
        let Form(form) = Form::<T>::from_request(request, &())
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        Ok(form)
    }

    fn check_response_url(&self, url: &str) -> Result<(), Error> {
        if self.config.response_url_allowed(url) {
            Ok(())
        } else {
            Err(Error::BadRequest(format!(
                "response_url is not under {}; refusing to post there",
                self.config.response_url_prefix
            )))
        }
    }

    /// Posts `message` to `url` in the background; failures are logged.
    fn post_later(&self, url: String, message: impl std::future::Future<Output = Value> + Send + 'static) {
        let http = self.http.clone();
        self.backend.spawn(async move {
            let message = message.await;
            match http.post(&url).json(&message).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::warn!(status = %r.status(), "slack: response_url refused the message"),
                Err(e) => tracing::warn!(error = %e, "slack: could not post to response_url"),
            }
        });
    }
}

/// The slash command's form (Slack sends more fields; they are ignored).
#[derive(Debug, Deserialize)]
struct CommandForm {
    /// `1` on Slack's periodic certificate check, which carries no command.
    #[serde(default)]
    ssl_check: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    response_url: String,
}

impl CommandForm {
    fn require(&self) -> Result<(), Error> {
        for (name, value) in [
            ("user_id", &self.user_id),
            ("channel_id", &self.channel_id),
            ("response_url", &self.response_url),
        ] {
            if value.is_empty() {
                return Err(Error::BadRequest(format!("the slash command form has no {name}")));
            }
        }
        Ok(())
    }
}

pub(crate) async fn command<B: SlackBackend>(
    State(app): State<App<B>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    let form: CommandForm = app.verified(&headers, body).await?;
    if form.ssl_check.as_deref() == Some("1") {
        return Ok(Json(json!({})));
    }
    form.require()?;
    app.check_response_url(&form.response_url)?;
    let requester = Requester {
        user_id: form.user_id,
        user_name: form.user_name,
        channel_id: form.channel_id,
    };
    let cmd = match command::parse(&form.text) {
        Ok(cmd) => cmd,
        Err(e) => return Ok(Json(blocks::ephemeral(&format!("{e}. Try `/gitintent help`.")))),
    };
    tracing::info!(user = %requester.user_id, channel = %requester.channel_id, kind = kind(&cmd), "slack command");
    let reply = match cmd {
        Command::Help => blocks::help(app.config.default_repo.as_deref()),
        Command::Status(id) => status(&app, &requester, id).await,
        Command::Drift { env, repo } => start_drift(&app, requester, form.response_url, env, repo),
        Command::Plan { intent, repo, env } => {
            start_plan(&app, requester, form.response_url, intent, repo, env)
        }
    };
    Ok(Json(reply))
}

/// `status ID`: the stored plan, if the requester may see it, within Slack's 3 seconds.
async fn status<B: SlackBackend>(app: &App<B>, requester: &Requester, id: String) -> Value {
    let config = &app.config;
    match tokio::time::timeout(STATUS_TIMEOUT, app.backend.status(id)).await {
        Err(_) => {
            blocks::ephemeral("The plan store is slow to answer right now; try `status` again in a moment.")
        }
        Ok(Err(e)) => blocks::ephemeral(&status_error(config, requester, &e, Action::Plan)),
        Ok(Ok(p)) => {
            if config.allows(
                &requester.user_id,
                &requester.channel_id,
                &p.repo,
                Some(&p.environment),
                Action::Plan,
            ) {
                blocks::plan(&p)
            } else {
                blocks::ephemeral(&refused("see plans for", &p.repo, Some(&p.environment), ""))
            }
        }
    }
}

/// The command's repository (see [`repository`]) if the requester may plan
/// for it and `env`; else the reply that says why not (`what` names the
/// refused action).
fn plannable(
    config: &SlackConfig,
    requester: &Requester,
    repo: Option<String>,
    env: Option<&str>,
    what: &str,
) -> Result<String, Value> {
    let repo = repository(repo, config)?;
    if config.allows(
        &requester.user_id,
        &requester.channel_id,
        &repo,
        env,
        Action::Plan,
    ) {
        Ok(repo)
    } else {
        Err(blocks::ephemeral(&refusal(what, &repo, env)))
    }
}

/// `drift ENV`: acknowledged at once; the report is posted to `response_url`.
fn start_drift<B: SlackBackend>(
    app: &App<B>,
    requester: Requester,
    response_url: String,
    env: String,
    repo: Option<String>,
) -> Value {
    let repo = match plannable(&app.config, &requester, repo, Some(&env), "read drift for") {
        Ok(repo) => repo,
        Err(reply) => return reply,
    };
    let ack = blocks::drifting(&repo, &env);
    let app2 = app.clone();
    app.post_later(response_url, async move {
        let read = app2.backend.drift(requester, repo.clone(), env.clone()).await;
        drift_reply(&repo, &env, read)
    });
    ack
}

/// The message for a drift read: the report, or why it could not be read.
fn drift_reply(repo: &str, env: &str, read: Result<Report, BackendError>) -> Value {
    match read {
        Ok(report) => blocks::drift(repo, &report),
        Err(e @ (BackendError::Internal(_) | BackendError::Unfinished { .. })) => {
            blocks::ephemeral(&backend_error(&e))
        }
        Err(BackendError::Refused(m) | BackendError::Invalid(m) | BackendError::NotFound(m)) => {
            blocks::ephemeral(&format!(
                "Drift of `{}` / `{}` could not be read: {}",
                blocks::escape(repo),
                blocks::escape(env),
                blocks::escape(&m)
            ))
        }
    }
}

/// A plan request: acknowledged at once; the plan is posted to
/// `response_url` once its environment, if the command did not name it,
/// has been checked too.
fn start_plan<B: SlackBackend>(
    app: &App<B>,
    requester: Requester,
    response_url: String,
    intent: String,
    repo: Option<String>,
    env: Option<String>,
) -> Value {
    let repo = match plannable(&app.config, &requester, repo, env.as_deref(), "plan for") {
        Ok(repo) => repo,
        Err(reply) => return reply,
    };
    // The acknowledgement echoes the intent as every other reply does: redacted.
    let ack = blocks::planning(&crate::spec::secrets::redact_text(&intent), &repo, env.as_deref());
    let app2 = app.clone();
    app.post_later(response_url, async move {
        let planned = app2.backend.plan(requester.clone(), intent, repo, env).await;
        match planned {
            Err(e) => blocks::ephemeral(&backend_error(&e)),
            // Without env: in the command, the plan decided it; check it now.
            Ok(p)
                if !app2.config.allows(
                    &requester.user_id,
                    &requester.channel_id,
                    &p.repo,
                    Some(&p.environment),
                    Action::Plan,
                ) =>
            {
                blocks::ephemeral(&refused(
                    "plan for",
                    &p.repo,
                    Some(&p.environment),
                    "The plan is not shown and cannot be proposed.",
                ))
            }
            Ok(p) => blocks::plan(&p),
        }
    });
    ack
}

/// The interaction form: one field holding JSON.
#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

#[derive(Debug, Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: User,
    channel: Option<Channel>,
    response_url: Option<String>,
    #[serde(default)]
    actions: Vec<ActionPayload>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    id: String,
}

#[derive(Debug, Deserialize)]
struct ActionPayload {
    action_id: String,
    #[serde(default)]
    value: Option<String>,
}

/// The command's `repo:`, else the configured default; without either, the
/// question to answer with.
fn repository(repo: Option<String>, config: &SlackConfig) -> Result<String, Value> {
    repo.or_else(|| config.default_repo.clone()).ok_or_else(|| {
        blocks::ephemeral("Which repository? Add `repo:NAME` to the command; there is no default.")
    })
}

pub(crate) async fn interaction<B: SlackBackend>(
    State(app): State<App<B>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Error> {
    let form: InteractionForm = app.verified(&headers, body).await?;
    let payload: Interaction = serde_json::from_str(&form.payload)
        .map_err(|e| Error::BadRequest(format!("payload is not a Slack interaction: {e}")))?;
    if payload.kind != "block_actions" {
        return Err(Error::BadRequest(format!(
            "unsupported interaction type {:?}; only block_actions",
            payload.kind
        )));
    }
    let url = payload
        .response_url
        .ok_or_else(|| Error::BadRequest("payload has no response_url".into()))?;
    app.check_response_url(&url)?;
    let [action] = payload.actions.as_slice() else {
        return Err(Error::BadRequest("payload must carry exactly one action".into()));
    };
    let plan_id = command::plan_id(action.value.as_deref().unwrap_or(""))
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let requester = Requester {
        user_name: payload.user.username.or(payload.user.name).unwrap_or_default(),
        user_id: payload.user.id,
        channel_id: payload.channel.map(|c| c.id).unwrap_or_default(),
    };
    tracing::info!(user = %requester.user_id, action = %action.action_id, plan = %plan_id, "slack interaction");
    match action.action_id.as_str() {
        blocks::PROPOSE => {
            let app2 = app.clone();
            app.post_later(url, async move { propose(&app2, requester, plan_id).await });
        }
        blocks::DISCARD => app.post_later(url, async move { blocks::discarded(&plan_id) }),
        other => {
            return Err(Error::BadRequest(format!("unknown action_id {other:?}")));
        }
    }
    Ok(StatusCode::OK)
}

/// Propose after re-checking rights against the stored plan's repo and environment.
async fn propose<B: SlackBackend>(app: &App<B>, requester: Requester, plan_id: String) -> Value {
    let plan: PlanSummary = match app.backend.status(plan_id.clone()).await {
        Ok(p) => p,
        Err(e) => return blocks::notice(&status_error(&app.config, &requester, &e, Action::Propose)),
    };
    if !app.config.allows(
        &requester.user_id,
        &requester.channel_id,
        &plan.repo,
        Some(&plan.environment),
        Action::Propose,
    ) {
        return blocks::notice(&refused(
            "propose to",
            &plan.repo,
            Some(&plan.environment),
            "Nothing was proposed.",
        ));
    }
    if plan.proposal.is_some() {
        return blocks::notice(&format!(
            "Plan `{}` has already been proposed; see `/gitintent status {}`.",
            plan.id, plan.id
        ));
    }
    if plan.has_errors() {
        return blocks::notice(&format!(
            "Plan `{}` has error findings and cannot be proposed.",
            plan.id
        ));
    }
    let user_id = requester.user_id.clone();
    match app.backend.propose(requester, plan_id).await {
        Ok(done) => blocks::proposed(&plan, &done, &user_id),
        Err(e) => blocks::notice(&backend_error(&e)),
    }
}

fn kind(cmd: &Command) -> &'static str {
    match cmd {
        Command::Help => "help",
        Command::Status(_) => "status",
        Command::Drift { .. } => "drift",
        Command::Plan { .. } => "plan",
    }
}

fn refusal(what: &str, repo: &str, env: Option<&str>) -> String {
    refused(what, repo, env, "Nothing was run.")
}

fn refused(what: &str, repo: &str, env: Option<&str>, outcome: &str) -> String {
    let target = match env {
        Some(env) => format!("`{}` / `{}`", blocks::escape(repo), blocks::escape(env)),
        None => format!("`{}`", blocks::escape(repo)),
    };
    let mut text = format!("Sorry, you are not allowed to {what} {target} from here. ");
    if !outcome.is_empty() {
        text.push_str(outcome);
        text.push(' ');
    }
    text.push_str("Ask the platform team to grant access in the gitintent service config.");
    text
}

/// What the user sees when a stored plan cannot be shown: a pending or
/// failed plan's message only with a grant on its repository (a failure's
/// cause can quote another team's repository), else the usual refusal.
fn status_error(config: &SlackConfig, requester: &Requester, e: &BackendError, action: Action) -> String {
    match e {
        BackendError::Unfinished {
            repo,
            environment,
            message,
        } => {
            if config.allows(
                &requester.user_id,
                &requester.channel_id,
                repo,
                environment.as_deref(),
                action,
            ) {
                format!("That cannot be done: {}", blocks::escape(message))
            } else {
                let (what, outcome) = match action {
                    Action::Propose => ("propose to", "Nothing was proposed."),
                    _ => ("see plans for", ""),
                };
                refused(what, repo, environment.as_deref(), outcome)
            }
        }
        other => backend_error(other),
    }
}

/// What the user sees for a backend error: precise when safe, polite otherwise.
fn backend_error(e: &BackendError) -> String {
    match e {
        BackendError::Unfinished { repo, .. } => {
            // Only [`status_error`] may show the message, after a rights check.
            format!("Plan for `{}` is not ready to show.", blocks::escape(repo))
        }
        BackendError::NotFound(id) => {
            format!("There is no plan `{}`.", blocks::escape(id))
        }
        BackendError::Refused(m) => format!("That cannot be done: {}", blocks::escape(m)),
        BackendError::Invalid(m) => format!("That request cannot be planned: {}", blocks::escape(m)),
        BackendError::Internal(detail) => {
            tracing::error!(error = %detail, "slack: backend failure");
            "Sorry, something went wrong inside gitintent. The error has been logged; \
             please try again, and tell the platform team if it keeps happening."
                .to_string()
        }
    }
}
