//! A container's readiness, liveness and startup probes to the spec's
//! `probes`: an HTTP GET, a TCP connect or a command, with its timings. A
//! probe with a field the spec does not have (headers, HTTPS, gRPC, a
//! termination grace period) is left whole for `unsupported`.

use serde_json::{Map, Value};

use super::tree::Tree;
use crate::spec::{ProbeAction, ProbeSpec, Probes};

/// The probes of the container at `c`; none when it has none the spec can hold.
pub(super) fn lift(t: &mut Tree, c: &str) -> Option<Probes> {
    let mut out = Probes::default();
    for (key, slot) in [
        ("readinessProbe", &mut out.readiness),
        ("livenessProbe", &mut out.liveness),
        ("startupProbe", &mut out.startup),
    ] {
        let at = format!("{c}/{key}");
        let Some(spec) = t
            .get(&at)
            .and_then(Value::as_object)
            .and_then(|m| read(m, key == "readinessProbe"))
        else {
            continue;
        };
        t.take(&at);
        *slot = Some(spec);
    }
    (out != Probes::default()).then_some(out)
}

const TIMINGS: [(&str, u64); 5] = [
    ("initialDelaySeconds", 3_600),
    ("periodSeconds", 3_600),
    ("timeoutSeconds", 3_600),
    ("failureThreshold", 100),
    ("successThreshold", 100),
];

/// Reads one probe whole, or nothing.
fn read(m: &Map<String, Value>, readiness: bool) -> Option<ProbeSpec> {
    let actions = ["httpGet", "tcpSocket", "exec"];
    let known = |k: &str| actions.contains(&k) || TIMINGS.iter().any(|(t, _)| *t == k);
    if m.keys().any(|k| !known(k)) || m.keys().filter(|k| actions.contains(&k.as_str())).count() != 1 {
        return None;
    }
    let mut spec = ProbeSpec {
        action: ProbeAction::Tcp,
        path: None,
        port: None,
        command: Vec::new(),
        initial_delay_seconds: None,
        period_seconds: None,
        timeout_seconds: None,
        failure_threshold: None,
        success_threshold: None,
    };
    action(m, &mut spec)?;
    [
        spec.initial_delay_seconds,
        spec.period_seconds,
        spec.timeout_seconds,
        spec.failure_threshold,
        spec.success_threshold,
    ] = timings(m)?;
    if !readiness && spec.success_threshold.is_some_and(|s| s != 1) {
        return None;
    }
    Some(spec)
}

/// The probe's one action (`httpGet`, `tcpSocket` or `exec`) into `spec`;
/// `None` for one the spec cannot hold.
fn action(m: &Map<String, Value>, spec: &mut ProbeSpec) -> Option<()> {
    if let Some(h) = m.get("httpGet") {
        let h = h.as_object()?;
        if h.keys()
            .any(|k| !["path", "port", "scheme"].contains(&k.as_str()))
            || h.get("scheme").is_some_and(|s| s != "HTTP")
        {
            return None;
        }
        let path = h.get("path").and_then(Value::as_str).unwrap_or("/");
        if !crate::spec::is_url_path(path) {
            return None;
        }
        spec.action = ProbeAction::Http;
        spec.path = Some(path.to_string());
        spec.port = Some(port(h.get("port")?)?);
    } else if let Some(tcp) = m.get("tcpSocket") {
        let tcp = tcp.as_object()?;
        if tcp.len() != 1 {
            return None;
        }
        spec.port = Some(port(tcp.get("port")?)?);
    } else {
        let exec = m.get("exec")?.as_object()?;
        let command: Vec<String> = exec
            .get("command")?
            .as_array()?
            .iter()
            .map(|w| w.as_str().map(str::to_string))
            .collect::<Option<_>>()?;
        if exec.len() != 1 || command.is_empty() || command.len() > 64 {
            return None;
        }
        spec.action = ProbeAction::Exec;
        spec.command = command;
    }
    Some(())
}

/// The probe's timings in [`TIMINGS`] order; `None` when one is out of range.
fn timings(m: &Map<String, Value>) -> Option<[Option<u32>; 5]> {
    let mut timings = [None; 5];
    for (slot, (key, max)) in timings.iter_mut().zip(TIMINGS) {
        let Some(v) = m.get(key) else { continue };
        let n = v
            .as_u64()
            .filter(|n| *n <= max && (*n > 0 || key == "initialDelaySeconds"))?;
        *slot = u32::try_from(n).ok();
    }
    Some(timings)
}

/// A port number or a port name the spec accepts.
fn port(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .filter(|n| (1..=65535).contains(n))
            .map(|n| n.to_string()),
        Value::String(s) if crate::spec::sanitize_name(s).as_deref() == Ok(s.as_str()) && s.len() <= 15 => {
            Some(s.clone())
        }
        _ => None,
    }
}
