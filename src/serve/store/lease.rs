//! Who works on an in-flight plan: each process is one owner with a random
//! id, and keeps the plans it is working on (its live set) leased; another
//! replica only recovers a plan whose lease ran out.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// This process's identity as a plan owner, its lease length and live plans.
#[derive(Debug)]
pub struct Lease {
    owner: String,
    length: Duration,
    live: Mutex<HashSet<String>>,
}

impl Lease {
    /// A fresh owner id: `hint` (e.g. the pod name) and 6 random bytes.
    pub fn new(hint: Option<&str>, length: Duration) -> Lease {
        let mut bytes = [0u8; 6];
        // Without randomness the time still tells restarts of one pod apart.
        let suffix = match getrandom::fill(&mut bytes) {
            Ok(()) => hex::encode(bytes),
            Err(_) => format!("{:x}", super::now_ms()),
        };
        let hint: String = hint
            .unwrap_or("gitintent")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(63)
            .collect();
        Lease {
            owner: format!("{hint}-{suffix}"),
            length: length.max(Duration::from_secs(1)),
            live: Mutex::default(),
        }
    }

    /// Keeps the live set in step with a transition that happened (or not).
    pub(crate) fn track(&self, id: &str, to: super::Status, happened: bool) {
        if !happened {
            return;
        }
        if to.in_flight() {
            self.hold(id);
        } else {
            self.release(id);
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn length(&self) -> Duration {
        self.length
    }

    /// The lease end of something taken now.
    pub(crate) fn until_ms(&self) -> i64 {
        super::now_ms() + self.length.as_millis() as i64
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set holds plain ids; a panic elsewhere cannot corrupt it.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This process works on `id` now (created, or moved into `proposing`).
    pub(crate) fn hold(&self, id: &str) {
        self.live().insert(id.to_string());
    }

    /// This process is done with `id`.
    pub fn release(&self, id: &str) {
        self.live().remove(id);
    }

    /// The plans whose lease this process renews.
    pub(crate) fn held(&self) -> Vec<String> {
        self.live().iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_unique_and_keep_a_readable_hint() {
        let a = Lease::new(Some("gitintent-7d9f/../x"), Duration::from_secs(30));
        let b = Lease::new(Some("gitintent-7d9f/../x"), Duration::from_secs(30));
        assert_ne!(a.owner(), b.owner());
        assert!(a.owner().starts_with("gitintent-7d9f..x-"), "{}", a.owner());
        a.hold("p1");
        a.hold("p2");
        a.release("p1");
        assert_eq!(a.held(), vec!["p2".to_string()]);
    }
}
