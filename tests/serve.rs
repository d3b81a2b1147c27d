//! The HTTP service end to end: a real server on 127.0.0.1:0, real git
//! repositories (a working clone and its bare remote), the fake OpenAI
//! server for model calls, and a real HTTP client.

use std::time::Duration;

use serde_json::json;

use crate::util::fake_llm::{FakeLlm, Reply as Llm, COMPLETION_TOKENS, PROMPT_TOKENS};
use crate::util::service::{
    client, error_code, plan, plan_async, send, token_blocks, web_spec, Gitops, Service, ADMIN, OUTSIDER,
    PLANNER,
};

const REDIS: &str = "Deploy redis with 3 replicas and automatic failover in production";

async fn builtin_service(gitops: &Gitops) -> Service {
    Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await
}

/// The service planning with the fake model at `llm`.
async fn model_service(llm: &FakeLlm, gitops: &Gitops) -> Service {
    Service::start(&format!(
        "{}{}{}",
        openai_block(llm, ""),
        gitops.repository_block(),
        token_blocks()
    ))
    .await
}

fn openai_block(llm: &FakeLlm, extra: &str) -> String {
    format!(
        "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\ndeadline-secs = 10\nmax-attempts = 3\n{extra}",
        llm.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_is_created_with_the_cli_contract_and_changes() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    let r = plan(&service, ADMIN, json!({ "intent": REDIS, "repo": "gitops" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = &r.json;
    let id = p["id"].as_str().unwrap();
    assert!(id.starts_with("pl_"));
    assert_eq!(r.headers["location"], format!("/v1/plans/{id}").as_str());
    assert_eq!(p["status"], "planned");
    assert_eq!(p["requester"], "admin");
    assert_eq!(p["planner"], "builtin");
    assert_eq!(p["environment"], "production");
    // The same fields `plan --format json` prints, computed by the same pipeline.
    let local = gitintent::pipeline::run(
        &gitintent::Intent::new(REDIS, None).unwrap(),
        &gitintent::plan::Planner::Builtin,
        &gitintent::pipeline::Context::load(&gitops.work()).unwrap(),
    )
    .await
    .unwrap();
    let local = serde_json::to_value(&local).unwrap();
    for field in [
        "intent",
        "planner",
        "model",
        "prompt_version",
        "spec",
        "files",
        "findings",
        "usage",
        "attempts",
    ] {
        assert_eq!(p[field], local[field], "field {field}");
    }
    let changes = p["changes"].as_array().unwrap();
    assert_eq!(changes.len(), p["files"].as_array().unwrap().len());
    assert!(changes.iter().all(|c| c["status"] == "added"), "{changes:?}");
    assert!(changes[0]["diff"]
        .as_str()
        .unwrap()
        .contains("+++ b/clusters/production/apps/redis/"));
    let got = send(
        client()
            .get(service.url(&format!("/v1/plans/{id}")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json, r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_plan_goes_through_the_model_and_is_metered() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start([Llm::spec(&web_spec(
        json!([{ "name": "LOG_LEVEL", "value": "info" }]),
    ))])
    .await;
    let service = model_service(&llm, &gitops).await;
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": "Run the shop api (ghcr.io/acme/api:1.4.2) with 2 replicas", "repo": "gitops", "environment": "staging" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["planner"], "openai");
    assert_eq!(r.json["model"], "fake-model-snapshot");
    assert_eq!(r.json["usage"]["input_tokens"], PROMPT_TOKENS);
    assert_eq!(llm.request_count(), 1);
    let metrics = send(client().get(service.url("/metrics"))).await.text;
    assert!(metrics.contains(&format!(
        "gitintent_model_tokens_total{{direction=\"input\"}} {PROMPT_TOKENS}"
    )));
    assert!(metrics.contains(&format!(
        "gitintent_model_tokens_total{{direction=\"output\"}} {COMPLETION_TOKENS}"
    )));
    assert!(
        metrics.contains("gitintent_plans_total{outcome=\"valid\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gitintent_model_duration_seconds_count 1"));
    assert!(metrics.contains("gitintent_model_repair_attempts_total 0"));
    assert!(metrics
        .contains("gitintent_http_requests_total{route=\"/v1/plans\",method=\"POST\",status=\"201\"} 1"));
    assert!(metrics.contains(
        "gitintent_http_request_duration_seconds_bucket{route=\"/v1/plans\",method=\"POST\",le=\"+Inf\"} 1"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_respond_async_returns_202_and_the_plan_completes_in_the_background() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start([Llm::spec(&web_spec(json!([]))).after(Duration::from_millis(400))]).await;
    let service = model_service(&llm, &gitops).await;
    let r = plan_async(
        &service,
        ADMIN,
        &json!({ "intent": "Run the shop api with 2 replicas", "repo": "gitops" }),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert_eq!(r.json["status"], "pending");
    let first = send(client().get(service.url(&location)).bearer_auth(ADMIN)).await;
    assert_eq!(first.json["status"], "pending");
    let mut status = String::new();
    for _ in 0..100 {
        let polled = send(client().get(service.url(&location)).bearer_auth(ADMIN)).await;
        status = polled.json["status"].as_str().unwrap().to_string();
        if status != "pending" {
            assert_eq!(polled.json["spec"]["namespace"], "shop");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "planned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_are_listed_newest_first_and_filtered() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    let a = plan(&service, ADMIN, json!({ "intent": REDIS, "repo": "gitops" })).await;
    let b = plan(
        &service,
        PLANNER,
        json!({ "intent": "Deploy memcached in staging", "repo": "gitops" }),
    )
    .await;
    let bad = plan(
        &service,
        ADMIN,
        json!({ "intent": "make it better", "repo": "gitops" }),
    )
    .await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(error_code(&bad, 422), "invalid_intent");
    assert!(bad.json["error"]["details"]["plan_id"].as_str().is_some());
    let list = |q: &'static str, token: &'static str| {
        let url = service.url(&format!("/v1/plans{q}"));
        async move { send(client().get(url).bearer_auth(token)).await }
    };
    let all = list("", ADMIN).await;
    let ids: Vec<&str> = all.json["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[1], b.json["id"].as_str().unwrap());
    assert_eq!(ids[2], a.json["id"].as_str().unwrap());
    let failed = list("?status=failed", ADMIN).await;
    assert_eq!(failed.json["plans"].as_array().unwrap().len(), 1);
    assert_eq!(failed.json["plans"][0]["status"], "failed");
    assert_eq!(
        list("?repo=gitops&limit=1", ADMIN).await.json["plans"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(list("", OUTSIDER).await.json["plans"], json!([]));
    assert_eq!(error_code(&list("?status=done", ADMIN).await, 400), "bad_request");
    assert_eq!(error_code(&list("?limit=0", ADMIN).await, 400), "bad_request");
    assert_eq!(error_code(&list("?colour=red", ADMIN).await, 400), "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_schema_and_policy_findings() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    let manifests = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n  colour: blue\n";
    let r = send(
        client()
            .post(service.url("/v1/validate"))
            .bearer_auth(PLANNER)
            .json(&json!({ "manifests": manifests, "environment": "production" })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["valid"], false);
    assert_eq!(r.json["summary"]["invalid"], 1);
    let findings = r.json["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "schema" && f["message"].as_str().unwrap().contains("colour")),
        "{findings:?}"
    );
    let empty = send(
        client()
            .post(service.url("/v1/validate"))
            .bearer_auth(PLANNER)
            .json(&json!({ "manifests": " " })),
    )
    .await;
    assert_eq!(error_code(&empty, 400), "bad_request");
    let anonymous = send(
        client()
            .post(service.url("/v1/validate"))
            .json(&json!({ "manifests": manifests })),
    )
    .await;
    assert_eq!(error_code(&anonymous, 401), "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_pushes_a_branch_once_and_respects_rights() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    let prod = plan(&service, PLANNER, json!({ "intent": REDIS, "repo": "gitops" })).await;
    assert_eq!(prod.status, 201, "{}", prod.text);
    let propose = |id: &str, token: &'static str| {
        let url = service.url(&format!("/v1/plans/{id}/proposal"));
        async move { send(client().post(url).bearer_auth(token)).await }
    };
    // May plan for production but not propose there.
    let id = prod.json["id"].as_str().unwrap();
    assert_eq!(error_code(&propose(id, PLANNER).await, 403), "forbidden");
    assert_eq!(error_code(&propose(id, OUTSIDER).await, 404), "plan_not_found");
    assert_eq!(
        error_code(&propose("pl_missing", ADMIN).await, 404),
        "plan_not_found"
    );
    let staging = plan(
        &service,
        PLANNER,
        json!({ "intent": "Deploy memcached in staging", "repo": "gitops" }),
    )
    .await;
    let sid = staging.json["id"].as_str().unwrap();
    let made = propose(sid, PLANNER).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let branch = made.json["proposal"]["branch"].as_str().unwrap().to_string();
    assert!(
        branch.starts_with("gitintent/") && branch.contains("memcached"),
        "{branch}"
    );
    assert_eq!(made.json["proposal"]["pushed"], true);
    assert!(
        gitops.remote_branches().contains(&branch),
        "{:?}",
        gitops.remote_branches()
    );
    // The commit holds exactly the planned files on top of main.
    let remote = git2::Repository::open_bare(gitops.remote()).unwrap();
    let commit = remote
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert!(commit
        .message()
        .unwrap()
        .contains(&format!("Gitintent-Plan-Id: {sid}")));
    let tree = commit.tree().unwrap();
    for file in staging.json["files"].as_array().unwrap() {
        let entry = tree
            .get_path(std::path::Path::new(file["path"].as_str().unwrap()))
            .unwrap();
        let blob = entry.to_object(&remote).unwrap().peel_to_blob().unwrap();
        assert_eq!(
            std::str::from_utf8(blob.content()).unwrap(),
            file["content"].as_str().unwrap()
        );
    }
    // Once only.
    let again = propose(sid, ADMIN).await;
    assert_eq!(error_code(&again, 409), "already_proposed");
    assert_eq!(
        again.json["error"]["details"]["proposal"]["branch"],
        branch.as_str()
    );
    let read = send(
        client()
            .get(service.url(&format!("/v1/plans/{sid}")))
            .bearer_auth(PLANNER),
    )
    .await;
    assert_eq!(read.json["status"], "proposed");
    // The working tree and index of the repository were not touched.
    let work = git2::Repository::open(gitops.work()).unwrap();
    assert!(work.statuses(None).unwrap().is_empty());
    assert_eq!(work.head().unwrap().shorthand().unwrap(), "main");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_with_error_findings_or_failures_are_not_proposed() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    // `dev` is not one of the example repository's environments: an error finding.
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": "Deploy memcached", "repo": "gitops", "environment": "dev" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["has_errors"], true);
    let id = r.json["id"].as_str().unwrap();
    let refused = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(error_code(&refused, 409), "plan_has_errors");
    let failed = plan(
        &service,
        ADMIN,
        json!({ "intent": "make it better", "repo": "gitops" }),
    )
    .await;
    let fid = failed.json["error"]["details"]["plan_id"].as_str().unwrap();
    let refused = send(
        client()
            .post(service.url(&format!("/v1/plans/{fid}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(error_code(&refused, 409), "plan_failed");
    assert!(gitops.remote_branches() == vec!["main".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_repository_is_mirrored_and_proposals_push_to_the_url() {
    let gitops = Gitops::new();
    let url = format!("file://{}", gitops.remote().display());
    let service = Service::start(&format!(
        "[[repository]]\nname = \"gitops\"\nurl = {url:?}\n{}",
        token_blocks()
    ))
    .await;
    let ready = send(client().get(service.url("/readyz"))).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": "Deploy memcached in staging", "repo": "gitops" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap();
    let made = send(
        client()
            .post(service.url(&format!("/v1/plans/{id}/proposal")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let branch = made.json["proposal"]["branch"].as_str().unwrap();
    assert!(gitops.remote_branches().contains(&branch.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_an_unreachable_repository() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(&format!(
        "[[repository]]\nname = \"gone\"\npath = {:?}\n{}",
        dir.path().join("missing").display().to_string(),
        token_blocks()
    ))
    .await;
    assert_eq!(send(client().get(service.url("/healthz"))).await.status, 200);
    let ready = send(client().get(service.url("/readyz"))).await;
    assert_eq!(error_code(&ready, 503), "not_ready");
    assert_eq!(
        ready.json["error"]["details"]["checks"]["repo:gone"],
        "unreachable"
    );
    assert_eq!(ready.json["error"]["details"]["checks"]["store"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_openapi_document_and_every_operation_is_routed() {
    let gitops = Gitops::new();
    let service = builtin_service(&gitops).await;
    let served = send(client().get(service.url("/openapi.json"))).await;
    assert_eq!(served.status, 200);
    assert!(served.json["openapi"].as_str().unwrap().starts_with("3."));
    let mut routes: Vec<(String, String)> = gitintent::serve::route_table()
        .into_iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    routes.sort();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in served.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.push((path.clone(), method.clone()));
            }
        }
    }
    documented.sort();
    assert_eq!(routes, documented, "router and /openapi.json disagree");
    // And the router really serves each documented operation.
    for (path, method) in &documented {
        let url = service.url(&path.replace("{id}", "pl_x"));
        let req = match method.as_str() {
            "get" => client().get(url),
            "post" => client().post(url).json(&json!({})),
            other => panic!("undocumented method {other}"),
        };
        let r = send(req.bearer_auth(ADMIN)).await;
        let code = r.json["error"]["code"].as_str().unwrap_or("");
        assert!(
            code != "route_not_found" && code != "method_not_allowed",
            "{method} {path}: {}",
            r.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_background_plans() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start([Llm::spec(&web_spec(json!([]))).after(Duration::from_millis(700))]).await;
    let mut service = model_service(&llm, &gitops).await;
    let r = plan_async(
        &service,
        ADMIN,
        &json!({ "intent": "Run the shop api", "repo": "gitops" }),
    )
    .await;
    assert_eq!(r.status, 202);
    let id = r.json["id"].as_str().unwrap().to_string();
    service.stop().await;
    let store = gitintent::serve::SqliteStore::open(&service.store).unwrap();
    use gitintent::serve::Store as _;
    let stored = store.get_plan(&id).unwrap().unwrap();
    assert_eq!(stored.status, gitintent::serve::store::Status::Planned);
    let events: Vec<String> = store
        .audit(Some(&id))
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["plan.requested", "plan.completed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_mode_needs_no_token_and_records_anonymous() {
    let gitops = Gitops::new();
    let service = Service::start_with(
        &gitops.repository_block(),
        gitintent::serve::Overrides {
            insecure_no_auth: true,
            ..Default::default()
        },
    )
    .await;
    let r = send(
        client()
            .post(service.url("/v1/plans"))
            .json(&json!({ "intent": REDIS, "repo": "gitops" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["requester"], "anonymous");
}
