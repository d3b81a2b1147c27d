//! Which flag fixes a library error: the library says what is wrong
//! (`change::Error::Ambiguous` lists the paths that pick each candidate,
//! `propose::Error::Stale` says rebuilding needs consent), and the CLI adds
//! the flag that gives it (`--target`, `--rebase`, …). The service and MCP
//! name their request fields instead (`serve::work::library_error`).

use gitintent::{change, propose};

/// The flag hint for an error in `e`'s chain, if one applies.
pub(crate) fn hint(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(e) = next {
        let found = match e.downcast_ref::<gitintent::Error>() {
            Some(gitintent::Error::Change(c)) => change_hint(c),
            Some(gitintent::Error::Propose(p)) => propose_hint(p),
            _ => e
                .downcast_ref::<change::Error>()
                .and_then(change_hint)
                .or_else(|| e.downcast_ref::<propose::Error>().and_then(propose_hint)),
        };
        if found.is_some() {
            return found;
        }
        next = e.source();
    }
    None
}

fn change_hint(e: &change::Error) -> Option<String> {
    match e {
        change::Error::Ambiguous { picks, .. } if !picks.is_empty() => Some(format!(
            "or use one of: {}",
            picks
                .iter()
                .map(|p| format!("--target {p}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        change::Error::NotAtPath { picks, .. } if !picks.is_empty() => Some(format!(
            "use one of: {}",
            picks
                .iter()
                .map(|p| format!("--target {p}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        change::Error::NoRepository { .. } => Some("plan with --repo PATH".into()),
        _ => None,
    }
}

fn propose_hint(e: &propose::Error) -> Option<String> {
    match e {
        propose::Error::Stale { .. } => Some("re-run with --rebase to rebuild it".into()),
        propose::Error::NotOurs { .. } => Some("--branch NAME chooses another branch".into()),
        propose::Error::Rejected {
            non_fast_forward: true,
            ..
        } => Some("re-run with --rebase to replace it".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use gitintent::{change, propose};

    use super::super::common::error_chain;

    #[test]
    fn each_fixable_error_gets_its_flag_after_the_library_message() {
        let stale = gitintent::Error::from(propose::Error::Stale {
            branch: "gitintent/x".into(),
            base: "main".into(),
        });
        assert_eq!(
            error_chain(&stale),
            "branch \"gitintent/x\" was proposed on an older main; rebuilding it on the current main \
             needs consent (re-run with --rebase to rebuild it)"
        );
        let rejected = propose::Error::Rejected {
            branch: "b".into(),
            remote: "origin".into(),
            reason: "non-fast-forward".into(),
            non_fast_forward: true,
        };
        assert!(error_chain(&rejected).ends_with("(re-run with --rebase to replace it)"));
        let other = propose::Error::Rejected {
            branch: "b".into(),
            remote: "origin".into(),
            reason: "hook declined".into(),
            non_fast_forward: false,
        };
        assert!(!error_chain(&other).contains("--"), "{}", error_chain(&other));
        let no_repo = gitintent::Error::from(change::Error::NoRepository {
            target: "api".into(),
            operation: gitintent::spec::Operation::Update,
        });
        assert!(error_chain(&no_repo).ends_with("(plan with --repo PATH)"));
        let ambiguous = gitintent::Error::from(change::Error::Ambiguous {
            target: "api".into(),
            candidates: vec!["Deployment/api at a/api.yaml: say \"api in a\"".into()],
            hint: "several workloads have that name".into(),
            picks: vec!["a".into(), "b/api.yaml".into()],
        });
        let text = error_chain(&ambiguous);
        assert!(
            text.ends_with("(or use one of: --target a, --target b/api.yaml)"),
            "{text}"
        );
        let library = ambiguous.to_string();
        assert!(
            !library.contains("--"),
            "the library message names no flag: {library}"
        );
    }
}
