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
