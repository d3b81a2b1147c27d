//! Open questions go back to the person: when a plan made over MCP has
//! `spec.questions` and the client declared the `elicitation` capability at
//! `initialize`, the server sends one `elicitation/create` (form mode) with a
//! field per question, then plans again with the answers.
//!
//! - [`form`] turns the questions into a `requestedSchema`: one optional
//!   string field per question (`q1`, `q2`, … in the planner's order, the
//!   question as its description). The question about which environment the
//!   plan is for, asked when the request named none, is an enum of the
//!   repository's environments the caller may plan for.
//! - [`ask`] sends it and reads the person's decision ([`Reply`]).
//! - [`fold`] is how the answers reach the planner, the way a person would
//!   give them: the environment answer becomes the request's `environment`
//!   (as `--env` does), every other answer is appended to the intent as a
//!   sentence. The question text itself is not appended: the builtin planner
//!   would read its words ("say \"in staging\"", "use 1 replica") as intent.
//!
//! It asks once: a second plan that still has questions is returned as it is
//! (its text says so first). It does not ask over the stateless HTTP
//! transport, where rmcp gives the handler no client capabilities and no way
//! to send a request back.

use std::time::Duration;

use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema, JsonObject};
use rmcp::service::ElicitationMode;
use rmcp::{Peer, RoleServer};
use serde_json::{json, Value};

use super::tools::PlanInput;

/// How long the person has to answer before the first plan is returned.
const ANSWER_WITHIN: Duration = Duration::from_secs(600);

/// One question of a plan, as a form field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Question {
    /// The field name: `q1`, `q2`, …
    pub(crate) key: String,
    /// The planner's question.
    pub(crate) text: String,
    /// The values to choose from; empty for free text.
    pub(crate) choices: Vec<String>,
    /// The answer is the plan's environment, not more intent.
    pub(crate) environment: bool,
}

/// What the person did with the form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    /// Accepted: the non-empty answers, by field name.
    Answered(Vec<(String, String)>),
    /// Declined to answer.
    Declined,
    /// Dismissed the form.
    Cancelled,
    /// The request could not be made or answered (timeout, transport).
    Failed(String),
}

/// True when the client declared form elicitation at `initialize`.
pub(crate) fn supported(peer: &Peer<RoleServer>) -> bool {
    peer.supported_elicitation_modes()
        .contains(&ElicitationMode::Form)
}

/// The plan's questions as fields. `environments` are the choices for the
/// environment question, which exists only when the request named no
/// environment (`asked_environment` false).
pub(crate) fn questions(plan: &Value, asked_environment: bool, environments: &[String]) -> Vec<Question> {
    let mut environment_taken = asked_environment;
    let texts = plan["spec"]["questions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    texts
        .iter()
        .filter_map(Value::as_str)
        .enumerate()
        .map(|(i, text)| {
            let environment = !environment_taken && text.to_lowercase().contains("environment");
            environment_taken |= environment;
            Question {
                key: format!("q{}", i + 1),
                text: text.to_string(),
                choices: if environment {
                    environments.to_vec()
                } else {
                    Vec::new()
                },
                environment,
            }
        })
        .collect()
}

/// The `requestedSchema` of the form: one optional field per question.
pub(crate) fn form(questions: &[Question]) -> Result<ElicitationSchema, serde_json::Error> {
    let mut properties = JsonObject::new();
    for (i, q) in questions.iter().enumerate() {
        let mut field = json!({
            "type": "string",
            "title": if q.environment { "Environment".to_string() } else { format!("Question {}", i + 1) },
            "description": q.text,
        });
        if !q.choices.is_empty() {
            field["enum"] = json!(q.choices);
        }
        properties.insert(q.key.clone(), field);
    }
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    ElicitationSchema::from_json_schema(schema)
}

/// Asks the questions through the client and waits for the person.
pub(crate) async fn ask(peer: &Peer<RoleServer>, questions: &[Question]) -> Reply {
    let requested_schema = match form(questions) {
        Ok(s) => s,
        Err(e) => return Reply::Failed(format!("the questions do not make a form: {e}")),
    };
    let message = format!(
        "gitintent has {} question(s) about this plan. Answer what you can; it plans again with your answers.",
        questions.len()
    );
    let params = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        requested_schema,
    };
    let result = match peer
        .create_elicitation_with_timeout(params, Some(ANSWER_WITHIN))
        .await
    {
        Ok(r) => r,
        Err(e) => return Reply::Failed(e.to_string()),
    };
    match result.action {
        ElicitationAction::Accept => Reply::Answered(answers(questions, result.content.as_ref())),
        ElicitationAction::Decline => Reply::Declined,
        // Cancel, and any action a later protocol adds: nothing was answered.
        _ => Reply::Cancelled,
    }
}

/// The non-empty answers in question order; unknown fields are ignored.
fn answers(questions: &[Question], content: Option<&Value>) -> Vec<(String, String)> {
    questions
        .iter()
        .filter_map(|q| {
            let value = content?.get(&q.key)?;
            let text = match value {
                Value::String(s) => s.trim().to_string(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return None,
            };
            (!text.is_empty()).then(|| (q.key.clone(), text))
        })
        .collect()
}

/// The request planned again: the environment answer as `environment`,
/// the other answers appended to the intent as sentences.
pub(crate) fn fold(input: &PlanInput, questions: &[Question], answers: &[(String, String)]) -> PlanInput {
    let mut intent = input.intent.trim_end().to_string();
    let mut environment = input.environment.clone();
    for (key, answer) in answers {
        match questions.iter().find(|q| &q.key == key) {
            Some(q) if q.environment => environment = Some(answer.clone()),
            Some(_) => {
                if !intent.ends_with(['.', '!', '?']) {
                    intent.push('.');
                }
                intent.push(' ');
                intent.push_str(answer);
            }
            None => {}
        }
    }
    PlanInput {
        intent,
        environment,
        target: input.target.clone(),
        target_path: input.target_path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(questions: &[&str]) -> Value {
        json!({ "spec": { "questions": questions } })
    }

    fn envs() -> Vec<String> {
        vec!["production".into(), "staging".into()]
    }

    #[test]
    fn the_environment_question_is_a_choice_of_the_repository_environments() {
        let qs = questions(
            &plan(&[
                "which environment is this for? say \"in staging\", or name the environment with the request",
                "which host name should web be served at?",
            ]),
            false,
            &envs(),
        );
        assert_eq!(qs.len(), 2);
        assert_eq!((qs[0].key.as_str(), qs[0].environment), ("q1", true));
        assert_eq!(qs[0].choices, envs());
        assert_eq!((qs[1].key.as_str(), qs[1].environment), ("q2", false));
        assert!(qs[1].choices.is_empty());

        let schema = serde_json::to_value(form(&qs).unwrap()).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(
            schema["properties"]["q1"]["enum"],
            json!(["production", "staging"])
        );
        assert_eq!(schema["properties"]["q1"]["title"], "Environment");
        assert_eq!(schema["properties"]["q2"]["type"], "string");
        assert_eq!(
            schema["properties"]["q2"]["description"],
            "which host name should web be served at?"
        );
        assert!(schema.get("required").is_none(), "{schema}");
    }

    #[test]
    fn a_request_that_named_its_environment_gets_no_environment_choice() {
        let qs = questions(
            &plan(&[
                "the intent says production but the environment was set to staging; the plan targets staging",
            ]),
            true,
            &envs(),
        );
        assert!(!qs[0].environment);
        assert!(qs[0].choices.is_empty());
    }

    #[test]
    fn answers_fold_into_the_environment_and_the_intent() {
        let qs = questions(
            &plan(&[
                "which environment is this for?",
                "which host name?",
                "which port?",
            ]),
            false,
            &envs(),
        );
        let content = json!({ "q1": "staging", "q2": " web.example.com ", "q3": "", "q9": "ignored" });
        let given = answers(&qs, Some(&content));
        assert_eq!(
            given,
            [
                ("q1".to_string(), "staging".to_string()),
                ("q2".to_string(), "web.example.com".to_string())
            ]
        );
        let input = PlanInput {
            intent: "Deploy nginx:1.27 as web".into(),
            environment: None,
            target: Some("gitops".into()),
            target_path: None,
        };
        let again = fold(&input, &qs, &given);
        assert_eq!(again.intent, "Deploy nginx:1.27 as web. web.example.com");
        assert_eq!(again.environment.as_deref(), Some("staging"));
        assert_eq!(again.target.as_deref(), Some("gitops"));
        assert!(answers(&qs, None).is_empty());
    }
}
