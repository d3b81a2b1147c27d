//! The one error shape of the HTTP API: `{"error": {"code", "message", "details"}}`.
//!
//! A 4xx keeps a precise message. A 5xx returns a generic message and an
//! error id; the cause goes to the log under the same id, so internals
//! (paths, SQL, git messages) never reach the client. [`ApiJson`] wraps
//! axum's JSON extractor so malformed, mistyped and oversized bodies use the
//! same shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An HTTP error response (boxed: it travels in `Result`s).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Fields>);

/// What an [`ApiError`] says.
#[derive(Debug, Clone)]
pub struct Fields {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    retry_after: Option<u64>,
    www_authenticate: bool,
}

impl std::ops::Deref for ApiError {
    type Target = Fields;
    fn deref(&self) -> &Fields {
        &self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(Fields {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            retry_after: None,
            www_authenticate: false,
        }))
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.0.details = details;
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        e.0.www_authenticate = true;
        e
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// `429` with `Retry-After` seconds.
    pub fn busy(retry_after: u64) -> ApiError {
        ApiError::busy_because(
            retry_after,
            "the planner is at capacity and its queue is full; retry later",
        )
    }

    /// A `429` with `Retry-After` and `message`.
    pub fn busy_because(retry_after: u64, message: &str) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            .with_details(json!({ "retry_after_seconds": retry_after }));
        e.0.retry_after = Some(retry_after);
        e
    }

    /// A 5xx whose cause is logged under a fresh id and not sent.
    pub fn internal(what: &str, cause: &dyn std::error::Error) -> ApiError {
        let id = error_id();
        tracing::error!(error_id = %id, "{what}: {}", chain(cause));
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error; quote error id {id} to the operator"),
        )
        .with_details(json!({ "error_id": id }))
    }

    /// A 502/503-style failure of something upstream (model, git remote, forge).
    pub fn upstream(
        status: StatusCode,
        code: &'static str,
        what: &str,
        cause: &dyn std::error::Error,
    ) -> ApiError {
        let id = error_id();
        tracing::warn!(error_id = %id, "{what}: {}", chain(cause));
        ApiError::new(
            status,
            code,
            format!("{what} failed; quote error id {id} to the operator"),
        )
        .with_details(json!({ "error_id": id }))
    }

    /// A code read back from a stored plan's error, as one of the codes a
    /// failed plan can have (`internal` for anything else).
    pub fn stored_code(code: &str) -> &'static str {
        const PLAN_FAILURES: &[&str] = &[
            "invalid_intent",
            "invalid_change",
            "invalid_repository",
            "invalid_policy",
            "plan_has_errors",
            "forbidden",
            "model_timeout",
            "model_failed",
            "proposal_refused",
            "proposal_failed",
            "shutting_down",
        ];
        PLAN_FAILURES
            .iter()
            .find(|known| **known == code)
            .copied()
            .unwrap_or("internal")
    }

    /// The JSON body (without the status).
    pub fn body(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message, "details": self.details } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.www_authenticate {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gitintent\""),
            );
        }
        response
    }
}

/// An error and its sources on one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn error_id() -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        return format!("e{}", super::store::now_ms());
    }
    format!("e{}", hex::encode(bytes))
}

/// `axum::Json`, with rejections in the API's error shape.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(from_json_rejection(&rejection)),
        }
    }
}

fn from_json_rejection(r: &JsonRejection) -> ApiError {
    let status = r.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        _ => "bad_request",
    };
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than this service accepts".to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "send the body as JSON with `Content-Type: application/json`".into()
        }
        _ => r.body_text(),
    };
    ApiError::new(status, code, message)
}
