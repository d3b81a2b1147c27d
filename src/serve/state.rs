//! Shared state of the service: config, auth, store, repositories, planner,
//! metrics, the admission gates for model calls and validations, and the tracker of
//! background plans that graceful shutdown waits for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::auth::{Auth, Caller};
use super::config::Config;
use super::error::ApiError;
use super::metrics::Metrics;
use super::repos::Repositories;
use super::store::Store;
use crate::plan::OpenAi;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub auth: Auth,
    pub store: Arc<dyn Store>,
    pub repos: Repositories,
    /// The openai planner, when a provider is configured.
    pub openai: Option<OpenAi>,
    pub metrics: Metrics,
    pub admission: Admission,
    /// The same gate for `POST /v1/validate` (CPU and memory, not model calls).
    pub validations: Admission,
    pub tasks: Tracker,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let header =
            match parts.headers.get(header::AUTHORIZATION) {
                None => None,
                Some(v) => Some(v.to_str().map_err(|_| {
                    ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
                })?),
            };
        state
            .auth
            .authenticate(header)
            .map_err(|e| ApiError::unauthorized(e.to_string()))
    }
}

/// Bounds concurrent plans (model calls) and the queue in front of them.
pub struct Admission {
    slots: Arc<Semaphore>,
    max_running: usize,
    /// Admitted plans: running plus queued.
    admitted: Arc<AtomicUsize>,
    bound: usize,
}

/// An admitted plan; it may still have to wait for a slot.
pub struct Ticket {
    slots: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
}

impl Admission {
    pub fn new(max_running: usize, queue: usize) -> Admission {
        Admission {
            slots: Arc::new(Semaphore::new(max_running)),
            max_running,
            admitted: Arc::default(),
            bound: max_running + queue,
        }
    }

    /// A ticket, or `None` when running plus queued plans are at the bound.
    pub fn try_admit(&self) -> Option<Ticket> {
        self.admitted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.bound).then_some(n + 1)
            })
            .ok()?;
        Some(Ticket {
            slots: self.slots.clone(),
            admitted: self.admitted.clone(),
        })
    }

    /// (running, queued) right now.
    pub fn load(&self) -> (usize, usize) {
        let running = self.max_running - self.slots.available_permits();
        let admitted = self.admitted.load(Ordering::SeqCst);
        (running, admitted.saturating_sub(running))
    }
}

impl Ticket {
    /// Waits for a model slot.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts background tasks so shutdown can wait for them.
#[derive(Default)]
pub struct Tracker {
    count: Arc<AtomicUsize>,
    idle: Arc<Notify>,
}

/// Held by a background task; dropping it marks the task done.
pub struct TaskGuard {
    count: Arc<AtomicUsize>,
    idle: Arc<Notify>,
}

impl Tracker {
    pub fn start(&self) -> TaskGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        TaskGuard {
            count: self.count.clone(),
            idle: self.idle.clone(),
        }
    }

    pub fn running(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Returns when no task is running.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.running() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admission_is_bounded_and_tickets_release_on_drop() {
        let a = Admission::new(1, 1);
        let t1 = a.try_admit().unwrap();
        let t2 = a.try_admit().unwrap();
        assert!(a.try_admit().is_none());
        let slot = t1.slot().await.unwrap();
        assert_eq!(a.load(), (1, 1));
        drop(slot);
        drop(t1);
        assert!(a.try_admit().is_some());
        drop(t2);
    }

    #[tokio::test]
    async fn the_tracker_waits_for_tasks() {
        let t = Arc::new(Tracker::default());
        let guard = t.start();
        let waiter = {
            let t = t.clone();
            tokio::spawn(async move { t.wait_idle().await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
