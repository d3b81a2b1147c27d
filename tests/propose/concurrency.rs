//! Many proposals at once on one repository: every one lands, no ref is lost, fsck passes.

use std::sync::{Arc, Barrier};

use gitintent::propose::{self, Status};

use super::{request, TestRepo};

const PROPOSALS: usize = 24;

fn run_concurrently<F, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, f) = (barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn twenty_four_concurrent_proposals_land_on_distinct_branches() {
    for bare in [true, false] {
        let t = TestRepo::new(bare);
        let path = t.path.clone();
        let results = run_concurrently(PROPOSALS, move |i| {
            // Each thread opens the repository itself, as separate processes would.
            propose::commit(&request(&path, &format!("app{i}")))
        });
        let mut branches = Vec::new();
        for r in results {
            let p = r.unwrap_or_else(|e| panic!("a concurrent proposal failed: {e}"));
            assert_eq!(p.status, Status::Created);
            branches.push((format!("refs/heads/{}", p.branch), p.commit));
        }
        branches.sort();
        branches.dedup();
        assert_eq!(branches.len(), PROPOSALS);
        let refs = t.refs();
        for b in &branches {
            assert!(refs.contains(b), "{b:?} missing from {refs:?}");
        }
        let ours = refs
            .iter()
            .filter(|(r, _)| r.starts_with("refs/heads/gitintent/"))
            .count();
        assert_eq!(ours, PROPOSALS);
        super::fsck(&t.path);
    }
}

#[test]
fn the_same_proposal_twenty_times_at_once_makes_one_branch() {
    let t = TestRepo::new(true);
    let path = t.path.clone();
    let results = run_concurrently(20, move |_| propose::commit(&request(&path, "redis")));
    let proposals: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let created = proposals.iter().filter(|p| p.status == Status::Created).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        proposals.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    // The others either saw it (unchanged) or raced a commit with an identical tree on top.
    let tip = t
        .open()
        .refname_to_id(&format!("refs/heads/{}", proposals[0].branch))
        .unwrap();
    for p in &proposals {
        assert_eq!(p.branch, proposals[0].branch);
        assert_ne!(
            p.status,
            Status::Updated,
            "identical trees never make a new commit"
        );
        if p.status == Status::Unchanged {
            assert_eq!(p.commit, tip.to_string());
        }
    }
    let ours = t
        .refs()
        .into_iter()
        .filter(|(r, _)| r.starts_with("refs/heads/gitintent/"))
        .count();
    assert_eq!(ours, 1);
    super::fsck(&t.path);
}
