//! The built-in pack: the Rego files of `policies/`, embedded in the binary.
//!
//! All files share the package `gitintent.builtin` and use Rego v1. The rule
//! table (ids, severities, remediation) lives in `policies/README.md`; this
//! file only compiles the pack. It does not decide severities or messages.

use super::rego::Rego;
use super::Error;

/// `(file name, source)` of every module of the pack.
pub(super) const SOURCES: [(&str, &str); 5] = [
    ("policies/lib.rego", include_str!("../../policies/lib.rego")),
    (
        "policies/workload.rego",
        include_str!("../../policies/workload.rego"),
    ),
    (
        "policies/security.rego",
        include_str!("../../policies/security.rego"),
    ),
    (
        "policies/availability.rego",
        include_str!("../../policies/availability.rego"),
    ),
    (
        "policies/hygiene.rego",
        include_str!("../../policies/hygiene.rego"),
    ),
];

/// Compiles the pack; an error here is a bug in the pack (a unit test
/// compiles it on every `cargo test`).
pub(super) fn compile() -> Result<Rego, Error> {
    let mut rego = Rego::new();
    for (file, text) in SOURCES {
        rego.add(file, text)?;
    }
    Ok(rego)
}

#[cfg(test)]
mod tests {
    /// `kind_findings` only reaches rules of the kind groups, so a rule
    /// written straight into `deny` or `warn` would be skipped by gitintent.
    #[test]
    fn every_rule_is_in_a_kind_group() {
        for (file, text) in super::SOURCES {
            for line in text.lines() {
                if line.starts_with("deny ") || line.starts_with("warn ") {
                    assert!(
                        line.contains(" contains x if some x in "),
                        "{file}: `{line}`: put the rule in a group (workload_deny, labels_deny, …)"
                    );
                }
            }
        }
    }

    #[test]
    fn the_pack_compiles_into_one_package() {
        let rego = super::compile().unwrap();
        assert_eq!(rego.packages(), ["gitintent.builtin"]);
    }
}
