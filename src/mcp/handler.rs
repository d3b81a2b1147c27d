//! The rmcp `ServerHandler`: lists and calls tools, lists and reads
//! resources. Who is calling comes from the handler itself (stdio: the local
//! user, with `--allow-propose` deciding `propose`) or from the HTTP request
//! (the bearer token's [`Caller`], put there by `super::http`).

use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::calls::{self, Defaults};
use super::elicit::{self, Reply};
use super::summary;
use super::tools::{self, PlanInput};
use crate::serve::auth::Caller;
use crate::serve::error::ApiError;
use crate::serve::state::AppState;

const SPEC_SCHEMA_URI: &str = "gitintent://schema/spec";
const SPEC_SCHEMA: &str = include_str!("../../schemas/spec.schema.json");

/// The local caller of `gitintent mcp` and its defaults.
#[derive(Clone)]
pub(crate) struct Local {
    pub(crate) caller: Caller,
    pub(crate) allow_propose: bool,
    pub(crate) defaults: Defaults,
}

/// One MCP server over the service's state.
#[derive(Clone)]
pub(crate) struct Handler {
    state: AppState,
    local: Option<Local>,
}

impl Handler {
    pub(crate) fn local(state: AppState, local: Local) -> Handler {
        Handler {
            state,
            local: Some(local),
        }
    }

    pub(crate) fn http(state: AppState) -> Handler {
        Handler { state, local: None }
    }

    /// The caller: the local user, or the token of the HTTP request.
    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        if let Some(local) = &self.local {
            return Ok(local.caller.clone());
        }
        ctx.extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
            .ok_or_else(|| ErrorData::invalid_request("no authenticated caller", None))
    }

    fn offers_propose(&self, caller: &Caller) -> bool {
        match &self.local {
            Some(local) => local.allow_propose,
            None => caller.may_propose_somewhere(),
        }
    }

    fn defaults(&self) -> Defaults {
        self.local
            .as_ref()
            .map(|l| l.defaults.clone())
            .unwrap_or_default()
    }

    /// Every tool but `plan` (see [`Handler::plan`]).
    async fn call(&self, caller: &Caller, name: &str, args: Value) -> Result<Value, ApiError> {
        let defaults = self.defaults();
        let state = &self.state;
        match name {
            "validate" => calls::validate(state, parse(name, args)?).await,
            "list_workloads" => calls::list_workloads(state, caller, parse(name, args)?).await,
            "drift" => calls::drift(state, caller, self.local.is_some(), parse(name, args)?).await,
            "propose" if self.offers_propose(caller) => {
                calls::propose(state, caller, &defaults, parse(name, args)?).await
            }
            "propose" => Err(ApiError::forbidden(match self.local {
                Some(_) => "propose is not offered: start `gitintent mcp` with --allow-propose".to_string(),
                None => format!("token {:?} has no propose right", caller.name),
            })),
            other => Err(ApiError::bad_request(format!("unknown tool {other:?}"))),
        }
    }

    /// `plan`; when the plan has open questions and the client can elicit,
    /// the person is asked them and the plan made again with the answers.
    async fn plan(&self, caller: &Caller, args: Value, peer: &Peer<RoleServer>) -> CallToolResult {
        let defaults = self.defaults();
        let input: PlanInput = match parse("plan", args) {
            Ok(input) => input,
            Err(e) => return tool_error(&e),
        };
        let first = match calls::plan(&self.state, caller, &defaults, input.clone()).await {
            Ok(plan) => plan,
            Err(e) => return tool_error(&e),
        };
        let open = first.spec.as_ref().is_some_and(|s| !s.questions.is_empty());
        let first_id = first.id.clone();
        let repo = first.repo.clone();
        let first = match calls::structured(&first) {
            Ok(v) => v,
            Err(e) => return tool_error(&e),
        };
        if !open || !elicit::supported(peer) {
            return summary::result("plan", first);
        }
        let first = First {
            plan: first,
            id: first_id,
            repo,
        };
        self.ask_and_plan_again(caller, &defaults, &input, first, peer)
            .await
    }

    /// Asks the person the first plan's questions through the client and
    /// plans again with the answers; without answers (or when planning again
    /// fails), the first plan with a note saying why.
    async fn ask_and_plan_again(
        &self,
        caller: &Caller,
        defaults: &Defaults,
        input: &PlanInput,
        first: First,
        peer: &Peer<RoleServer>,
    ) -> CallToolResult {
        let asked_environment = input
            .environment
            .as_deref()
            .or(defaults.environment.as_deref())
            .is_some_and(|e| !e.trim().is_empty());
        let environments = calls::environments(&self.state, caller, &first.repo)
            .await
            .unwrap_or_default();
        let questions = elicit::questions(&first.plan, asked_environment, &environments);
        let answers = match elicit::ask(peer, &questions).await {
            Reply::Answered(answers) if !answers.is_empty() => answers,
            other => return summary::plan_result(first.plan, &unanswered(&other)),
        };
        let again = elicit::fold(input, &questions, &answers);
        let second = match calls::plan(&self.state, caller, defaults, again).await {
            Ok(second) => second,
            Err(e) => {
                let note = format!(
                    "Planning again with the person's answers failed ({}); this is the first plan.",
                    e.message
                );
                return summary::plan_result(first.plan, &note);
            }
        };
        let second = match calls::structured(&second) {
            Ok(v) => v,
            Err(e) => return tool_error(&e),
        };
        let note = format!(
            "Asked the person {} question(s) through the client; planned again with {} answer(s) \
             (the first plan was {}).",
            questions.len(),
            answers.len(),
            first.id
        );
        summary::plan_result(second, &note)
    }

    /// `.gitintent.yaml` of a repository at its base branch.
    async fn conventions(&self, caller: &Caller, repo: &str) -> Result<String, ApiError> {
        let repository = self
            .state
            .repos
            .get(repo)
            .filter(|_| caller.may_read(repo))
            .ok_or_else(|| ApiError::not_found("repo_not_found", format!("no repository {repo:?}")))?;
        let guard = repository.lock().await;
        let read = tokio::task::spawn_blocking(move || {
            let mut guard = guard;
            let prepared = repository
                .prepare(&mut guard, Instant::now())
                .map_err(|e| crate::serve::work::repository_error("reading the repository", &e))?;
            let snapshot = prepared
                .snapshot()
                .and_then(|s| s.read(".gitintent.yaml"))
                .map_err(|e| ApiError::internal("reading .gitintent.yaml", &e))?;
            Ok::<_, ApiError>(snapshot.unwrap_or_else(|| {
                "# This repository has no .gitintent.yaml: gitintent reads its layout from the files.\n"
                    .into()
            }))
        })
        .await;
        read.map_err(|e| ApiError::internal("reading .gitintent.yaml", &e))?
    }
}

fn parse<T: DeserializeOwned>(tool: &str, args: Value) -> Result<T, ApiError> {
    serde_json::from_value(args)
        .map_err(|e| ApiError::bad_request(format!("invalid arguments for {tool}: {e}")))
}

fn conventions_uri(repo: &str) -> String {
    format!("gitintent://repo/{repo}/.gitintent.yaml")
}

/// The tool result of a refusal: `isError`, the service's message.
fn tool_error(e: &ApiError) -> CallToolResult {
    let mut text = e.message.clone();
    if e.details.as_object().is_some_and(|d| !d.is_empty()) {
        text.push_str(&format!(" ({})", e.details));
    }
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The first plan of a `plan` call with open questions: its structured
/// content, id and repository.
struct First {
    plan: Value,
    id: String,
    repo: String,
}

/// The note on the first plan when the person gave no answers.
fn unanswered(reply: &Reply) -> String {
    match reply {
        Reply::Answered(_) => "The person answered none of the questions; this is the first plan.".into(),
        Reply::Declined => "The person declined to answer the questions; this is the first plan.".into(),
        Reply::Cancelled => "The person cancelled the questions; this is the first plan.".into(),
        Reply::Failed(why) => {
            format!("Asking the person through the client failed ({why}); this is the first plan.")
        }
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("gitintent", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "gitintent turns plain-language infrastructure intents into validated Kubernetes manifests \
                 on a GitOps branch. Call list_workloads to name targets, plan to see the files, diff and \
                 findings, and (when offered) propose to open a pull request. Nothing is applied to a cluster.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context)?;
        Ok(ListToolsResult::with_all_items(tools::list(
            self.offers_propose(&caller),
        )))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&context)?;
        let args = Value::Object(request.arguments.unwrap_or_default());
        let result = if request.name == "plan" {
            self.plan(&caller, args, &context.peer).await
        } else {
            match self.call(&caller, &request.name, args).await {
                Ok(value) => summary::result(&request.name, value),
                Err(e) => tool_error(&e),
            }
        };
        Ok(CallToolResponse::Complete(result))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let caller = self.caller(&context)?;
        let mut resources = vec![Resource::new(SPEC_SCHEMA_URI, "spec.schema.json")
            .with_description("The JSON schema of a plan's spec (schemas/spec.schema.json).")
            .with_mime_type("application/schema+json")];
        for repo in self.state.repos.names().filter(|n| caller.may_read(n)) {
            resources.push(
                Resource::new(conventions_uri(repo), format!("{repo}/.gitintent.yaml"))
                    .with_description("The repository's conventions: layout, environments, policies, forge.")
                    .with_mime_type("application/yaml"),
            );
        }
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self.caller(&context)?;
        let uri = request.uri;
        let (text, mime) = if uri == SPEC_SCHEMA_URI {
            (SPEC_SCHEMA.to_string(), "application/schema+json")
        } else {
            let repo = uri
                .strip_prefix("gitintent://repo/")
                .and_then(|rest| rest.strip_suffix("/.gitintent.yaml"))
                .ok_or_else(|| ErrorData::resource_not_found(format!("no resource {uri:?}"), None))?;
            let text = self
                .conventions(&caller, repo)
                .await
                .map_err(|e| ErrorData::resource_not_found(e.message.clone(), None))?;
            (text, "application/yaml")
        };
        let contents = ResourceContents::text(text, uri).with_mime_type(mime);
        Ok(ReadResourceResponse::Complete(ReadResourceResult::new(vec![
            contents,
        ])))
    }
}
