//! The service's refusals: one error shape with the right status for bad
//! bodies, missing or unknown tokens, rights, unknown routes, methods and
//! repositories, oversized bodies, a full queue (429 + Retry-After) and a
//! request timeout (which still leaves a finished plan behind).

use std::time::Duration;

use serde_json::json;

use crate::util::fake_llm::{FakeLlm, Reply as Llm};
use crate::util::service::{
    client, error_code, plan, plan_async, send, token_blocks, web_spec, Gitops, Service, ADMIN, OUTSIDER,
    PLANNER,
};

const REDIS: &str = "Deploy redis with 3 replicas and automatic failover in production";

fn openai_block(llm: &FakeLlm) -> String {
    format!(
        "[provider]\nbase-url = {:?}\nmodel = \"gpt-test\"\ndeadline-secs = 10\nmax-attempts = 3\n",
        llm.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_share_one_shape_with_correct_statuses() {
    let gitops = Gitops::new();
    let service = Service::start(&format!(
        "{}{}\n[limits]\nbody-bytes = 2048\n",
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let post = |token: Option<&'static str>, body: String| {
        let mut req = client()
            .post(service.url("/v1/plans"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        send(req)
    };
    // 400: malformed JSON, missing field, unknown field, unknown planner
    assert_eq!(
        error_code(&post(Some(ADMIN), "{".into()).await, 400),
        "bad_request"
    );
    assert_eq!(
        error_code(&post(Some(ADMIN), r#"{"intent":"x"}"#.into()).await, 422),
        "invalid_body"
    );
    assert_eq!(
        error_code(
            &post(
                Some(ADMIN),
                json!({"intent": REDIS, "repo": "gitops", "colour": 1}).to_string()
            )
            .await,
            422
        ),
        "invalid_body"
    );
    let planner = post(
        Some(ADMIN),
        json!({"intent": REDIS, "repo": "gitops", "planner": "openai"}).to_string(),
    )
    .await;
    assert_eq!(error_code(&planner, 400), "bad_request");
    // 401: none, unknown, malformed
    let none = post(None, json!({"intent": REDIS, "repo": "gitops"}).to_string()).await;
    assert_eq!(error_code(&none, 401), "unauthorized");
    assert_eq!(none.headers["www-authenticate"], "Bearer realm=\"gitintent\"");
    assert_eq!(
        error_code(&post(Some("gi_wrong"), "{}".into()).await, 401),
        "unauthorized"
    );
    let basic = send(
        client()
            .get(service.url("/v1/plans"))
            .header("authorization", "Basic YTpi"),
    )
    .await;
    assert_eq!(error_code(&basic, 401), "unauthorized");
    // 403: outsider on gitops is 404 (no leak); planner for an env it may not plan
    let outsider = post(
        Some(OUTSIDER),
        json!({"intent": REDIS, "repo": "gitops"}).to_string(),
    )
    .await;
    assert_eq!(error_code(&outsider, 404), "repo_not_found");
    let dev = post(
        Some(PLANNER),
        json!({"intent": REDIS, "repo": "gitops", "environment": "dev"}).to_string(),
    )
    .await;
    assert_eq!(error_code(&dev, 403), "forbidden");
    // 404: unknown plan, unknown route, unknown repo
    let missing = send(client().get(service.url("/v1/plans/pl_nope")).bearer_auth(ADMIN)).await;
    assert_eq!(error_code(&missing, 404), "plan_not_found");
    assert_eq!(
        error_code(&send(client().get(service.url("/v2/x"))).await, 404),
        "route_not_found"
    );
    let unknown_repo = post(Some(ADMIN), json!({"intent": REDIS, "repo": "nope"}).to_string()).await;
    assert_eq!(error_code(&unknown_repo, 404), "repo_not_found");
    assert_eq!(
        unknown_repo.json["error"]["details"]["repositories"],
        json!(["gitops"])
    );
    // 405
    assert_eq!(
        error_code(&send(client().delete(service.url("/v1/plans"))).await, 405),
        "method_not_allowed"
    );
    // 413: over the 2 KiB limit; 415: not JSON
    let big = json!({"intent": "x".repeat(4000), "repo": "gitops"}).to_string();
    assert_eq!(
        error_code(&post(Some(ADMIN), big).await, 413),
        "payload_too_large"
    );
    let text = send(
        client()
            .post(service.url("/v1/plans"))
            .bearer_auth(ADMIN)
            .body("hi"),
    )
    .await;
    assert_eq!(error_code(&text, 415), "unsupported_media_type");
    // 422: an empty intent never reaches a planner
    let empty = post(Some(ADMIN), json!({"intent": "  ", "repo": "gitops"}).to_string()).await;
    assert_eq!(error_code(&empty, 422), "invalid_intent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_429_with_retry_after() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start_with_fallback(
        [],
        Llm::spec(&web_spec(json!([]))).after(Duration::from_millis(800)),
    )
    .await;
    let service = Service::start(&format!(
        "{}{}{}\n[limits]\nmax-model-calls = 1\nqueue = 1\n",
        openai_block(&llm),
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let body = json!({ "intent": "Run the shop api", "repo": "gitops" });
    let async_plan = || plan_async(&service, ADMIN, &body);
    assert_eq!(async_plan().await.status, 202);
    assert_eq!(async_plan().await.status, 202);
    let third = async_plan().await;
    assert_eq!(error_code(&third, 429), "too_many_requests");
    let retry: u64 = third.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry));
    let metrics = send(client().get(service.url("/metrics"))).await.text;
    assert!(metrics.contains("gitintent_plans_rejected_total 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_times_out_leaves_a_finished_plan_behind() {
    let gitops = Gitops::new();
    let llm = FakeLlm::start([Llm::spec(&web_spec(json!([]))).after(Duration::from_millis(1500))]).await;
    let service = Service::start(&format!(
        "{}{}{}\n[limits]\nrequest-timeout-secs = 1\n",
        openai_block(&llm),
        gitops.repository_block(),
        token_blocks()
    ))
    .await;
    let r = plan(
        &service,
        ADMIN,
        json!({ "intent": "Run the shop api", "repo": "gitops" }),
    )
    .await;
    assert_eq!(error_code(&r, 503), "timeout");
    let mut status = String::new();
    for _ in 0..100 {
        let list = send(client().get(service.url("/v1/plans")).bearer_auth(ADMIN)).await;
        status = list.json["plans"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if status == "planned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "planned");
}

/// Commits `content` at `path` on `main` of the working repository.
fn commit_file(work: &std::path::Path, path: &str, content: &str) {
    let file = work.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, content).unwrap();
    crate::util::tree::commit_all(&git2::Repository::open(work).unwrap(), "break it");
}

/// A repository whose own config or policy is broken is the caller's to fix:
/// a 422 naming the repository and the file, as the CLI exits 2 for it
/// (it was a 500 with the cause hidden in the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_with_a_broken_config_or_policy_is_a_422_as_in_the_cli() {
    for (path, content, named) in [
        (".gitintent.yaml", "layout: 5\ncolour: blue\n", ".gitintent.yaml"),
        (
            "policies/broken.rego",
            "package main\n\ndeny[msg {\n",
            "broken.rego",
        ),
    ] {
        let gitops = Gitops::new();
        commit_file(&gitops.work(), path, content);
        let service = Service::start(&format!("{}{}", gitops.repository_block(), token_blocks())).await;
        let reply = plan(&service, ADMIN, json!({ "intent": REDIS, "repo": "gitops" })).await;
        assert_eq!(error_code(&reply, 422), "invalid_repository", "{path}");
        let message = reply.json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("\"gitops\"") && message.contains(named),
            "{message}"
        );

        let cli = crate::util::bin::gitintent()
            .args(["plan", REDIS, "--repo"])
            .arg(gitops.work())
            .output()
            .unwrap();
        assert_eq!(
            cli.status.code(),
            Some(2),
            "{path}: {}",
            String::from_utf8_lossy(&cli.stderr)
        );
    }
}
