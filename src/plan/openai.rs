//! The openai planner: any OpenAI-compatible chat-completions endpoint
//! (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp's server).
//!
//! [`OpenAi::plan`] sends the prompts from [`super::prompt`] with the spec
//! schema as a strict `json_schema` response format (or, for servers without
//! one, in the system prompt), takes the spec JSON out of the reply
//! ([`wire::spec_text`]: a ```` ```json ```` fence or a leading `<think>` block
//! at most), parses it with [`Spec::from_untrusted_json`], asks the
//! [`Critic`] for error findings, and sends every problem back to the model
//! (at most `max_attempts` replies). Failed calls are retried by
//! [`transport`]; calls, retries and repairs together are bounded by one
//! total deadline.
//!
//! It speaks HTTP with reqwest directly rather than through an SDK: the
//! replies of local servers differ from OpenAI's in ways a strict SDK type
//! rejects (`finish_reason: "eos"`, no `completion_tokens`, a decimal
//! `created`), and authentication, Azure's classic URLs and `retry-after-ms`
//! need control of the request. It does not stream, call tools, or use
//! anything from the reply but the spec JSON and the token counts. The API
//! key never appears in an error message.

mod config;
mod transport;
mod wire;

pub use config::{OpenAiConfig, ResponseFormat, TokenLimit};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::prompt::{self, Reason};
use super::{Critic, Error, Planned, Usage};
use crate::intent::Intent;
use crate::manifest::Workload;
use crate::spec::{self, Spec};
use transport::Transport;
use wire::{Completion, Message};

/// The planner. Cheap to clone and share: one HTTP connection pool, prompts
/// rendered once.
#[derive(Clone)]
pub struct OpenAi(Arc<Inner>);

struct Inner {
    config: OpenAiConfig,
    transport: Transport,
    system: String,
    schema: serde_json::Value,
    /// Everything this planner has been billed for, failed plans included.
    spent: Spent,
}

/// Running totals of answered model calls and their token usage.
#[derive(Default)]
struct Spent {
    calls: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    unreported_calls: AtomicU64,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

/// What one reply amounts to.
enum Assessment {
    /// A spec, with the critic's error findings (empty when it is clean).
    Spec(Spec, Vec<String>),
    /// Nothing usable: what to tell the model, and what to tell the user if
    /// this was the last attempt.
    Unusable {
        reason: Reason,
        problems: Vec<String>,
        last: String,
    },
}

impl OpenAi {
    /// Checks the settings and renders the system prompt.
    pub fn new(config: OpenAiConfig) -> Result<OpenAi, Error> {
        config.check()?;
        let schema = spec::schema();
        let mut system = prompt::system()?;
        if config.response_format != ResponseFormat::JsonSchema {
            system = format!("{system}\n\n{}", prompt::schema(&schema)?);
        }
        Ok(OpenAi(Arc::new(Inner {
            transport: Transport::new(&config)?,
            system,
            schema,
            config,
            spent: Spent::default(),
        })))
    }

    /// The configured model name.
    pub fn model(&self) -> &str {
        &self.0.config.model
    }

    /// Answered model calls and their token usage over this planner's life,
    /// including plans that failed (whose [`Planned::usage`] is never seen).
    /// Evals take the difference around each case.
    pub fn spent(&self) -> (u32, Usage) {
        let s = &self.0.spent;
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let calls = u32::try_from(load(&s.calls)).unwrap_or(u32::MAX);
        let usage = Usage {
            input_tokens: load(&s.input_tokens),
            output_tokens: load(&s.output_tokens),
            unreported_calls: u32::try_from(load(&s.unreported_calls)).unwrap_or(u32::MAX),
        };
        (calls, usage)
    }

    /// The settings this planner was built with.
    pub fn config(&self) -> &OpenAiConfig {
        &self.0.config
    }

    /// Plans one intent: calls, retries and repairs until a spec is accepted,
    /// the attempts run out, or the deadline passes.
    pub(super) async fn plan(
        &self,
        intent: &Intent,
        existing: &[&Workload],
        critic: &dyn Critic,
    ) -> Result<Planned, Error> {
        let config = &self.0.config;
        let deadline = Instant::now() + config.deadline;
        let mut messages = vec![
            Message::system(self.0.system.clone()),
            Message::user(prompt::user(intent, existing)?),
        ];
        let mut usage = Usage::default();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let body = wire::request(config, &self.0.schema, &messages);
            let completion = self.0.transport.complete(&body, deadline).await?;
            self.count(&completion, &mut usage);
            let last = attempts >= config.max_attempts;
            let (content, cut_off) = reply_content(&completion)?;
            let (reason, problems) = match self.assess(content.as_deref(), cut_off, critic)? {
                Assessment::Spec(spec, errors) if errors.is_empty() || last => {
                    // With errors left, the caller reports them as findings.
                    let model = completion
                        .model
                        .filter(|m| !m.trim().is_empty())
                        .unwrap_or_else(|| config.model.clone());
                    return Ok(Planned {
                        spec,
                        planner: super::PlannerName::Openai,
                        model: Some(model),
                        prompt_version: Some(prompt::version().to_string()),
                        usage,
                        attempts,
                        raw_reply: content,
                    });
                }
                Assessment::Spec(_, errors) => (Reason::Findings, errors),
                Assessment::Unusable { last: problem, .. } if last => {
                    return Err(Error::RepairExhausted {
                        attempts,
                        last: problem,
                    })
                }
                Assessment::Unusable { reason, problems, .. } => (reason, problems),
            };
            if let Some(text) = content {
                // The model sees its own JSON again, not its reasoning.
                let sent = wire::spec_text(&text).map_or(text.clone(), str::to_string);
                messages.push(Message::assistant(sent));
            }
            messages.push(Message::user(prompt::repair(reason, &problems)?));
        }
    }

    /// Reads one reply's text: a spec (with the critic's errors), or why not.
    fn assess(&self, content: Option<&str>, cut_off: bool, critic: &dyn Critic) -> Result<Assessment, Error> {
        let parsed = parse(content)?;
        let (reason, problems, last) = match parsed {
            Ok(spec) => {
                let errors: Vec<String> = critic
                    .review(&spec)
                    .iter()
                    .filter(|f| f.is_error())
                    .map(ToString::to_string)
                    .collect();
                return Ok(Assessment::Spec(spec, errors));
            }
            Err(found) => found,
        };
        if cut_off {
            return Ok(Assessment::Unusable {
                reason,
                problems: vec![
                    "your reply was cut off at the output token limit before the spec was complete; \
                     send a shorter spec: no whitespace between tokens, only what the request asks for"
                        .into(),
                ],
                last: self.token_limit_message(),
            });
        }
        Ok(Assessment::Unusable {
            reason,
            problems,
            last,
        })
    }

    /// The user's message for a reply that hit the output token limit.
    fn token_limit_message(&self) -> String {
        let limit = match self.0.config.token_limit {
            Some(TokenLimit::MaxCompletionTokens(n)) => format!("max-completion-tokens = {n}"),
            Some(TokenLimit::MaxTokens(n)) => format!("max-tokens = {n}"),
            None => "the endpoint's own limit".to_string(),
        };
        format!(
            "the reply hit the output token limit ({limit}; finish_reason \"length\") and was cut off \
             before the spec was complete: raise max-completion-tokens in [provider] \
             (GITINTENT_LLM_MAX_COMPLETION_TOKENS), or max-tokens (GITINTENT_LLM_MAX_TOKENS) for \
             servers that only know that name"
        )
    }

    /// Adds one answered call's tokens to the plan's and the planner's totals.
    fn count(&self, completion: &Completion, usage: &mut Usage) {
        let (input, output) = completion
            .usage
            .as_ref()
            .map_or((None, None), wire::TokenUsage::counts);
        let unreported = input.is_none() || output.is_none();
        usage.input_tokens += input.unwrap_or(0);
        usage.output_tokens += output.unwrap_or(0);
        usage.unreported_calls += u32::from(unreported);
        let spent = &self.0.spent;
        spent.calls.fetch_add(1, Ordering::Relaxed);
        spent
            .input_tokens
            .fetch_add(input.unwrap_or(0), Ordering::Relaxed);
        spent
            .output_tokens
            .fetch_add(output.unwrap_or(0), Ordering::Relaxed);
        spent
            .unreported_calls
            .fetch_add(u64::from(unreported), Ordering::Relaxed);
    }
}

/// Why a reply is not a spec: the reason, the problems for the model, and
/// the message for the user.
type Unparsed = (Reason, Vec<String>, String);

/// The spec in a reply's text, or why there is none. A reply that deploys
/// nothing and says why is an error: repairs cannot change that.
fn parse(content: Option<&str>) -> Result<Result<Spec, Unparsed>, Error> {
    let Some(raw) = content else {
        let problem = "the reply had no content".to_string();
        return Ok(Err((Reason::Empty, vec![problem.clone()], problem)));
    };
    let text = match wire::spec_text(raw) {
        Ok(text) => text,
        Err(problem) => return Ok(Err((Reason::Json, vec![problem.clone()], problem))),
    };
    if let Some(questions) = nothing_to_deploy(text) {
        let reason = format!("the model found nothing it could deploy: {}", questions.join(" "));
        return Err(Error::NotUnderstood {
            reason,
            understood: Vec::new(),
        });
    }
    Ok(Spec::from_untrusted_json(text).map_err(|e| {
        let last = e.to_string();
        let (reason, problems) = problems_of(e);
        (reason, problems, last)
    }))
}

/// The reply's text (`None` when empty) and whether it hit the token limit.
/// A refusal or a content-filter stop is an error: repairs cannot fix it.
/// A finish reason other than `length` and `content_filter` (`stop`, or a
/// server's own `eos`, `eos_token`, `abort`) says nothing more.
fn reply_content(completion: &Completion) -> Result<(Option<String>, bool), Error> {
    let Some(choice) = completion.choices.first() else {
        return Err(Error::Provider("the endpoint returned no choices".into()));
    };
    let message = choice.message.as_ref();
    if let Some(refusal) = message
        .and_then(|m| m.refusal.as_deref())
        .filter(|r| !r.trim().is_empty())
    {
        return Err(Error::Refused(format!(
            "the model declined: {}",
            one_line(refusal)
        )));
    }
    let content = message
        .and_then(|m| m.content.clone())
        .filter(|c| !c.trim().is_empty());
    let finish = choice.finish_reason.as_deref();
    if content.is_none() && finish == Some("content_filter") {
        return Err(Error::Refused(
            "the endpoint's content filter withheld the reply".into(),
        ));
    }
    Ok((content, finish == Some("length")))
}

/// The model's way of saying it cannot plan this: no components, no changes,
/// questions explaining why.
fn nothing_to_deploy(text: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if !value.get("components")?.as_array()?.is_empty()
        || value
            .get("changes")
            .and_then(|c| c.as_array())
            .is_some_and(|c| !c.is_empty())
    {
        return None;
    }
    let questions: Vec<String> = value
        .get("questions")?
        .as_array()?
        .iter()
        .filter_map(|q| q.as_str())
        .take(5)
        .map(|q| one_line(q).chars().take(300).collect())
        .collect();
    (!questions.is_empty()).then_some(questions)
}

fn problems_of(error: spec::Error) -> (Reason, Vec<String>) {
    match error {
        spec::Error::Json(e) => (Reason::Json, vec![e.to_string()]),
        spec::Error::Schema(errors) => (Reason::Schema, errors),
        spec::Error::Invalid(problems) => (
            Reason::Invalid,
            problems.iter().map(ToString::to_string).collect(),
        ),
    }
}

/// Text on one line without control characters, at most 500 characters.
pub(super) fn one_line(text: &str) -> String {
    let mut out: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    if text.chars().count() > 500 {
        out.push_str(" [...]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_component_list_with_questions_means_nothing_to_deploy() {
        let reply = r#"{"components": [], "questions": ["This asks to delete the cluster."]}"#;
        assert_eq!(
            nothing_to_deploy(reply),
            Some(vec!["This asks to delete the cluster.".to_string()])
        );
        assert_eq!(nothing_to_deploy(r#"{"components": [], "questions": []}"#), None);
        assert_eq!(nothing_to_deploy("not json"), None);
    }
}
