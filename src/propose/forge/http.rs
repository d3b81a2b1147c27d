//! What GitHub and GitLab share: the HTTP client, URL and path checks, one
//! request with bounded rate-limit waits, and error answers read as text.
//!
//! Rate limits: a `429`, or a `403` that says so (`retry-after`,
//! `x-ratelimit-remaining: 0`, or a "rate limit" message), is retried after
//! the time the forge asks for when that fits in [`MAX_WAIT`] for the request;
//! otherwise [`Error::RateLimited`] says when to retry. Error answers keep the
//! forge's own words: GitHub's `errors[].message` after "Validation Failed",
//! GitLab's `message` whether a string, a list or a map of field → messages,
//! and OAuth's `error_description`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::PullRequest;
use crate::propose::Error;

/// The longest a single forge request waits for rate limits, in total.
pub(super) const MAX_WAIT: Duration = Duration::from_secs(60);
/// Attempts per request, rate-limit retries included.
const ATTEMPTS: u32 = 4;
/// What GitHub asks when a rate-limited answer carries no time: one minute.
const DEFAULT_WAIT_SECS: u64 = 60;

/// The HTTP client every forge uses (no redirects: a token is never sent elsewhere).
pub(super) fn client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!("gitintent/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| Error::ForgeHttp {
            url: String::new(),
            source,
        })
}

/// Checks an `owner/name` style path: non-empty segments of safe characters.
pub(super) fn check_repo_path(repo: &str, min_segments: usize) -> Result<Vec<&str>, Error> {
    let segments: Vec<&str> = repo.split('/').collect();
    let ok = segments.len() >= min_segments
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if ok {
        Ok(segments)
    } else {
        Err(Error::ForgeConfig(format!(
            "repo {repo:?} is not an owner/name path"
        )))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A base URL without a trailing slash: `https://`, or `http://` to a
/// loopback address only (a local test forge); no credentials, query or fragment.
pub(super) fn base_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let bad = |why: &str| {
        Error::ForgeConfig(format!(
            "forge url {url:?} {why}; it must start with https:// (http:// only for a loopback address)"
        ))
    };
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| bad("is not a URL"))?;
    let host = parsed.host_str().ok_or_else(|| bad("has no host"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(bad("uses plain http to a host that is not loopback")),
        other => return Err(bad(&format!("uses the scheme {other:?}"))),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("carries credentials (the token comes from the environment)"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("has a query or fragment"));
    }
    Ok(trimmed.to_string())
}

/// Sends one request (retrying rate-limited answers within [`MAX_WAIT`]);
/// returns status and JSON body (`Null` when not JSON).
pub(super) async fn send(url: &str, request: reqwest::RequestBuilder) -> Result<(u16, Value), Error> {
    let http = |source| Error::ForgeHttp {
        url: url.to_string(),
        source,
    };
    let mut waited = Duration::ZERO;
    let mut attempt = 1;
    loop {
        let retry = request.try_clone();
        let response = request_of(retry, &request)?.send().await.map_err(http)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(http)?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let Some(wait) = rate_limited(status, &headers, &body) else {
            return Ok((status, body));
        };
        if attempt >= ATTEMPTS || waited + wait > MAX_WAIT {
            return Err(Error::RateLimited {
                url: url.to_string(),
                retry_after: wait.as_secs(),
                at: clock_after(wait),
            });
        }
        tracing::warn!(
            url,
            status,
            wait_secs = wait.as_secs(),
            "forge rate limit: waiting"
        );
        tokio::time::sleep(wait).await;
        waited += wait;
        attempt += 1;
    }
}

/// A fresh copy of the request for this attempt (JSON bodies always clone).
fn request_of(
    copy: Option<reqwest::RequestBuilder>,
    original: &reqwest::RequestBuilder,
) -> Result<reqwest::RequestBuilder, Error> {
    copy.or_else(|| original.try_clone())
        .ok_or_else(|| Error::ForgeConfig("a forge request could not be repeated".into()))
}

/// How long a rate-limited answer asks to wait; `None` when it is not one.
fn rate_limited(status: u16, headers: &HeaderMap, body: &Value) -> Option<Duration> {
    if status != 429 && status != 403 {
        return None;
    }
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let now = now_secs();
    let until_reset = |name: &str| number(name).map(|reset| reset.saturating_sub(now).max(1));
    let secs = if let Some(secs) = number("retry-after") {
        Some(secs.max(1))
    } else if number("x-ratelimit-remaining") == Some(0) {
        Some(until_reset("x-ratelimit-reset").unwrap_or(DEFAULT_WAIT_SECS))
    } else if status == 429 {
        Some(until_reset("ratelimit-reset").unwrap_or(DEFAULT_WAIT_SECS))
    } else {
        // A 403 that says "secondary rate limit" without a time: one minute.
        let says = message(body).to_ascii_lowercase().contains("rate limit");
        says.then_some(DEFAULT_WAIT_SECS)
    };
    secs.map(Duration::from_secs)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `HH:MM:SS UTC` of now + `wait`, for "retry at".
fn clock_after(wait: Duration) -> String {
    let t = (now_secs() + wait.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", t / 3600, t / 60 % 60, t % 60)
}

/// The first item a forge lists at `url` (GET) that `keep` accepts, parsed;
/// `what` names it in the message ("GitHub said the pull request") when the
/// forge said it exists but lists none.
pub(super) async fn first_listed(
    url: String,
    request: reqwest::RequestBuilder,
    parse: fn(&Value, bool) -> Option<PullRequest>,
    keep: impl Fn(&Value) -> bool,
    what: &str,
) -> Result<PullRequest, Error> {
    let (status, answer) = send(&url, request).await?;
    if status != 200 {
        return Err(answer_error("GET", &url, status, &answer));
    }
    answer
        .as_array()
        .and_then(|list| list.iter().find(|item| keep(item)))
        .and_then(|first| parse(first, true))
        .ok_or_else(|| Error::Forge {
            method: "GET",
            url,
            status,
            message: format!("{what} exists but did not list it"),
        })
}

/// An error answer, with the forge's own message when it sent one, and what
/// to check for a refused token.
pub(super) fn answer_error(method: &'static str, url: &str, status: u16, body: &Value) -> Error {
    let mut message = message(body);
    if message.is_empty() {
        message = "no details".to_string();
    }
    match status {
        401 => message.push_str(
            " (the token was refused: check GITINTENT_FORGE_TOKEN — expired, revoked, or made for another host)",
        ),
        403 => message.push_str(" (the token may lack the right to open pull requests on this repository)"),
        _ => {}
    }
    Error::Forge {
        method,
        url: url.to_string(),
        status,
        message,
    }
}

/// The forge's words in an error body, as plain text.
fn message(body: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = body.get("message") {
        parts.push(text(m));
    }
    // GitHub: {"message": "Validation Failed", "errors": [{"message"|"code"+"field"}]}.
    for e in body.get("errors").and_then(Value::as_array).into_iter().flatten() {
        let detail = match (e.get("message"), e.get("field"), e.get("code")) {
            (Some(m), _, _) => text(m),
            (None, Some(f), Some(c)) => format!("{} {}", text(f), text(c)),
            _ => text(e),
        };
        parts.push(detail);
    }
    // OAuth: {"error": "invalid_token", "error_description": "…"}; GitLab: {"error": "…"}.
    match (body.get("error"), body.get("error_description")) {
        (Some(e), Some(d)) => parts.push(format!("{}: {}", text(e), text(d))),
        (Some(e), None) => parts.push(text(e)),
        (None, Some(d)) => parts.push(text(d)),
        (None, None) => {}
    }
    parts.retain(|p| !p.is_empty());
    parts.join(": ")
}

/// A JSON value as text: strings bare, lists joined with "; ", maps as
/// "key value" pairs (GitLab: `{"base": ["is invalid"]}` → "base is invalid").
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join("; "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} {}", text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forge_messages_read_as_text() {
        let github = json!({"message": "Validation Failed", "errors": [
            {"resource": "PullRequest", "code": "custom", "message": "No commits between main and gitintent/x"},
            {"resource": "PullRequest", "code": "invalid", "field": "base"}
        ]});
        assert_eq!(
            message(&github),
            "Validation Failed: No commits between main and gitintent/x: base invalid"
        );
        assert_eq!(
            message(&json!({"message": ["Another open merge request already exists"]})),
            "Another open merge request already exists"
        );
        assert_eq!(
            message(&json!({"message": {"target_branch": ["is invalid"], "title": ["is too long"]}})),
            "target_branch is invalid; title is too long"
        );
        assert_eq!(
            message(
                &json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})
            ),
            "invalid_token: Token is expired. You can either do re-authorization or token refresh."
        );
    }

    #[test]
    fn rate_limits_are_read_from_headers_or_messages() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        let none = Value::Null;
        assert_eq!(
            rate_limited(429, &headers(&[("retry-after", "7")]), &none),
            Some(Duration::from_secs(7))
        );
        let reset = (now_secs() + 30).to_string();
        let wait = rate_limited(
            403,
            &headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &reset)]),
            &none,
        )
        .unwrap();
        assert!((29..=30).contains(&wait.as_secs()), "{wait:?}");
        assert_eq!(
            rate_limited(
                403,
                &headers(&[]),
                &json!({"message": "You have exceeded a secondary rate limit"})
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            rate_limited(403, &headers(&[]), &json!({"message": "Resource not accessible"})),
            None
        );
        assert_eq!(rate_limited(500, &headers(&[("retry-after", "1")]), &none), None);
    }

    #[test]
    fn urls_must_be_https_or_loopback_http() {
        assert_eq!(
            base_url("https://ghe.example.com/").unwrap(),
            "https://ghe.example.com"
        );
        assert!(base_url("http://127.0.0.1:8080").is_ok());
        assert!(base_url("http://localhost:8080").is_ok());
        assert!(base_url("http://[::1]:8080").is_ok());
        for bad in [
            "http://ghe.example.com",
            "ftp://x",
            "ghe.example.com",
            "https://user:pw@ghe.example.com",
            "https://ghe.example.com/?x=1",
        ] {
            let err = base_url(bad).unwrap_err().to_string();
            assert!(err.contains("must start with https://"), "{bad}: {err}");
        }
    }

    #[test]
    fn encoding_and_repo_paths() {
        assert_eq!(encode("group/sub/proj"), "group%2Fsub%2Fproj");
        assert_eq!(encode("gitintent/a-1"), "gitintent%2Fa-1");
        assert!(check_repo_path("acme/gitops", 2).is_ok());
        for bad in ["acme", "acme/../x", "acme//x", "acme/x?y"] {
            assert!(check_repo_path(bad, 2).is_err(), "{bad}");
        }
    }
}
