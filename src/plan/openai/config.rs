//! The openai planner's settings: endpoint, authentication, what the request
//! asks of the model, and the retry and time limits.
//!
//! [`OpenAiConfig::from_env`] reads the `GITINTENT_LLM_*` variables (the CLI);
//! the service builds one from its `[provider]` table and then applies the
//! same variables with [`OpenAiConfig::apply_env`], so the environment wins
//! over the file. [`OpenAiConfig::check`] refuses settings that cannot work
//! before any request is made. This module makes no request.

use std::time::Duration;

use serde::Deserialize;

use crate::plan::Error;

/// How the request asks for JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// `response_format: {type: json_schema, strict: true}` with the spec
    /// schema (OpenAI, Azure, Ollama 0.5+, vLLM, recent llama.cpp).
    #[default]
    JsonSchema,
    /// `response_format: {type: json_object}`; the schema goes into the
    /// system prompt (servers without structured outputs).
    JsonObject,
    /// No `response_format` at all; the schema goes into the system prompt.
    None,
}

impl ResponseFormat {
    /// The setting's value as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseFormat::JsonSchema => "json_schema",
            ResponseFormat::JsonObject => "json_object",
            ResponseFormat::None => "none",
        }
    }
}

impl std::str::FromStr for ResponseFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<ResponseFormat, String> {
        match s {
            "json_schema" => Ok(ResponseFormat::JsonSchema),
            "json_object" => Ok(ResponseFormat::JsonObject),
            "none" => Ok(ResponseFormat::None),
            other => Err(format!(
                "response format {other:?} is not one of \"json_schema\", \"json_object\", \"none\""
            )),
        }
    }
}

/// The cap on output tokens, and the request field that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    /// Sent as `max_completion_tokens` (OpenAI's current name; required by
    /// its reasoning models).
    MaxCompletionTokens(u32),
    /// Sent as `max_tokens`, for servers that only know the older name.
    MaxTokens(u32),
}

/// Endpoint settings. Build with [`OpenAiConfig::new`] or
/// [`OpenAiConfig::from_env`], then adjust fields.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URL of an OpenAI-compatible API, usually ending in `/v1`. A query
    /// string in it is kept after the `/chat/completions` path.
    pub base_url: String,
    /// Model name sent with every request (on Azure's v1 API: the deployment).
    pub model: String,
    /// The API key, sent as `Authorization: Bearer` (as `api-key` when the
    /// URL is an Azure classic deployment URL); `None` sends no
    /// authentication header at all (local servers).
    pub api_key: Option<String>,
    /// How the request asks for JSON.
    pub response_format: ResponseFormat,
    /// Output token cap; `None` leaves it to the endpoint.
    pub token_limit: Option<TokenLimit>,
    /// Sampling temperature; `None` keeps the endpoint's default (some
    /// reasoning models accept no other).
    pub temperature: Option<f32>,
    /// Sampling seed, for endpoints that support reproducible sampling.
    pub seed: Option<i64>,
    /// `api-version` query parameter (Azure OpenAI's classic API).
    pub api_version: Option<String>,
    /// Azure OpenAI classic deployment: the URL becomes
    /// `BASE/openai/deployments/NAME/chat/completions?api-version=…` and the
    /// key is sent as an `api-key` header. Needs `api_version`.
    pub azure_deployment: Option<String>,
    /// Longest wait for one HTTP call, reply included.
    pub timeout: Duration,
    /// Total budget for one plan: every call, retry, backoff and repair.
    pub deadline: Duration,
    /// Model replies allowed per plan, the first included (1 means no repair).
    pub max_attempts: u32,
    /// Retries of one failed call (429, 408, 5xx, connection errors,
    /// timeouts); 2 like the OpenAI SDKs.
    pub max_retries: u32,
    /// Wait before the first retry of a failed call; doubles on each retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries (before jitter), unless the endpoint asks
    /// for longer with `retry-after`.
    pub max_backoff: Duration,
}

impl OpenAiConfig {
    /// The base URL used when only an API key is configured.
    pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
    /// The model used when none is configured.
    pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

    /// Settings for `base_url` and `model` with default limits: 60 s per
    /// call, 120 s in total, 3 attempts, 2 retries per call, backoff from
    /// 500 ms up to 8 s, a strict `json_schema` response format.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            response_format: ResponseFormat::JsonSchema,
            token_limit: None,
            temperature: None,
            seed: None,
            api_version: None,
            azure_deployment: None,
            timeout: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
            max_attempts: 3,
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }

    /// Reads `GITINTENT_LLM_BASE_URL`, `GITINTENT_LLM_MODEL` and
    /// `GITINTENT_LLM_API_KEY` (falling back to `OPENAI_API_KEY`), then the
    /// settings of [`Self::apply_env`]; empty values count as unset.
    ///
    /// `None` when neither a base URL nor a key is set: the caller then uses
    /// the builtin planner. A key alone means [`Self::DEFAULT_BASE_URL`].
    pub fn from_env() -> Result<Option<OpenAiConfig>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<OpenAiConfig>, Error> {
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let base_url = get("GITINTENT_LLM_BASE_URL");
        let api_key = get("GITINTENT_LLM_API_KEY").or_else(|| get("OPENAI_API_KEY"));
        if base_url.is_none() && api_key.is_none() {
            return Ok(None);
        }
        let base_url = base_url.unwrap_or_else(|| Self::DEFAULT_BASE_URL.to_string());
        let model = get("GITINTENT_LLM_MODEL").unwrap_or_else(|| Self::DEFAULT_MODEL.to_string());
        let mut config = OpenAiConfig {
            api_key,
            ..OpenAiConfig::new(base_url, model)
        };
        config.apply_env(get)?;
        config.check()?;
        Ok(Some(config))
    }

    /// Overrides settings from `GITINTENT_LLM_RESPONSE_FORMAT`,
    /// `_MAX_COMPLETION_TOKENS`, `_MAX_TOKENS`, `_TEMPERATURE`, `_SEED`,
    /// `_MAX_RETRIES`, `_API_VERSION` and `_AZURE_DEPLOYMENT`. An unusable
    /// value is an error naming the variable.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        let get = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        fn parse<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Error> {
            value
                .parse()
                .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value")))
        }
        if let Some(v) = get("GITINTENT_LLM_RESPONSE_FORMAT") {
            self.response_format = v
                .parse()
                .map_err(|e| Error::Config(format!("GITINTENT_LLM_RESPONSE_FORMAT: {e}")))?;
        }
        if let Some(v) = get("GITINTENT_LLM_MAX_COMPLETION_TOKENS") {
            let n = parse("GITINTENT_LLM_MAX_COMPLETION_TOKENS", &v)?;
            self.token_limit = Some(TokenLimit::MaxCompletionTokens(n));
        }
        if let Some(v) = get("GITINTENT_LLM_MAX_TOKENS") {
            if get("GITINTENT_LLM_MAX_COMPLETION_TOKENS").is_some() {
                return Err(Error::Config(
                    "set GITINTENT_LLM_MAX_COMPLETION_TOKENS or GITINTENT_LLM_MAX_TOKENS, not both".into(),
                ));
            }
            self.token_limit = Some(TokenLimit::MaxTokens(parse("GITINTENT_LLM_MAX_TOKENS", &v)?));
        }
        if let Some(v) = get("GITINTENT_LLM_TEMPERATURE") {
            self.temperature = Some(parse("GITINTENT_LLM_TEMPERATURE", &v)?);
        }
        if let Some(v) = get("GITINTENT_LLM_SEED") {
            self.seed = Some(parse("GITINTENT_LLM_SEED", &v)?);
        }
        if let Some(v) = get("GITINTENT_LLM_MAX_RETRIES") {
            self.max_retries = parse("GITINTENT_LLM_MAX_RETRIES", &v)?;
        }
        if let Some(v) = get("GITINTENT_LLM_API_VERSION") {
            self.api_version = Some(v);
        }
        if let Some(v) = get("GITINTENT_LLM_AZURE_DEPLOYMENT") {
            self.azure_deployment = Some(v);
        }
        Ok(())
    }

    /// Refuses settings that cannot work, before any request is made.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let fail = |m: String| Err(Error::Config(m));
        if let Err(e) = self.endpoint() {
            return fail(e);
        }
        if self.model.trim().is_empty() || self.model.contains(char::is_control) {
            return fail(format!("model name {:?} is not usable", self.model));
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return fail(
                    "the API key is empty or contains characters an HTTP header cannot carry".into(),
                );
            }
        }
        if self.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return fail("temperature must be between 0 and 2".into());
        }
        if matches!(
            self.token_limit,
            Some(TokenLimit::MaxCompletionTokens(0) | TokenLimit::MaxTokens(0))
        ) {
            return fail("the output token limit must be more than zero".into());
        }
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if let Some(v) = self.api_version.as_deref().filter(|v| !plain(v)) {
            return fail(format!("api-version {v:?} is not a version such as 2024-10-21"));
        }
        match &self.azure_deployment {
            Some(d) if !plain(d) => {
                return fail(format!("Azure deployment name {d:?} is not usable in a URL path"));
            }
            Some(_) if self.api_version.is_none() => {
                return fail(
                    "an Azure deployment (classic API) needs an api-version, e.g. 2024-10-21; \
                     for Azure's v1 API set no deployment and use base URL https://RESOURCE.openai.azure.com/openai/v1"
                        .into(),
                );
            }
            _ => {}
        }
        if self.max_attempts == 0 || self.timeout.is_zero() || self.deadline.is_zero() {
            return fail("max_attempts, timeout and deadline must be more than zero".into());
        }
        Ok(())
    }

    /// The chat-completions URL: the base URL's path plus
    /// `/chat/completions` (Azure classic: `/openai/deployments/NAME/chat/completions`),
    /// with the base URL's query and `api-version` kept after the path.
    pub(crate) fn endpoint(&self) -> Result<reqwest::Url, String> {
        let bad = || format!("base URL {:?} must be an http:// or https:// URL", self.base_url);
        let mut url = reqwest::Url::parse(self.base_url.trim()).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(bad());
        }
        let base = url.path().trim_end_matches('/').to_string();
        let path = match &self.azure_deployment {
            Some(name) => {
                let root = base.strip_suffix("/openai").unwrap_or(&base);
                format!("{root}/openai/deployments/{name}/chat/completions")
            }
            None => format!("{base}/chat/completions"),
        };
        url.set_path(&path);
        url.set_fragment(None);
        if let Some(version) = &self.api_version {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "api-version")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let mut query = url.query_pairs_mut();
            query
                .clear()
                .extend_pairs(kept)
                .append_pair("api-version", version);
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("response_format", &self.response_format)
            .field("token_limit", &self.token_limit)
            .field("temperature", &self.temperature)
            .field("seed", &self.seed)
            .field("api_version", &self.api_version)
            .field("azure_deployment", &self.azure_deployment)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_attempts", &self.max_attempts)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    fn from(vars: &[(&str, &str)]) -> Result<Option<OpenAiConfig>, Error> {
        OpenAiConfig::from_lookup(lookup(vars))
    }

    #[test]
    fn no_base_url_and_no_key_means_no_openai_planner() {
        assert!(from(&[]).unwrap().is_none());
        let blank = [("GITINTENT_LLM_BASE_URL", " "), ("OPENAI_API_KEY", "")];
        assert!(from(&blank).unwrap().is_none());
    }

    #[test]
    fn a_key_alone_uses_openai_with_the_default_model() {
        let c = from(&[("OPENAI_API_KEY", "sk-test-123456")]).unwrap().unwrap();
        assert_eq!(c.base_url, OpenAiConfig::DEFAULT_BASE_URL);
        assert_eq!(c.model, OpenAiConfig::DEFAULT_MODEL);
        assert_eq!(c.api_key.as_deref(), Some("sk-test-123456"));
        assert_eq!(c.response_format, ResponseFormat::JsonSchema);
        assert_eq!((c.max_retries, c.token_limit), (2, None));
    }

    #[test]
    fn gitintent_variables_win_over_openai_api_key() {
        let vars = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:11434/v1"),
            ("GITINTENT_LLM_MODEL", "llama3.1"),
            ("GITINTENT_LLM_API_KEY", "local-key-1"),
            ("OPENAI_API_KEY", "sk-other"),
        ];
        let c = from(&vars).unwrap().unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.model.as_str()),
            ("http://localhost:11434/v1", "llama3.1")
        );
        assert_eq!(c.api_key.as_deref(), Some("local-key-1"));
        let local = [("GITINTENT_LLM_BASE_URL", "http://localhost:11434/v1")];
        assert_eq!(from(&local).unwrap().unwrap().api_key, None);
    }

    #[test]
    fn the_request_settings_come_from_the_environment() {
        let vars = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:8080/v1"),
            ("GITINTENT_LLM_RESPONSE_FORMAT", "json_object"),
            ("GITINTENT_LLM_MAX_TOKENS", "4096"),
            ("GITINTENT_LLM_TEMPERATURE", "0.2"),
            ("GITINTENT_LLM_SEED", "42"),
            ("GITINTENT_LLM_MAX_RETRIES", "5"),
        ];
        let c = from(&vars).unwrap().unwrap();
        assert_eq!(c.response_format, ResponseFormat::JsonObject);
        assert_eq!(c.token_limit, Some(TokenLimit::MaxTokens(4096)));
        assert_eq!((c.temperature, c.seed, c.max_retries), (Some(0.2), Some(42), 5));
        let bad = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:8080/v1"),
            ("GITINTENT_LLM_RESPONSE_FORMAT", "json"),
        ];
        let err = from(&bad).unwrap_err().to_string();
        assert!(
            err.contains("GITINTENT_LLM_RESPONSE_FORMAT") && err.contains("\"json_object\""),
            "{err}"
        );
        let both = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:8080/v1"),
            ("GITINTENT_LLM_MAX_TOKENS", "10"),
            ("GITINTENT_LLM_MAX_COMPLETION_TOKENS", "10"),
        ];
        assert!(from(&both).unwrap_err().to_string().contains("not both"));
        let nan = [
            ("GITINTENT_LLM_BASE_URL", "http://localhost:8080/v1"),
            ("GITINTENT_LLM_SEED", "forty"),
        ];
        assert!(from(&nan).unwrap_err().to_string().contains("GITINTENT_LLM_SEED"));
    }

    #[test]
    fn unusable_settings_are_config_errors_without_the_key() {
        let bad_url = [("GITINTENT_LLM_BASE_URL", "localhost:8080")];
        assert!(matches!(from(&bad_url), Err(Error::Config(_))));
        let bad_key = OpenAiConfig {
            api_key: Some("sk-secret\nvalue".into()),
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        let err = bad_key.check().unwrap_err().to_string();
        assert!(err.contains("API key") && !err.contains("sk-secret"), "{err}");
        let zero = OpenAiConfig {
            max_attempts: 0,
            ..OpenAiConfig::new("http://127.0.0.1:1/v1", "m")
        };
        assert!(matches!(zero.check(), Err(Error::Config(_))));
        let no_version = OpenAiConfig {
            azure_deployment: Some("gpt4o".into()),
            ..OpenAiConfig::new("https://r.openai.azure.com", "m")
        };
        let err = no_version.check().unwrap_err().to_string();
        assert!(err.contains("api-version") && err.contains("/openai/v1"), "{err}");
    }

    #[test]
    fn the_endpoint_keeps_the_query_after_the_path() {
        let url = |base: &str, version: Option<&str>, deployment: Option<&str>| {
            OpenAiConfig {
                api_version: version.map(Into::into),
                azure_deployment: deployment.map(Into::into),
                ..OpenAiConfig::new(base, "m")
            }
            .endpoint()
            .unwrap()
            .to_string()
        };
        assert_eq!(
            url("http://localhost:11434/v1/", None, None),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            url(
                "https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21",
                None,
                None
            ),
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            url("https://r.openai.azure.com", Some("2024-10-21"), Some("prod-4o")),
            "https://r.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            url(
                "https://r.openai.azure.com/openai?api-version=1",
                Some("2024-10-21"),
                Some("d")
            ),
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"
        );
    }

    #[test]
    fn debug_output_hides_the_key() {
        let c = OpenAiConfig {
            api_key: Some("sk-very-secret".into()),
            ..OpenAiConfig::new("http://x/v1", "m")
        };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }
}
