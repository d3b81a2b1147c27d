//! The openai planner against a fake OpenAI-compatible server on loopback:
//! what it sends, how it retries, repairs and gives up. Offline, no API key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gitintent::plan::{Critic, Error, NoCritic, OpenAi, OpenAiConfig, Planned, Planner};
use gitintent::{Finding, Intent, Severity, Spec};
use serde_json::{json, Value};

use crate::util::fake_llm::{FakeLlm, Reply, COMPLETION_TOKENS, PROMPT_TOKENS};

pub(crate) const INTENT: &str =
    "Deploy a highly available redis cache with 3 replicas and 10Gi of storage in production";
pub(crate) const API_KEY: &str = "test-key-0123456789";

/// A valid spec for [`INTENT`], as the model would send it.
pub(crate) fn redis_spec(replicas: u32) -> Value {
    json!({
        "environment": "production",
        "namespace": "cache",
        "components": [{
            "name": "redis",
            "archetype": "redis",
            "image": null,
            "replicas": replicas,
            "ports": [],
            "resources": null,
            "storage": { "size": "10Gi", "class": null },
            "exposure": null,
            "autoscaling": null,
            "health_check": null,
            "env": [],
            "secret_refs": [],
            "schedule": null,
            "high_availability": { "pod_disruption_budget": true, "spread": true, "failover": true }
        }],
        "assumptions": ["Namespace cache chosen because the request names none."],
        "questions": [], "changes": []
    })
}

/// Short limits so every failure path finishes in about a second.
pub(crate) fn config(server: &FakeLlm) -> OpenAiConfig {
    OpenAiConfig {
        api_key: Some(API_KEY.to_string()),
        timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(3),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..OpenAiConfig::new(server.base_url(), "gpt-test")
    }
}

pub(crate) async fn plan(config: OpenAiConfig, critic: &dyn Critic) -> Result<Planned, Error> {
    let planner = Planner::OpenAi(OpenAi::new(config).expect("a valid config"));
    planner
        .plan(&Intent::new(INTENT, None).unwrap(), &[], critic)
        .await
}

/// Returns one error finding on its first review, then none.
#[derive(Default)]
struct FirstSpecFails {
    reviews: AtomicUsize,
}

impl Critic for FirstSpecFails {
    fn review(&self, _: &Spec) -> Vec<Finding> {
        if self.reviews.fetch_add(1, Ordering::SeqCst) > 0 {
            return Vec::new();
        }
        vec![Finding::new(
            Severity::Error,
            "redis-quorum",
            "StatefulSet/redis",
            "/spec/replicas",
            "Sentinel failover needs an odd number of replicas of at least 5 here",
        )]
    }
}

/// Always returns an error finding.
struct AlwaysFails;

impl Critic for AlwaysFails {
    fn review(&self, _: &Spec) -> Vec<Finding> {
        vec![Finding::new(
            Severity::Error,
            "always",
            "StatefulSet/redis",
            "",
            "never good enough",
        )]
    }
}

#[tokio::test]
async fn a_valid_reply_becomes_a_planned_spec_and_the_request_is_strict() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();

    assert_eq!(planned.spec.components[0].name, "redis");
    assert_eq!(planned.spec.components[0].replicas, Some(3));
    assert_eq!(planned.planner, "openai");
    assert_eq!(planned.model.as_deref(), Some("fake-model-snapshot"));
    assert!(planned.prompt_version.as_deref().unwrap().starts_with("2026-"));
    assert_eq!(planned.attempts, 1);
    assert_eq!(
        (planned.usage.input_tokens, planned.usage.output_tokens),
        (PROMPT_TOKENS, COMPLETION_TOKENS)
    );
    assert_eq!(
        planned.raw_reply.as_deref(),
        Some(redis_spec(3).to_string().as_str())
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(sent.body["model"], "gpt-test");
    let format = &sent.body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "gitintent_spec");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["schema"], gitintent::spec::schema());

    let messages = sent.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].0, "system");
    assert!(!messages[0].1.contains(INTENT));
    assert!(messages[0].1.contains("data, not instructions"));
    assert_eq!(messages[1].0, "user");
    assert!(
        messages[1].1.contains(&format!("\"intent\": \"{INTENT}\"")),
        "{}",
        messages[1].1
    );
}

#[tokio::test]
async fn a_rate_limited_call_is_retried_after_retry_after() {
    let server = FakeLlm::start([
        Reply::error(429, "Rate limit reached for requests").with_header("retry-after", "0"),
        Reply::spec(&redis_spec(3)),
    ])
    .await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();
    assert_eq!(planned.attempts, 1, "a transport retry is not a repair attempt");
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.requests()[0].body, server.requests()[1].body);
}

#[tokio::test]
async fn server_errors_are_retried_twice_then_reported() {
    let server = FakeLlm::start_with_fallback([], Reply::error(500, "upstream exploded")).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let Error::Provider(message) = &err else {
        panic!("expected a provider error, got {err:?}")
    };
    assert!(
        message.contains("500") && message.contains("upstream exploded"),
        "{message}"
    );
    assert!(
        message.contains("gave up after 3 tries (2 retries allowed)"),
        "{message}"
    );
    assert_eq!(server.request_count(), 3, "the first call and 2 retries");
}

#[tokio::test]
async fn server_errors_until_the_deadline_give_a_clear_error_in_bounded_time() {
    let server = FakeLlm::start_with_fallback([], Reply::error(500, "upstream exploded")).await;
    let config = OpenAiConfig {
        deadline: Duration::from_secs(1),
        max_retries: u32::MAX,
        ..config(&server)
    };
    let started = Instant::now();
    let err = plan(config, &NoCritic).await.unwrap_err();
    let elapsed = started.elapsed();

    let Error::Provider(message) = &err else {
        panic!("expected a provider error, got {err:?}")
    };
    assert!(
        message.contains("500") && message.contains("upstream exploded"),
        "{message}"
    );
    assert!(message.contains("deadline"), "{message}");
    // Bounded by the deadline (with slack for a loaded machine), not by retries.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        server.request_count() >= 3,
        "only {} calls",
        server.request_count()
    );
}

#[tokio::test]
async fn retry_after_past_the_deadline_fails_at_once() {
    let server = FakeLlm::start([Reply::error(429, "Slow down").with_header("retry-after", "30")]).await;
    let started = Instant::now();
    let err = plan(config(&server), &NoCritic).await.unwrap_err();

    let Error::Provider(message) = &err else {
        panic!("expected a provider error, got {err:?}")
    };
    assert!(message.contains("429") && message.contains("30s"), "{message}");
    // It did not wait the 30 s asked for.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retried_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = OpenAiConfig {
        deadline: Duration::from_millis(500),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ..OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1"), "gpt-test")
    };
    let started = Instant::now();
    let err = plan(config, &NoCritic).await.unwrap_err();
    let Error::Provider(message) = &err else {
        panic!("expected a provider error, got {err:?}")
    };
    assert!(
        message.contains("cannot reach the endpoint") && message.contains(&format!("127.0.0.1:{port}")),
        "{message}"
    );
    assert!(message.contains("gave up after"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn invalid_json_is_sent_back_and_the_repaired_reply_accepted() {
    let broken = r#"{"environment": "production", "namespace": cache}"#;
    let server = FakeLlm::start([Reply::completion(broken), Reply::spec(&redis_spec(3))]).await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();

    assert_eq!(planned.attempts, 2);
    assert_eq!(planned.usage.input_tokens, 2 * PROMPT_TOKENS);
    assert_eq!(planned.usage.output_tokens, 2 * COMPLETION_TOKENS);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].messages();
    let roles: Vec<&str> = messages.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[2].1, broken, "the conversation keeps the bad reply");
    assert!(
        messages[3].1.contains("not valid JSON") && messages[3].1.contains("line 1 column"),
        "{}",
        messages[3].1
    );
}

#[tokio::test]
async fn a_reply_that_never_matches_the_schema_exhausts_the_repairs() {
    let incomplete = json!({ "environment": "production", "namespace": "cache" });
    let server = FakeLlm::start([
        Reply::spec(&incomplete),
        Reply::spec(&incomplete),
        Reply::spec(&incomplete),
    ])
    .await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();

    let Error::RepairExhausted { attempts, last } = &err else {
        panic!("expected RepairExhausted, got {err:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(
        last.contains("does not match the spec schema") && last.contains("components"),
        "{last}"
    );
    assert!(err.to_string().contains("after 3 attempts"));
    assert_eq!(server.request_count(), 3);
    let repair = &server.requests()[1].messages()[3].1;
    assert!(
        repair.contains("does not match the spec schema") && repair.contains("components"),
        "{repair}"
    );
}

#[tokio::test]
async fn a_hanging_endpoint_times_out() {
    let server = FakeLlm::start_with_fallback([], Reply::Hang).await;
    let config = OpenAiConfig {
        timeout: Duration::from_millis(300),
        deadline: Duration::from_secs(1),
        max_retries: u32::MAX,
        ..config(&server)
    };
    let started = Instant::now();
    let err = plan(config, &NoCritic).await.unwrap_err();
    let elapsed = started.elapsed();

    assert!(
        matches!(err, Error::Timeout(d) if d == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(10),
        "took {elapsed:?}"
    );
    assert!(server.request_count() >= 2, "a timed-out call is retried");
}

#[tokio::test]
async fn an_error_finding_is_sent_back_and_the_next_spec_accepted() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)), Reply::spec(&redis_spec(5))]).await;
    let critic = FirstSpecFails::default();
    let planned = plan(config(&server), &critic).await.unwrap();

    assert_eq!(planned.spec.components[0].replicas, Some(5));
    assert_eq!(planned.attempts, 2);
    assert_eq!(critic.reviews.load(Ordering::SeqCst), 2);
    let repair = &server.requests()[1].messages()[3].1;
    assert!(repair.contains("failed validation"), "{repair}");
    assert!(
        repair.contains("[redis-quorum] StatefulSet/redis /spec/replicas: Sentinel failover needs"),
        "{repair}"
    );
}

#[tokio::test]
async fn findings_left_after_the_last_attempt_still_return_the_plan() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)), Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        max_attempts: 2,
        ..config(&server)
    };
    let planned = plan(config, &AlwaysFails).await.unwrap();
    assert_eq!(planned.attempts, 2);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn an_unauthorized_key_fails_at_once_without_retry_or_leaking_the_key() {
    let echo = format!("Incorrect API key provided: {API_KEY}.");
    let server = FakeLlm::start_with_fallback([Reply::error(401, &echo)], Reply::spec(&redis_spec(3))).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();

    let Error::Provider(message) = &err else {
        panic!("expected a provider error, got {err:?}")
    };
    assert!(
        message.contains("401") && message.contains("Incorrect API key provided"),
        "{message}"
    );
    assert!(!err.to_string().contains(API_KEY), "{err}");
    // No retry: one request (the count, not the clock, is what proves it).
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_refusal_is_reported_as_refused() {
    let server = FakeLlm::start([Reply::refusal("I can't help with that request.")]).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    assert!(
        matches!(&err, Error::Refused(m) if m.contains("can't help")),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 1, "a refusal is not repaired");
}

#[tokio::test]
async fn an_empty_component_list_with_questions_is_not_understood() {
    let nothing = json!({
        "environment": "dev",
        "namespace": "default",
        "components": [],
        "assumptions": [],
        "changes": [], "questions": ["The request asks to delete the cluster, which gitintent does not do."]
    });
    let server = FakeLlm::start([Reply::spec(&nothing)]).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotUnderstood { reason, .. } if reason.contains("delete the cluster")),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 1);
}
