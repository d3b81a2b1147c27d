//! A component's resources: the requests and limits a draft read, with the
//! archetype's defaults filling the gaps, fitted so that no request is above
//! its limit (each fix said as an assumption or a question). It does not read
//! quantities from the text (that is `sizing`).

use super::Draft;
use crate::spec::Resources;

/// Quantities with a request never above its limit.
pub(super) fn resources(d: &mut Draft, requests: (&str, &str), limits: (&str, &str)) -> Resources {
    let mut r = Resources {
        requests: d.requests.clone(),
        limits: d.limits.clone(),
    };
    for (what, req, lim) in [
        ("CPU", &d.requests.cpu, &d.limits.cpu),
        ("memory", &d.requests.memory, &d.limits.memory),
    ] {
        if let (Some(req), Some(lim)) = (req, lim) {
            if req == lim {
                d.assumptions.push(format!(
                    "{what} request and limit are both set to {req}, the amount given"
                ));
            }
        }
    }
    fit(
        d,
        &mut r.requests.cpu,
        &mut r.limits.cpu,
        (requests.0, limits.0),
        cpu_milli,
    );
    fit(
        d,
        &mut r.requests.memory,
        &mut r.limits.memory,
        (requests.1, limits.1),
        crate::spec::memory_bytes,
    );
    r
}

/// Raises a limit (or lowers a request) so the request is not above the limit.
fn fit(
    d: &mut Draft,
    req: &mut Option<String>,
    lim: &mut Option<String>,
    defaults: (&str, &str),
    parse: fn(&str) -> Option<f64>,
) {
    let eff_req = req.clone().unwrap_or_else(|| defaults.0.to_string());
    let eff_lim = lim.clone().unwrap_or_else(|| defaults.1.to_string());
    if parse(&eff_req) <= parse(&eff_lim) {
        return;
    }
    if lim.is_none() {
        d.assumptions
            .push(format!("the limit was raised to {eff_req} to match the request"));
        *lim = Some(eff_req);
    } else if req.is_none() {
        d.assumptions.push(format!(
            "the request was lowered to {eff_lim} to fit under the limit"
        ));
        *req = Some(eff_lim);
    } else {
        d.questions.push(format!(
            "the request {eff_req} is above the limit {eff_lim}; the limit was raised"
        ));
        *lim = Some(eff_req);
    }
}

fn cpu_milli(s: &str) -> Option<f64> {
    match s.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => s.parse::<f64>().ok().map(|c| c * 1000.0),
    }
}
