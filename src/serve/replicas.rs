//! Several replicas on one store: each keeps the leases of the plans it is
//! working on, and closes plans whose owner stopped renewing (a replica that
//! was killed), every third of the lease. It does not plan or propose.

use std::time::Duration;

use super::error::chain;
use super::state::AppState;

/// Renews this replica's leases and recovers expired ones until aborted.
pub(crate) async fn keep_leases(state: AppState) {
    let every = (state.config.limits.plan_lease() / 3).max(Duration::from_millis(300));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            store.renew_leases()?;
            store.recover_interrupted()
        })
        .await;
        match result {
            Ok(Ok(recovered)) => {
                for r in recovered {
                    tracing::warn!(
                        plan = %r.id,
                        from = r.from.as_str(),
                        owner = r.owner.as_deref().unwrap_or("-"),
                        "recovered a plan whose replica stopped"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!("cannot renew plan leases: {}", chain(&e)),
            Err(e) => tracing::warn!("cannot renew plan leases: {e}"),
        }
    }
}
