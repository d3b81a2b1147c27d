//! The openai planner: any OpenAI-compatible chat-completions endpoint.

use super::{Critic, Error, Planned};
use crate::intent::Intent;

/// Endpoint settings.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

/// The planner.
pub struct OpenAi {
    config: OpenAiConfig,
}

impl OpenAi {
    pub fn new(config: OpenAiConfig) -> Result<OpenAi, Error> {
        Ok(OpenAi { config })
    }

    pub(super) async fn plan(&self, _intent: &Intent, _critic: &dyn Critic) -> Result<Planned, Error> {
        Err(Error::Config(format!("not implemented: {}", self.config.model)))
    }
}
