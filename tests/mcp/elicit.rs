//! Open questions asked back through MCP elicitation: an rmcp client that
//! declares the capability and plays the person (answers, or declines),
//! against the real `gitintent mcp` over stdio; and the same client over
//! HTTP, where the stateless transport cannot ask.

use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction,
    ElicitationCapability, FormElicitationCapability, Implementation,
};
use rmcp::service::RequestContext;
use rmcp::{ClientHandler, ErrorData, RoleClient};
use serde_json::{json, Value};

use super::{call, commit, deployment, http_as, service, stdio, stdio_as, text, READER};
use crate::util::service::Gitops;

/// No environment: the builtin planner asks which one (in [`asking`]).
pub(super) const NO_ENVIRONMENT: &str = "Deploy nginx:1.27 as web with 2 replicas";

/// The example repository without its `default-environment`, so that an
/// intent naming no environment leaves the question open.
pub(super) fn asking() -> Gitops {
    let gitops = Gitops::new();
    let path = gitops.work().join(".gitintent.yaml");
    let config = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = config
        .lines()
        .filter(|l| !l.starts_with("default-environment:"))
        .collect();
    assert_ne!(kept.len(), config.lines().count(), "{config}");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    commit(&gitops.work(), "no default environment");
    gitops
}

/// The person behind a client that supports form elicitation.
#[derive(Clone)]
struct Person {
    /// Choose this value for a field with choices; `None` declines.
    choose: Option<String>,
    /// Every form the server sent.
    asked: Arc<Mutex<Vec<Value>>>,
}

impl Person {
    fn choosing(value: &str) -> Person {
        Person {
            choose: Some(value.to_string()),
            asked: Arc::default(),
        }
    }

    fn declining() -> Person {
        Person {
            choose: None,
            asked: Arc::default(),
        }
    }

    fn forms(&self) -> Vec<Value> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        ClientConfig::new(capabilities, Implementation::new("person", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let form = serde_json::to_value(&request).unwrap();
        self.asked.lock().unwrap().push(form.clone());
        let Some(choice) = &self.choose else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        // Answer every field that offers the choice, as a person picking from a list.
        let mut answers = serde_json::Map::new();
        for (key, field) in form["requestedSchema"]["properties"].as_object().unwrap() {
            if field["enum"]
                .as_array()
                .is_some_and(|e| e.contains(&json!(choice)))
            {
                answers.insert(key.clone(), json!(choice));
            }
        }
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(answers)))
    }
}

fn questions(plan: &Value) -> Vec<String> {
    plan["spec"]["questions"]
        .as_array()
        .expect("spec.questions")
        .iter()
        .map(|q| q.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn an_answered_question_gives_a_plan_made_again_with_the_answer() {
    let gitops = asking();
    let person = Person::choosing("staging");
    let client = stdio_as(person.clone(), &gitops.work(), &[]).await;

    let result = call(&client, "plan", json!({ "intent": NO_ENVIRONMENT })).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let plan = result.structured_content.clone().unwrap();
    assert_eq!(plan["environment"], "staging", "{plan}");
    assert!(questions(&plan).is_empty(), "{plan}");
    assert!(deployment(&plan).contains("replicas: 2"), "{plan}");
    let summary = text(&result);
    assert!(
        summary
            .starts_with("Asked the person 1 question(s) through the client; planned again with 1 answer(s)"),
        "{summary}"
    );

    // One form: the environment question, as a choice of the repository's environments.
    let forms = person.forms();
    assert_eq!(forms.len(), 1, "{forms:?}");
    assert_eq!(forms[0]["mode"], "form");
    let field = &forms[0]["requestedSchema"]["properties"]["q1"];
    assert_eq!(field["enum"], json!(["production", "staging"]), "{field}");
    assert!(
        field["description"]
            .as_str()
            .unwrap()
            .contains("which environment"),
        "{field}"
    );

    // A plan that has no questions asks nothing.
    let plain = call(
        &client,
        "plan",
        json!({ "intent": format!("{NO_ENVIRONMENT} in staging") }),
    )
    .await;
    assert_eq!(plain.is_error, Some(false), "{}", text(&plain));
    assert_eq!(person.forms().len(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_declined_question_gives_the_first_plan_with_its_questions() {
    let gitops = asking();
    let person = Person::declining();
    let client = stdio_as(person.clone(), &gitops.work(), &[]).await;
    let result = call(&client, "plan", json!({ "intent": NO_ENVIRONMENT })).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let plan = result.structured_content.clone().unwrap();
    assert!(
        questions(&plan).iter().any(|q| q.contains("which environment")),
        "{plan}"
    );
    let summary = text(&result);
    assert!(summary.starts_with("This plan has"), "{summary}");
    assert!(
        summary.contains("The person declined to answer the questions; this is the first plan."),
        "{summary}"
    );
    assert_eq!(person.forms().len(), 1);
    client.cancel().await.unwrap();

    // A client without the capability is not asked: the questions come first, as before.
    let plain = stdio(&gitops.work(), &[]).await;
    let result = call(&plain, "plan", json!({ "intent": NO_ENVIRONMENT })).await;
    let summary = text(&result);
    assert!(summary.starts_with("This plan has"), "{summary}");
    assert!(!summary.contains("declined"), "{summary}");
    assert!(!summary.contains("Asked the person"), "{summary}");
    plain.cancel().await.unwrap();
}

#[tokio::test]
async fn the_stateless_http_transport_returns_the_questions_without_asking() {
    let gitops = asking();
    let service = service(&gitops).await;
    let person = Person::choosing("staging");
    let client = http_as(person.clone(), &service, READER).await;
    let result = call(&client, "plan", json!({ "intent": NO_ENVIRONMENT })).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert!(text(&result).starts_with("This plan has"), "{}", text(&result));
    assert!(person.forms().is_empty(), "{:?}", person.forms());
    client.cancel().await.unwrap();
}
