//! The container's probes for the templates: the archetype's (or
//! `health_check`'s) probe as readiness and liveness with the default
//! timings, and each probe `probes` gives in full in its place.
//!
//! Values are Kubernetes-shaped JSON (`httpGet`/`tcpSocket`/`exec` plus
//! timings), or null for no probe; batch work has none.

use serde_json::{json, Map, Value};

use crate::finding::{Finding, Severity};
use crate::spec::{Component, ProbeAction, ProbeSpec};

/// The default probe: an HTTP path or a TCP connect on a port, and the
/// liveness probe's initial delay.
#[derive(Debug, Clone)]
pub(super) struct Fallback {
    pub(super) path: Option<String>,
    pub(super) port: u32,
    pub(super) initial_delay: u32,
}

/// Readiness, liveness and startup probes: `{readiness, liveness, startup}`.
pub(super) fn probes(
    comp: &Component,
    default: Option<Fallback>,
    first_port: Option<u32>,
    findings: &mut Vec<Finding>,
) -> Value {
    let base = default.map(|d| {
        let action = match &d.path {
            Some(path) => json!({"httpGet": {"path": path, "port": d.port}}),
            None => json!({"tcpSocket": {"port": d.port}}),
        };
        (action, d.initial_delay)
    });
    let given = comp.probes.clone().unwrap_or_default();
    let mut resolve = |name: &str, spec: &Option<ProbeSpec>, defaults: Timings| -> Value {
        match spec {
            Some(p) => match action(p, first_port) {
                Some(a) => timed(a, p, defaults),
                None => {
                    findings.push(no_port(comp, name));
                    Value::Null
                }
            },
            None if name == "startup" => Value::Null,
            None => base.as_ref().map_or(Value::Null, |(a, delay)| {
                let d = Timings {
                    initial_delay: if name == "liveness" { *delay } else { 5 },
                    ..defaults
                };
                timed(a.clone(), &ProbeSpec::empty(), d)
            }),
        }
    };
    let readiness = resolve("readiness", &given.readiness, READINESS);
    let liveness = resolve("liveness", &given.liveness, LIVENESS);
    let startup = resolve("startup", &given.startup, STARTUP);
    json!({"readiness": readiness, "liveness": liveness, "startup": startup})
}

/// The timings a probe gets when the spec leaves them null.
#[derive(Debug, Clone, Copy)]
struct Timings {
    initial_delay: u32,
    period: u32,
    failure_threshold: Option<u32>,
}

const READINESS: Timings = Timings {
    initial_delay: 5,
    period: 10,
    failure_threshold: None,
};
const LIVENESS: Timings = Timings {
    initial_delay: 15,
    period: 20,
    failure_threshold: Some(3),
};
const STARTUP: Timings = Timings {
    initial_delay: 0,
    period: 10,
    failure_threshold: Some(30),
};

impl ProbeSpec {
    /// A probe with every timing null (the defaults).
    fn empty() -> ProbeSpec {
        ProbeSpec {
            action: ProbeAction::Tcp,
            path: None,
            port: None,
            command: Vec::new(),
            initial_delay_seconds: None,
            period_seconds: None,
            timeout_seconds: None,
            failure_threshold: None,
            success_threshold: None,
        }
    }
}

/// `httpGet`, `tcpSocket` or `exec`; none when a port is needed and unknown.
fn action(p: &ProbeSpec, first_port: Option<u32>) -> Option<Value> {
    let port = || -> Option<Value> {
        match &p.port {
            Some(s) => Some(s.parse::<u32>().map_or_else(|_| json!(s), |n| json!(n))),
            None => first_port.map(|n| json!(n)),
        }
    };
    Some(match p.action {
        ProbeAction::Http => {
            json!({"httpGet": {"path": p.path.clone().unwrap_or_else(|| "/".into()), "port": port()?}})
        }
        ProbeAction::Tcp => json!({"tcpSocket": {"port": port()?}}),
        ProbeAction::Exec => json!({"exec": {"command": p.command}}),
    })
}

/// The action with its timings, in the order the templates always wrote them.
fn timed(action: Value, p: &ProbeSpec, d: Timings) -> Value {
    let mut out = match action {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let initial = p.initial_delay_seconds.unwrap_or(d.initial_delay);
    if initial > 0 || p.initial_delay_seconds.is_some() {
        out.insert("initialDelaySeconds".into(), json!(initial));
    }
    out.insert(
        "periodSeconds".into(),
        json!(p.period_seconds.unwrap_or(d.period)),
    );
    if let Some(t) = p.timeout_seconds {
        out.insert("timeoutSeconds".into(), json!(t));
    }
    if let Some(f) = p.failure_threshold.or(d.failure_threshold) {
        out.insert("failureThreshold".into(), json!(f));
    }
    if let Some(s) = p.success_threshold {
        out.insert("successThreshold".into(), json!(s));
    }
    Value::Object(out)
}

fn no_port(comp: &Component, probe: &str) -> Finding {
    Finding::new(
        Severity::Error,
        "probe-without-port",
        format!("Deployment/{}", comp.name),
        "/spec/template/spec/containers/0",
        format!(
            "the {probe} probe of {} needs a port, and the component has none; name the port",
            comp.name
        ),
    )
}
