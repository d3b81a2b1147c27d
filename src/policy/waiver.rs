//! Waivers: a resource opts out of named rules, with a reason, in the open.
//!
//! `metadata.annotations["gitintent.io/waive"]` lists rule ids separated by
//! commas; `gitintent.io/waive-reason` must say why. A waived finding is
//! kept, downgraded to `info`, with the reason appended, so review still sees
//! it. A waiver without a reason waives nothing and is itself an error
//! finding (rule `waiver`).
//!
//! It does not support wildcards, expiry dates or waivers from outside the
//! resource (e.g. a central exceptions file).

use crate::finding::{Finding, Severity};

/// Annotation that lists waived rule ids.
pub(crate) use crate::manifest::WAIVE_ANNOTATION as WAIVE;
/// Annotation that says why.
pub(crate) use crate::manifest::WAIVE_REASON_ANNOTATION as REASON;

/// Applies the waivers of `doc` to the findings about it.
pub(crate) fn apply(
    doc: &serde_json::Value,
    resource: &str,
    file: Option<&str>,
    findings: &mut Vec<Finding>,
) {
    let annotations = doc.pointer("/metadata/annotations");
    let get = |key: &str| {
        annotations
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .map(str::trim)
    };
    let Some(list) = get(WAIVE) else { return };
    let rules: Vec<&str> = list.split(',').map(str::trim).filter(|r| !r.is_empty()).collect();
    if rules.is_empty() {
        return;
    }
    let reason = get(REASON).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        let finding = Finding::new(
            Severity::Error,
            "waiver",
            resource,
            "/metadata/annotations/gitintent.io~1waive-reason",
            format!(
                "waiver of {} has no reason; add the annotation {REASON} saying why",
                rules.join(", ")
            ),
        );
        findings.push(match file {
            Some(f) => finding.in_file(f),
            None => finding,
        });
        return;
    };
    for finding in findings.iter_mut() {
        if finding.severity != Severity::Info && rules.contains(&finding.rule.as_str()) {
            finding.message = format!("{} (waived as {}: {reason})", finding.message, finding.severity);
            finding.severity = Severity::Info;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings() -> Vec<Finding> {
        vec![
            Finding::new(
                Severity::Error,
                "host-network",
                "Pod/p",
                "/spec/hostNetwork",
                "shares",
            ),
            Finding::new(Severity::Warning, "liveness-probe", "Pod/p", "", "none"),
            Finding::new(Severity::Error, "privileged", "Pod/p", "", "priv"),
        ]
    }

    fn pod(annotations: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"kind": "Pod", "metadata": {"name": "p", "annotations": annotations}})
    }

    #[test]
    fn waived_findings_stay_visible_as_info() {
        let doc = pod(serde_json::json!({WAIVE: "host-network, liveness-probe", REASON: "CNI agent"}));
        let mut f = findings();
        apply(&doc, "Pod/p", None, &mut f);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].message.contains("CNI agent"), "{}", f[0].message);
        assert_eq!(f[1].severity, Severity::Info);
        assert_eq!(f[2].severity, Severity::Error);
    }

    #[test]
    fn a_waiver_without_reason_is_an_error_and_waives_nothing() {
        let doc = pod(serde_json::json!({WAIVE: "host-network"}));
        let mut f = findings();
        apply(&doc, "Pod/p", Some("a.yaml"), &mut f);
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].severity, Severity::Error);
        let w = &f[3];
        assert_eq!(
            (w.rule.as_str(), w.severity, w.file.as_deref()),
            ("waiver", Severity::Error, Some("a.yaml"))
        );
    }
}
