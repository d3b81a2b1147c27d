//! Probes in full: readiness, liveness and startup, each an HTTP GET, a TCP
//! connect or a command run in the container, with its own timings. The
//! simpler `health_check` (one HTTP path or TCP port for readiness and
//! liveness alike) stays for the common case; a probe given here wins over
//! it, and a probe left null keeps it (or the archetype's probe).
//!
//! Types and checks only; `render/probe.rs` resolves them for the templates.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check::Checker;

/// Readiness, liveness and startup probes; null keeps `health_check` (or the archetype's probe).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// When the pod receives traffic; null keeps the default.
    pub readiness: Option<ProbeSpec>,
    /// When the container is restarted; null keeps the default.
    pub liveness: Option<ProbeSpec>,
    /// Holds the other probes back until the container has started; null means none.
    pub startup: Option<ProbeSpec>,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// How the probe checks the container.
    pub action: ProbeAction,
    /// `http` only: the URL path, e.g. `/healthz`; null otherwise.
    pub path: Option<String>,
    /// `http` and `tcp`: a port number (`8080`) or a container port name (`http`); null uses the first container port.
    pub port: Option<String>,
    /// `exec` only: the command, e.g. `["redis-cli", "ping"]`; empty otherwise.
    pub command: Vec<String>,
    /// Seconds before the first probe; null keeps the default.
    pub initial_delay_seconds: Option<u32>,
    /// Seconds between probes; null keeps the default.
    pub period_seconds: Option<u32>,
    /// Seconds a probe may take; null means 1.
    pub timeout_seconds: Option<u32>,
    /// Failures in a row before the probe fails; null means 3.
    pub failure_threshold: Option<u32>,
    /// Successes in a row before it passes again; null means 1 (must be 1 for liveness and startup).
    pub success_threshold: Option<u32>,
}

/// What a probe does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeAction {
    /// An HTTP GET on `path`.
    Http,
    /// A TCP connection to `port`.
    Tcp,
    /// `command` run in the container; exit 0 passes.
    Exec,
}

/// Checks each probe's fields against its action and bounds.
pub(super) fn check(c: &mut Checker, at: &str, probes: &Probes) {
    for (key, probe) in [
        ("readiness", &probes.readiness),
        ("liveness", &probes.liveness),
        ("startup", &probes.startup),
    ] {
        if let Some(p) = probe {
            one(c, &format!("{at}/{key}"), p, key == "readiness");
        }
    }
}

/// Checks one probe at `at`: its action's fields, its port, its timings.
fn one(c: &mut Checker, at: &str, p: &ProbeSpec, readiness: bool) {
    action(c, at, p);
    if let Some(port) = &p.port {
        if !super::check::is_port_ref(port) {
            c.fail(
                format!("{at}/port"),
                format!("{port:?} is not a port number or name"),
            );
        }
    }
    timings(c, at, p, readiness);
}

/// The fields of the probe's action: an http probe's path, an exec probe's
/// command (and no port), and neither for the others.
fn action(c: &mut Checker, at: &str, p: &ProbeSpec) {
    match p.action {
        ProbeAction::Http => match &p.path {
            Some(path) if super::values::is_url_path(path) => {}
            Some(path) => c.fail(format!("{at}/path"), format!("{path:?} is not a URL path")),
            None => c.fail(format!("{at}/path"), "an http probe needs a path"),
        },
        ProbeAction::Tcp | ProbeAction::Exec if p.path.is_some() => {
            c.fail(format!("{at}/path"), "only an http probe has a path; use null")
        }
        _ => {}
    }
    match (p.action, p.command.is_empty()) {
        (ProbeAction::Exec, true) => c.fail(format!("{at}/command"), "an exec probe needs a command"),
        (ProbeAction::Exec, false) => {
            if p.command.len() > 64 {
                c.fail(format!("{at}/command"), "more than 64 words");
            }
            for (i, w) in p.command.iter().enumerate() {
                c.text(&format!("{at}/command/{i}"), w, 4096);
            }
            if p.port.is_some() {
                c.fail(format!("{at}/port"), "an exec probe has no port; use null");
            }
        }
        (_, false) => c.fail(
            format!("{at}/command"),
            "only an exec probe runs a command; use []",
        ),
        (_, true) => {}
    }
}

/// Delays, periods and thresholds within bounds; a success threshold of 1
/// except for readiness.
fn timings(c: &mut Checker, at: &str, p: &ProbeSpec, readiness: bool) {
    for (key, value, max) in [
        ("initial_delay_seconds", p.initial_delay_seconds, 3_600),
        ("period_seconds", p.period_seconds, 3_600),
        ("timeout_seconds", p.timeout_seconds, 3_600),
        ("failure_threshold", p.failure_threshold, 100),
        ("success_threshold", p.success_threshold, 100),
    ] {
        match value {
            Some(0) if key != "initial_delay_seconds" => c.fail(format!("{at}/{key}"), "at least 1"),
            Some(v) if v > max => c.fail(format!("{at}/{key}"), format!("more than {max}")),
            _ => {}
        }
    }
    if !readiness && p.success_threshold.is_some_and(|s| s != 1) {
        c.fail(
            format!("{at}/success_threshold"),
            "liveness and startup probes need a success threshold of 1",
        );
    }
}
