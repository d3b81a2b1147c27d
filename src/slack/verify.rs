//! Request signing: is this request really from Slack, and fresh?
//!
//! Slack signs every request with the app's signing secret:
//! `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{X-Slack-Request-Timestamp}:{raw body}"))`.
//! `verify` recomputes that over the raw body bytes, compares in constant
//! time (`hmac`'s `verify_slice`), and refuses timestamps more than
//! [`WINDOW_SECS`] away from "now" in either direction, so a captured request
//! cannot be replayed later. The clock is injectable ([`Clock`]) so tests can
//! pin it to a documented example. `ReplayGuard` also refuses a signature
//! it has already accepted, closing the replay gap inside the window. A
//! signature is only accepted in its canonical form (lower-case hex, as Slack
//! sends it) and remembered by its decoded bytes, so re-spelling the same
//! digest (upper or mixed case) is neither a new signature nor a way round
//! the guard.
//!
//! It does not parse the body; callers verify first, then parse.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now, either way: 5 minutes.
pub const WINDOW_SECS: u64 = 5 * 60;

const TIMESTAMP: &str = "x-slack-request-timestamp";
const SIGNATURE: &str = "x-slack-signature";

/// Why a request was not accepted as Slack's. Every variant is a `401`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No signing secret is configured: nothing can be verified, so nothing is accepted.
    #[error("the Slack signing secret is not configured; set GITINTENT_SLACK_SIGNING_SECRET")]
    NoSecret,
    /// A required header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but not in Slack's format.
    #[error("malformed header {header}: {reason}")]
    Malformed {
        header: &'static str,
        reason: &'static str,
    },
    /// The timestamp is older than the window: a stale or replayed request.
    #[error("request timestamp is {0} seconds old; the limit is {WINDOW_SECS} (stale or replayed request)")]
    Stale(u64),
    /// The timestamp is ahead of our clock by more than the window.
    #[error("request timestamp is {0} seconds in the future; the limit is {WINDOW_SECS}")]
    Future(u64),
    /// This exact signed request was already accepted once: a replay within the window.
    #[error("replayed request: this signature was already accepted")]
    Replayed,
    /// The signature does not match the body and timestamp.
    #[error("signature mismatch: the request was not signed with this app's signing secret, or its body was altered")]
    Mismatch,
}

/// Seconds since the Unix epoch, from the system clock or pinned.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        }))
    }

    /// A clock that always reads `secs` (for tests).
    pub fn fixed(secs: u64) -> Clock {
        Clock(Arc::new(move || secs))
    }

    /// The current time in seconds since the epoch.
    pub fn now(&self) -> u64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// Remembers the signatures accepted within the window, so that a captured
/// request replayed inside the 5 minutes is refused too. Only signatures that
/// verified are remembered, so its size is bounded by genuine traffic. It is
/// per process: replicas behind a load balancer each keep their own.
#[derive(Debug, Default)]
pub(crate) struct ReplayGuard {
    seen: std::sync::Mutex<Seen>,
}

/// Accepted signatures with their timestamps, and when they were last pruned.
#[derive(Debug, Default)]
struct Seen {
    /// Keyed by the decoded digest, never by the header's spelling.
    signatures: std::collections::HashMap<[u8; 32], u64>,
    pruned_at: u64,
}

impl ReplayGuard {
    /// Verifies like [`verify`], then refuses a signature seen before.
    pub(crate) fn verify(
        &self,
        secret: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: u64,
    ) -> Result<(), Error> {
        let signature = verify(secret, headers, body, now)?;
        let ts = header(headers, TIMESTAMP)?.parse::<u64>().unwrap_or(now);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        // Anything outside the window is refused as stale anyway; prune at
        // most once a second so a busy map is not walked on every request.
        if seen.pruned_at != now {
            seen.signatures.retain(|_, t| now.abs_diff(*t) <= WINDOW_SECS);
            seen.pruned_at = now;
        }
        if seen.signatures.insert(signature, ts).is_some() {
            return Err(Error::Replayed);
        }
        Ok(())
    }
}

/// Verifies one request's headers and raw body against `secret` at time `now`;
/// returns the verified digest (the replay guard's key).
pub(crate) fn verify(secret: &str, headers: &HeaderMap, body: &[u8], now: u64) -> Result<[u8; 32], Error> {
    if secret.is_empty() {
        return Err(Error::NoSecret);
    }
    let timestamp = header(headers, TIMESTAMP)?;
    let ts: u64 = match timestamp.parse() {
        Ok(ts) if timestamp.bytes().all(|b| b.is_ascii_digit()) => ts,
        _ => {
            return Err(Error::Malformed {
                header: TIMESTAMP,
                reason: "expected Unix seconds",
            })
        }
    };
    if now > ts && now - ts > WINDOW_SECS {
        return Err(Error::Stale(now - ts));
    }
    if ts > now && ts - now > WINDOW_SECS {
        return Err(Error::Future(ts - now));
    }
    let signature = header(headers, SIGNATURE)?;
    let hex_digest = signature.strip_prefix("v0=").ok_or(Error::Malformed {
        header: SIGNATURE,
        reason: "expected v0=<hex HMAC-SHA256>",
    })?;
    let expected = hex::decode(hex_digest).map_err(|_| Error::Malformed {
        header: SIGNATURE,
        reason: "the digest after v0= is not hexadecimal",
    })?;
    let expected: [u8; 32] = expected.try_into().map_err(|_| Error::Malformed {
        header: SIGNATURE,
        reason: "the digest after v0= is not 32 bytes (64 hex digits)",
    })?;
    // One spelling per digest: Slack sends lower-case hex, and accepting other
    // spellings would give a captured request 2^n "new" signatures.
    if hex_digest.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Error::Malformed {
            header: SIGNATURE,
            reason: "the digest after v0= must be lower-case hex, as Slack sends it",
        });
    }
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Error::Mismatch)?;
    Ok(expected)
}

/// The `X-Slack-Signature` value for `body` at `timestamp` (Slack's side; used by tests
/// and by anyone scripting a request against a running service).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, Error> {
    let value = headers.get(name).ok_or(Error::MissingHeader(name))?;
    let value = value.to_str().map_err(|_| Error::Malformed {
        header: name,
        reason: "not visible ASCII",
    })?;
    if value.is_empty() {
        return Err(Error::MissingHeader(name));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Slack's documented example (`tests/fixtures/slack/slack-signature.json`).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: u64 = 1531420618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP, HeaderValue::from_str(ts).unwrap());
        h.insert(SIGNATURE, HeaderValue::from_str(sig).unwrap());
        h
    }

    #[test]
    fn slacks_documented_example_is_accepted_at_its_timestamp() {
        let h = headers(&TS.to_string(), SIG);
        assert!(verify(SECRET, &h, BODY.as_bytes(), TS).is_ok());
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), SIG);
    }

    #[test]
    fn a_tampered_body_is_a_mismatch() {
        let h = headers(&TS.to_string(), SIG);
        let body = BODY.replace("text=", "text=deploy");
        assert_eq!(verify(SECRET, &h, body.as_bytes(), TS), Err(Error::Mismatch));
    }

    #[test]
    fn the_window_is_five_minutes_either_way() {
        let h = headers(&TS.to_string(), SIG);
        assert!(verify(SECRET, &h, BODY.as_bytes(), TS + 300).is_ok());
        assert!(verify(SECRET, &h, BODY.as_bytes(), TS - 300).is_ok());
        assert_eq!(
            verify(SECRET, &h, BODY.as_bytes(), TS + 301),
            Err(Error::Stale(301))
        );
        assert_eq!(
            verify(SECRET, &h, BODY.as_bytes(), TS - 301),
            Err(Error::Future(301))
        );
    }

    #[test]
    fn malformed_and_missing_headers_are_named() {
        assert_eq!(
            verify(SECRET, &HeaderMap::new(), b"", TS),
            Err(Error::MissingHeader(TIMESTAMP))
        );
        let mut h = HeaderMap::new();
        h.insert(TIMESTAMP, HeaderValue::from_static("1531420618"));
        assert_eq!(verify(SECRET, &h, b"", TS), Err(Error::MissingHeader(SIGNATURE)));
        for (ts, sig, header) in [
            ("-5", SIG, TIMESTAMP),
            ("+1531420618", SIG, TIMESTAMP),
            ("soon", SIG, TIMESTAMP),
            ("1531420618", "a2114d57", SIGNATURE),
            ("1531420618", "v0=zz", SIGNATURE),
            ("1531420618", "v0=a2114d57", SIGNATURE),
        ] {
            match verify(SECRET, &headers(ts, sig), BODY.as_bytes(), TS) {
                Err(Error::Malformed { header: h, .. }) => assert_eq!(h, header, "{ts} {sig}"),
                other => panic!("{ts} {sig}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_same_signed_request_is_accepted_once() {
        let guard = ReplayGuard::default();
        let h = headers(&TS.to_string(), SIG);
        assert_eq!(guard.verify(SECRET, &h, BODY.as_bytes(), TS), Ok(()));
        assert_eq!(
            guard.verify(SECRET, &h, BODY.as_bytes(), TS + 10),
            Err(Error::Replayed)
        );
        // A different request at the same second is fine.
        let body = BODY.replace("text=", "text=help");
        let h2 = headers(&TS.to_string(), &sign(SECRET, TS, body.as_bytes()));
        assert_eq!(guard.verify(SECRET, &h2, body.as_bytes(), TS), Ok(()));
        // Entries age out with the window.
        assert_eq!(
            guard.verify(SECRET, &h, BODY.as_bytes(), TS + 301),
            Err(Error::Stale(301))
        );
        assert_eq!(guard.seen.lock().unwrap().signatures.len(), 2);
        let later = TS + 1000;
        let h3 = headers(&later.to_string(), &sign(SECRET, later, body.as_bytes()));
        assert_eq!(guard.verify(SECRET, &h3, body.as_bytes(), later), Ok(()));
        assert_eq!(guard.seen.lock().unwrap().signatures.len(), 1);
    }

    #[test]
    fn a_replay_with_the_signature_in_another_letter_case_is_refused() {
        let guard = ReplayGuard::default();
        let h = headers(&TS.to_string(), SIG);
        assert_eq!(guard.verify(SECRET, &h, BODY.as_bytes(), TS), Ok(()));
        let digest = SIG.trim_start_matches("v0=");
        let mixed: String = digest
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
            .collect();
        for spelling in [digest.to_ascii_uppercase(), mixed] {
            let h = headers(&TS.to_string(), &format!("v0={spelling}"));
            match guard.verify(SECRET, &h, BODY.as_bytes(), TS + 1) {
                Err(Error::Malformed { header, reason }) => {
                    assert_eq!(header, SIGNATURE);
                    assert!(reason.contains("lower-case"), "{reason}");
                }
                other => panic!("{spelling}: {other:?}"),
            }
        }
        // Even a guard fed a non-canonical spelling first remembers the digest.
        let guard = ReplayGuard::default();
        guard
            .seen
            .lock()
            .unwrap()
            .signatures
            .insert(hex::decode(digest).unwrap().try_into().unwrap(), TS);
        assert_eq!(
            guard.verify(SECRET, &h, BODY.as_bytes(), TS),
            Err(Error::Replayed)
        );
    }

    #[test]
    fn an_empty_secret_accepts_nothing() {
        let sig = sign("", TS, BODY.as_bytes());
        let h = headers(&TS.to_string(), &sig);
        assert_eq!(verify("", &h, BODY.as_bytes(), TS), Err(Error::NoSecret));
    }
}
