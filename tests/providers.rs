//! The openai planner against the behaviours of real providers, played by the
//! loopback fake with their own error texts and headers: servers without
//! `json_schema`, fenced and `<think>` replies, truncation, `retry-after`
//! variants, loose replies, streaming-only servers and Azure OpenAI. Each test
//! checks the outcome, the message and how many requests were made.

use std::time::{Duration, SystemTime};

use gitintent::plan::{Error, NoCritic, OpenAiConfig, ResponseFormat, TokenLimit};
use serde_json::{json, Value};

use crate::openai::{config, plan, redis_spec, API_KEY};
use crate::util::fake_llm::{Azure, FakeLlm, Reply, PROMPT_TOKENS};

fn spec_text() -> String {
    redis_spec(3).to_string()
}

fn provider_error(err: &Error) -> &str {
    match err {
        Error::Provider(message) => message,
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_without_json_schema_is_told_which_setting_to_use() {
    for (reply, server_text) in [
        (
            Reply::llama_cpp_no_json_schema(),
            "response_format type must be one of \"text\" or \"json_object\", but got: json_schema",
        ),
        (
            Reply::openai_no_json_schema(),
            "'response_format' of type 'json_schema' is not supported with this model",
        ),
    ] {
        let server = FakeLlm::start_with_fallback([], reply).await;
        let err = plan(config(&server), &NoCritic).await.unwrap_err();
        let message = provider_error(&err);
        assert!(message.contains(server_text), "{message}");
        assert!(
            message.contains("set response-format = \"json_object\"")
                && message.contains("GITINTENT_LLM_RESPONSE_FORMAT"),
            "{message}"
        );
        assert_eq!(
            server.request_count(),
            1,
            "a refused format is not retried, even as a 500"
        );
    }
}

#[tokio::test]
async fn a_server_without_json_object_is_told_to_use_none() {
    let server = FakeLlm::start_with_fallback([], Reply::lm_studio_no_json_object()).await;
    let config = OpenAiConfig {
        response_format: ResponseFormat::JsonObject,
        ..config(&server)
    };
    let err = plan(config, &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.starts_with("400 Bad Request: 'response_format.type' must be 'json_schema' or 'text'"),
        "{message}"
    );
    assert!(message.contains("set response-format = \"none\""), "{message}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_refused_spec_schema_is_reported_as_ours_to_fix() {
    let server = FakeLlm::start([Reply::openai_ref_with_sibling()]).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.contains("$ref cannot have keywords") && message.contains("refused gitintent's spec schema"),
        "{message}"
    );
    assert_eq!(server.request_count(), 1);
    // What we send has no such reference.
    let schema = server.requests()[0].body["response_format"]["json_schema"]["schema"].to_string();
    assert!(!schema.contains("\"$ref\":\"#/$defs/Archetype\""), "{schema}");
}

#[tokio::test]
async fn json_object_mode_puts_the_schema_in_the_prompt_and_checks_as_strictly() {
    let incomplete = json!({ "environment": "production", "namespace": "cache" });
    let server = FakeLlm::start([Reply::spec(&incomplete), Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        response_format: ResponseFormat::JsonObject,
        ..config(&server)
    };
    let planned = plan(config, &NoCritic).await.unwrap();
    assert_eq!(planned.attempts, 2, "a reply missing fields is repaired as ever");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body["response_format"],
        json!({ "type": "json_object" })
    );
    let system = &requests[0].messages()[0].1;
    let schema = gitintent::spec::schema().to_string();
    assert!(
        system.contains(&format!("```json\n{schema}\n```")),
        "the schema is in the prompt"
    );
    let repair = &requests[1].messages()[3].1;
    assert!(
        repair.contains("does not match the spec schema") && repair.contains("components"),
        "{repair}"
    );
}

#[tokio::test]
async fn none_mode_sends_no_response_format() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        response_format: ResponseFormat::None,
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let sent = &server.requests()[0];
    assert!(sent.body.get("response_format").is_none(), "{}", sent.body);
    assert!(sent.messages()[0]
        .1
        .contains("# The JSON schema \"gitintent_spec\""));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn fenced_and_think_replies_are_accepted_as_they_are() {
    let spec = spec_text();
    for reply in [
        format!("```json\n{spec}\n```"),
        format!("<think>\nThe user wants Redis with 3 replicas {{not json}}.\n</think>\n\n{spec}"),
        format!("<think>Redis.</think>\n```json\n{spec}\n```\n"),
    ] {
        let server = FakeLlm::start([Reply::completion(&reply)]).await;
        let planned = plan(config(&server), &NoCritic).await.unwrap();
        assert_eq!(planned.spec.components[0].replicas, Some(3));
        assert_eq!(
            planned.raw_reply.as_deref(),
            Some(reply.as_str()),
            "the audit keeps the reply"
        );
        assert_eq!(server.request_count(), 1, "{reply}");
    }
}

#[tokio::test]
async fn prose_around_the_json_is_still_refused() {
    let reply = format!("Here is the spec you asked for:\n{}", spec_text());
    let server = FakeLlm::start([
        Reply::completion(&reply),
        Reply::completion(&reply),
        Reply::completion(&reply),
    ])
    .await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let Error::RepairExhausted { attempts, last } = &err else {
        panic!("expected RepairExhausted, got {err:?}")
    };
    assert_eq!(*attempts, 3);
    assert!(last.contains("expected value at line 1 column 1"), "{last}");
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn a_think_block_that_never_ends_is_sent_back() {
    let server = FakeLlm::start([
        Reply::completion("<think>Redis needs a quorum, so"),
        Reply::spec(&redis_spec(3)),
    ])
    .await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();
    assert_eq!(planned.attempts, 2);
    let repair = &server.requests()[1].messages()[3].1;
    assert!(repair.contains("never ends (no </think>)"), "{repair}");
}

#[tokio::test]
async fn a_truncated_reply_says_it_hit_the_token_limit() {
    let cut = &spec_text()[..120];
    let truncated = || Reply::completion(cut).finish("length");
    let server = FakeLlm::start([truncated(), truncated(), truncated()]).await;
    let config = OpenAiConfig {
        token_limit: Some(TokenLimit::MaxCompletionTokens(64)),
        ..config(&server)
    };
    let err = plan(config, &NoCritic).await.unwrap_err();
    let Error::RepairExhausted { last, .. } = &err else {
        panic!("expected RepairExhausted, got {err:?}")
    };
    assert!(
        last.contains("hit the output token limit (max-completion-tokens = 64; finish_reason \"length\")")
            && last.contains("GITINTENT_LLM_MAX_COMPLETION_TOKENS"),
        "{last}"
    );
    assert!(!last.contains("EOF while parsing"), "{last}");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].body["max_completion_tokens"], 64);
    let repair = &requests[1].messages()[3].1;
    assert!(repair.contains("cut off at the output token limit"), "{repair}");
}

#[tokio::test]
async fn max_tokens_temperature_and_seed_are_sent_as_configured() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        token_limit: Some(TokenLimit::MaxTokens(2048)),
        temperature: Some(0.0),
        seed: Some(42),
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let body = &server.requests()[0].body;
    assert_eq!((&body["max_tokens"], &body["seed"]), (&json!(2048), &json!(42)));
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["stream"], false);
    assert!(body.get("max_completion_tokens").is_none());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_rate_limit_loop_stops_after_two_retries() {
    let server =
        FakeLlm::start_with_fallback([], Reply::openai_rate_limited().with_header("retry-after", "0")).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.starts_with("429 Too Many Requests: Rate limit reached for gpt-4o-mini")
            && message.ends_with("gave up after 3 tries (2 retries allowed)"),
        "{message}"
    );
    assert_eq!(server.request_count(), 3);
}

/// One failure with these headers, then a spec: 2 requests when the wait fits
/// the 3 s deadline, 1 and an error when it does not.
async fn after_one_failure_with(reply: Reply) -> (Result<(), String>, usize) {
    let server = FakeLlm::start([reply, Reply::spec(&redis_spec(3))]).await;
    let outcome = plan(config(&server), &NoCritic)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    (outcome, server.request_count())
}

#[tokio::test]
async fn retry_after_ms_wins_over_retry_after() {
    // Azure sends both; 30 s would not fit the deadline, 10 ms does.
    let (outcome, requests) = after_one_failure_with(Reply::azure_rate_limited("30", "10")).await;
    assert_eq!((outcome, requests), (Ok(()), 2));
}

#[tokio::test]
async fn a_decimal_retry_after_is_honoured() {
    let limited = || Reply::error(429, "Slow down");
    let (outcome, requests) = after_one_failure_with(limited().with_header("retry-after", "0.05")).await;
    assert_eq!((outcome, requests), (Ok(()), 2));
    let (outcome, requests) = after_one_failure_with(limited().with_header("retry-after", "30.5")).await;
    let message = outcome.unwrap_err();
    assert!(message.contains("asked to wait 30.5s"), "{message}");
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn an_http_date_retry_after_is_honoured() {
    let date = |offset: i64| {
        let now = SystemTime::now();
        let at = match offset {
            o if o < 0 => now - Duration::from_secs(o.unsigned_abs()),
            o => now + Duration::from_secs(o.unsigned_abs()),
        };
        httpdate::fmt_http_date(at)
    };
    let limited = || Reply::error(503, "Service Unavailable");
    let (outcome, requests) = after_one_failure_with(limited().with_header("retry-after", &date(-5))).await;
    assert_eq!((outcome, requests), (Ok(()), 2));
    let (outcome, requests) = after_one_failure_with(limited().with_header("retry-after", &date(3600))).await;
    let message = outcome.unwrap_err();
    assert!(
        message.contains("503") && message.contains("the endpoint asked to wait"),
        "{message}"
    );
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let quota = Reply::json(
        429,
        &json!({ "error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"
        }}),
    );
    let server = FakeLlm::start_with_fallback([], quota).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.starts_with("429 Too Many Requests: You exceeded your current quota")
            && message.contains("[insufficient_quota]"),
        "{message}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn no_retries_means_one_request() {
    let server = FakeLlm::start_with_fallback([], Reply::error(503, "overloaded")).await;
    let config = OpenAiConfig {
        max_retries: 0,
        ..config(&server)
    };
    let err = plan(config, &NoCritic).await.unwrap_err();
    assert!(
        provider_error(&err).ends_with("gave up after 1 try (0 retries allowed)"),
        "{err}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn non_standard_finish_reasons_are_not_errors() {
    for reason in ["eos_token", "eos", "abort"] {
        let server = FakeLlm::start([Reply::spec(&redis_spec(3)).finish(reason)]).await;
        let planned = plan(config(&server), &NoCritic).await.unwrap();
        assert_eq!((planned.attempts, server.request_count()), (1, 1), "{reason}");
    }
}

#[tokio::test]
async fn loose_usage_and_a_decimal_created_are_not_errors() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)).loose_fields()]).await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();
    assert_eq!(planned.usage.input_tokens, PROMPT_TOKENS);
    assert!(!planned.usage.is_known(), "no completion_tokens: output unknown");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_missing_usage_is_unknown_not_zero() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)).without_usage()]).await;
    let planned = plan(config(&server), &NoCritic).await.unwrap();
    assert_eq!(planned.usage.unreported_calls, 1);
    assert_eq!(
        serde_json::to_value(planned.usage).unwrap(),
        json!({ "input_tokens": null, "output_tokens": null, "unreported_calls": 1 })
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn no_key_means_no_authorization_header() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        api_key: None,
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.authorization.as_deref(), sent.api_key.as_deref()),
        (None, None)
    );
}

#[tokio::test]
async fn a_streaming_only_server_is_reported_as_such() {
    let server = FakeLlm::start_with_fallback([], Reply::stream(&spec_text())).await;
    let err = plan(config(&server), &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.contains("text/event-stream") && message.contains("streaming replies are not supported"),
        "{message}"
    );
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.requests()[0].body["stream"], false);
}

const AZURE: Azure = Azure {
    deployment: "prod-4o",
    api_version: "2024-10-21",
    api_key: API_KEY,
};

#[tokio::test]
async fn azure_classic_gets_the_deployment_path_api_version_and_api_key() {
    let server = FakeLlm::start_azure(AZURE, [Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        base_url: server.root_url(),
        api_version: Some("2024-10-21".into()),
        azure_deployment: Some("prod-4o".into()),
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/deployments/prod-4o/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(
        (sent.api_key.as_deref(), sent.authorization.as_deref()),
        (Some(API_KEY), None)
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn an_api_version_in_the_base_url_survives_the_path_join() {
    let server = FakeLlm::start_azure(AZURE, [Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        base_url: format!(
            "{}/openai/deployments/prod-4o?api-version=2024-10-21",
            server.root_url()
        ),
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/deployments/prod-4o/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.api_key.as_deref(), Some(API_KEY));
}

#[tokio::test]
async fn an_unknown_azure_deployment_is_azures_message_without_retry() {
    let server = FakeLlm::start_azure(AZURE, []).await;
    let config = OpenAiConfig {
        base_url: server.root_url(),
        api_version: Some("2024-10-21".into()),
        azure_deployment: Some("prod-4o-typo".into()),
        ..config(&server)
    };
    let err = plan(config, &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.starts_with("404 Not Found: The API deployment for this resource does not exist")
            && message.contains("[DeploymentNotFound]"),
        "{message}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn azure_classic_without_a_key_is_azures_401_without_retry() {
    let server = FakeLlm::start_azure(AZURE, []).await;
    let config = OpenAiConfig {
        base_url: server.root_url(),
        api_key: None,
        api_version: Some("2024-10-21".into()),
        azure_deployment: Some("prod-4o".into()),
        ..config(&server)
    };
    let err = plan(config, &NoCritic).await.unwrap_err();
    let message = provider_error(&err);
    assert!(
        message.starts_with("401 Unauthorized: Access denied due to invalid subscription key"),
        "{message}"
    );
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.api_key.as_deref(), sent.authorization.as_deref()),
        (None, None)
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn azure_v1_is_the_openai_protocol_with_the_deployment_as_model() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        base_url: format!("{}/openai/v1", server.root_url()),
        model: "prod-4o".into(),
        ..config(&server)
    };
    plan(config, &NoCritic).await.unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/v1/chat/completions");
    assert_eq!(sent.body["model"], "prod-4o");
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

/// The binary against the fake with `GITINTENT_LLM_*` set: exit code, stderr,
/// and the plan JSON when it succeeds.
async fn cli(server: &FakeLlm, extra: &[(&str, &str)]) -> (Option<i32>, String, Value) {
    let mut envs: Vec<(String, String)> = vec![
        ("GITINTENT_LLM_BASE_URL".into(), server.base_url()),
        ("GITINTENT_LLM_MODEL".into(), "gpt-test".into()),
    ];
    envs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = crate::util::bin::gitintent();
        cmd.args([
            "plan",
            crate::openai::INTENT,
            "--planner",
            "openai",
            "--format",
            "json",
        ]);
        for var in [
            "GITINTENT_SERVER",
            "GITINTENT_TOKEN",
            "GITINTENT_LLM_API_KEY",
            "OPENAI_API_KEY",
        ] {
            cmd.env_remove(var);
        }
        for var in std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("GITINTENT_LLM_"))
        {
            cmd.env_remove(var);
        }
        cmd.envs(envs)
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let stdout: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout,
    )
}

#[tokio::test]
async fn the_cli_exits_3_and_names_the_setting_for_a_server_without_json_schema() {
    let server = FakeLlm::start_with_fallback([], Reply::llama_cpp_no_json_schema()).await;
    let (code, stderr, _) = cli(&server, &[]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("GITINTENT_LLM_RESPONSE_FORMAT"), "{stderr}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn the_cli_takes_the_response_format_and_reports_unknown_usage() {
    let fenced = format!("```json\n{}\n```", spec_text());
    let server = FakeLlm::start([Reply::completion(&fenced).without_usage()]).await;
    let (code, stderr, plan) = cli(&server, &[("GITINTENT_LLM_RESPONSE_FORMAT", "json_object")]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(plan["usage"]["input_tokens"], Value::Null, "{}", plan["usage"]);
    assert_eq!(server.request_count(), 1);
    assert_eq!(
        server.requests()[0].body["response_format"]["type"],
        "json_object"
    );
}

#[tokio::test]
async fn the_cli_refuses_an_unknown_response_format_before_any_request() {
    let server = FakeLlm::start([]).await;
    let (code, stderr, _) = cli(&server, &[("GITINTENT_LLM_RESPONSE_FORMAT", "grammar")]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("GITINTENT_LLM_RESPONSE_FORMAT") && stderr.contains("\"grammar\""),
        "{stderr}"
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn the_cli_reports_a_streaming_only_server() {
    let server = FakeLlm::start_with_fallback([], Reply::stream(&spec_text())).await;
    let (code, stderr, _) = cli(&server, &[]).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("streaming replies are not supported"), "{stderr}");
    assert_eq!(server.request_count(), 1);
}
