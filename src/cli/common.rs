//! Helpers every planning subcommand shares: reading the intent, choosing the
//! planner, mapping library errors to exit codes and printing failures.

use std::ffi::OsString;
use std::io::Read;

use clap::ValueEnum;
use gitintent::plan::{self as planner, OpenAi, OpenAiConfig, Planner};

use super::exit;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlannerChoice {
    /// Offline, deterministic parser.
    Builtin,
    /// An OpenAI-compatible endpoint (GITINTENT_LLM_BASE_URL, GITINTENT_LLM_MODEL, GITINTENT_LLM_API_KEY).
    Openai,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// The intent text from the argument or stdin, refusing non-UTF-8 input.
pub(crate) fn read_intent(arg: OsString) -> Result<String, String> {
    let bytes = if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read the intent from stdin: {e}"))?;
        buf
    } else {
        arg.into_encoded_bytes()
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the intent is not valid UTF-8 (invalid byte at offset {}); send plain text",
            e.utf8_error().valid_up_to()
        )
    })
}

pub(crate) fn choose_planner(choice: Option<PlannerChoice>) -> Result<Planner, planner::Error> {
    let config = OpenAiConfig::from_env()?;
    match (choice, config) {
        (Some(PlannerChoice::Builtin), _) | (None, None) => Ok(Planner::Builtin),
        (Some(PlannerChoice::Openai) | None, Some(config)) => Ok(Planner::OpenAi(OpenAi::new(config)?)),
        (Some(PlannerChoice::Openai), None) => Err(planner::Error::Config(
            "--planner openai needs GITINTENT_LLM_BASE_URL or an API key (GITINTENT_LLM_API_KEY or OPENAI_API_KEY)".into(),
        )),
    }
}

/// Exit code for a library error: error findings (1), bad input (2) or a fault (3).
pub(crate) fn exit_code(e: &gitintent::Error) -> u8 {
    use gitintent::Error as E;
    match e {
        E::Intent(_) | E::Spec(_) | E::Policy(_) => exit::BAD_INPUT,
        E::Plan(
            planner::Error::NotUnderstood { .. } | planner::Error::Refused(_) | planner::Error::Config(_),
        ) => exit::BAD_INPUT,
        E::Repo(
            gitintent::repo::Error::Config { .. }
            | gitintent::repo::Error::NotADirectory(_)
            | gitintent::repo::Error::NotARepository { .. }
            | gitintent::repo::Error::MissingRef { .. },
        ) => exit::BAD_INPUT,
        E::Propose(gitintent::propose::Error::Findings(_)) => exit::FINDINGS,
        E::Propose(p) if p.is_bad_input() => exit::BAD_INPUT,
        _ => exit::FAILURE,
    }
}

pub(crate) fn fail(format: Format, code: u8, message: String) -> u8 {
    if format == Format::Json {
        let kind = if code == exit::BAD_INPUT {
            "bad_input"
        } else {
            "failure"
        };
        println!(
            "{}",
            serde_json::json!({"error": {"code": kind, "message": message}})
        );
    }
    eprintln!("error: {message}");
    code
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}
