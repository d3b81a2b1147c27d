//! The MCP server (`gitintent mcp`, `/mcp` on `serve`) seen by real clients:
//! rmcp's own client over stdio (the real binary) and over Streamable HTTP
//! (a real service), and the official Python SDK (`tests/mcp/client.py`)
//! when `.ci/run`'s venv is there. `elicit`: open questions asked back
//! through MCP elicitation.

use std::path::{Path, PathBuf};

use rmcp::model::{CallToolRequestParams, CallToolResult, ReadResourceRequestParams};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt};
use serde_json::{json, Value};

use crate::util::service::{client, send, token_blocks, Gitops, Service, ADMIN, PLANNER};

mod elicit;

const INTENT: &str = "Deploy nginx:1.27 as web with 2 replicas in staging";
/// A token with the plan right only.
const READER: &str = "gi_reader_token_for_tests_0123456789abcdef0";

type Client = RunningService<RoleClient, ()>;

async fn stdio(repo: &Path, extra: &[&str]) -> Client {
    stdio_as((), repo, extra).await
}

/// `gitintent mcp` with a client of its own kind (e.g. one that elicits).
async fn stdio_as<H: ClientHandler>(
    handler: H,
    repo: &Path,
    extra: &[&str],
) -> RunningService<RoleClient, H> {
    let mut cmd = crate::util::bin::gitintent();
    cmd.arg("mcp").arg("--repo").arg(repo).args(extra);
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(cmd))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    handler.serve(transport).await.expect("the server initializes")
}

async fn call(client: &Peer<RoleClient>, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .expect("a tool result, not a protocol error")
}

async fn tool_names(client: &Client) -> Vec<String> {
    let tools = client.list_tools(None).await.unwrap().tools;
    tools.into_iter().map(|t| t.name.to_string()).collect()
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn deployment(plan: &Value) -> String {
    let files = plan["files"].as_array().expect("files");
    let file = files
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("deployment.yaml"))
        .unwrap_or_else(|| panic!("no deployment in {plan}"));
    file["content"].as_str().unwrap().to_string()
}

/// Commits a Deployment for `web` in staging on `main`.
fn add_workload(work: &Path) {
    let dir = work.join("clusters/staging/apps/web");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 3\n  \
         selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      \
         containers:\n        - name: web\n          image: nginx:1.27\n",
    )
    .unwrap();
    commit(work, "add web");
}

/// Commits the work tree's changes on `main`.
fn commit(work: &Path, message: &str) {
    let repo = git2::Repository::open(work).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("test", "test@example.com").unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&parent])
        .unwrap();
}

#[tokio::test]
async fn stdio_plans_like_the_service_and_offers_no_propose_without_the_flag() {
    let gitops = Gitops::new();
    let client = stdio(&gitops.work(), &[]).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("gitintent")
    );
    assert_eq!(
        tool_names(&client).await,
        ["plan", "validate", "list_workloads", "drift"]
    );

    let result = call(&client, "plan", json!({ "intent": INTENT })).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let plan = result.structured_content.clone().expect("structured content");
    assert!(plan["id"].as_str().unwrap().starts_with("pl_"), "{plan}");
    assert_eq!(plan["status"], "planned");
    assert_eq!(plan["environment"], "staging");
    assert_eq!(plan["requester"], "local");
    assert!(deployment(&plan).contains("replicas: 2"), "{plan}");
    assert!(text(&result).starts_with("Plan pl_"), "{}", text(&result));

    let empty = call(&client, "plan", json!({ "intent": "  " })).await;
    assert_eq!(empty.is_error, Some(true));
    assert!(text(&empty).contains("empty"), "{}", text(&empty));
    assert!(empty.structured_content.is_none());

    // Calling propose anyway is a tool error, not a crash.
    let refused = call(&client, "propose", json!({ "plan_id": plan["id"] })).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("--allow-propose"), "{}", text(&refused));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn stdio_lists_workloads_validates_and_explains_missing_drift() {
    let gitops = Gitops::new();
    add_workload(&gitops.work());
    let client = stdio(&gitops.work(), &["--env", "staging"]).await;

    let listed = call(&client, "list_workloads", json!({ "environment": "staging" })).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    let value = listed.structured_content.unwrap();
    let web = &value["workloads"][0];
    assert_eq!(
        (
            web["kind"].as_str(),
            web["name"].as_str(),
            web["namespace"].as_str()
        ),
        (Some("Deployment"), Some("web"), Some("shop"))
    );
    assert_eq!(web["images"], json!(["nginx:1.27"]));
    assert_eq!(web["replicas"], 3);
    assert_eq!(web["path"], "clusters/staging/apps/web/deployment.yaml");

    let unknown = call(&client, "list_workloads", json!({ "environment": "qa" })).await;
    assert_eq!(unknown.is_error, Some(true));
    assert!(
        text(&unknown).contains("unknown environment \"qa\""),
        "{}",
        text(&unknown)
    );

    let bad = call(
        &client,
        "validate",
        json!({ "manifests": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: 3}\n" }),
    )
    .await;
    assert_eq!(bad.is_error, Some(false));
    assert_eq!(bad.structured_content.unwrap()["valid"], false);

    let drift = call(&client, "drift", json!({ "environment": "staging" })).await;
    assert_eq!(drift.is_error, Some(true));
    assert!(text(&drift).contains("gitintent drift"), "{}", text(&drift));

    let typo = call(&client, "plan", json!({ "intnet": INTENT })).await;
    assert_eq!(typo.is_error, Some(true));
    assert!(
        text(&typo).contains("invalid arguments for plan"),
        "{}",
        text(&typo)
    );

    let schema = client
        .read_resource(ReadResourceRequestParams::new("gitintent://schema/spec"))
        .await
        .unwrap();
    let body = serde_json::to_value(&schema.contents[0]).unwrap();
    assert!(body["text"].as_str().unwrap().contains("components"), "{body}");
    let conventions = client
        .read_resource(ReadResourceRequestParams::new(
            "gitintent://repo/local/.gitintent.yaml",
        ))
        .await
        .unwrap();
    let body = serde_json::to_value(&conventions.contents[0]).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("environments: [production, staging]"),
        "{body}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn stdio_with_allow_propose_offers_propose_and_refuses_unknown_plans() {
    let gitops = Gitops::new();
    let client = stdio(&gitops.work(), &["--allow-propose", "--planner", "builtin"]).await;
    let names = tool_names(&client).await;
    assert_eq!(names.last().map(String::as_str), Some("propose"), "{names:?}");
    let tools = client.list_tools(None).await.unwrap().tools;
    let propose = tools.iter().find(|t| t.name == "propose").unwrap();
    let hints = propose.annotations.clone().unwrap();
    assert_eq!(
        (hints.destructive_hint, hints.open_world_hint),
        (Some(false), Some(true))
    );

    let missing = call(
        &client,
        "propose",
        json!({ "plan_id": "pl_000000000000000000000000" }),
    )
    .await;
    assert_eq!(missing.is_error, Some(true));
    assert!(text(&missing).contains("no plan"), "{}", text(&missing));
    let both = call(&client, "propose", json!({ "plan_id": "pl_1", "intent": INTENT })).await;
    assert_eq!(both.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[test]
fn stdio_refuses_a_directory_that_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::util::bin::gitintent()
        .args(["mcp", "--repo"])
        .arg(dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "stdout is for protocol messages only");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a git repository"), "{stderr}");
}

fn reader_block() -> String {
    format!(
        "[[token]]\nname = \"reader\"\nsha256 = \"{}\"\nrights = [\"plan\"]\n",
        gitintent::serve::auth::hash(READER)
    )
}

async fn service(gitops: &Gitops) -> Service {
    let toml = format!(
        "{}{}{}",
        token_blocks(),
        reader_block(),
        gitops.repository_block()
    );
    Service::start(&toml).await
}

async fn http(service: &Service, token: &str) -> Client {
    http_as((), service, token).await
}

async fn http_as<H: ClientHandler>(
    handler: H,
    service: &Service,
    token: &str,
) -> RunningService<RoleClient, H> {
    let config = StreamableHttpClientTransportConfig::with_uri(service.url("/mcp")).auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    handler
        .serve(transport)
        .await
        .expect("the server initializes over HTTP")
}

#[tokio::test]
async fn http_tools_follow_the_token_and_plans_are_stored_and_audited() {
    let gitops = Gitops::new();
    let mut service = service(&gitops).await;

    let anonymous = send(
        client()
            .post(service.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    )
    .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_eq!(anonymous.json["error"]["code"], "unauthorized");

    let reader = http(&service, READER).await;
    assert_eq!(
        tool_names(&reader).await,
        ["plan", "validate", "list_workloads", "drift"]
    );
    let result = call(&reader, "plan", json!({ "intent": INTENT })).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let plan = result.structured_content.unwrap();
    assert_eq!(plan["requester"], "reader");
    assert_eq!(plan["repo"], "gitops");
    assert!(deployment(&plan).contains("replicas: 2"));
    let refused = call(&reader, "propose", json!({ "plan_id": plan["id"] })).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("no propose right"), "{}", text(&refused));
    reader.cancel().await.unwrap();

    // The plan is the service's: readable over /v1 and audited.
    let stored = send(
        client()
            .get(service.url(&format!("/v1/plans/{}", plan["id"].as_str().unwrap())))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_eq!(stored.json["files"], plan["files"]);
    assert_eq!(stored.json["requester"], "reader");

    let admin = http(&service, ADMIN).await;
    assert!(tool_names(&admin).await.contains(&"propose".to_string()));
    let drift = call(&admin, "drift", json!({ "environment": "staging" })).await;
    assert_eq!(drift.is_error, Some(true));
    assert!(text(&drift).contains("[repository.cluster]"), "{}", text(&drift));
    admin.cancel().await.unwrap();

    // A token limited to staging and production reads no other environment's workloads.
    let planner = http(&service, PLANNER).await;
    let listed = call(&planner, "list_workloads", json!({ "environment": "staging" })).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    let other = call(&planner, "list_workloads", json!({ "environment": "dev" })).await;
    assert_eq!(other.is_error, Some(true));
    assert!(
        text(&other).contains("may not read the workloads"),
        "{}",
        text(&other)
    );
    planner.cancel().await.unwrap();
    service.stop().await;
    let audit = audit_events(&service.store);
    assert!(
        audit.iter().any(|(e, a)| e == "plan.completed" && a == "reader"),
        "{audit:?}"
    );
}

fn audit_events(store: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(store).unwrap();
    let mut stmt = conn.prepare("SELECT event, actor FROM audit").unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// The venv's python (`GITINTENT_MCP_PYTHON`, set by `.ci/run`), if it has the SDK.
fn python() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("GITINTENT_MCP_PYTHON")?);
    path.exists().then_some(path)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py")
}

fn run_python(python: &Path, args: &[String], expect: &[&str]) {
    let out = std::process::Command::new(python)
        .arg(script())
        .args(args)
        .env_remove("PYTHONPATH")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python client failed\n{stdout}\n{stderr}");
    for line in expect {
        assert!(stdout.contains(line), "{line:?} missing from\n{stdout}");
    }
}

const CHECKS: &[&str] = &["ok: tools/call plan", "ok: empty intent is an error"];

#[tokio::test]
async fn the_official_python_sdk_speaks_to_both_transports() {
    let Some(python) = python() else {
        eprintln!(
            "skipped: GITINTENT_MCP_PYTHON is not set to a python with `mcp` (.ci/run creates .ci/venv)"
        );
        return;
    };
    let gitops = Gitops::new();
    let binary = env!("CARGO_BIN_EXE_gitintent").to_string();
    let repo = gitops.work().display().to_string();
    let py = python.clone();
    let stdio = vec!["stdio".into(), binary.clone(), repo.clone()];
    tokio::task::spawn_blocking(move || run_python(&py, &stdio, CHECKS))
        .await
        .unwrap();
    let py = python.clone();
    let asking = elicit::asking();
    let elicit = vec!["elicit".into(), binary, asking.work().display().to_string()];
    let answered = [
        "ok: answered through elicitation staging",
        "ok: declined elicitation returns the questions",
    ];
    tokio::task::spawn_blocking(move || run_python(&py, &elicit, &answered))
        .await
        .unwrap();
    let service = service(&gitops).await;
    let args = vec!["http".into(), service.url("/mcp"), READER.into(), ADMIN.into()];
    tokio::task::spawn_blocking(move || run_python(&python, &args, CHECKS))
        .await
        .unwrap();
}

#[tokio::test]
async fn http_propose_opens_a_branch_and_refuses_a_plan_with_errors() {
    let gitops = Gitops::new();
    let service = service(&gitops).await;
    let admin = http(&service, ADMIN).await;

    let made = call(&admin, "propose", json!({ "intent": INTENT })).await;
    assert_eq!(made.is_error, Some(false), "{}", text(&made));
    let value = made.structured_content.unwrap();
    assert_eq!(value["status"], "proposed");
    let branch = value["proposal"]["branch"].as_str().unwrap().to_string();
    assert!(branch.starts_with("gitintent/"), "{value}");
    assert!(
        gitops.remote_branches().contains(&branch),
        "{:?}",
        gitops.remote_branches()
    );

    // An environment the repository does not have is an error finding: planned, not proposable.
    let planned = call(
        &admin,
        "plan",
        json!({ "intent": "Deploy nginx:1.27 as web in qa" }),
    )
    .await;
    let plan = planned.structured_content.clone().unwrap();
    assert_eq!(plan["has_errors"], true, "{plan}");
    assert!(
        text(&planned).contains("cannot be proposed"),
        "{}",
        text(&planned)
    );
    let refused = call(&admin, "propose", json!({ "plan_id": plan["id"] })).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("error"), "{}", text(&refused));
    admin.cancel().await.unwrap();
}
