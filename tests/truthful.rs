//! Issue 15 through the openai planner: the model is told to list what the
//! spec cannot express, the critic checks that it did (a repair when it did
//! not), and what is still missing after the last attempt is added, so the
//! plan never silently differs from its intent.

use gitintent::pipeline::{self, Context};
use gitintent::plan::{OpenAi, OpenAiConfig, Planner};
use gitintent::{Intent, Severity};
use serde_json::json;

use crate::openai::{config, redis_spec, INTENT};
use crate::util::fake_llm::{FakeLlm, Reply};

fn with_canary() -> String {
    format!("{INTENT}, rolled out as a canary with 10% of the traffic")
}

fn planner(config: OpenAiConfig) -> Planner {
    Planner::OpenAi(OpenAi::new(config).expect("a valid config"))
}

#[tokio::test]
async fn a_spec_that_leaves_out_a_canary_is_repaired_to_list_it() {
    let mut listed = redis_spec(3);
    listed["unsupported"] = json!([{
        "phrase": "rolled out as a canary with 10% of the traffic",
        "reason": "progressive delivery is not in the spec; use Argo Rollouts"
    }]);
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)), Reply::spec(&listed)]).await;
    let intent = Intent::new(&with_canary(), None).unwrap();
    let plan = pipeline::run(&intent, &planner(config(&server)), &Context::default())
        .await
        .unwrap();

    assert_eq!(plan.attempts, 2);
    let repair = &server.requests()[1].messages()[3].1;
    assert!(
        repair.contains("[not-listed]") && repair.contains("canary"),
        "{repair}"
    );
    assert_eq!(plan.spec.unsupported.len(), 1, "{:?}", plan.spec.unsupported);
    let not_done: Vec<_> = plan.findings.iter().filter(|f| f.rule == "not-done").collect();
    assert_eq!(not_done.len(), 1);
    assert_eq!(not_done[0].severity, Severity::Warning);
    assert!(not_done[0].message.contains("canary"), "{}", not_done[0].message);
}

#[tokio::test]
async fn a_canary_the_model_never_lists_is_still_reported() {
    let server = FakeLlm::start([Reply::spec(&redis_spec(3)), Reply::spec(&redis_spec(3))]).await;
    let config = OpenAiConfig {
        max_attempts: 2,
        ..config(&server)
    };
    let intent = Intent::new(&with_canary(), None).unwrap();
    let plan = pipeline::run(&intent, &planner(config), &Context::default())
        .await
        .unwrap();
    assert_eq!(plan.attempts, 2);
    assert!(
        plan.spec
            .unsupported
            .iter()
            .any(|u| u.phrase == "canary" && u.reason.contains("Argo Rollouts")),
        "{:?}",
        plan.spec.unsupported
    );
    assert!(plan.findings.iter().any(|f| f.rule == "not-done"));
    assert!(!plan.has_errors(), "{:#?}", plan.findings);
}

#[tokio::test]
async fn a_reply_without_the_new_fields_still_reads_as_a_spec() {
    // Replies recorded before `unsupported` and `allow_from_namespaces`
    // existed: absent reads as empty.
    let server = FakeLlm::start([Reply::spec(&redis_spec(3))]).await;
    let intent = Intent::new(INTENT, None).unwrap();
    let plan = pipeline::run(&intent, &planner(config(&server)), &Context::default())
        .await
        .unwrap();
    assert_eq!(plan.attempts, 1);
    assert!(plan.spec.unsupported.is_empty());
    assert!(plan.spec.components[0].allow_from_namespaces.is_empty());
    // The schema sent to the model requires them.
    let sent = &server.requests()[0].body;
    let schema = &sent["response_format"]["json_schema"]["schema"];
    let required = schema["required"].as_array().unwrap();
    assert!(required.contains(&json!("unsupported")), "{schema}");
}
